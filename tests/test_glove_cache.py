"""Tests of skglove.glove._cache: the disk cache, its writer and its clean-up."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import assert_same_vectors, parsers_used

from skglove.glove import _cache, _registry, load_glove

pytestmark = pytest.mark.usefixtures("glove_data_home")

ROOT = Path(__file__).resolve().parents[1]


def test_cache_hit_gives_the_same_words_and_bits(vector_txt, cache_small_files):
    first = load_glove(vector_txt)
    _registry._CACHE.clear()
    cached = load_glove(vector_txt)
    assert cached is not first
    assert isinstance(cached.vectors.base, np.memmap)
    assert_same_vectors(cached, first)


def test_filtered_load_uses_the_disk_cache(vector_txt, cache_small_files, monkeypatch):
    full = load_glove(vector_txt)
    _registry._CACHE.clear()
    used = parsers_used(monkeypatch)
    glove = load_glove(vector_txt, words=["w2", "w1"])
    assert used == []
    assert glove.words == ("w1", "w2")
    np.testing.assert_array_equal(glove.vectors, full.vectors[1:3])


def _entry_files(home: Path) -> list[str]:
    return sorted(p.suffix for p in (home / "glove_cache").iterdir())


def test_first_load_writes_the_cache_and_later_loads_map_it(
    vector_txt, glove_data_home, cache_small_files, monkeypatch
):
    first = load_glove(vector_txt)
    assert _entry_files(glove_data_home) == [".json", ".npy", ".words"]
    _registry._CACHE.clear()
    used = parsers_used(monkeypatch)
    assert_same_vectors(load_glove(vector_txt), first)
    assert used == []


def test_cache_is_written_in_background(vector_txt, glove_data_home, monkeypatch):
    monkeypatch.setattr(_cache, "_CACHE_MIN_BYTES", 0)
    glove = load_glove(vector_txt)
    assert [t.name for t in _cache._WRITES] == ["skglove-glove-cache"]
    _cache._wait_for_cache_writes()
    assert _entry_files(glove_data_home) == [".json", ".npy", ".words"]
    _registry._CACHE.clear()
    assert_same_vectors(load_glove(vector_txt), glove)


def test_cache_is_opt_out_and_skips_small_files(
    vector_txt, glove_data_home, monkeypatch
):
    load_glove(vector_txt)  # 45 lines: below the 1 MiB threshold
    assert not glove_data_home.exists()
    monkeypatch.setattr(_cache, "_CACHE_MIN_BYTES", 0)
    _registry._CACHE.clear()
    load_glove(vector_txt, cache=False)
    assert not glove_data_home.exists()


def test_data_home_argument_wins(
    vector_txt, tmp_path, glove_data_home, cache_small_files
):
    elsewhere = tmp_path / "elsewhere"
    load_glove(vector_txt, data_home=elsewhere)
    assert _entry_files(elsewhere) == [".json", ".npy", ".words"]
    assert not glove_data_home.exists()


def test_changed_file_is_parsed_again(
    vector_txt, glove_data_home, cache_small_files, vector_rows
):
    load_glove(vector_txt)
    stat = vector_txt.stat()
    # Same size and modification time, different first value: the head hash
    # tells them apart.
    text = vector_txt.read_bytes()
    old = text.split(b" ")[1]
    new = (b"9" if old[:1] != b"9" else b"8") + old[1:]
    vector_txt.write_bytes(text.replace(old, new, 1))
    os.utime(vector_txt, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert vector_txt.stat().st_size == stat.st_size
    _registry._CACHE.clear()
    changed = load_glove(vector_txt)
    assert changed.vectors[0, 0] == np.float32(float(new))
    # A touch alone (new mtime) is a new key too; only one entry remains.
    os.utime(vector_txt, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    _registry._CACHE.clear()
    assert_same_vectors(load_glove(vector_txt), changed)
    assert _entry_files(glove_data_home) == [".json", ".npy", ".words"]


@pytest.mark.parametrize("failing_replace", [1, 2, 3])
def test_interrupted_cache_write_is_never_trusted(
    vector_txt, glove_data_home, cache_small_files, monkeypatch, failing_replace
):
    # A crash between writing a temporary file and renaming it into place.
    real_replace = os.replace
    calls = []

    def replace(src, dst):
        calls.append(dst)
        if len(calls) == failing_replace:
            raise OSError("simulated crash")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.warns(UserWarning, match="could not use the GloVe cache"):
        glove = load_glove(vector_txt)
    monkeypatch.setattr(os, "replace", real_replace)
    files = [p.name for p in (glove_data_home / "glove_cache").iterdir()]
    assert not any(name.endswith((".json", ".tmp")) for name in files)

    _registry._CACHE.clear()
    used = parsers_used(monkeypatch)
    assert_same_vectors(load_glove(vector_txt), glove)
    assert used == ["threads"]  # parsed again, then cached
    _registry._CACHE.clear()
    load_glove(vector_txt)
    assert used == ["threads"]


@pytest.mark.parametrize("damage", ["truncate_npy", "edit_words", "edit_manifest"])
def test_damaged_cache_entry_is_not_trusted(
    vector_txt, glove_data_home, cache_small_files, monkeypatch, damage
):
    load_glove(vector_txt)
    _registry._CACHE.clear()
    glove = load_glove(vector_txt, cache=False)  # not a map of the file damaged below
    folder = glove_data_home / "glove_cache"
    path = next(folder.glob(f"*{'.npy' if damage == 'truncate_npy' else '.words'}"))
    if damage == "truncate_npy":
        path.write_bytes(path.read_bytes()[:-4])
    elif damage == "edit_words":
        path.write_bytes(path.read_bytes().replace(b"w1\n", b"w9\n", 1))
    else:
        manifest = next(folder.glob("*.json"))
        manifest.write_bytes(manifest.read_bytes().replace(b'"dim": 5', b'"dim": 6'))
    _registry._CACHE.clear()
    used = parsers_used(monkeypatch)
    assert_same_vectors(load_glove(vector_txt), glove)
    assert used == ["threads"]


def test_unwritable_data_home_only_warns(vector_txt, tmp_path, cache_small_files):
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")
    with pytest.warns(UserWarning, match="could not use the GloVe cache"):
        glove = load_glove(vector_txt, data_home=not_a_folder / "home")
    assert len(glove) == 45


# ---------------------------------------------------------------------------
# Files after a kill

# Loads sys.argv[1] with the disk cache on, and stalls the cache write halfway
# through the .npy file, so the parent can kill it.
KILLED_CACHE_WRITER = """
import sys, time
import numpy as np
from skglove.glove import _cache, load_glove

def stalling_save(file, array, **kwargs):
    file.write(b"x" * 1_000_000)
    file.flush()
    print("writing", flush=True)
    time.sleep(600)

_cache._CACHE_MIN_BYTES = 0
np.save = stalling_save
load_glove(sys.argv[1], data_home=sys.argv[2])
"""


def _kill_a_cache_writer(source: Path, home: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), *sys.path])}
    writer = subprocess.Popen(
        [sys.executable, "-c", KILLED_CACHE_WRITER, str(source), str(home)],
        stdout=subprocess.PIPE,
        env={**env, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    try:
        assert writer.stdout.readline() == b"writing\n"
        (orphan,) = (home / "glove_cache").iterdir()
        assert orphan.name.endswith(".tmp") and orphan.stat().st_size > 0
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=60)


@pytest.mark.parametrize("source", ["unchanged", "changed"])
def test_the_next_load_removes_what_a_killed_cache_writer_left(
    vector_txt, glove_data_home, cache_small_files, source
):
    _kill_a_cache_writer(vector_txt, glove_data_home)
    if source == "changed":  # the next write is of another entry
        vector_txt.write_bytes(vector_txt.read_bytes() + b"extra 1 2 3 4 5\n")
    glove = load_glove(vector_txt)
    assert _entry_files(glove_data_home) == [".json", ".npy", ".words"]
    _registry._CACHE.clear()
    assert_same_vectors(load_glove(vector_txt), glove)


def test_cache_files_are_written_atomically(
    vector_txt, glove_data_home, cache_small_files, monkeypatch
):
    renamed, synced = [], []
    real_replace, real_fsync = os.replace, os.fsync
    monkeypatch.setattr(
        os, "replace", lambda src, dst: renamed.append(src) or real_replace(src, dst)
    )
    monkeypatch.setattr(os, "fsync", lambda fd: synced.append(fd) or real_fsync(fd))
    load_glove(vector_txt)
    # Each of the three files: a temporary named for its writer, synced twice.
    assert len(renamed) == 3 and len(synced) == 6
    assert all(f"-{os.getpid()}." in Path(src).name for src in renamed)
