"""The binary disk cache of parsed text sources, and its background writer.

The first full load of a text file of at least 1 MiB writes the table under
``<data home>/glove_cache/``; later loads, in any process, memory-map it.
"""

import hashlib
import json
import threading
from contextlib import suppress
from pathlib import Path

import numpy as np

from .._atomic import atomic_write, remove_orphans
from ._data_home import get_data_home
from ._vectors import GloveVectors
from ._warn import _warn

__all__: list[str] = []

#: Bytes hashed from the head of a source for the disk-cache key.
_HEAD_HASH_BYTES = 1 << 20
#: Smaller files are parsed every time: a cache would not pay for itself.
_CACHE_MIN_BYTES = 1 << 20
_CACHE_FORMAT = 1
_WRITES: list[threading.Thread] = []
_WRITES_LOCK = threading.Lock()


def _open_entry(path: Path, member, unicode_errors: str, data_home):
    """The cache entry of a source, or None if it is too small or unusable."""
    if path.stat().st_size < _CACHE_MIN_BYTES:
        return None
    try:
        return _CacheEntry(path, member, unicode_errors, data_home)
    except OSError as exc:
        _warn_no_cache(data_home, exc)
        return None


def _warn_no_cache(folder, exc: OSError) -> None:
    _warn(
        f"could not use the GloVe cache in {folder or 'the data home'} ({exc}); "
        "the file will be parsed again next time. Pass cache=False to skip the "
        "cache, or data_home= to move it"
    )


class _CacheEntry:
    """The binary cache of one text source: ``.npy``, ``.words`` and ``.json``.

    Each file is written with :func:`skglove._atomic.atomic_write` (a
    temporary name, fsync, rename); the manifest (``.json``) comes last and
    is checked on every read, so an interrupted or concurrent write never
    leaves an entry that is trusted. File names carry a hash of the whole
    key, so a name always stands for the same content, whoever wrote it.
    Each write removes the stale entries of its source and the temporaries
    that killed writers left in the folder.
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
            with atomic_write(self._file(".npy")) as file:
                np.save(file, glove.vectors, allow_pickle=False)
            with atomic_write(self._file(".words")) as file:
                file.write(blob)
            manifest = {
                "key": self.key,
                "dim": glove.dim,
                "n_words": len(glove),
                "words_sha256": hashlib.sha256(blob).hexdigest(),
                "npy_bytes": self._file(".npy").stat().st_size,
            }
            with atomic_write(self._file(".json")) as file:
                file.write(json.dumps(manifest, indent=1).encode())
        except OSError as exc:
            _warn_no_cache(self.folder, exc)
            return False
        # Older entries of the same source are stale now.
        for old in self.folder.glob(f"{self.source_id}-*"):
            if not old.name.startswith(self.name):
                with suppress(OSError):
                    old.unlink()
        # A killed writer's temporary may belong to any entry, even one whose
        # source is gone: its name is not the key of anything written again.
        remove_orphans(self.folder)
        return True


def _write_in_background(entry: _CacheEntry, glove: GloveVectors) -> None:
    """Write the cache in a thread, so that the vectors are returned at once.

    The thread is not a daemon: the interpreter waits for it at exit. An
    interrupted write is never trusted anyway (see _CacheEntry).
    """
    thread = threading.Thread(
        target=entry.write, args=(glove,), name="skglove-glove-cache"
    )
    with _WRITES_LOCK:
        _WRITES[:] = [*(t for t in _WRITES if t.is_alive()), thread]
    thread.start()


def _wait_for_cache_writes() -> None:
    """Return once every cache write this process started is done."""
    with _WRITES_LOCK:
        threads = list(_WRITES)
    for thread in threads:
        thread.join()


def _digest(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:16]
