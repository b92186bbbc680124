"""Atomic file writes that survive a kill, and the clean-up of what one leaves.

:func:`atomic_write` writes to a temporary file in the target's folder,
flushes and fsyncs it, renames it over the target with :func:`os.replace` and
fsyncs the folder, so a reader sees either the old file or the complete new
one. A writer killed mid-write (``SIGKILL``, a power cut) cannot remove its
temporary file, so each temporary is named for its target and its writer:
``.{target}.{host}-{pid}.{random}.tmp``. :func:`remove_orphans` deletes the
temporaries whose writer is gone; every write calls it first, so the next
write of a target removes what a killed one left.

Standard library only: the GloVe cache, ``fetch_glove`` and ``skglove.save``
all use it, and none of them may import TensorFlow for it.
"""

import glob
import hashlib
import os
import re
import secrets
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import BinaryIO

__all__ = ["ORPHAN_AGE_SECONDS", "atomic_write", "remove_orphans"]

#: A temporary left untouched this long is removed whoever wrote it: its
#: writer is stuck, on another host, or its process id was reused.
ORPHAN_AGE_SECONDS = 24 * 3600
#: Which host wrote a temporary: a process id means nothing on another host
#: sharing the folder (NFS), so only this host's temporaries are checked by id.
_HOST = hashlib.blake2b(socket.gethostname().encode(), digest_size=4).hexdigest()
_SUFFIX = ".tmp"
_O_BINARY = getattr(os, "O_BINARY", 0)  # else Windows translates line ends
# ".{target}.{host}-{pid}.{random}.tmp"
_OURS = re.compile(r"\.(?P<target>.+)\.(?P<host>[0-9a-f]{8})-(?P<pid>\d+)\.[0-9a-f]{8}")
# Names earlier versions of skglove used (tempfile.mkstemp, secrets.token_hex):
# no writer id, so they are removed by age only.
_LEGACY = re.compile(r"\.(?P<target>.+)\.[A-Za-z0-9_]{8,16}")


@contextmanager
def atomic_write(path: "str | os.PathLike[str]") -> Iterator[BinaryIO]:
    """Open a binary file that replaces ``path`` only once written completely.

    Orphaned temporaries of ``path`` are removed first (see
    :func:`remove_orphans`). If the body raises, the temporary file is
    removed and ``path`` is left as it was.

    Parameters
    ----------
    path : str or path-like
        The file to write. Its folder must exist.

    Yields
    ------
    file : binary file object
        The temporary file, open for writing.

    Examples
    --------
    >>> import os, tempfile
    >>> from skglove._atomic import atomic_write
    >>> folder = tempfile.mkdtemp()
    >>> with atomic_write(os.path.join(folder, "data.bin")) as file:
    ...     _ = file.write(b"complete")
    >>> os.listdir(folder)
    ['data.bin']
    """
    path = Path(path)
    remove_orphans(path.parent, glob.escape(path.name))
    tmp = path.with_name(
        f".{path.name}.{_HOST}-{os.getpid()}.{secrets.token_hex(4)}{_SUFFIX}"
    )
    # os.open applies the umask, so the file gets the usual permissions
    # (tempfile.mkstemp would make it readable by its owner only).
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_BINARY, 0o666)
    try:
        with os.fdopen(fd, "wb") as file:
            yield file
            file.flush()
            os.fsync(file.fileno())  # the data is on disk before the rename
        os.replace(tmp, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_folder(path.parent)


def remove_orphans(
    folder: "str | os.PathLike[str]", target_glob: str = "*"
) -> list[Path]:
    """Remove the temporaries of killed writers, for targets matching a glob.

    A temporary of :func:`atomic_write` is an orphan if the process that
    named it is no longer alive on this host, or if it has not been modified
    for :data:`ORPHAN_AGE_SECONDS` (its writer is on another host, stuck, or
    its process id was reused). Temporaries of live writers are left alone.

    Parameters
    ----------
    folder : str or path-like
        The folder to clean; a missing folder holds no orphans.
    target_glob : str, default="*"
        Which targets' temporaries to consider, as a glob of the target's
        name (escape a literal name with :func:`glob.escape`).

    Returns
    -------
    removed : list of Path
        The files removed.
    """
    removed = []
    now = time.time()
    for tmp in Path(folder).glob(f".{target_glob}.*{_SUFFIX}"):
        with suppress(OSError):  # gone already, or not ours to remove
            if _is_orphan(tmp.name[: -len(_SUFFIX)], tmp.stat().st_mtime, now):
                tmp.unlink()
                removed.append(tmp)
    return removed


def _is_orphan(stem: str, mtime: float, now: float) -> bool:
    ours = _OURS.fullmatch(stem)
    if ours is None and _LEGACY.fullmatch(stem) is None:
        return False  # not a temporary of ours: never touched
    if now - mtime > ORPHAN_AGE_SECONDS:
        return True
    return (
        ours is not None
        and ours["host"] == _HOST
        and not _process_is_alive(int(ours["pid"]))
    )


def _process_is_alive(pid: int) -> bool:
    if os.name == "nt":
        # os.kill would terminate the process there; rely on the age alone.
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, run by another user
        return True
    except OSError:  # pragma: no cover - an id no system would use
        return False
    return True


def _fsync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable; not every system allows it."""
    with suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
