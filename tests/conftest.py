"""Shared fixtures: a tiny GloVe file and synthetic posts, built per session."""

import os
import pickle
from pathlib import Path

import numpy as np
import pytest
from hypothesis import settings

# Keep TensorFlow's C++ start-up logging out of test output; tests only.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# Property tests run a bounded, reproducible number of examples and keep no
# example database, in CI and in README command 2 alike, so both take the same
# time; HYPOTHESIS_PROFILE=dev explores more, with new examples each run.
# Tests marked "slow" run a fifth of these (tests/test_vectorizer_properties.py).
settings.register_profile(
    "ci", max_examples=50, deadline=None, derandomize=True, database=None
)
settings.register_profile("dev", max_examples=100, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or "ci")


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "slow: a slow property test that runs fewer examples"
    )


#: The test files that use the session's Dask cluster (``dask_cluster``),
#: by name: xdist's scheduler sees node ids, not the fixtures a test uses.
_DASK_FILES = {"test_dask.py", "test_benchmarks.py"}


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """Under ``--dist loadfile``, send the files that use the Dask cluster to
    one worker too, so that one cluster serves them all."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class _ByFileDaskTogether(LoadFileScheduling):
        def _split_scope(self, nodeid):
            path = super()._split_scope(nodeid)
            return "dask" if Path(path).name in _DASK_FILES else path

    return _ByFileDaskTogether(config, log)


TOPICS = {
    "cars": "engine car wheel brake drive road speed fuel tire motor".split(),
    "med": "doctor patient disease drug treatment health pain blood nurse cure".split(),
    "space": "rocket orbit moon launch nasa planet star shuttle comet mars".split(),
}
COMMON = "the a of and to is in it that was for on".split()
#: Words the synthetic posts use but the tiny GloVe file lacks.
NOT_IN_GLOVE = ["zorblax", "quuxly"]
GLOVE_DIM = 8


def _glove_rows():
    """Words with vectors that point along their topic's axis."""
    rng = np.random.default_rng(1234)
    rows = []
    for axis, words in enumerate(TOPICS.values()):
        for word in words:
            vec = rng.normal(0, 0.1, GLOVE_DIM)
            vec[axis] += 1.0
            rows.append((word, vec))
    for word in COMMON:
        rows.append((word, rng.normal(0, 0.1, GLOVE_DIM)))
    rows.append(("unused", rng.normal(0, 0.1, GLOVE_DIM)))
    return rows


def write_glove_txt(path: Path, rows) -> Path:
    with open(path, "w", encoding="utf-8") as f:
        for word, vec in rows:
            f.write(word + " " + " ".join(f"{v:.6g}" for v in vec) + "\n")
    return path


@pytest.fixture(scope="session")
def glove_rows():
    return _glove_rows()


@pytest.fixture(scope="session")
def tiny_glove_path(tmp_path_factory, glove_rows) -> Path:
    """A GloVe text file of 45 words in dimension 8."""
    return write_glove_txt(tmp_path_factory.mktemp("glove") / "tiny.8d.txt", glove_rows)


@pytest.fixture(scope="session")
def tiny_glove(tiny_glove_path) -> str:
    """The tiny GloVe file's path, as estimators take it."""
    return str(tiny_glove_path)


#: Posts of every kind: empty, blank, over max_len, punctuation, accents,
#: German, emoji, other scripts.
EDGE_DOCS = [
    "",
    "   ",
    "engine " * 50,
    "Engine, wheels; BRAKES!! (the) doctor...",
    "Café naïve résumé ÉNGINE",
    "Straße STRASSE straße",
    "emoji 🚗🚀 engine 🚗",
    "日本語 テキスト engine",
    "wheels\ttyre\nbrakes",
    "ENGINE\x00WHEELS doctor",
    "İstanbul ΟΔΟΣ ẞ ǅ",
]


def make_posts(n_per_class=30, seed=0, length=25):
    """Synthetic posts: topic words mixed with common words and rare unknowns."""
    rng = np.random.default_rng(seed)
    docs, labels = [], []
    for i in range(n_per_class * len(TOPICS)):
        label = list(TOPICS)[i % len(TOPICS)]
        words = rng.choice(TOPICS[label], length // 2).tolist()
        words += rng.choice(COMMON, length - length // 2).tolist()
        if i % 7 == 0:
            words.append(NOT_IN_GLOVE[i % 2])
        rng.shuffle(words)
        # Capitals and punctuation exercise the Keras filters and lowercasing.
        docs.append(" ".join(words).capitalize() + ".")
        labels.append(label)
    return docs, np.asarray(labels)


def make_order_posts(n_pairs, seed):
    """Posts where only word order decides the class: "rocket moon" or "moon
    rocket" among random words. Posts come in pairs that differ only
    in that order, so a bag of words cannot tell the two of a pair apart."""
    rng = np.random.default_rng(seed)
    docs, labels = [], []
    for _ in range(n_pairs):
        filler = rng.choice(TOPICS["cars"] + ["the", "a", "of", "and"], 12).tolist()
        at = int(rng.integers(len(filler) + 1))
        for label, pair in (
            ("rocket first", ["rocket", "moon"]),
            ("moon first", ["moon", "rocket"]),
        ):
            docs.append(" ".join(filler[:at] + pair + filler[at:]))
            labels.append(label)
    return docs, np.asarray(labels)


def make_tagged_posts(n_posts=240, seed=0, length=12):
    """Synthetic multi-label posts: words of one or two topics among common
    words; each post is tagged with the topics it uses, an indicator matrix
    with one column per topic of ``TOPICS``."""
    rng = np.random.default_rng(seed)
    names = list(TOPICS)
    docs, tags = [], np.zeros((n_posts, len(names)), dtype=np.int64)
    for i in range(n_posts):
        topics = rng.choice(len(names), 1 + i % 2, replace=False)
        words = rng.choice(COMMON, length).tolist()
        for topic in topics:
            words += rng.choice(TOPICS[names[topic]], 4).tolist()
        rng.shuffle(words)
        docs.append(" ".join(words))
        tags[i, topics] = 1
    return docs, tags


@pytest.fixture(scope="session")
def posts():
    return make_posts()


#: A network small enough to fit in about a second.
TINY_NET = dict(
    filters=4,
    kernel_size=3,
    dense_units=8,
    epochs=2,
    batch_size=16,
    validation_split=0.0,
    early_stopping=False,
)
TINY_MAX_LEN = 30
#: The blog network at TINY_MAX_LEN needs pooling smaller than the blog's 5.
TINY_BLOG = dict(architecture="blog", pool_size=2)


def tiny_pipeline(glove, random_state=0, **params):
    """make_glove_pipeline with TINY_NET at TINY_MAX_LEN; ``params`` override."""
    from skglove import make_glove_pipeline

    return make_glove_pipeline(
        glove, max_len=TINY_MAX_LEN, random_state=random_state, **{**TINY_NET, **params}
    )


@pytest.fixture(scope="session")
def fitted_pipeline(tiny_glove, posts):
    """The tiny pipeline fitted on ``posts``, once per session. Tests must not
    change it: a test that does takes ``fitted_copy``."""
    return tiny_pipeline(tiny_glove).fit(*posts)


@pytest.fixture(scope="session")
def exportable_pipelines(tiny_glove, fitted_pipeline):
    """A fitted pipeline of each network export translates, by name: the
    default ("kim"), a multi-label one with tuned thresholds, and "blog" with
    post padding and truncation and an ``oov_token``. Tests must not change
    them."""
    from skglove import make_glove_pipeline

    tags_docs, tags = make_tagged_posts(n_posts=120, length=8)
    multilabel = make_glove_pipeline(
        tiny_glove, max_len=20, filters=2, epochs=2, threshold="tuned",
        validation_split=0.2, random_state=0,
    ).fit(tags_docs, tags)  # fmt: skip
    blog = tiny_pipeline(
        tiny_glove, **TINY_BLOG, padding="post", truncating="post", oov_token="<unk>"
    ).fit(tags_docs, tags[:, 0])
    return {"kim": fitted_pipeline, "multilabel": multilabel, "blog": blog}


@pytest.fixture
def fitted_copy(fitted_pipeline):
    """A copy of ``fitted_pipeline`` the test may change."""
    return pickle.loads(pickle.dumps(fitted_pipeline))


_DEFAULT_REAL_ARCHIVE = (
    Path(__file__).resolve().parents[1]
    / ".."
    / "shared"
    / "data"
    / "20news-bydate.tar.gz"
)
#: The real 20 Newsgroups archive; tests that need it skip when it is absent.
REAL_ARCHIVE = Path(os.environ.get("SKGLOVE_20NEWS_ARCHIVE") or _DEFAULT_REAL_ARCHIVE)


@pytest.fixture(scope="session")
def real_archive() -> Path:
    if not REAL_ARCHIVE.is_file():
        pytest.skip(f"the real 20 Newsgroups archive is not at {REAL_ARCHIVE}")
    return REAL_ARCHIVE


@pytest.fixture(scope="session")
def synthetic_archive(tmp_path_factory) -> Path:
    """The synthetic posts laid out as a 20news-bydate tar.gz."""
    import io
    import tarfile

    path = tmp_path_factory.mktemp("news") / "20news-bydate.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for subset, seed in (("train", 0), ("test", 1)):
            docs, labels = make_posts(n_per_class=20, seed=seed)
            for i, (doc, label) in enumerate(zip(docs, labels, strict=True)):
                body = f"From: user{i}@example.com\nSubject: post {i}\n\n{doc}\n"
                info = tarfile.TarInfo(f"20news-bydate-{subset}/{label}/{1000 + i}")
                info.size = len(body.encode("latin-1"))
                tar.addfile(info, io.BytesIO(body.encode("latin-1")))
    return path


@pytest.fixture(scope="session")
def dask_cluster():
    """One local Dask cluster of two single-thread worker processes, shared by
    the Dask tests and the Dask benchmark's smoke test: each worker imports
    TensorFlow once per session, not once per module."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        # Its HTTP server on a free port: 8787 may be another cluster's.
        dashboard_address=":0",
    ) as cluster:
        yield cluster


@pytest.fixture(autouse=True, scope="session")
def _data_home_in_tmp(tmp_path_factory):
    """Keep GloVe caches written by any test out of the user's home."""
    previous = os.environ.get("SKGLOVE_DATA")
    os.environ["SKGLOVE_DATA"] = str(tmp_path_factory.mktemp("skglove_data"))
    yield
    if previous is None:
        del os.environ["SKGLOVE_DATA"]
    else:
        os.environ["SKGLOVE_DATA"] = previous


# ---------------------------------------------------------------------------
# The GloVe loader's tests (tests/test_glove_*.py)

#: The dimension of the ``vector_rows`` test vectors.
VECTOR_DIM = 5


def float_bits(vectors) -> np.ndarray:
    """The bits of float32 values, to compare vectors exactly (NaN included)."""
    return np.asarray(vectors, dtype=np.float32).view(np.uint32)


def assert_same_vectors(glove, other) -> None:
    """Two GloveVectors hold the same words and bit-identical vectors."""
    assert glove.words == other.words
    np.testing.assert_array_equal(float_bits(glove.vectors), float_bits(other.vectors))


def expected_vectors(rows):
    """What parsing the ``%.6g`` text of ``rows`` must give: each decimal,
    rounded once."""
    from skglove.glove import GloveVectors

    values = [[float(f"{v:.6g}") for v in vec] for _, vec in rows]
    return GloveVectors([w for w, _ in rows], np.array(values).astype(np.float32))


def write_text(path: Path, text: str) -> Path:
    path.write_bytes(text.encode("utf-8"))
    return path


def parsers_used(monkeypatch) -> list[str]:
    """Record which parser finished each parse: threads, serial or python."""
    from skglove.glove import _parse

    used = []
    parsers = {
        "_parse_arrow_threaded": "threads",
        "_parse_arrow_serial": "serial",
        "_parse_python": "python",
    }
    for name, parser in parsers.items():
        original = getattr(_parse, name)

        def spy(*args, _original=original, _parser=parser, **kwargs):
            result = _original(*args, **kwargs)
            used.append(_parser)
            return result

        monkeypatch.setattr(_parse, name, spy)
    return used


@pytest.fixture
def glove_data_home(tmp_path, monkeypatch) -> Path:
    """Never write to ~; start with an empty per-process GloVe cache."""
    from skglove.glove import _registry

    home = tmp_path / "skglove_data"
    monkeypatch.setenv("SKGLOVE_DATA", str(home))
    monkeypatch.setattr(_registry, "_CACHE", {})
    return home


@pytest.fixture
def cache_small_files(monkeypatch):
    """Let the small test files use the disk cache, written before returning."""
    from skglove.glove import _cache, _registry

    monkeypatch.setattr(_cache, "_CACHE_MIN_BYTES", 0)
    monkeypatch.setattr(
        _registry, "_write_in_background", lambda entry, glove: entry.write(glove)
    )


@pytest.fixture(scope="session")
def vector_rows():
    """Words (some non-ASCII) and values of several magnitudes and signs."""
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(40)] + ["café", "日本", "naïve", "-0.5", "nan"]
    scale = 10.0 ** rng.integers(-6, 4, size=(len(words), VECTOR_DIM))
    values = rng.normal(size=(len(words), VECTOR_DIM)) * scale
    return list(zip(words, values, strict=True))


@pytest.fixture
def vector_txt(tmp_path, vector_rows) -> Path:
    """``vector_rows`` as a GloVe text file of 45 lines."""
    return write_glove_txt(tmp_path / "vectors.txt", vector_rows)


# ---------------------------------------------------------------------------
# Hostile archives (tests/test_archive.py, tests/test_persistence.py)


def add_zeros_member(archive, name: str, size: int) -> None:
    """Add a member of ``size`` zero bytes to a zip open for writing: a zip bomb.

    1 MiB of zeros is deflated once and its bytes repeated (a full flush makes
    each copy an independent block), so a 1 GiB member takes a fraction of a
    second and about 1 MB of memory to build. zipfile has no public way to
    add compressed bytes, hence the direct writes.
    """
    import zipfile
    import zlib

    chunk = 1 << 20
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = deflate.compress(bytes(chunk)) + deflate.flush(zlib.Z_FULL_FLUSH)
    n = size // chunk
    crc, zeros = 0, bytes(chunk)
    for _ in range(n):
        crc = zlib.crc32(zeros, crc)
    data = block * n + deflate.flush()
    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.file_size, info.compress_size, info.CRC = n * chunk, len(data), crc
    info.header_offset = archive.fp.tell()
    archive.fp.write(info.FileHeader())
    archive.fp.write(data)
    archive.filelist.append(info)
    archive.NameToInfo[name] = info
    archive.start_dir = archive.fp.tell()
