"""Tests for GloveCNNClassifier."""

import random

import numpy as np
import pytest
from conftest import TINY_MAX_LEN, TINY_NET
from sklearn.base import clone, is_classifier
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import StratifiedKFold, check_cv
from sklearn.utils import get_tags

from skglove import GloveCNNClassifier, GloveSequenceVectorizer, load_glove
from skglove._classifier import _DenseIdEncoder


@pytest.fixture(scope="module")
def ids(tiny_glove, posts):
    docs, labels = posts
    vec = GloveSequenceVectorizer(tiny_glove, max_len=TINY_MAX_LEN)
    return vec.fit_transform(docs), labels


@pytest.fixture(scope="module")
def fitted(tiny_glove, ids):
    X, y = ids
    return GloveCNNClassifier(tiny_glove, random_state=0, **TINY_NET).fit(X, y)


def test_is_a_classifier_for_sklearn():
    clf = GloveCNNClassifier()
    assert is_classifier(clf)
    assert get_tags(clf).estimator_type == "classifier"
    y = np.array(["a", "b"] * 10)
    assert isinstance(check_cv(5, y, classifier=is_classifier(clf)), StratifiedKFold)


def test_string_labels_classes_and_proba(fitted, ids):
    X, _ = ids
    assert fitted.classes_.tolist() == ["cars", "med", "space"]
    proba = fitted.predict_proba(X)
    assert proba.shape == (len(X), 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
    assert set(fitted.predict(X)) <= set(fitted.classes_)
    np.testing.assert_array_equal(
        fitted.predict(X), fitted.classes_[proba.argmax(axis=1)]
    )
    assert fitted.predict_proba(X[:1]).shape == (1, 3)


def test_learns_the_synthetic_topics(tiny_glove, ids):
    X, y = ids
    clf = GloveCNNClassifier(
        tiny_glove, random_state=0, **{**TINY_NET, "epochs": 30, "filters": 16}
    )
    assert clf.fit(X, y).score(X, y) > 0.9


def test_embedding_is_frozen_glove(tiny_glove, ids):
    fitted = GloveCNNClassifier(tiny_glove, random_state=0, **TINY_NET).fit(*ids)
    glove = load_glove(tiny_glove)
    layer = fitted.model_.get_layer("embedding")
    assert not layer.trainable
    assert any(w is layer.embeddings for w in fitted.model_.non_trainable_weights)
    assert not any(w is layer.embeddings for w in fitted.model_.trainable_weights)
    table = layer.get_weights()[0]
    # Rows 0 and 1 (padding, OOV) are zero; each seen GloVe id has its vector.
    ids_ = fitted.feature_encoder_.ids_
    assert table.shape == (len(ids_) + 2, glove.dim)
    np.testing.assert_array_equal(table[:2], 0)
    for row, i in enumerate(ids_, start=2):
        expected = glove.vectors[i - 2] if i - 2 < len(glove) else np.zeros(glove.dim)
        np.testing.assert_array_equal(table[row], expected)
    # Training more epochs leaves the table unchanged.
    fitted.partial_fit(*ids)
    np.testing.assert_array_equal(layer.get_weights()[0], table)


def test_table_holds_only_seen_ids(fitted, ids):
    X, _ = ids
    assert len(fitted.feature_encoder_.ids_) == len(np.unique(X[X >= 2]))


def test_cnn_rand_trains_its_embedding(ids):
    X, y = ids
    clf = GloveCNNClassifier(None, embedding_dim=6, random_state=0, **TINY_NET)
    layer = clf.fit(X, y).model_.get_layer("embedding")
    assert layer.trainable
    assert layer.get_weights()[0].shape[1] == 6


def test_same_seed_same_predictions(tiny_glove, ids, fitted):
    X, y = ids
    again = GloveCNNClassifier(tiny_glove, random_state=0, **TINY_NET).fit(X, y)
    np.testing.assert_array_equal(again.predict_proba(X), fitted.predict_proba(X))
    other = GloveCNNClassifier(tiny_glove, random_state=1, **TINY_NET).fit(X, y)
    assert not np.array_equal(other.predict_proba(X), fitted.predict_proba(X))


def test_seeding_restores_global_state(tiny_glove, ids):
    # skglove must not leave the legacy global NumPy or Python seeds changed.
    np.random.seed(123)  # noqa: NPY002
    random.seed(123)
    expected = (np.random.rand(), random.random())  # noqa: NPY002
    np.random.seed(123)  # noqa: NPY002
    random.seed(123)
    GloveCNNClassifier(tiny_glove, random_state=7, **TINY_NET).fit(*ids)
    assert (np.random.rand(), random.random()) == expected  # noqa: NPY002


def test_validation_split_and_early_stopping(tiny_glove, ids):
    X, y = ids
    net = {**TINY_NET, "epochs": 4, "validation_split": 0.2, "early_stopping": True}
    clf = GloveCNNClassifier(tiny_glove, patience=1, random_state=0, **net).fit(X, y)
    assert {"loss", "val_loss", "accuracy", "val_accuracy"} <= set(clf.history_)
    assert 1 <= len(clf.history_["val_loss"]) <= 4


def test_early_stopping_needs_validation(tiny_glove, ids):
    net = {**TINY_NET, "early_stopping": True, "validation_split": 0.0}
    with pytest.raises(ValueError, match="validation_split"):
        GloveCNNClassifier(tiny_glove, **net).fit(*ids)


def test_class_weight_and_learning_rate(tiny_glove, ids):
    X, y = ids
    clf = GloveCNNClassifier(
        tiny_glove,
        class_weight="balanced",
        optimizer="adam",
        learning_rate=0.01,
        random_state=0,
        **TINY_NET,
    ).fit(X[:50], y[:50])
    assert float(clf.model_.optimizer.learning_rate) == pytest.approx(0.01)
    assert type(clf.model_.optimizer).__name__ == "Adam"


def test_binary_and_integer_labels(tiny_glove, ids):
    X, y = ids
    binary = (y == "space").astype(int)
    clf = GloveCNNClassifier(tiny_glove, random_state=0, **TINY_NET).fit(X, binary)
    assert clf.classes_.tolist() == [0, 1]
    assert clf.predict_proba(X).shape == (len(X), 2)


def test_unseen_ids_read_as_oov():
    encoder = _DenseIdEncoder().fit(np.array([[0, 5, 9], [0, 0, 5]]))
    np.testing.assert_array_equal(encoder.ids_, [5, 9])
    np.testing.assert_array_equal(
        encoder.transform(np.array([[0, 1, 5, 7, 9, 100]])), [[0, 1, 2, 1, 3, 1]]
    )


def test_predict_before_fit():
    with pytest.raises(NotFittedError):
        GloveCNNClassifier().predict(np.zeros((1, 5), dtype=np.int32))


@pytest.mark.parametrize(
    "X, error, match",
    [
        (["moon car", "nasa"], TypeError, "expects integer id sequences"),
        ("moon car", TypeError, "got a string"),
        (np.array([1.5, 2.0]), ValueError, "2-D array"),
        (np.full((2, 40), 2.5), ValueError, "non-integer"),
        (np.full((2, 40), -3), ValueError, "non-negative"),
    ],
)
def test_bad_X(tiny_glove, X, error, match):
    with pytest.raises(error, match=match):
        GloveCNNClassifier(tiny_glove, **TINY_NET).fit(X, ["a", "b"][: len(X)])


def test_single_class(tiny_glove, ids):
    X, _ = ids
    with pytest.raises(ValueError, match="single class"):
        GloveCNNClassifier(tiny_glove, **TINY_NET).fit(X, ["a"] * len(X))


def test_nan_in_y(tiny_glove, ids):
    X, _ = ids
    y = np.ones(len(X))
    y[3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        GloveCNNClassifier(tiny_glove, **TINY_NET).fit(X, y)


def test_sequences_too_short_for_blog_network(tiny_glove, ids):
    X, y = ids
    with pytest.raises(ValueError, match="at least 48 ids, got max_len=30"):
        GloveCNNClassifier(
            tiny_glove, architecture="blog", kernel_size=4, pool_size=3, epochs=1
        ).fit(X, y)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"filters": 0}, "'filters' parameter"),
        ({"dropout": 1.0}, "'dropout' parameter"),
        ({"architecture": "resnet"}, "'architecture' parameter"),
        ({"epochs": 0}, "'epochs' parameter"),
    ],
)
def test_bad_parameters_name_the_parameter(tiny_glove, ids, params, match):
    with pytest.raises(ValueError, match=match):
        GloveCNNClassifier(tiny_glove, **params).fit(*ids)


def test_clone_and_params_round_trip():
    clf = GloveCNNClassifier("x.txt", filters=3, optimizer__momentum=0.9)
    params = clf.get_params()
    assert params["filters"] == 3 and params["optimizer__momentum"] == 0.9
    assert "model" not in params and "build_fn" not in params
    assert clone(clf).get_params() == params
    clf.set_params(optimizer__momentum=0.5, dropout=0.2)
    assert clf.get_params()["optimizer__momentum"] == 0.5
    assert not [k for k in vars(clf) if k.endswith("_")]


def test_missing_glove_file(ids):
    with pytest.raises(ValueError, match="neither a registered name"):
        GloveCNNClassifier("/no/such/glove.txt", **TINY_NET).fit(*ids)


KIM_NET = dict(
    architecture="kim",
    filters=8,
    kernel_size=(2, 3),
    dropout=0.0,
    batch_size=16,
    validation_split=0.0,
    early_stopping=False,
)


def test_kim_learns_and_is_reproducible(tiny_glove, ids):
    X, y = ids
    clf = GloveCNNClassifier(tiny_glove, random_state=0, epochs=15, **KIM_NET)
    proba = clf.fit(X, y).predict_proba(X)
    assert clf.score(X, y) > 0.9
    again = GloveCNNClassifier(tiny_glove, random_state=0, epochs=15, **KIM_NET)
    np.testing.assert_array_equal(again.fit(X, y).predict_proba(X), proba)


def test_kim_predicts_as_the_uncropped_network(tiny_glove, ids):
    X, y = ids
    clf = GloveCNNClassifier(tiny_glove, random_state=0, epochs=2, **KIM_NET)
    clf.fit(X, y)
    rows = clf.feature_encoder_.transform(X)
    np.testing.assert_allclose(
        clf.predict_proba(X), clf.model_.predict(rows, verbose=0), rtol=1e-5, atol=1e-7
    )


def test_kim_with_weights_validation_and_missing_words(tiny_glove, ids):
    X, y = ids
    net = {**KIM_NET, "validation_split": 0.2, "early_stopping": True}
    clf = GloveCNNClassifier(
        tiny_glove,
        class_weight="balanced",
        train_missing=True,
        random_state=0,
        epochs=3,
        **net,
    ).fit(X, y, sample_weight=np.linspace(0.5, 1.5, len(y)))
    assert {"loss", "val_loss"} <= set(clf.history_)
    table = clf.model_.get_layer("trainable_rows")
    assert table.trainable
    assert not clf.model_.get_layer("embedding").trainable


def test_bad_kernel_size_tuple(tiny_glove, ids):
    with pytest.raises(ValueError, match="'kernel_size' parameter"):
        GloveCNNClassifier(tiny_glove, architecture="kim", kernel_size=(3, 0)).fit(*ids)
