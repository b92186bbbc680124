"""Tests for GloveCNNClassifier."""

import pickle
import random

import keras
import numpy as np
import pytest
from conftest import TINY_MAX_LEN, TINY_NET, TOPICS, make_order_posts
from keras.callbacks import EarlyStopping
from sklearn.base import clone, is_classifier
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import StratifiedKFold, check_cv
from sklearn.utils import get_tags

import skglove._keras_hooks
from skglove import (
    GloveCNNClassifier,
    GloveSequenceVectorizer,
    load_glove,
    make_glove_pipeline,
)
from skglove._mix import fit_mix
from skglove._table import IdTable
from skglove._training import CosineDecay, RenameLogs, training_model


@pytest.fixture(scope="module")
def ids(tiny_glove, posts):
    docs, labels = posts
    vec = GloveSequenceVectorizer(tiny_glove, max_len=TINY_MAX_LEN)
    return vec.fit_transform(docs), labels


@pytest.fixture(scope="module")
def fitted(tiny_glove, ids):
    """TINY_NET fitted on ``ids``, with every other parameter at its default.
    Tests must not change it: one that does takes ``_copy(fitted)``."""
    X, y = ids
    return GloveCNNClassifier(tiny_glove, random_state=0, **TINY_NET).fit(X, y)


def _copy(estimator):
    return pickle.loads(pickle.dumps(estimator))


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


def test_embedding_is_frozen_glove(tiny_glove, ids, fitted):
    fitted = _copy(fitted)  # trained on below
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


def test_table_holds_seen_ids_then_the_first_unseen_glove_rows(tiny_glove, ids, fitted):
    X, y = ids
    seen = np.unique(X[X >= 2])
    # ``fitted`` has the default, far more rows than the file holds.
    assert fitted.unseen_glove_words == 50_000
    for n_unseen, n_extra in ((0, 0), (42, 0), (43, 1), (50_000, 1)):
        if n_unseen == fitted.unseen_glove_words:
            clf = fitted
        else:
            clf = GloveCNNClassifier(
                tiny_glove, unseen_glove_words=n_unseen, random_state=0, **TINY_NET
            ).fit(X, y)
        ids_ = clf.feature_encoder_.ids_
        # The tiny GloVe file has 43 rows; the posts use 42 of them and two
        # words GloVe lacks (ids 45, 46), so only its last row (id 44) is new.
        np.testing.assert_array_equal(ids_[: len(seen)], seen)
        np.testing.assert_array_equal(ids_[len(seen) :], [44][:n_extra])
        rows = clf.model_.get_layer("embedding").get_weights()[0]
        assert len(rows) == 2 + len(seen) + n_extra


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
    encoder = IdTable().fit(np.array([[0, 5, 9], [0, 0, 5]]))
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


@pytest.fixture(scope="module")
def kim_fitted(tiny_glove, ids):
    """KIM_NET trained for 15 epochs on ``ids``; tests must not change it."""
    return GloveCNNClassifier(tiny_glove, random_state=0, epochs=15, **KIM_NET).fit(
        *ids
    )


def test_kim_learns_and_is_reproducible(tiny_glove, ids, kim_fitted):
    X, y = ids
    proba = kim_fitted.predict_proba(X)
    assert kim_fitted.score(X, y) > 0.9
    again = GloveCNNClassifier(tiny_glove, random_state=0, epochs=15, **KIM_NET)
    np.testing.assert_array_equal(again.fit(X, y).predict_proba(X), proba)


def test_kim_predicts_as_the_uncropped_network(ids, kim_fitted):
    X, _ = ids
    clf = kim_fitted
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


# --- Short documents: every document with a kept word is read by its words.

SHORT_TOPICS = {topic: words for topic, words in TOPICS.items() if topic != "med"}


#: A small network that learns the short posts in a few seconds, on every epoch.
_SHORT_NET = dict(
    max_len=20,
    filters=16,
    epochs=25,
    batch_size=16,
    validation_split=0.0,
    early_stopping=False,
    random_state=0,
)


def _short_posts(n=120, seed=0, words_from=slice(0, 10)):
    """Posts of 1 to 7 words of one topic each (the issue's sports/tech case)."""
    rng = np.random.default_rng(seed)
    docs, labels = [], []
    for i in range(n):
        topic = list(SHORT_TOPICS)[i % 2]
        length = int(rng.integers(1, 8))
        docs.append(" ".join(rng.choice(SHORT_TOPICS[topic][words_from], length)))
        labels.append(topic)
    return docs, np.asarray(labels)


@pytest.mark.parametrize(
    "params",
    [
        {},  # the defaults: kernel width 1, lexical channel
        {"kernel_size": (3, 4, 5)},
        {"kernel_size": (3, 4, 5), "lexical": False, "mean_pooling": False},
        {"kernel_size": 5, "lexical": False, "mean_pooling": False},
    ],
    ids=["defaults", "kim345", "kim345-glove-only", "kim5-max-only"],
)
def test_one_word_documents_follow_their_words(tiny_glove, params):
    docs, labels = _short_posts()
    pipe = make_glove_pipeline(glove=tiny_glove, **_SHORT_NET, **params)
    pipe.fit(docs, labels)
    # Documents of 1 to 6 words of one topic, from every start word.
    docs, topics = zip(
        *[
            (" ".join(np.roll(words, -start)[:length]), topic)
            for topic, words in SHORT_TOPICS.items()
            for length in range(1, 7)
            for start in range(len(words))
        ],
        strict=True,
    )
    predicted = pipe.predict(list(docs))
    wrong = [(d, p) for d, t, p in zip(docs, topics, predicted, strict=True) if p != t]
    assert not wrong, (wrong, params)
    one_word = pipe.predict_proba([words[0] for words in SHORT_TOPICS.values()])
    assert not np.allclose(one_word[0], one_word[1], atol=0.05)


def test_unseen_glove_words_are_read_by_their_vectors(tiny_glove):
    # Train on the first 6 words of each topic; ask about the other 4, which
    # only the GloVe rows know.
    docs, labels = _short_posts(words_from=slice(0, 6))
    params = dict(glove=tiny_glove, **_SHORT_NET)
    pipe = make_glove_pipeline(**params).fit(docs, labels)
    unseen = [w for words in SHORT_TOPICS.values() for w in words[6:]]
    assert not set(unseen) & set(pipe[0].vocabulary_)
    expected = [t for t, words in SHORT_TOPICS.items() for _ in words[6:]]
    assert (pipe.predict(unseen) == expected).mean() >= 0.9
    # Without the rows, the same words are dropped and every answer is one.
    keras_only = make_glove_pipeline(**params, unseen_glove_words=0)
    keras_only.fit(docs, labels)
    assert len(np.unique(keras_only.predict_proba(unseen).round(5), axis=0)) == 1


def test_fit_batches_the_callers_ids_without_a_copy(tiny_glove, ids, monkeypatch):
    # scikeras maps X through feature_encoder_ before training; the datasets
    # must read the caller's ids, mapping only each batch.
    X, y = ids
    received = []
    original = skglove._keras_hooks.fit_data

    def spy(X_rows, *args, **kwargs):
        received.append(X_rows)
        return original(X_rows, *args, **kwargs)

    monkeypatch.setattr(skglove._keras_hooks, "fit_data", spy)
    clf = GloveCNNClassifier(tiny_glove, filters=4, epochs=1, random_state=0)
    clf.fit(X, y)
    (rows,) = received
    assert np.shares_memory(rows._sequences.ids, X.ids)
    np.testing.assert_array_equal(
        rows.toarray(), clf.feature_encoder_.transform(X.toarray())
    )


# --- Callbacks reach keras.Model.fit, and early stopping stops there.


class _Recorder(keras.callbacks.Callback):
    """Keeps each epoch's logs and every weight of the model at its end."""

    def on_train_begin(self, logs=None):
        self.logs, self.weights = [], []

    def on_epoch_end(self, epoch, logs=None):
        self.logs.append(dict(logs))
        self.weights.append({v.path: v.numpy() for v in self.model.weights})


@pytest.fixture
def keras_fit_calls(monkeypatch):
    """Every call of keras.Model.fit: the model and the callbacks it received."""
    calls = []
    original = keras.Model.fit

    def spy(model, *args, **kwargs):
        calls.append({"model": model, "callbacks": list(kwargs.get("callbacks") or [])})
        return original(model, *args, **kwargs)

    monkeypatch.setattr(keras.Model, "fit", spy)
    return calls


def _noisy_labels(ids):
    """Labels that do not depend on the posts: the validation loss must rise."""
    X, _ = ids
    return X, np.random.default_rng(0).choice(["a", "b", "c"], len(X))


@pytest.mark.parametrize("lexical", [True, False])
def test_early_stopping_stops_in_keras_and_restores_the_best_epoch(
    tiny_glove, ids, keras_fit_calls, lexical
):
    X, y = _noisy_labels(ids)
    recorder = _Recorder()
    clf = GloveCNNClassifier(
        tiny_glove,
        lexical=lexical,
        filters=16,
        epochs=40,
        batch_size=8,
        learning_rate=0.05,
        validation_split=0.3,
        patience=2,
        callbacks=[recorder],
        random_state=0,
    ).fit(X, y)
    (call,) = keras_fit_calls
    stoppers = [c for c in call["callbacks"] if isinstance(c, EarlyStopping)]
    assert len(stoppers) == 1 and stoppers[0].restore_best_weights
    assert stoppers[0].patience == 2 and stoppers[0].monitor == "val_loss"
    assert recorder in call["callbacks"]
    # Keras ran until the validation loss had not improved for 2 epochs.
    val_loss = [logs["val_loss"] for logs in recorder.logs]
    best = int(np.argmin(val_loss))
    assert len(val_loss) == best + 3 < 40
    assert clf.history_["val_loss"] == pytest.approx(val_loss)
    # The weights after fit are those at the end of the best epoch (but the
    # channels' mix, which is fit after training).
    final = {v.path: v.numpy() for v in clf.model_.weights}
    assert len(final) == len(recorder.weights[best])
    for path, value in recorder.weights[best].items():
        if path == "probabilities/mix":
            continue
        np.testing.assert_array_equal(final[path], value, err_msg=path)
    assert any(not np.array_equal(final[p], v) for p, v in recorder.weights[-1].items())


def test_without_early_stopping_every_epoch_runs(tiny_glove, ids, keras_fit_calls):
    recorder = _Recorder()
    GloveCNNClassifier(
        tiny_glove,
        filters=4,
        epochs=4,
        validation_split=0.3,
        early_stopping=False,
        callbacks=[recorder],
        random_state=0,
    ).fit(*_noisy_labels(ids))
    (call,) = keras_fit_calls
    assert not [c for c in call["callbacks"] if isinstance(c, EarlyStopping)]
    assert _users(call["callbacks"]) == [recorder]
    assert len(recorder.logs) == 4


def _users(callbacks):
    """The callbacks but skglove's own: the renaming of the log entries and
    the learning-rate decay."""
    return [c for c in callbacks if not isinstance(c, RenameLogs | CosineDecay)]


def test_callbacks_given_to_fit_reach_keras_with_plain_names(
    tiny_glove, ids, keras_fit_calls
):
    X, y = ids
    at_init, at_fit = _Recorder(), _Recorder()
    stop = EarlyStopping(monitor="val_accuracy", patience=0, mode="max")
    clf = GloveCNNClassifier(
        tiny_glove,
        filters=4,
        epochs=3,
        validation_split=0.3,
        early_stopping=False,
        callbacks=[at_init],
        random_state=0,
    )
    clf.fit(X, y, callbacks=[at_fit, stop])
    (call,) = keras_fit_calls
    assert _users(call["callbacks"]) == [at_init, at_fit, stop]
    # Every callback sees the combined output's metrics by their plain names,
    # so one that monitors val_accuracy works (and history_ has the same keys).
    for recorder in (at_init, at_fit):
        keys = set(recorder.logs[0])
        assert {"accuracy", "val_accuracy", "combined_loss", "val_loss"} <= keys
        assert not any(k.startswith("probabilities_") for k in keys)
    assert stop.best is not None and np.isfinite(stop.best)
    assert set(clf.history_) == set(at_fit.logs[0])


def test_validation_data_is_refused(tiny_glove, ids):
    X, y = ids
    clf = GloveCNNClassifier(tiny_glove, filters=2, epochs=1, random_state=0)
    with pytest.raises(ValueError, match="validation_data is not supported"):
        clf.fit(X, y, validation_data=(X, y))


@pytest.fixture(scope="module")
def mixed(tiny_glove, ids):
    """Both channels trained for 3 epochs and mixed on 30% of ``ids`` held out.
    Tests must not change it: one that does takes ``_copy(mixed)``."""
    return GloveCNNClassifier(
        tiny_glove, filters=4, epochs=3, validation_split=0.3, random_state=0
    ).fit(*ids)


def test_too_small_a_validation_split_keeps_equal_channel_weights(ids, mixed):
    X, y = ids
    # Enough held-out posts weigh the channels...
    assert not np.array_equal(mixed.mix_, [1, 1])
    # ...but 5% (the default) of 20 posts is one post: too few to weigh them
    # on. Refitting the mixed network shows its weights are not kept either.
    clf = _copy(mixed).set_params(validation_split=0.05)
    clf.fit(X[:20], y[:20])
    np.testing.assert_array_equal(clf.mix_, [1, 1])


@pytest.mark.parametrize("lexical", [True, False])
def test_categorical_loss_with_the_default_metrics(tiny_glove, ids, lexical):
    X, y = ids
    clf = GloveCNNClassifier(
        tiny_glove,
        lexical=lexical,
        loss="categorical_crossentropy",
        filters=4,
        epochs=3,
        validation_split=0.3,
        random_state=0,
    ).fit(X, y)
    assert set(clf.predict(X)) <= set(y)
    assert 0 <= clf.history_["val_accuracy"][-1] <= 1


def test_channels_are_trained_apart_and_mixed_on_validation(ids, mixed):
    X, _ = ids
    clf = mixed
    assert {
        "loss",
        "lexical_scores_loss",
        "glove_probabilities_loss",
        "accuracy",
        "val_loss",
        "val_accuracy",
    } <= set(clf.history_)
    np.testing.assert_allclose(
        np.array(clf.history_["loss"]),
        np.add(
            clf.history_["lexical_scores_loss"],
            clf.history_["glove_probabilities_loss"],
        ),
        rtol=1e-4,
    )
    assert clf.mix_.shape == (2,) and (clf.mix_ >= 0).all()
    np.testing.assert_array_equal(clf.model_.get_layer("probabilities").mix, clf.mix_)
    # The output is softmax(w0 * lexical scores + w1 * log p_glove).
    rows = clf.feature_encoder_.transform(X)
    scores, glove = training_model(clf.model_).predict(rows, verbose=0)
    logits = clf.mix_[0] * scores + clf.mix_[1] * np.log(glove)
    expected = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(clf.predict_proba(X), expected, rtol=1e-4, atol=1e-6)


def test_fit_mix_weighs_the_better_head():
    rng = np.random.default_rng(0)
    n, k = 400, 3
    labels = rng.integers(0, k, n)
    # An informative but imperfect head (right 70% of the time), and noise.
    guess = np.where(rng.random(n) < 0.7, labels, rng.integers(0, k, n))
    good = np.full((n, k), np.log(0.15))
    good[np.arange(n), guess] = np.log(0.7)
    noise = np.log(rng.dirichlet(np.ones(k), n))
    w = fit_mix([good, noise], labels)
    assert w[0] > 0.5 and w[1] < 0.05 * w[0]
    w = fit_mix([noise, good], labels)
    assert w[1] > 0.5 and w[0] < 0.05 * w[1]
    # Two copies of one head share the weight one copy alone would get.
    (alone,) = fit_mix([good], labels)
    assert fit_mix([good, good], labels).sum() == pytest.approx(alone, rel=1e-2)
    # A head that separates the samples gets a large but finite weight.
    perfect = np.where(np.arange(k) == labels[:, None], 0.0, -1.0)
    (w,) = fit_mix([perfect], labels)
    assert 3 < w < 20
    (weaker,) = fit_mix([perfect], labels, alpha=1e-5)
    assert w < weaker < 100


@pytest.fixture(scope="module")
def order_posts():
    return make_order_posts(600, seed=0), make_order_posts(100, seed=1)


def test_the_default_reads_word_order(tiny_glove, order_posts):
    (docs, y), (test_docs, test_y) = order_posts
    pipe = make_glove_pipeline(tiny_glove, random_state=0).fit(docs, y)
    assert np.mean(pipe.predict(test_docs) == test_y) >= 0.95


def test_a_bag_of_words_cannot_learn_word_order(tiny_glove, order_posts):
    # Width-1 windows and the unigram lexical channel: the two posts of a
    # pair have the same words, so the same probabilities; half are wrong.
    (docs, y), (test_docs, test_y) = order_posts
    pipe = make_glove_pipeline(tiny_glove, kernel_size=1, random_state=0)
    proba = pipe.fit(docs, y).predict_proba(test_docs)
    np.testing.assert_allclose(proba[0::2], proba[1::2], rtol=1e-5, atol=1e-6)
    assert np.mean(pipe.predict(test_docs) == test_y) == 0.5
