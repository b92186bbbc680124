"""The pyarrow parsers of GloVe text, and the float32 table they fill.

Values are parsed as float64 by ``pyarrow.csv`` (exact decimal parsing) and
rounded once to float32, by every parser, so all give bit-identical vectors.
"""

import io
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from itertools import islice
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from ._sniff import _Format, _line_blocks, _progress, _Retry, _split_line

__all__: list[str] = []

#: Bytes the multi-threaded parser reads and parses at a time: big enough to
#: keep every core busy, small enough that the float64 text columns of one
#: block stay a small fraction of the vectors.
_THREADED_BLOCK_BYTES = 1 << 24


def _parse_arrow_threaded(raw, fmt: _Format, label: str):
    """Parse with pyarrow.csv on every core; raise _Retry at an irregular line.

    Multi-threaded, pyarrow does not report line numbers, so the first
    irregular line stops it. A worker thread reads and parses the next block
    while this one checks and converts the last.
    """
    dim = fmt.dim
    blocks = _line_blocks(raw, fmt.head, _THREADED_BLOCK_BYTES)
    options = _csv_options(
        dim,
        words=True,
        trailing_space=fmt.trailing_space,
        null_values=[""],  # blank lines stay as rows of nulls
        use_threads=True,
    )

    def parse_next_block() -> pa.Table | None:
        block = next(blocks, None)
        if block is None:
            return None
        return pa_csv.read_csv(pa.BufferReader(block), **options)

    def parsed_blocks() -> Iterator[pa.Table]:
        with ThreadPoolExecutor(1, thread_name_prefix="skglove-parse") as pool:
            pending = pool.submit(parse_next_block)
            while (parsed := pending.result()) is not None:
                pending = pool.submit(parse_next_block)
                yield parsed

    word_chunks = []
    table = _Table(dim, fmt.n_lines)
    try:
        for parsed in _progress(parsed_blocks(), fmt, label, len):
            for batch in parsed.to_batches():
                _check_batch(batch, dim, fmt.trailing_space)
                word_chunks.append(batch.column(0))
                table.append_batch(batch, 1)
    except pa.ArrowInvalid:
        raise _Retry from None
    vectors = table.rows()
    lines = np.arange(fmt.first_line, fmt.first_line + len(vectors))
    return pa.chunked_array(word_chunks, pa.binary()), vectors, lines


def _parse_arrow_serial(raw, native, fmt: _Format, label: str):
    """Parse with pyarrow.csv on one core; raise _Retry if it cannot.

    Serial, pyarrow reports the line numbers of irregular lines: they are split
    in Python and put back in their place.
    """
    dim = fmt.dim
    irregular: list[tuple[int, str]] = []

    def on_invalid_row(row) -> str:
        irregular.append((row.number, row.text))
        return "skip"

    if native is None:
        source, skip_rows = _Prefixed(fmt.head, raw), 0
    else:  # faster: pyarrow reads the file itself and skips any header
        source, skip_rows = native(), fmt.first_line - 1
    word_chunks = []
    table = _Table(dim, fmt.n_lines)
    try:
        reader = pa_csv.open_csv(
            source,
            **_csv_options(
                dim,
                words=True,
                trailing_space=fmt.trailing_space,
                skip_rows=skip_rows,
                # Blank lines stay as rows of nulls, so that row numbers are lines.
                null_values=[""],
                invalid_row_handler=on_invalid_row,
            ),
        )
        for batch in _progress(reader, fmt, label, lambda batch: batch.num_rows):
            _check_batch(batch, dim, fmt.trailing_space)
            word_chunks.append(batch.column(0))
            table.append_batch(batch, 1)
    except pa.ArrowInvalid:
        raise _Retry from None
    finally:
        source.close()
    words = pa.chunked_array(word_chunks, pa.binary())
    vectors = table.rows()
    n_rows = len(vectors)
    lines = np.arange(fmt.first_line, fmt.first_line + n_rows)
    if not irregular:
        return words, vectors, lines
    # Table rows before the j-th irregular line; numbers count from the first
    # line after any header, from 1.
    numbers = np.array([number for number, _ in irregular]) - skip_rows
    before = numbers - 1 - np.arange(len(numbers))
    lines += np.searchsorted(before, np.arange(n_rows), side="right")
    positions, extra_words, extra_values, extra_lines = [], [], [], []
    for position, number, (_, text) in zip(before, numbers, irregular, strict=True):
        lineno = int(number) + fmt.first_line - 1
        split = _split_line(text.encode(), dim, label, lineno)
        if split is not None:  # not a blank line
            positions.append(position)
            extra_words.append(split[0])
            extra_values.append(split[1])
            extra_lines.append(lineno)
    if not positions:
        return words, vectors, lines
    extra = _to_float32(extra_values, dim, extra_lines, label)
    vectors = np.insert(vectors, positions, extra, axis=0)
    lines = np.insert(lines, positions, extra_lines)
    # Merge the word lists as np.insert merges the rows.
    merged: list[bytes] = []
    table_words = iter(words.to_pylist())
    done = 0
    for position, word in zip(positions, extra_words, strict=True):
        merged.extend(islice(table_words, position - done))
        merged.append(word)
        done = position
    merged.extend(table_words)
    return merged, vectors, lines


class _Prefixed:
    """A read-only stream of ``head`` followed by the rest of ``raw``."""

    closed = False

    def __init__(self, head: bytes, raw: BinaryIO) -> None:
        self._head = memoryview(head)
        self._raw = raw

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self._head:
            size = len(self._head) if size is None or size < 0 else size
            chunk, self._head = self._head[:size], self._head[size:]
            return bytes(chunk)
        return self._raw.read(size)

    def close(self) -> None:
        self.closed = True


def _csv_options(dim, *, words, trailing_space=False, **options) -> dict:
    """pyarrow.csv options for ``[word] v1 ... vd [""]`` rows, values as float64.

    Every parser here converts values this way and then to float32, so all
    give bit-identical vectors.
    """
    handler = options.pop("invalid_row_handler", None)
    skip_rows = options.pop("skip_rows", 0)
    names = [str(j) for j in range(words + dim + trailing_space)]
    types = dict.fromkeys(names, pa.float64())
    if words:
        types[names[0]] = pa.binary()
    if trailing_space:
        types[names[-1]] = pa.binary()
    return dict(
        read_options=pa_csv.ReadOptions(
            column_names=names,
            skip_rows=skip_rows,
            use_threads=options.pop("use_threads", False),
            # Bigger blocks for wider rows keep the per-batch work small.
            block_size=max(1 << 20, dim << 15),
        ),
        parse_options=pa_csv.ParseOptions(
            delimiter=" ",
            quote_char=False,
            escape_char=False,
            double_quote=False,
            ignore_empty_lines=False,
            invalid_row_handler=handler,
        ),
        convert_options=pa_csv.ConvertOptions(
            column_types=types, strings_can_be_null=False, **options
        ),
    )


class _Table:
    """Float32 rows added batch by batch to one array, which doubles when full.

    Pages past the last row are never touched, so sizing the array from a
    generous guess costs neither time nor memory, and the rows are copied
    once, from pyarrow's float64 columns.
    """

    def __init__(self, dim: int, n_rows: int = 0) -> None:
        self._values = np.empty((max(n_rows, 256), dim), dtype=np.float32)
        self._n = 0

    def _reserve(self, n: int) -> np.ndarray:
        if self._n + n > len(self._values):
            grown = np.empty(
                (max(2 * len(self._values), self._n + n), self._values.shape[1]),
                dtype=np.float32,
            )
            grown[: self._n] = self._values[: self._n]
            self._values = grown
        self._n += n
        return self._values[self._n - n : self._n]

    def append_batch(self, batch, start: int) -> None:
        """Add columns ``start`` to ``start + dim`` of a record batch."""
        out = self._reserve(batch.num_rows)
        # Columns are written as rows of a small block, then transposed in one
        # copy: several times faster than writing strided columns of ``out``.
        columns = np.empty(out.T.shape, dtype=np.float32)
        for j, row in enumerate(columns):
            column = batch.column(start + j)
            if column.null_count:  # blank lines, checked by _check_batch
                column = pc.fill_null(column, np.nan)
            row[:] = _numpy(column, np.float64)
        out[:] = columns.T

    def extend(self, rows: np.ndarray) -> None:
        self._reserve(len(rows))[:] = rows

    def rows(self) -> np.ndarray:
        return self._values[: self._n]


def _numpy(array: pa.Array, dtype) -> np.ndarray:
    """The values of a null-free fixed-width pyarrow array, without a copy.

    ``Array.to_numpy`` would import pandas when it is installed, which costs
    about half a second and tens of MB in a fresh process.
    """
    dtype = np.dtype(dtype)
    if not len(array):  # its buffer may be None
        return np.empty(0, dtype=dtype)
    return np.frombuffer(
        array.buffers()[1],
        dtype=dtype,
        count=len(array),
        offset=array.offset * dtype.itemsize,
    )


def _lengths(array) -> np.ndarray:
    """Byte lengths of the values of a binary (Chunked)Array."""
    chunks = getattr(array, "chunks", [array])
    lengths = [_numpy(pc.binary_length(chunk), np.int32) for chunk in chunks]
    return np.concatenate(lengths) if lengths else np.empty(0, dtype=np.int32)


def _check_batch(batch, dim: int, trailing_space: bool) -> None:
    """Raise _Retry unless every row has a word and values, or is blank."""
    if trailing_space and pc.max(pc.binary_length(batch.column(dim + 1))).as_py():
        raise _Retry  # a value after the expected ones
    blank = _lengths(batch.column(0)) == 0
    values = batch.columns[1 : dim + 1]
    if not blank.any() and not any(column.null_count for column in values):
        return
    nulls = np.column_stack(
        [_numpy(pc.cast(column.is_null(), pa.int8()), np.int8) for column in values]
    ).astype(bool)
    if (nulls.any(axis=1) != blank).any() or (nulls.all(axis=1) != blank).any():
        raise _Retry  # a missing value, or values without a word


def _to_float32(rows: list[bytes], dim: int, lines, label: str) -> np.ndarray:
    """Parse rows of ``dim`` space-separated values, as the fast path does."""
    table = _Table(dim, len(rows))
    try:
        if rows:
            reader = pa_csv.open_csv(
                io.BytesIO(b"\n".join(rows)),
                **_csv_options(dim, words=False, null_values=[]),
            )
            for batch in reader:
                table.append_batch(batch, 0)
    except pa.ArrowInvalid:
        # Slow path, only to name the offending line and value.
        for row, lineno in zip(rows, lines, strict=True):
            for value in row.split(b" "):
                try:
                    pc.cast(pa.array([value], pa.string()), pa.float64())
                except (pa.ArrowInvalid, pa.ArrowTypeError):
                    raise ValueError(
                        f"{label}, line {lineno}: non-numeric value {value!r:.40}"
                    ) from None
        raise
    return table.rows()
