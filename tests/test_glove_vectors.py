"""Tests of skglove.glove.GloveVectors: the container, its fingerprint, pickling."""

import copy
import pickle

import numpy as np
import pytest
from conftest import (
    VECTOR_DIM,
    assert_same_vectors,
    expected_vectors,
    write_glove_txt,
)

from skglove.glove import GloveVectors, _registry, load_glove

pytestmark = pytest.mark.usefixtures("glove_data_home")


def test_embedded_vectors_pickle_by_name():
    glove = load_glove("glove.6B.50d")
    payload = pickle.dumps(glove)
    assert len(payload) < 1000  # the name, not 400,000 rows
    assert pickle.loads(payload) is glove
    _registry._CACHE.clear()  # as in a fresh worker process
    reloaded = pickle.loads(payload)
    assert reloaded is not glove
    assert_same_vectors(reloaded, glove)


@pytest.mark.parametrize("make", ["file", "filtered", "built"])
def test_other_vectors_pickle_by_value(vector_txt, vector_rows, make):
    """A file may exist only on this machine, so its vectors travel along."""
    if make == "file":
        glove = load_glove(vector_txt)
    elif make == "filtered":
        glove = load_glove("glove.6B.50d", words=["cat", "dog"])
    else:
        glove = expected_vectors(vector_rows)
    vector_txt.unlink()
    copy_ = pickle.loads(pickle.dumps(glove))
    assert copy_ is not glove
    assert_same_vectors(copy_, glove)
    assert not copy_.vectors.flags.writeable


# ---------------------------------------------------------------------------
# Fingerprint


def test_fingerprint_is_a_cached_hex_digest(vector_txt):
    glove = load_glove(vector_txt)
    assert len(glove.fingerprint) == 32
    int(glove.fingerprint, 16)
    assert "fingerprint" in vars(glove)  # computed once
    assert "fingerprint" in GloveVectors.__doc__


def test_fingerprint_tells_sources_apart(vector_txt, vector_rows, tmp_path):
    glove = load_glove(vector_txt)
    subset = load_glove(vector_txt, words=[w for w, _ in vector_rows[:10]])
    reordered = write_glove_txt(tmp_path / "reordered.txt", vector_rows[::-1])
    # Another file of the same dimension and size: other words.
    renamed = [(f"x{word}", values) for word, values in vector_rows]
    other = write_glove_txt(tmp_path / "other.txt", renamed)
    words = [w for w, _ in vector_rows]
    wider = GloveVectors(words, np.zeros((len(words), VECTOR_DIM + 1)))
    fingerprints = {
        glove.fingerprint,
        subset.fingerprint,
        load_glove(reordered).fingerprint,
        load_glove(other).fingerprint,
        wider.fingerprint,
    }
    assert len(fingerprints) == 5


def test_fingerprint_ignores_how_the_vectors_were_loaded(
    vector_txt, vector_rows, cache_small_files
):
    glove = load_glove(vector_txt)
    _registry._CACHE.clear()
    cached = load_glove(vector_txt)  # memory-mapped from the disk cache
    assert isinstance(cached.vectors.base, np.memmap)
    _registry._CACHE.clear()
    again = load_glove(vector_txt, cache=False)
    built = expected_vectors(vector_rows)
    unpickled = pickle.loads(pickle.dumps(glove))
    assert "fingerprint" not in vars(unpickled)  # recomputed, not carried
    for twin in (cached, again, built, unpickled, copy.copy(glove)):
        assert twin.fingerprint == glove.fingerprint


def test_fingerprint_separates_words_that_join_alike():
    vectors = np.zeros((2, 1))
    # Both join to "a\nb\nc" with the same count: the lengths tell them apart.
    first = GloveVectors(["a\nb", "c"], vectors)
    second = GloveVectors(["a", "b\nc"], vectors)
    assert first.fingerprint != second.fingerprint
