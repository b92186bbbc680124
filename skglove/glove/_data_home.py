"""The skglove data folder: downloads and caches live there."""

import os

__all__ = ["get_data_home"]


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
    >>> from skglove.glove import get_data_home
    >>> home = get_data_home(os.path.join(tempfile.mkdtemp(), "skglove_data"))
    >>> os.path.isdir(home)
    True
    """
    if data_home is None:
        data_home = os.environ.get("SKGLOVE_DATA") or os.path.join("~", "skglove_data")
    data_home = os.path.expanduser(os.fspath(data_home))
    os.makedirs(data_home, exist_ok=True)
    return data_home
