"""Parsing a GloVe or word2vec text source into words and float32 vectors.

How a text file is parsed, fastest first:

1. ``pyarrow.csv`` on every core, block by block, with float64 columns (exact
   decimal parsing, then one rounding to float32), while a second thread reads
   and parses the next block. It gives up at the first irregular line.
2. ``pyarrow.csv`` on one core, which reports the line number of each
   irregular line (a token with spaces, as in glove.840B, a trailing space or
   a blank line); those few lines are split from the right in Python and put
   back in their place.
3. A line-by-line Python parser, used only when pyarrow rejects the file. It
   finds the offending line and raises an error that names it.

A load filtered to a vocabulary (``words=...``) reads the file in 256 KiB blocks
and splits only the lines whose first token may start a requested word, so its
memory grows with the kept words, not with the file.
"""

import numpy as np
import pyarrow as pa

from ._arrow import (
    _lengths,
    _parse_arrow_serial,
    _parse_arrow_threaded,
    _Table,
    _to_float32,
)
from ._sniff import _Format, _line_blocks, _progress, _Retry, _split_line
from ._sources import _open_binary
from ._warn import _warn

__all__: list[str] = []

#: Rows of value text the Python parser collects before converting them.
_PARSE_ROWS = 1024


def _parse(path, member, label, unicode_errors, wanted):
    """Words (str) and float32 vectors of a text source, in file order."""
    parsers = ("threads", "serial", "python") if wanted is None else ("python",)
    for parser in parsers:
        with _open_binary(path, member) as (raw, size, native):
            fmt = _Format(raw, label, size)
            try:
                if parser == "threads":
                    rows = _parse_arrow_threaded(raw, fmt, label)
                elif parser == "serial":
                    rows = _parse_arrow_serial(raw, native, fmt, label)
                else:
                    rows = _parse_python(raw, fmt, label, wanted)
            except _Retry:
                continue
        words, vectors = _finish(*rows, label, unicode_errors, wanted is not None)
        return words, vectors
    raise AssertionError("the Python parser never retries")  # pragma: no cover


def _parse_python(raw, fmt: _Format, label: str, wanted: set[str] | None):
    """Split lines in Python: every line, or those that may hold a wanted word."""
    dim = fmt.dim
    if wanted is not None:
        wanted_bytes = {w.encode("utf-8") for w in wanted}
        # A line can only hold a wanted word if its first token starts one.
        first_tokens = {w.split(b" ", 1)[0] for w in wanted_bytes}
    words: list[bytes] = []
    lines: list[int] = []
    table = _Table(dim)
    values: list[bytes] = []  # text not parsed yet
    lineno = fmt.first_line
    blocks = _line_blocks(raw, fmt.head)
    for block in _progress(blocks, fmt, label, lambda block: block.count(b"\n")):
        block_lines = block.splitlines()
        if wanted is None:
            hits = range(len(block_lines))
        else:
            # The one per-line step of a filtered load. (pyarrow.compute is
            # hardly faster here, and its first use costs about 45 MB.)
            hits = [
                i
                for i, line in enumerate(block_lines)
                if line[: line.find(b" ")] in first_tokens
            ]
        for i in hits:
            split = _split_line(block_lines[i], dim, label, lineno + i)
            if split is None or (wanted is not None and split[0] not in wanted_bytes):
                continue
            words.append(split[0])
            values.append(split[1])
            lines.append(lineno + i)
        lineno += len(block_lines)
        if len(values) >= _PARSE_ROWS:  # so that memory holds little text
            table.extend(_to_float32(values, dim, lines[-len(values) :], label))
            values = []
    if values:
        table.extend(_to_float32(values, dim, lines[-len(values) :], label))
    return words, table.rows(), np.asarray(lines, dtype=np.int64)


def _finish(words, vectors, lines, label, unicode_errors, filtered):
    """Decode words, drop blank lines and repeated words, check the values."""
    if isinstance(words, list):
        keep = np.fromiter(map(bool, words), dtype=bool, count=len(words))
        text = _decode_words(words, keep, lines, label, unicode_errors)
    else:
        keep = _lengths(words) > 0  # not blank
        try:
            text = words.cast(pa.string()).to_pylist()
        except pa.ArrowInvalid:
            text = _decode_words(words.to_pylist(), keep, lines, label, unicode_errors)
    # NaN and inf survive min and max, so rows are checked only if needed.
    if (
        not keep.all()
        or not np.isfinite([vectors.min(initial=0), vectors.max(initial=0)]).all()
    ):
        # A float64 row sum is finite exactly when every float32 value is.
        bad = keep & ~np.isfinite(vectors.sum(axis=1, dtype=np.float64))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"{label}, line {lines[i]}: the vector of {text[i]!r} holds NaN "
                f"or inf values ({int(bad.sum())} such line(s) in all)"
            )
    # The common case, no blank lines and no repeats, costs one set.
    if not keep.all() or len(set(text)) < len(text):
        _drop_duplicates(text, keep, lines, label)
        text = [word for word, k in zip(text, keep.tolist(), strict=True) if k]
        vectors = vectors[keep]
    if not text and not filtered:
        raise ValueError(f"{label} holds no word vectors (empty file)")
    return text, vectors


def _decode_words(raw_words, keep, lines, label, unicode_errors) -> list[str]:
    """Decode words one by one, naming or skipping those that are not UTF-8."""
    text = []
    n_skipped = 0
    for i, word in enumerate(raw_words):
        try:
            text.append(word.decode("utf-8"))
        except UnicodeDecodeError as exc:
            if unicode_errors == "strict":
                raise ValueError(
                    f"{label}, line {lines[i]}: the word {word!r:.40} is not valid "
                    f"UTF-8 ({exc.reason}); pass unicode_errors='skip' to skip "
                    "such lines"
                ) from None
            text.append("")
            keep[i] = False
            n_skipped += 1
    if n_skipped:
        _warn(f"{label}: skipped {n_skipped} line(s) whose word is not valid UTF-8")
    return text


def _drop_duplicates(text, keep, lines, label) -> None:
    """Unset ``keep`` for every repeat of a kept word; warn if there are any."""
    seen: set[str] = set()
    repeats = []
    for i in np.flatnonzero(keep).tolist():
        if text[i] in seen:
            keep[i] = False
            repeats.append(i)
        seen.add(text[i])
    if repeats:
        first = repeats[0]
        _warn(
            f"{label}: {len(repeats)} duplicate word(s) skipped, the first "
            f"{text[first]!r} on line {lines[first]}; the first occurrence of "
            "each word is kept"
        )
