"""Tests of skglove.glove._registry: load_glove, register_glove, the process cache."""

import copy

import numpy as np
import pytest
from conftest import VECTOR_DIM, expected_vectors, float_bits

from skglove.glove import _registry, load_glove, register_glove

pytestmark = pytest.mark.usefixtures("glove_data_home")


def test_filtered_load_keeps_requested_words_in_file_order(vector_txt, vector_rows):
    full = load_glove(vector_txt)
    wanted = ["w7", "日本", "w3", "not-there", "w3"]
    glove = load_glove(vector_txt, words=wanted)
    assert glove.words == ("w3", "w7", "日本")
    for word in glove.words:
        np.testing.assert_array_equal(float_bits(glove[word]), float_bits(full[word]))
    assert load_glove(vector_txt, words=[]).vectors.shape == (0, VECTOR_DIM)
    # From a loaded table, a registered name and a GloveVectors alike.
    assert load_glove(full, words=wanted).words == glove.words
    register_glove("test-filtered", vector_txt)
    assert load_glove("test-filtered", words=wanted).words == glove.words


def test_filtered_load_is_not_cached_per_process(vector_txt):
    assert load_glove(vector_txt, words=["w1"]) is not load_glove(
        vector_txt, words=["w1"]
    )
    assert _registry._CACHE == {}


@pytest.mark.parametrize("words", ["cat", b"cat", 3])
def test_words_must_be_an_iterable_of_str(vector_txt, words):
    with pytest.raises(TypeError, match="iterable of str"):
        load_glove(vector_txt, words=words)


def test_words_must_hold_str(vector_txt):
    with pytest.raises(TypeError, match="must hold str"):
        load_glove(vector_txt, words=["cat", 3])


def test_same_source_gives_the_same_object(vector_txt):
    glove = load_glove(vector_txt)
    assert load_glove(str(vector_txt)) is glove
    assert load_glove(glove) is glove
    assert copy.deepcopy(glove) is glove and copy.copy(glove) is glove
    assert not glove.vectors.flags.writeable


def test_register_glove_path_and_callable(vector_txt, vector_rows):
    register_glove("test-path", vector_txt)
    assert load_glove("test-path") is load_glove(vector_txt)
    table = expected_vectors(vector_rows)
    register_glove("test-callable", lambda: table)
    assert load_glove("test-callable") is table
    register_glove("test-callable", lambda: "not vectors")
    with pytest.raises(TypeError, match="returned str"):
        load_glove("test-callable")


def test_source_type_errors():
    with pytest.raises(TypeError, match="name, a path or GloveVectors"):
        load_glove(3)
    with pytest.raises(ValueError, match="unicode_errors"):
        load_glove("glove.6B.50d", unicode_errors="ignore")
