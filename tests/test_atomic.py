"""Tests of skglove._atomic: atomic writes, and the clean-up after a kill."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from skglove import _atomic
from skglove._atomic import ORPHAN_AGE_SECONDS, atomic_write, remove_orphans

ROOT = Path(__file__).resolve().parents[1]

# Writes sys.argv[1] slowly through atomic_write; the parent kills it midway.
# _atomic is loaded from its file: it needs nothing else of skglove.
SLOW_WRITER = """
import importlib.util, sys, time
spec = importlib.util.spec_from_file_location("atomic", sys.argv[2])
atomic = importlib.util.module_from_spec(spec)
spec.loader.exec_module(atomic)
with atomic.atomic_write(sys.argv[1]) as file:
    file.write(b"x" * 1_000_000)
    file.flush()
    print("writing", flush=True)
    time.sleep(600)
"""


def _start_killed_writer(target: Path) -> None:
    """Run SLOW_WRITER on ``target`` and SIGKILL it once its temporary exists."""
    writer = subprocess.Popen(
        [sys.executable, "-c", SLOW_WRITER, str(target), _atomic.__file__],
        stdout=subprocess.PIPE,
    )
    try:
        assert writer.stdout.readline() == b"writing\n"
        (tmp,) = target.parent.glob(f".{target.name}.*.tmp")
        assert tmp.stat().st_size > 0
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=60)


def test_write_replaces_the_target_and_leaves_nothing_else(tmp_path):
    target = tmp_path / "data.bin"
    target.write_bytes(b"old")
    with atomic_write(target) as file:
        file.write(b"new")
        assert target.read_bytes() == b"old"  # not replaced before the end
    assert target.read_bytes() == b"new"
    assert os.listdir(tmp_path) == ["data.bin"]


def test_exception_leaves_the_old_target_and_no_temporary(tmp_path):
    target = tmp_path / "data.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="midway"):
        with atomic_write(target) as file:
            file.write(b"half")
            raise RuntimeError("midway")
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["data.bin"]


def test_data_and_folder_are_fsynced_before_and_after_the_rename(tmp_path, monkeypatch):
    events = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(
        os, "fsync", lambda fd: events.append("fsync") or real_fsync(fd)
    )
    monkeypatch.setattr(
        os,
        "replace",
        lambda src, dst: events.append("replace") or real_replace(src, dst),
    )
    with atomic_write(tmp_path / "data.bin") as file:
        file.write(b"data")
    assert events == ["fsync", "replace", "fsync"]


def test_temporary_names_its_target_and_writer(tmp_path):
    with atomic_write(tmp_path / "data.bin"):
        (name,) = os.listdir(tmp_path)
    assert name.startswith(".data.bin.") and name.endswith(".tmp")
    assert f"-{os.getpid()}." in name


def test_killed_writer_leaves_a_temporary_that_the_next_write_removes(tmp_path):
    target = tmp_path / "vectors.npy"
    target.write_bytes(b"complete")
    _start_killed_writer(target)
    assert len(os.listdir(tmp_path)) == 2  # the target and the orphan
    assert target.read_bytes() == b"complete"
    with atomic_write(target) as file:
        file.write(b"again")
    assert os.listdir(tmp_path) == ["vectors.npy"]
    assert target.read_bytes() == b"again"


def test_killed_writer_is_cleaned_up_by_remove_orphans(tmp_path):
    _start_killed_writer(tmp_path / "a.json")
    (orphan,) = tmp_path.iterdir()
    assert remove_orphans(tmp_path) == [orphan]
    assert os.listdir(tmp_path) == []


def test_live_writers_and_other_files_are_left_alone(tmp_path):
    live = tmp_path / f".a.json.{_atomic._HOST}-{os.getpid()}.0123abcd.tmp"
    other_host = tmp_path / f".a.json.ffffffff-{2**22 + 1}.0123abcd.tmp"
    unrelated = [tmp_path / name for name in (".notes.tmp", "a.json", "x.tmp")]
    for path in (live, other_host, *unrelated):
        path.write_bytes(b"")
    assert remove_orphans(tmp_path) == []
    # Left untouched for a day, any temporary of ours is an orphan.
    old = time.time() - ORPHAN_AGE_SECONDS - 60
    for path in (live, other_host, *unrelated):
        os.utime(path, (old, old))
    assert sorted(remove_orphans(tmp_path)) == sorted([live, other_host])
    assert sorted(tmp_path.iterdir()) == sorted(unrelated)


def test_old_temporaries_of_earlier_versions_go_by_age(tmp_path):
    # tempfile.mkstemp's and secrets.token_hex's names, as skglove once used.
    legacy = [
        tmp_path / ".v.npy.k2j3_9ab.tmp",
        tmp_path / ".m.skglove.0a1b2c3d4e5f6a7b.tmp",
    ]
    for path in legacy:
        path.write_bytes(b"")
    assert remove_orphans(tmp_path) == []
    old = time.time() - ORPHAN_AGE_SECONDS - 60
    for path in legacy:
        os.utime(path, (old, old))
    assert sorted(remove_orphans(tmp_path)) == sorted(legacy)


def test_glob_limits_the_clean_up_to_a_target(tmp_path):
    _start_killed_writer(tmp_path / "a.json")
    _start_killed_writer(tmp_path / "b.json")
    assert len(remove_orphans(tmp_path, "a.json")) == 1
    (left,) = tmp_path.iterdir()
    assert left.name.startswith(".b.json.")
    assert remove_orphans(tmp_path / "missing") == []
