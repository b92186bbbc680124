"""Hypothesis over the constructors' parameter space, edge values included:
every combination either works or is refused with a ValueError or TypeError
that names a parameter, never a crash from deep inside (issue 12, item 7)."""

import numpy as np
import pytest
from conftest import make_posts
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from skglove import GloveCNNClassifier, GloveSequenceVectorizer

_CLASSIFIER_SPACE = {
    "architecture": st.sampled_from(["kim", "blog"]),
    "lexical": st.booleans(),
    "filters": st.sampled_from([1, 3]),
    "kernel_size": st.sampled_from([1, 2, 5, (1, 2), (), (0,), [2, 3]]),
    "pool_size": st.sampled_from([None, 1, 2, 5]),
    "dense_units": st.sampled_from([0, 1, 4]),
    "dropout": st.sampled_from([0.0, 0.5, 0.99]),
    "mean_pooling": st.sampled_from([None, True, False]),
    "unseen_glove_words": st.sampled_from([0, 1, 50_000]),
    "embedding_dim": st.sampled_from([None, 1, 8, 16]),
    "train_missing": st.booleans(),
    "trainable_dim": st.sampled_from([0, 1, 3]),
    "learning_rate": st.sampled_from([None, 1e-6, 0.05]),
    "batch_size": st.sampled_from([1, 7, 512]),
    "validation_split": st.sampled_from([0.0, 0.2, 0.5]),
    "early_stopping": st.booleans(),
    "patience": st.sampled_from([0, 1]),
    "class_weight": st.sampled_from([None, "balanced"]),
    "random_state": st.sampled_from([None, 0, np.random.RandomState(1)]),
    "shuffle": st.booleans(),
    "use_glove": st.booleans(),
}

_VECTORIZER_SPACE = {
    "max_len": st.sampled_from([1, 2, 7, 1000]),
    "max_words": st.sampled_from([None, 1, 2, 3, 10]),
    "lowercase": st.booleans(),
    "filter_chars": st.sampled_from(["", " ", "!.,", "abcdefghijklmnopqrstuvwxyz"]),
    "padding": st.sampled_from(["pre", "post"]),
    "truncating": st.sampled_from(["pre", "post"]),
    "oov_token": st.sampled_from([None, "<OOV>", ""]),
    "unseen_glove_words": st.sampled_from([0, 1, 50_000]),
    "use_glove": st.booleans(),
}


def _names_a_parameter(message: str, params: dict) -> bool:
    return any(name in message for name in params)


@pytest.fixture(scope="module")
def small_ids(tiny_glove):
    docs, labels = make_posts(n_per_class=6, length=8)
    X = GloveSequenceVectorizer(tiny_glove, max_len=160).fit_transform(docs)
    return X, labels


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(st.fixed_dictionaries(_CLASSIFIER_SPACE))
def test_classifier_parameters_work_or_are_refused_by_name(
    tiny_glove, small_ids, params
):
    X, labels = small_ids
    glove = tiny_glove if params.pop("use_glove") else None
    clf = GloveCNNClassifier(glove, epochs=1, **params)
    try:
        clf.fit(X, labels)
    except (ValueError, TypeError) as exc:
        assert _names_a_parameter(str(exc), {**params, "glove": glove}), exc
        event("refused")
        return
    event("fitted")
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)


@settings(max_examples=60, deadline=None)
@given(st.fixed_dictionaries(_VECTORIZER_SPACE))
def test_vectorizer_parameters_work_or_are_refused_by_name(tiny_glove_path, params):
    docs, _ = make_posts(n_per_class=3, length=6)
    glove = str(tiny_glove_path) if params.pop("use_glove") else None
    vec = GloveSequenceVectorizer(glove, **params)
    try:
        X = vec.fit_transform(docs)
    except (ValueError, TypeError) as exc:
        assert _names_a_parameter(str(exc), params) or "vocabulary" in str(exc), exc
        return
    assert X.shape == (len(docs), params["max_len"])
    assert X.min() >= 0
    np.testing.assert_array_equal(vec.transform(docs), X)
