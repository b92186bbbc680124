"""Tests for skglove.datasets.load_20newsgroups (offline: nothing is downloaded)."""

from __future__ import annotations

import codecs
import io
import os
import pickle
import tarfile
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import fetch_20newsgroups, load_files
from sklearn.datasets._base import _pkl_filepath
from sklearn.datasets._twenty_newsgroups import (
    CACHE_NAME,
    strip_newsgroup_footer,
    strip_newsgroup_header,
    strip_newsgroup_quoting,
)
from sklearn.utils import check_random_state

import skglove.datasets
from skglove.datasets import (
    load_20newsgroups,
    load_20newsgroups_subjects,
    subject_line,
)

GROUPS = ("comp.graphics", "rec.autos", "sci.space")
TRAIN = "20news-bydate-train"
TEST = "20news-bydate-test"
# "10" sorts before "9": checks that file names are sorted as strings.
TRAIN_NAMES = ("9", "10", "38001", "38002")
TEST_NAMES = ("60001", "60002", "7")


def _post(group: str, subset: str, name: str) -> bytes:
    """A post with headers, a quote, a latin-1 byte and a signature."""
    return (
        f"From: user{name}@example.com (User {name})\n"
        f"Subject: Re: {group} question {name}\n"
        f"Organization: Example University\n"
        f"Lines: 9\n"
        f"\n"
        f"In article <{name}@example.com> other@example.com writes:\n"
        f"> blah blah about {group}\n"
        f"I think {group} {subset} post {name} is right, "
    ).encode("ascii") + (
        b"caf\xe9 and more.\nSecond body line.\n\n-- \nUser " + name.encode() + b"\n"
    )


def _layout() -> dict[str, bytes]:
    files = {}
    for subset, names in ((TRAIN, TRAIN_NAMES), (TEST, TEST_NAMES)):
        for group in GROUPS:
            for name in names:
                files[f"{subset}/{group}/{name}"] = _post(group, subset, name)
    return files


def _write_tar(path: Path, files: dict[str, bytes]) -> None:
    with tarfile.open(path, "w:gz") as tar:
        # Shuffled member order: the loader must sort, not trust the archive.
        for member in sorted(files, reverse=True):
            info = tarfile.TarInfo(member)
            info.size = len(files[member])
            tar.addfile(info, io.BytesIO(files[member]))


def _write_folder(root: Path, files: dict[str, bytes]) -> None:
    for member, content in files.items():
        target = root / member
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """A tiny 20news-bydate corpus as a tar.gz, an unpacked folder and an
    offline scikit-learn cache built from that folder."""
    root = tmp_path_factory.mktemp("twenty")
    files = _layout()
    archive = root / "20news-bydate.tar.gz"
    _write_tar(archive, files)
    folder = root / "unpacked"
    _write_folder(folder, files)
    # sklearn's fetch_20newsgroups reads this cache instead of downloading.
    data_home = root / "sklearn_home"
    data_home.mkdir()
    cache = {
        "train": load_files(folder / TRAIN, encoding="latin1"),
        "test": load_files(folder / TEST, encoding="latin1"),
    }
    Path(_pkl_filepath(str(data_home), CACHE_NAME)).write_bytes(
        codecs.encode(pickle.dumps(cache), "zlib_codec")
    )
    return {"archive": archive, "folder": folder, "data_home": data_home}


def _sklearn(corpus, **kwargs):
    return fetch_20newsgroups(
        data_home=corpus["data_home"], download_if_missing=False, **kwargs
    )


def _relative(filenames, base: Path) -> list[str]:
    prefix = f"{base}{os.sep}"
    assert all(str(f).startswith(prefix) for f in filenames)
    return [str(f)[len(prefix) :].replace(os.sep, "/") for f in filenames]


def test_bunch_shape_and_types(corpus):
    bunch = load_20newsgroups(archive=corpus["archive"])
    n = len(GROUPS) * len(TRAIN_NAMES)
    assert isinstance(bunch.data, list)
    assert len(bunch.data) == n
    assert all(isinstance(doc, str) for doc in bunch.data)
    assert bunch.target.shape == (n,)
    assert np.issubdtype(bunch.target.dtype, np.integer)
    assert bunch.target_names == sorted(GROUPS)
    assert isinstance(bunch.filenames, np.ndarray)
    assert bunch.filenames.shape == (n,)
    assert all(f.startswith(f"{corpus['archive']}/{TRAIN}/") for f in bunch.filenames)
    assert isinstance(bunch.DESCR, str)
    assert "20news-bydate.tar.gz" in bunch.DESCR
    # Each post's label matches the newsgroup folder it came from.
    for filename, label in zip(bunch.filenames, bunch.target, strict=True):
        assert filename.split("/")[-2] == bunch.target_names[label]


@pytest.mark.parametrize("subset", ["train", "test", "all"])
def test_subset_sizes(corpus, subset):
    bunch = load_20newsgroups(subset, archive=corpus["archive"])
    n_train = len(GROUPS) * len(TRAIN_NAMES)
    n_test = len(GROUPS) * len(TEST_NAMES)
    expected = {"train": n_train, "test": n_test, "all": n_train + n_test}[subset]
    assert len(bunch.data) == bunch.target.shape[0] == expected
    assert bunch.target_names == list(GROUPS)


def test_all_is_train_then_test(corpus):
    kwargs = {"archive": corpus["archive"], "shuffle": False}
    train = load_20newsgroups("train", **kwargs)
    test = load_20newsgroups("test", **kwargs)
    both = load_20newsgroups("all", **kwargs)
    assert both.data == train.data + test.data
    np.testing.assert_array_equal(
        both.target, np.concatenate([train.target, test.target])
    )
    np.testing.assert_array_equal(
        both.filenames, np.concatenate([train.filenames, test.filenames])
    )


@pytest.mark.parametrize("subset", ["train", "test"])
@pytest.mark.parametrize("shuffle", [False, True])
def test_order_matches_load_files(corpus, subset, shuffle):
    folder = corpus["folder"] / {"train": TRAIN, "test": TEST}[subset]
    # sklearn caches load_files' output, which load_files itself shuffles
    # with random_state=0; fetch_20newsgroups then shuffles the indices.
    reference = load_files(folder, encoding="latin1")
    if shuffle:
        indices = np.arange(reference.target.shape[0])
        check_random_state(7).shuffle(indices)
        reference.data = [reference.data[i] for i in indices]
        reference.target = reference.target[indices]
        reference.filenames = reference.filenames[indices]
    bunch = load_20newsgroups(
        subset, archive=corpus["archive"], shuffle=shuffle, random_state=7
    )
    assert bunch.data == reference.data
    np.testing.assert_array_equal(bunch.target, reference.target)
    assert bunch.target_names == reference.target_names
    assert _relative(bunch.filenames, corpus["archive"].parent) == [
        f"20news-bydate.tar.gz/{name}"
        for name in _relative(reference.filenames, corpus["folder"])
    ]


@pytest.mark.parametrize("subset", ["train", "test", "all"])
@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("categories", [None, ["sci.space", "comp.graphics"]])
@pytest.mark.parametrize("remove", [(), ("headers", "footers", "quotes")])
def test_equals_sklearn_fetch_20newsgroups(corpus, subset, shuffle, categories, remove):
    kwargs = {
        "subset": subset,
        "shuffle": shuffle,
        "random_state": 3,
        "categories": categories,
        "remove": remove,
    }
    expected = _sklearn(corpus, **kwargs)
    from_tar = load_20newsgroups(archive=corpus["archive"], **kwargs)
    from_folder = load_20newsgroups(archive=corpus["folder"], **kwargs)
    for bunch in (from_tar, from_folder):
        assert bunch.data == expected.data
        np.testing.assert_array_equal(bunch.target, expected.target)
        assert bunch.target_names == list(expected.target_names)
    # sklearn read the unpacked folder, so even its file names agree.
    np.testing.assert_array_equal(from_folder.filenames, expected.filenames)


def test_folder_equals_tar(corpus):
    from_tar = load_20newsgroups("all", archive=corpus["archive"])
    from_folder = load_20newsgroups("all", archive=str(corpus["folder"]))
    assert from_tar.data == from_folder.data
    np.testing.assert_array_equal(from_tar.target, from_folder.target)
    assert from_tar.target_names == from_folder.target_names
    assert _relative(from_tar.filenames, corpus["archive"]) == _relative(
        from_folder.filenames, corpus["folder"]
    )


def test_return_X_y(corpus):
    bunch = load_20newsgroups("test", archive=corpus["archive"])
    X, y = load_20newsgroups("test", archive=corpus["archive"], return_X_y=True)
    assert X == bunch.data
    np.testing.assert_array_equal(y, bunch.target)


def test_categories_filter(corpus):
    bunch = load_20newsgroups(
        "all", archive=corpus["archive"], categories=["sci.space", "comp.graphics"]
    )
    assert bunch.target_names == ["comp.graphics", "sci.space"]
    assert set(bunch.target) == {0, 1}
    assert len(bunch.data) == 2 * (len(TRAIN_NAMES) + len(TEST_NAMES))
    for filename, label in zip(bunch.filenames, bunch.target, strict=True):
        assert filename.split("/")[-2] == bunch.target_names[label]
    assert not any("rec.autos" in doc for doc in bunch.data)
    # A single category, passed as an array: label 0 only.
    single = load_20newsgroups(
        archive=corpus["archive"], categories=np.array(["rec.autos"])
    )
    assert single.target_names == ["rec.autos"]
    np.testing.assert_array_equal(single.target, np.zeros(len(TRAIN_NAMES)))


def test_shuffle_is_deterministic(corpus):
    archive = corpus["archive"]
    first = load_20newsgroups("all", archive=archive, random_state=0)
    again = load_20newsgroups("all", archive=archive, random_state=0)
    other = load_20newsgroups("all", archive=archive, random_state=1)
    from_rng = load_20newsgroups(
        "all", archive=archive, random_state=np.random.RandomState(0)
    )
    assert first.data == again.data == from_rng.data
    np.testing.assert_array_equal(first.filenames, again.filenames)
    assert first.data != other.data
    assert sorted(first.data) == sorted(other.data)


def test_latin1_decoding(corpus):
    bunch = load_20newsgroups(archive=corpus["archive"])
    assert all("caf\xe9 and more." in doc for doc in bunch.data)


@pytest.mark.parametrize(
    ("option", "strip", "gone", "kept"),
    [
        ("headers", strip_newsgroup_header, "Organization:", "> blah"),
        ("footers", strip_newsgroup_footer, "\n-- \nUser", "Organization:"),
        ("quotes", strip_newsgroup_quoting, "> blah", "Organization:"),
    ],
)
def test_remove_option(corpus, option, strip, gone, kept):
    kwargs = {"archive": corpus["archive"], "shuffle": False}
    raw = load_20newsgroups(**kwargs)
    stripped = load_20newsgroups(remove=(option,), **kwargs)
    assert stripped.data == [strip(doc) for doc in raw.data]
    assert all(gone in doc for doc in raw.data)
    assert not any(gone in doc for doc in stripped.data)
    assert all(kept in doc for doc in stripped.data)
    np.testing.assert_array_equal(stripped.target, raw.target)


def test_remove_all_applies_in_sklearn_order(corpus):
    kwargs = {"archive": corpus["archive"], "shuffle": False}
    raw = load_20newsgroups(**kwargs)
    # Order given by the user does not matter: headers, footers, quotes.
    stripped = load_20newsgroups(remove=("quotes", "footers", "headers"), **kwargs)
    assert stripped.data == [
        strip_newsgroup_quoting(strip_newsgroup_footer(strip_newsgroup_header(doc)))
        for doc in raw.data
    ]


def test_bad_subset(corpus):
    with pytest.raises(ValueError, match=r"subset must be one of 'train', 'test'"):
        load_20newsgroups("validation", archive=corpus["archive"])


def test_bad_remove_name(corpus):
    with pytest.raises(ValueError, match=r"Unknown remove option\(s\) 'signatures'"):
        load_20newsgroups(archive=corpus["archive"], remove=("headers", "signatures"))


def test_remove_bare_string(corpus):
    with pytest.raises(TypeError, match=r"remove must be a tuple.*\('headers',\)"):
        load_20newsgroups(archive=corpus["archive"], remove="headers")


def test_missing_archive(tmp_path):
    missing = tmp_path / "nope.tar.gz"
    with pytest.raises(ValueError, match="archive not found") as excinfo:
        load_20newsgroups(archive=missing)
    assert str(missing) in str(excinfo.value)


def test_folder_without_layout(tmp_path):
    _write_folder(tmp_path, {f"{TRAIN}/sci.space/1": b"x"})
    assert load_20newsgroups(archive=tmp_path).target_names == ["sci.space"]
    with pytest.raises(ValueError, match=f"no '{TEST}' folder"):
        load_20newsgroups("test", archive=tmp_path)
    with pytest.raises(ValueError, match=f"no '{TEST}' folder"):
        load_20newsgroups("all", archive=tmp_path)
    # Pointing at a subset folder itself is a layout error too.
    with pytest.raises(ValueError, match=f"no '{TRAIN}' folder"):
        load_20newsgroups(archive=tmp_path / TRAIN)


def test_tar_without_layout(tmp_path):
    archive = tmp_path / "other.tar.gz"
    _write_tar(archive, {f"news/{TRAIN}/sci.space/1": b"x"})
    with pytest.raises(ValueError, match=f"no '{TRAIN}' folder"):
        load_20newsgroups(archive=archive)


def test_not_a_tar(tmp_path):
    bogus = tmp_path / "20news-bydate.tar.gz"
    bogus.write_bytes(b"this is not a tar archive")
    with pytest.raises(ValueError, match=r"Cannot read .* as a tar archive"):
        load_20newsgroups(archive=bogus)


def test_unknown_category(corpus):
    with pytest.raises(ValueError, match=r"Unknown categories \['sci.spaec'\]"):
        load_20newsgroups(
            archive=corpus["archive"], categories=["sci.space", "sci.spaec"]
        )


def test_categories_bare_string(corpus):
    with pytest.raises(TypeError, match="categories must be a list"):
        load_20newsgroups(archive=corpus["archive"], categories="sci.space")


def test_archive_none_delegates_to_sklearn(monkeypatch, tmp_path):
    calls = []

    def fake_fetch(**kwargs):
        calls.append(kwargs)
        return "sentinel"

    monkeypatch.setattr(skglove.datasets, "fetch_20newsgroups", fake_fetch)
    result = load_20newsgroups(
        "test",
        remove=("headers", "quotes"),
        data_home=tmp_path,
        categories=["sci.space"],
        shuffle=False,
        random_state=5,
        return_X_y=True,
    )
    assert result == "sentinel"
    assert calls == [
        {
            "data_home": tmp_path,
            "subset": "test",
            "categories": ["sci.space"],
            "shuffle": False,
            "random_state": 5,
            "remove": ("headers", "quotes"),
            "return_X_y": True,
        }
    ]


def test_archive_none_validates_before_delegating(monkeypatch):
    def fail(**kwargs):
        raise AssertionError("must not be called")

    monkeypatch.setattr(skglove.datasets, "fetch_20newsgroups", fail)
    with pytest.raises(ValueError, match="subset must be one of"):
        load_20newsgroups("dev")
    with pytest.raises(ValueError, match="Unknown remove option"):
        load_20newsgroups(remove=("header",))


def test_real_archive(real_archive):
    bunch = load_20newsgroups("all", archive=real_archive, shuffle=False)
    n_train = sum(f"/{TRAIN}/" in f for f in bunch.filenames)
    n_test = sum(f"/{TEST}/" in f for f in bunch.filenames)
    assert (n_train, n_test) == (11314, 7532)
    assert len(bunch.data) == bunch.target.shape[0] == 11314 + 7532
    assert len(bunch.target_names) == 20
    assert bunch.target_names == sorted(bunch.target_names)
    assert "sci.space" in bunch.target_names
    assert set(np.unique(bunch.target)) == set(range(20))


# --- The Subject-lines task.


@pytest.mark.parametrize(
    ("post", "subject"),
    [
        ("From: a@b.c\nSubject: Re: RE: re : Orbit of Mars\n\nbody", "Orbit of Mars"),
        (
            "subject:   Where is the Re: key?  \nFrom: x\n\nbody",
            "Where is the Re: key?",
        ),
        ("Subject: Reentry heat\n\n", "Reentry heat"),  # a word, not a prefix
        ("From: a@b.c\n\nSubject: in the body\n", ""),  # only headers count
        ("no headers at all", ""),
        ("", ""),
    ],
)
def test_subject_line(post, subject):
    assert subject_line(post) == subject


def test_subject_line_needs_a_string():
    with pytest.raises(TypeError, match="post must be a str, got bytes"):
        subject_line(b"Subject: hi")


def test_subjects_follow_the_posts(synthetic_archive):
    posts = load_20newsgroups("train", archive=synthetic_archive, random_state=3)
    subjects = load_20newsgroups_subjects(
        "train", archive=synthetic_archive, random_state=3
    )
    # Same posts in the same order, each reduced to its subject.
    assert subjects.data == [subject_line(post) for post in posts.data]
    assert subjects.data[0].startswith("post ")
    np.testing.assert_array_equal(subjects.target, posts.target)
    assert subjects.target_names == posts.target_names
    X, y = load_20newsgroups_subjects(
        "train", archive=synthetic_archive, random_state=3, return_X_y=True
    )
    assert X == subjects.data
    np.testing.assert_array_equal(y, posts.target)


def test_real_archive_subjects(real_archive):
    X, _ = load_20newsgroups_subjects("train", archive=real_archive, return_X_y=True)
    lengths = np.array([len(s.split()) for s in X])
    assert len(X) == 11314
    assert 4.5 < lengths.mean() < 5.5
    assert (lengths <= 2).sum() == 1799
    assert not any(s.lower().startswith("re:") for s in X)
