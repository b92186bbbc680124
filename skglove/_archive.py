"""Zip archives written atomically and read defensively.

:func:`write_archive` writes a zip through :func:`skglove._atomic.atomic_write`.
:func:`read_archive` refuses, before it inflates a single byte: a member name
that is absolute, climbs out of the archive or repeats; a name it was not
told to expect; and a member whose declared size is over its cap, or that
inflates more than :data:`MAX_RATIO` times (a zip bomb). It then reads each
member with a read bounded by the declared size, so a header that lies about
the size cannot make it inflate more.

Standard library only, so that ``skglove.load`` can check a file before it
imports TensorFlow.
"""

import os
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path, PurePosixPath, PureWindowsPath

from ._atomic import atomic_write

__all__ = [
    "HDF5_MAGIC",
    "MAX_RATIO",
    "RATIO_FREE_BYTES",
    "check_member_name",
    "check_members",
    "is_hdf5",
    "read_archive",
    "read_member",
    "write_archive",
]

HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
#: The largest ratio of inflated to compressed size a member may have once it
#: is over :data:`RATIO_FREE_BYTES`. JSON deflates about 5:1 and float weights
#: hardly at all, while a run of zeros deflates about 1000:1; so a member may
#: cost at most 50 times its size in the file.
MAX_RATIO = 50
#: Members up to this size are never refused for their ratio: tiny, very
#: regular files (a config of defaults) deflate well and harm nobody.
RATIO_FREE_BYTES = 8 << 20
# Errors of damaged compressed data: zlib's fail before zipfile's CRC check.
_DAMAGED = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError)


def write_archive(path: "str | os.PathLike[str]", members: Mapping[str, bytes]) -> None:
    """Write a deflated zip of ``members`` over ``path``, atomically.

    Parameters
    ----------
    path : str or path-like
        The archive to write; an existing file is replaced only once the new
        one is complete and on disk.
    members : mapping of str to bytes
        The members' names and contents, in order.
    """
    with atomic_write(path) as file:
        with zipfile.ZipFile(file, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data in members.items():
                archive.writestr(name, data)


def read_archive(
    path: "str | os.PathLike[str]", limits: Mapping[str, int]
) -> dict[str, bytes]:
    """Every member of a zip, once its names and declared sizes check out.

    Parameters
    ----------
    path : str or path-like
        The zip file.
    limits : mapping of str to int
        The member names the archive may hold, each with the largest size it
        may inflate to, in bytes.

    Returns
    -------
    members : dict of str to bytes
        The members present, by name.

    Raises
    ------
    ValueError
        If the file is not a zip or is damaged, or a member fails a check
        (see :func:`check_members`).
    """
    try:
        with zipfile.ZipFile(path) as archive:
            infos = check_members(archive, path, limits)
            return {info.filename: read_member(archive, info, path) for info in infos}
    except _DAMAGED as exc:
        raise ValueError(
            f"{path} is not a skglove archive, or it is damaged: {exc}"
        ) from None


def check_members(
    archive: zipfile.ZipFile,
    where,
    limits: Mapping[str, int],
    *,
    other_limit: int | None = None,
) -> list[zipfile.ZipInfo]:
    """The members of ``archive``, after checks that read none of them.

    Parameters
    ----------
    archive : zipfile.ZipFile
        An open archive.
    where : str or path-like
        The archive, as messages name it.
    limits : mapping of str to int
        The expected member names, each with its largest inflated size.
    other_limit : int, default=None
        The largest inflated size of a member not in ``limits``; ``None``
        refuses such members.

    Returns
    -------
    infos : list of zipfile.ZipInfo
        The members, in archive order.

    Raises
    ------
    ValueError
        If a name is unsafe (absolute, a path traversal, a backslash),
        repeated or unexpected, or a member's declared size is over its
        limit or inflates more than :data:`MAX_RATIO` times.
    """
    infos = archive.infolist()
    names = [info.filename for info in infos]
    for name in names:
        check_member_name(name, where)
    if len(set(names)) != len(names):
        raise ValueError(f"{where} holds repeated member names; refusing to load")
    for info in infos:
        limit = limits.get(info.filename, other_limit)
        if limit is None:
            raise ValueError(
                f"{where} holds an unexpected member {info.filename!r}; it may hold "
                f"only {', '.join(map(repr, limits))}; refusing to load"
            )
        _check_size(info, limit, where)
    return infos


def read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, where) -> bytes:
    """The inflated bytes of one member, never more than its declared size.

    Raises
    ------
    ValueError
        If the member inflates to another size than its header declares.
    """
    with archive.open(info) as member:
        data = member.read(info.file_size + 1)
    if len(data) != info.file_size:
        raise ValueError(
            f"{where}: member {info.filename!r} inflates to another size than "
            f"its header declares ({info.file_size} bytes); refusing to load"
        )
    return data


def check_member_name(name: str, where) -> None:
    """Refuse a member name that is absolute or climbs out of the archive."""
    posix = PurePosixPath(name)
    if (
        not name
        or "\\" in name
        or posix.is_absolute()
        or PureWindowsPath(name).drive
        or ".." in posix.parts
    ):
        raise ValueError(
            f"{where} holds a member named {name!r}, an absolute path or a path "
            "traversal; refusing to load"
        )


def is_hdf5(path: Path) -> bool:
    """Whether ``path`` is named or starts like an HDF5 file."""
    with open(path, "rb") as file:
        head = file.read(len(HDF5_MAGIC))
    return path.suffix.lower() in {".h5", ".hdf5"} or head.startswith(HDF5_MAGIC)


def _check_size(info: zipfile.ZipInfo, limit: int, where) -> None:
    size = info.file_size
    if size > limit:
        raise ValueError(
            f"{where}: member {info.filename!r} declares {size} bytes, more than "
            f"the {limit} a {info.filename!r} member may hold; refusing to "
            "inflate it"
        )
    if size > RATIO_FREE_BYTES and size > MAX_RATIO * max(info.compress_size, 1):
        raise ValueError(
            f"{where}: member {info.filename!r} would inflate {info.compress_size} "
            f"bytes to {size}, more than {MAX_RATIO} times (a zip bomb?); "
            "refusing to inflate it"
        )
