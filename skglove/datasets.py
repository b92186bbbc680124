"""Loaders for the text corpora used in skglove's examples and benchmarks.

:func:`load_20newsgroups` reads the 20 Newsgroups "bydate" corpus from a local
copy of the official ``20news-bydate.tar.gz`` archive (or its unpacked folder)
and returns exactly what :func:`sklearn.datasets.fetch_20newsgroups` returns
for the same files, without touching the network. Without a local archive it
delegates to scikit-learn, which downloads and caches the corpus.
GloVe vectors are downloaded by :func:`skglove.glove.fetch_glove`.
"""

from __future__ import annotations

import os
import re
import tarfile
import zlib
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

import numpy as np
from sklearn.datasets import fetch_20newsgroups
from sklearn.datasets._twenty_newsgroups import (
    strip_newsgroup_footer,
    strip_newsgroup_header,
    strip_newsgroup_quoting,
)
from sklearn.utils import Bunch, check_random_state

__all__ = [
    "load_20newsgroups",
    "load_20newsgroups_subjects",
    "subject_line",
]

_SUBSET_FOLDERS = {"train": "20news-bydate-train", "test": "20news-bydate-test"}
_SUBSETS = ("train", "test", "all")
_REMOVE_OPTIONS = ("headers", "footers", "quotes")
_ENCODING = "latin-1"
# "Re:", "RE :", "re:" and repeats of them, at the start of a subject.
_REPLY_PREFIX = re.compile(r"^(?:\s*re\s*:)+\s*", re.IGNORECASE)
# sklearn caches each subset as load_files(...) output, which is shuffled with
# this fixed seed; replaying it keeps our order identical to sklearn's.
_LOAD_FILES_RANDOM_STATE = 0

# {subset folder: {category: {file name: (display path, raw bytes)}}}
_Tree = dict[str, dict[str, dict[str, tuple[str, bytes]]]]


def load_20newsgroups(
    subset: str = "train",
    *,
    remove: tuple[str, ...] = (),
    archive: str | os.PathLike[str] | None = None,
    data_home: str | os.PathLike[str] | None = None,
    categories: Iterable[str] | None = None,
    shuffle: bool = True,
    random_state: int | np.random.RandomState | None = 42,
    return_X_y: bool = False,
) -> Bunch | tuple[list[str], np.ndarray]:
    """Load the 20 Newsgroups "bydate" corpus, from a local archive if given.

    With ``archive`` the posts are read straight from a local copy of the
    official ``20news-bydate.tar.gz`` (without extracting it) or from its
    unpacked folder, and nothing is downloaded. The result, ordering included,
    is the same as :func:`sklearn.datasets.fetch_20newsgroups` on the same
    files with the same arguments. Without ``archive`` the call is delegated
    to :func:`sklearn.datasets.fetch_20newsgroups`, which downloads the corpus
    on first use.

    Parameters
    ----------
    subset : {"train", "test", "all"}, default="train"
        Which split to load; ``"all"`` is train followed by test (before
        shuffling).

    remove : tuple of str, default=()
        Any of ``"headers"``, ``"footers"`` and ``"quotes"``: parts of each
        post to strip with scikit-learn's own heuristics
        (``strip_newsgroup_header``, ``strip_newsgroup_footer`` and
        ``strip_newsgroup_quoting``, applied in that order).

    archive : str or path-like, default=None
        Path to ``20news-bydate.tar.gz`` (any tar compression works), or to
        the folder that holds ``20news-bydate-train/`` and
        ``20news-bydate-test/``. If None, download through scikit-learn.

    data_home : str or path-like, default=None
        scikit-learn's download and cache folder. Only used when ``archive``
        is None.

    categories : list of str, default=None
        Newsgroups to keep; None keeps all of them. Labels are renumbered in
        the sorted order of the kept newsgroups.

    shuffle : bool, default=True
        Whether to shuffle the posts.

    random_state : int, RandomState instance or None, default=42
        Seed or generator for the shuffling, as in scikit-learn.

    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    bunch : :class:`~sklearn.utils.Bunch`
        With ``data`` (list of str), ``target`` (ndarray of int),
        ``target_names`` (sorted list of newsgroup names), ``filenames``
        (ndarray of str; for a tar archive each is
        ``"<archive path>/<member name>"``) and ``DESCR`` (str).

    (data, target) : tuple
        If ``return_X_y`` is True.

    Raises
    ------
    ValueError
        If ``subset``, ``remove`` or ``categories`` name unknown values, or
        if ``archive`` does not exist, cannot be read or lacks the expected
        ``20news-bydate-train``/``20news-bydate-test`` folders.
    TypeError
        If ``remove`` or ``categories`` is a bare string.

    Examples
    --------
    >>> from skglove.datasets import load_20newsgroups
    >>> X, y = load_20newsgroups(  # doctest: +SKIP
    ...     "train", archive="20news-bydate.tar.gz", return_X_y=True
    ... )
    >>> len(X), y.shape  # doctest: +SKIP
    (11314, (11314,))
    """
    if subset not in _SUBSETS:
        raise ValueError(
            f"subset must be one of {', '.join(map(repr, _SUBSETS))}; got {subset!r}."
        )
    remove = _check_remove(remove)
    if categories is not None:
        categories = _check_categories(categories)

    if archive is None:
        return fetch_20newsgroups(
            data_home=data_home,
            subset=subset,
            categories=categories,
            shuffle=shuffle,
            random_state=random_state,
            remove=remove,
            return_X_y=return_X_y,
        )

    if not isinstance(archive, str | os.PathLike):
        raise TypeError(
            f"archive must be a path (str or os.PathLike) or None; "
            f"got {type(archive).__name__}."
        )
    if not os.fspath(archive):
        raise ValueError("archive must be a non-empty path, or None.")
    path = Path(archive).absolute()
    subsets = ("train", "test") if subset == "all" else (subset,)
    folders = [_SUBSET_FOLDERS[s] for s in subsets]
    if path.is_dir():
        tree = _read_folder(path, folders)
    elif path.is_file():
        tree = _read_tar(path, folders)
    else:
        raise ValueError(f"20 Newsgroups archive not found: {os.fspath(archive)!r}.")
    missing = [folder for folder in folders if folder not in tree]
    if missing:
        raise ValueError(
            f"{str(path)!r} has no {' or '.join(map(repr, missing))} folder; "
            "expected the layout of the official 20news-bydate.tar.gz "
            "(20news-bydate-train/ and 20news-bydate-test/ at the top level)."
        )

    data, target, filenames, target_names = _merge(
        [_load_files_like(tree[folder]) for folder in folders]
    )

    if categories is not None:
        unknown = [cat for cat in categories if cat not in target_names]
        if unknown:
            raise ValueError(
                f"Unknown categories {unknown}; available: {target_names}."
            )
        kept = sorted(set(categories))
        labels = np.array([target_names.index(cat) for cat in kept])
        mask = np.isin(target, labels)
        data = [doc for doc, keep in zip(data, mask, strict=True) if keep]
        target = np.searchsorted(labels, target[mask])
        filenames = filenames[mask]
        target_names = kept

    # sklearn strips before filtering; the strips work post by post, so
    # filtering first gives the same result with less work.
    if "headers" in remove:
        data = [strip_newsgroup_header(text) for text in data]
    if "footers" in remove:
        data = [strip_newsgroup_footer(text) for text in data]
    if "quotes" in remove:
        data = [strip_newsgroup_quoting(text) for text in data]

    if shuffle:
        indices = np.arange(target.shape[0])
        check_random_state(random_state).shuffle(indices)
        data = [data[i] for i in indices]
        target = target[indices]
        filenames = filenames[indices]

    if return_X_y:
        return data, target
    return Bunch(
        data=data,
        target=target,
        target_names=target_names,
        filenames=filenames,
        DESCR=(
            f"20 Newsgroups (bydate), subset={subset!r}, read from the local "
            f"archive {str(path)!r} and decoded as latin-1."
        ),
    )


def load_20newsgroups_subjects(
    subset: str = "train",
    *,
    archive: str | os.PathLike[str] | None = None,
    data_home: str | os.PathLike[str] | None = None,
    categories: Iterable[str] | None = None,
    shuffle: bool = True,
    random_state: int | np.random.RandomState | None = 42,
    return_X_y: bool = False,
) -> Bunch | tuple[list[str], np.ndarray]:
    """Load the Subject lines of the 20 Newsgroups posts: a short-text task.

    Each post becomes its ``Subject:`` header with any leading "Re:" removed
    (see :func:`subject_line`), labelled by its newsgroup. In the bydate train
    split the subjects average about 5 words, and about one in six has two
    words or fewer: titles, questions and chat messages are like this.

    Parameters
    ----------
    subset, archive, data_home, categories, shuffle, random_state, return_X_y
        As in :func:`load_20newsgroups`, which reads the posts.

    Returns
    -------
    bunch : :class:`~sklearn.utils.Bunch`
        As :func:`load_20newsgroups` returns it, with ``data`` holding the
        subject lines, in the same order as the posts.

    (data, target) : tuple
        If ``return_X_y`` is True.

    Examples
    --------
    >>> from skglove.datasets import load_20newsgroups_subjects
    >>> X, y = load_20newsgroups_subjects(  # doctest: +SKIP
    ...     "test", archive="20news-bydate.tar.gz", return_X_y=True
    ... )
    >>> X[0]  # doctest: +SKIP
    'Need info on 88-89 Bonneville'
    """
    posts = load_20newsgroups(
        subset,
        archive=archive,
        data_home=data_home,
        categories=categories,
        shuffle=shuffle,
        random_state=random_state,
    )
    posts.data = [subject_line(post) for post in posts.data]
    if return_X_y:
        return posts.data, posts.target
    posts.DESCR += " Each post is reduced to its Subject line, without 'Re:'."
    return posts


def subject_line(post: str) -> str:
    r"""The ``Subject:`` header of a Usenet or e-mail post, without "Re:".

    Only the header block (the lines before the first blank line) is searched.

    Parameters
    ----------
    post : str
        The raw post, headers first.

    Returns
    -------
    subject : str
        The subject with leading "Re:" prefixes and surrounding spaces
        removed; ``""`` if the post has no subject.

    Examples
    --------
    >>> from skglove.datasets import subject_line
    >>> subject_line("From: ann@example.com\nSubject: Re: RE: Orbit of Mars\n\nHi")
    'Orbit of Mars'
    """
    if not isinstance(post, str):
        raise TypeError(f"post must be a str, got {type(post).__name__}")
    for line in post.splitlines():
        if not line.strip():
            break
        name, colon, value = line.partition(":")
        if colon and name.strip().lower() == "subject":
            return _REPLY_PREFIX.sub("", value).strip()
    return ""


def _check_remove(remove: object) -> tuple[str, ...]:
    if isinstance(remove, str):
        raise TypeError(
            f"remove must be a tuple of option names, e.g. ({remove!r},), "
            f"not the bare string {remove!r}."
        )
    if not isinstance(remove, Iterable):
        raise TypeError(
            "remove must be a tuple containing any of "
            f"{', '.join(map(repr, _REMOVE_OPTIONS))}; got {remove!r}."
        )
    remove = tuple(remove)
    unknown = [option for option in remove if option not in _REMOVE_OPTIONS]
    if unknown:
        raise ValueError(
            f"Unknown remove option(s) {', '.join(map(repr, unknown))}; "
            f"allowed: {', '.join(map(repr, _REMOVE_OPTIONS))}."
        )
    return remove


def _check_categories(categories: object) -> list[str]:
    if isinstance(categories, str) or not isinstance(categories, Iterable):
        raise TypeError(
            f"categories must be a list of newsgroup names, e.g. [{categories!r}], "
            f"or None; got {categories!r}."
        )
    categories = [str(cat) for cat in categories]
    if not categories:
        raise ValueError("categories must name at least one newsgroup, or be None.")
    return categories


def _read_tar(path: Path, folders: list[str]) -> _Tree:
    """Read the wanted subset folders of a tar archive in one sequential pass."""
    tree: _Tree = {}
    try:
        with tarfile.open(path, "r:*") as tar:
            for member in tar:
                parts = [p for p in PurePosixPath(member.name).parts if p != "."]
                if not parts or parts[0] not in folders:
                    continue
                if len(parts) == 1 and member.isdir():
                    tree.setdefault(parts[0], {})
                elif len(parts) == 2 and member.isdir():
                    tree.setdefault(parts[0], {}).setdefault(parts[1], {})
                elif len(parts) == 3 and member.isfile():
                    stream = tar.extractfile(member)
                    if stream is None:
                        continue
                    posts = tree.setdefault(parts[0], {}).setdefault(parts[1], {})
                    posts[parts[2]] = (f"{path}/{'/'.join(parts)}", stream.read())
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        raise ValueError(
            f"Cannot read {str(path)!r} as a tar archive ({exc}); expected "
            "20news-bydate.tar.gz or the folder it unpacks to."
        ) from exc
    return tree


def _read_folder(path: Path, folders: list[str]) -> _Tree:
    tree: _Tree = {}
    for folder in folders:
        root = path / folder
        if not root.is_dir():
            continue
        tree[folder] = {
            category.name: {
                post.name: (str(post), post.read_bytes())
                for post in category.iterdir()
                if post.is_file()
            }
            for category in root.iterdir()
            if category.is_dir()
        }
    return tree


def _load_files_like(
    categories: dict[str, dict[str, tuple[str, bytes]]],
) -> tuple[list[str], np.ndarray, np.ndarray, list[str]]:
    """Mimic ``sklearn.datasets.load_files(..., encoding="latin1")``.

    Folders and files sorted by name, then shuffled with ``random_state=0``.
    """
    target_names = sorted(categories)
    target: list[int] = []
    filenames: list[str] = []
    raw: list[bytes] = []
    for label, category in enumerate(target_names):
        posts = categories[category]
        for name in sorted(posts):
            filename, content = posts[name]
            target.append(label)
            filenames.append(filename)
            raw.append(content)
    indices = np.arange(len(target))
    check_random_state(_LOAD_FILES_RANDOM_STATE).shuffle(indices)
    data = [raw[i].decode(_ENCODING) for i in indices]
    return (
        data,
        np.asarray(target, dtype=np.int64)[indices],
        np.asarray(filenames, dtype=str)[indices],
        target_names,
    )


def _merge(
    parts: list[tuple[list[str], np.ndarray, np.ndarray, list[str]]],
) -> tuple[list[str], np.ndarray, np.ndarray, list[str]]:
    """Concatenate subsets, relabelling if their newsgroups differ."""
    if len(parts) == 1:
        return parts[0]
    target_names = sorted({name for part in parts for name in part[3]})
    data: list[str] = []
    targets, filenames = [], []
    for part_data, part_target, part_filenames, part_names in parts:
        data.extend(part_data)
        lookup = np.searchsorted(target_names, part_names).astype(np.int64)
        targets.append(lookup[part_target])
        filenames.append(part_filenames)
    return data, np.concatenate(targets), np.concatenate(filenames), target_names
