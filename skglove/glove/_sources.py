"""Where a source's bytes are: a file path, a zip member, and how to read them."""

import gzip
import zipfile
from collections.abc import Iterable
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa

__all__: list[str] = []


def _resolve_path(source, registered: Iterable[str]) -> tuple[Path, str | None]:
    """Split a source into an existing file and an optional zip member.

    ``registered`` names the registered sources, for the error message.
    """
    path = Path(source).expanduser()
    if path.is_file():
        return path.resolve(), None
    for parent in path.parents:
        if parent.suffix.lower() == ".zip" and parent.is_file():
            return parent.resolve(), path.relative_to(parent).as_posix()
    names = ", ".join(repr(n) for n in sorted(registered))
    raise ValueError(
        f"GloVe source {str(source)!r} is neither a registered name ({names}) "
        "nor an existing file"
    )


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
