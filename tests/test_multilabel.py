"""Multi-label targets (issue 22): the indicator checks, the thresholds, the
per-label channel mix, and a classifier fitted on an indicator matrix."""

import json
import pickle
import traceback
import warnings
import zipfile
from pathlib import Path

import keras
import numpy as np
import pytest
from conftest import make_tagged_posts, tiny_pipeline
from scipy.sparse import csr_matrix
from sklearn.base import clone
from sklearn.metrics import f1_score
from sklearn.model_selection import cross_val_score
from test_classifier import _Recorder
from test_persistence import _rewrite

import skglove
import skglove._keras_hooks
import skglove._mix
from skglove._layers import ChannelMix, log_odds, squared_hinge
from skglove._mix import _best_share, fit_label_mix, head_logits
from skglove._multilabel import best_f1, check_indicator, tuned_thresholds
from skglove._validation import check_targets

#: The default network, small: windows (1, 2), the lexical channel, exact.
TAGGED_NET = dict(
    kernel_size=None,
    dense_units=0,
    epochs=8,
    validation_split=0.25,
    threshold="tuned",
)


@pytest.fixture(scope="module")
def tagged():
    return make_tagged_posts(240, seed=0)


@pytest.fixture(scope="module")
def tagged_fit(tiny_glove, tagged):
    """The pipeline fitted on ``tagged``, and every keras.Model.fit call its
    fit made: the model and its keyword arguments."""
    calls = []
    original = keras.Model.fit

    def spy(model, *args, **kwargs):
        calls.append((model, kwargs))
        return original(model, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(keras.Model, "fit", spy)
        pipe = tiny_pipeline(tiny_glove, **TAGGED_NET).fit(*tagged)
    return pipe, calls


@pytest.fixture(scope="module")
def fitted_tagged(tagged_fit):
    return tagged_fit[0]


@pytest.fixture(scope="module")
def partly_trained(tiny_glove, tagged):
    """The ids of ``tagged``'s posts, and a classifier after one partial_fit
    on the first 120 of them. Tests must not change it: they take a copy."""
    docs, Y = tagged
    pipe = tiny_pipeline(tiny_glove, **{**TAGGED_NET, "unseen_glove_words": 100})
    vectorizer, clf = pipe[0], pipe[-1]
    X = vectorizer.fit_transform(docs)
    clf.partial_fit(X[:120], Y[:120])
    return X, clf


# --- The indicator check, the thresholds and the mix, alone.


@pytest.mark.parametrize(
    "y, message",
    [
        (np.array([[0, 1], [2, 0]]), "binary indicator matrix of 0 and 1, got "),
        (np.array([[-1, 1], [1, -1]]), "got the values -1, 1"),
        (np.array([["a", "b"], ["b", "a"]]), "binary indicator matrix"),
        (np.array([[0.0, np.nan], [1.0, 0.0]]), "nan"),
        (csr_matrix(np.array([[0], [1]])), "at least two label columns"),
    ],
)
def test_a_malformed_indicator_is_named(y, message):
    with pytest.raises(ValueError, match=message):
        check_indicator(y)


def test_a_list_of_label_lists_points_to_the_binarizer():
    with pytest.raises(ValueError, match="MultiLabelBinarizer"):
        check_targets([["a", "b"], ["c"], ["a"]])


def test_pandas_nullable_indicators_are_read_as_numbers():
    pd = pytest.importorskip("pandas")
    Y = np.array([[0, 1], [1, 1], [1, 0]])
    for dtype in ("Int64", "boolean"):
        dense = check_indicator(pd.DataFrame(Y).astype(dtype))
        np.testing.assert_array_equal(dense, Y)
    with pytest.raises(ValueError, match="binary indicator"):
        check_indicator(pd.DataFrame(Y).astype("Int64").where(Y > 0))  # <NA>


def test_a_sparse_indicator_is_made_dense():
    Y = np.array([[0, 1, 1], [1, 0, 0]], dtype=np.int8)
    dense = check_indicator(csr_matrix(Y))
    assert isinstance(dense, np.ndarray) and dense.dtype == np.int8
    np.testing.assert_array_equal(dense, Y)


def test_tuned_thresholds_cut_between_the_scores_with_the_best_f1():
    proba = np.array(
        [
            [0.9, 0.5, 0.3, 0.7],
            [0.8, 0.5, 0.2, 0.7],
            [0.3, 0.1, 0.1, 0.7],
            [0.2, 0.1, 0.0, 0.7],
        ]
    )
    Y = np.array([[1, 1, 0, 1], [1, 0, 0, 1], [0, 0, 0, 0], [0, 0, 0, 0]])
    thresholds = tuned_thresholds(proba, Y, default=0.42)
    # Label 0: between 0.8 and 0.3. Label 1: the tied 0.5s go together
    # (F1 2/3), above 0.1. Label 2 has no positive: the default. Label 3:
    # every score equal, so all or none; all (F1 2/3), below the lowest.
    np.testing.assert_allclose(thresholds, [0.55, 0.3, 0.42, 0.35])
    predicted = proba > thresholds
    np.testing.assert_array_equal(predicted[:, 0], Y[:, 0])


def test_tuned_thresholds_break_ties_toward_fewer_labels():
    # F1 2/3 when cutting after 0.9, and 2/3 when predicting all four.
    proba = np.array([[0.9], [0.8], [0.7], [0.6]])
    np.testing.assert_allclose(tuned_thresholds(proba, [[1], [0], [0], [1]]), [0.85])


def _posts_and_heads(seed=0):
    """An indicator of 5 labels, two of them with one positive; a head
    whose scores separate the labels (at a tenth of the scale) and a head of
    noise."""
    rng = np.random.default_rng(seed)
    Y = rng.integers(0, 2, (400, 5))
    Y[:, 3:] = 0
    Y[0, 3] = Y[1, 4] = 1  # one positive each: too rare to calibrate alone
    signal = 0.1 * (4 * (2 * Y - 1) + rng.normal(0, 3, Y.shape))
    return Y, signal, rng.normal(0, 4, Y.shape)


def _shares(mix, heads):
    """The first head's share of each label's ranking, in standard deviations
    of each head over all labels."""
    first, second = (mix[k] * heads[k].std() for k in (0, 1))
    return first / (first + second)


@pytest.mark.parametrize("informative", [0, 1])
def test_the_mix_ranks_labels_by_the_share_with_the_best_f1(informative):
    Y, signal, noise = _posts_and_heads()
    heads = [signal, noise] if informative == 0 else [noise, signal]
    mix = fit_label_mix(heads, Y)
    assert mix.shape == (3, 5)  # the weights of each head, the intercepts
    shares = _shares(mix, heads)
    np.testing.assert_allclose(shares, shares[0], atol=1e-6)  # one for all
    assert abs(shares[0] - (1 - informative)) <= 0.2  # the informative head

    def quality(share):
        first, second = (h / h.std() for h in heads)
        scores = share * first + (1 - share) * second
        return np.nanmean(best_f1(scores, Y))

    grid = [quality(k / 10) for k in range(11)]
    assert quality(shares[0]) == pytest.approx(max(grid), abs=1e-12)
    assert quality(shares[0]) > quality(0.5) > quality(float(informative))


def test_the_mix_calibrates_each_label_and_gives_rare_ones_the_shared_weights():
    Y, signal, noise = _posts_and_heads()
    mix = fit_label_mix([signal, noise], Y)
    proba = 1 / (1 + np.exp(-(mix[0] * signal + mix[1] * noise + mix[2])))
    # Platt scaling with a free intercept: each label's mean probability is
    # the mean of Platt's targets, (n_pos + 1) / (n_pos + 2) for a positive
    # and 1 / (n_neg + 2) for a negative.
    positives = Y[:, :3].sum(axis=0)
    negatives = len(Y) - positives
    targets = np.where(Y[:, :3], (positives + 1) / (positives + 2), 1 / (negatives + 2))
    np.testing.assert_allclose(
        proba[:, :3].mean(axis=0), targets.mean(axis=0), atol=1e-4
    )
    # The rare labels: the weights fitted on all labels, and no intercept.
    np.testing.assert_array_equal(mix[:2, 3], mix[:2, 4])
    assert not np.allclose(mix[:2, 0], mix[:2, 3])
    assert (mix[2, 3:] == 0).all()
    # Without a label to fit intercepts on, every label gets those weights.
    shared = fit_label_mix([signal, noise], Y, min_count=10**6)
    assert (shared[2] == 0).all() and (shared[:2] == shared[:2, :1]).all()


def test_the_mix_counts_samples_by_their_weight():
    Y, signal, noise = _posts_and_heads()
    weight = np.random.default_rng(3).uniform(0.2, 3.0, len(Y))
    weight[Y[:, 1] == 1] = 0.0  # label 1's positives count for nothing
    mix = fit_label_mix([signal, noise], Y, sample_weight=weight)
    proba = _mixed_proba(mix, [signal, noise])
    # Platt's targets count samples by weight, in units of the mean weight:
    # the weighted mean probability of each label is that of its targets.
    positives = len(Y) * (weight / weight.sum()) @ Y[:, [0, 2]]
    targets = np.where(
        Y[:, [0, 2]], (positives + 1) / (positives + 2), 1 / (len(Y) - positives + 2)
    )
    np.testing.assert_allclose(
        np.average(proba[:, [0, 2]], axis=0, weights=weight),
        np.average(targets, axis=0, weights=weight),
        atol=1e-4,
    )
    # Label 1 has no positive sample that weighs: no intercept of its own.
    assert mix[2, 1] == 0 and mix[2, 0] != 0
    scaled = fit_label_mix([signal, noise], Y, sample_weight=weight * 1e3)
    np.testing.assert_allclose(_mixed_proba(scaled, [signal, noise]), proba, atol=1e-4)


def test_weights_of_one_mix_as_no_weights():
    # 49 samples: normalized weights summed back to counts give 1.999... for
    # 2 positives, below min_count, and the label lost its own intercept.
    rng = np.random.default_rng(0)
    Y = np.zeros((49, 2), dtype=int)
    Y[:2, 0] = 1
    Y[:20, 1] = 1
    heads = [Y + rng.normal(size=Y.shape), rng.normal(size=Y.shape)]
    np.testing.assert_allclose(
        fit_label_mix(heads, Y, sample_weight=np.ones(49)), fit_label_mix(heads, Y)
    )
    assert fit_label_mix(heads, Y)[2, 0] != 0


def test_the_mix_weights_stay_those_of_raw_logits_whatever_a_labels_spread():
    # A label whose logits barely vary would get huge weights if each label
    # were standardized apart; the penalty is on the weights themselves.
    Y, signal, noise = _posts_and_heads()
    signal[:, 2] *= 1e-3
    mix = fit_label_mix([signal, noise], Y)
    unchanged = fit_label_mix([signal[:, :2], noise[:, :2]], Y[:, :2])
    assert np.abs(mix[:2]).max() < 10 * np.abs(unchanged[:2]).max()
    assert np.isfinite(mix).all()


def _mixed_proba(mix, heads):
    logits = mix[0] * heads[0] + mix[1] * heads[1] + mix[2]
    return 1 / (1 + np.exp(-logits))


def test_the_mix_answers_the_same_whatever_the_heads_scale():
    Y, signal, noise = _posts_and_heads()
    proba = _mixed_proba(fit_label_mix([signal, noise], Y), [signal, noise])
    for scales in [(1e-3, 1.0), (1.0, 1e3), (1e-6, 1e6)]:
        heads = [signal * scales[0], noise * scales[1]]
        scaled = _mixed_proba(fit_label_mix(heads, Y), heads)
        np.testing.assert_allclose(scaled, proba, atol=1e-4)


def test_the_mix_keeps_probabilities_short_of_one_where_a_head_separates():
    # Scores that separate the validation split: the log-loss alone would
    # send the weights to infinity, and float32 probabilities to exactly 1.
    Y, _, noise = _posts_and_heads()
    separating = 10.0 * (2 * Y - 1)
    mix = fit_label_mix([separating, noise], Y)
    assert np.isfinite(mix).all()
    logits = mix[0] * separating + mix[1] * noise + mix[2]
    # Platt's targets put a positive's logit near log(n_pos + 1), 5.4 here;
    # float32's sigmoid reaches 1.0 from about 17.
    assert logits.max() < 12
    proba = keras.ops.sigmoid(logits.astype(np.float32))
    assert (keras.ops.convert_to_numpy(proba) < 1).all()


@pytest.mark.parametrize("constant", [0, 1])
def test_a_constant_head_gets_no_weight(constant):
    Y, signal, _ = _posts_and_heads()
    heads = [signal, signal]
    heads[constant] = np.full_like(signal, 5.0)
    mix = fit_label_mix(heads, Y)
    assert (mix[constant] == 0).all()
    assert (mix[1 - constant, :3] > 0).all()


def test_a_split_without_positives_ranks_by_an_even_share():
    Y, signal, noise = _posts_and_heads()
    assert _best_share(signal, noise, np.zeros_like(Y)) == 0.5
    assert _best_share(signal, noise, Y) == 1.0


def test_channel_mix_is_a_sigmoid_of_per_label_weights():
    mix = ChannelMix([False, True], multilabel=True)
    scores = np.array([[1.0, -2.0, 0.5]], dtype=np.float32)
    proba = np.array([[0.2, 0.9, 0.5]], dtype=np.float32)
    mix.build([scores.shape, proba.shape])
    weights = np.array([[1.0, 0.5, 2.0], [0.5, 1.0, 0.0]], dtype=np.float32)
    mix.mix.assign(weights)
    mix.offset.assign(np.array([0.0, -1.0, 0.25], dtype=np.float32))
    out = keras.ops.convert_to_numpy(mix([scores, proba]))
    logits = weights[0] * scores + weights[1] * log_odds(proba.astype(float), np)
    logits += [0.0, -1.0, 0.25]
    np.testing.assert_allclose(out, 1 / (1 + np.exp(-logits)), rtol=1e-5)


# --- A classifier fitted on an indicator matrix.


def test_a_validation_split_without_labels_gives_neutral_channel_weights(
    tiny_glove, tagged, monkeypatch
):
    # Nothing there to rank or calibrate by: fitted, the weights would all be
    # 0, every probability 0.5, and no label ever predicted. Nor may a warm
    # start keep the weights fitted to the channels of its first fit.
    docs, Y = tagged
    held_out = np.arange(len(Y)) % 4 == 0
    split = (np.flatnonzero(~held_out), np.flatnonzero(held_out))
    monkeypatch.setattr(skglove._keras_hooks, "hold_out", lambda *a, **k: split)
    pipe = tiny_pipeline(tiny_glove, **{**TAGGED_NET, "epochs": 3, "threshold": 0.5})
    pipe.fit(docs, Y)
    assert not np.array_equal(pipe[-1].mix_[0], [1] * 3)  # fitted
    pipe.set_params(glovecnnclassifier__warm_start=True)
    pipe.fit(docs, np.where(held_out[:, None], 0, Y))
    np.testing.assert_array_equal(pipe[-1].mix_, [[1] * 3, [1] * 3, [0] * 3])
    assert pipe.predict(docs).any()


def test_partial_fit_goes_on_after_a_fit_that_raised(tiny_glove, tagged):
    # An interrupted first fit leaves nothing that partial_fit could trip on.
    docs, Y = tagged

    def interrupt(epoch, logs=None):
        raise RuntimeError("interrupted")

    pipe = tiny_pipeline(tiny_glove, **{**TAGGED_NET, "epochs": 2})
    stop = keras.callbacks.LambdaCallback(on_epoch_end=interrupt)
    with pytest.raises(RuntimeError, match="interrupted"):
        pipe.fit(docs, Y, glovecnnclassifier__callbacks=[stop])
    clf = pipe[-1].partial_fit(pipe[0].transform(docs), Y)
    assert clf.threshold_.shape == (3,)
    assert np.isfinite(pipe.predict_proba(docs)).all()


class _TrainedRecorder(_Recorder):
    """Also keeps the paths of the variables Keras trains."""

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        self.trained = {v.path for v in self.model.trainable_variables}


def test_early_stopping_stops_a_multilabel_fit_at_the_best_epoch(tiny_glove, tagged):
    # Tags that do not depend on the posts: the GloVe channel's validation
    # loss must rise. Keras stops, and gives back the best epoch's network.
    docs, _ = tagged
    Y = (np.random.default_rng(0).random((len(docs), 3)) < 0.4).astype(int)
    recorder = _TrainedRecorder()
    net = dict(filters=16, kernel_size=3, epochs=40, learning_rate=0.05, patience=2)
    pipe = tiny_pipeline(tiny_glove, **{**TAGGED_NET, **net, "early_stopping": True})
    pipe.fit(docs, Y, glovecnnclassifier__callbacks=[recorder])
    val_loss = [logs["val_loss"] for logs in recorder.logs]
    best = int(np.argmin(val_loss))
    assert len(val_loss) == best + 3 < 40
    # What Keras trained is the GloVe channel; the solved lexical channel and
    # the channels' mix are set after training, so they are left out here.
    trained = recorder.trained
    final = {v.path: v.numpy() for v in pipe[-1].model_.weights if v.path in trained}
    assert trained and final.keys() == trained
    for path, value in final.items():
        np.testing.assert_array_equal(value, recorder.weights[best][path], err_msg=path)
    assert any(
        not np.array_equal(value, recorder.weights[-1][path])
        for path, value in final.items()
    )


def test_non_finite_outputs_on_the_validation_split_keep_the_channel_weights(
    tiny_glove, tagged, monkeypatch
):
    # A lexical score that overflowed: the log-loss that weighs the channels
    # would be NaN, and so would the weights and every probability.
    def overflowed(model, outputs):
        logits = head_logits(model, outputs)
        logits[0][0, 0] = np.inf
        return logits

    monkeypatch.setattr(skglove._mix, "head_logits", overflowed)
    docs, Y = tagged
    pipe = tiny_pipeline(tiny_glove, **{**TAGGED_NET, "epochs": 1}).fit(docs, Y)
    np.testing.assert_array_equal(pipe[-1].mix_, [[1] * 3, [1] * 3, [0] * 3])
    assert np.isfinite(pipe.predict_proba(docs)).all()


def test_learns_the_tags_and_predicts_an_indicator(fitted_tagged):
    docs, Y = make_tagged_posts(90, seed=1)
    clf = fitted_tagged[-1]
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2])
    proba = fitted_tagged.predict_proba(docs)
    predicted = fitted_tagged.predict(docs)
    assert proba.shape == predicted.shape == Y.shape
    assert predicted.dtype == Y.dtype
    np.testing.assert_array_equal(predicted, proba > clf.threshold_)
    # Rows are not one-hot: the two-topic posts get two labels.
    assert f1_score(Y, predicted, average="micro") > 0.9
    assert (predicted.sum(axis=1) == 2).sum() > 20
    assert fitted_tagged.score(docs, Y) == np.mean((predicted == Y).all(axis=1))


def test_keras_trains_sigmoid_outputs_on_per_label_losses(tagged, tagged_fit):
    _, Y = tagged
    _, keras_fits = tagged_fit
    ((model, kwargs),) = keras_fits
    assert [t.shape[-1] for t in model.outputs] == [3, 3, 3]
    output = model.get_layer("probabilities")
    assert isinstance(output, ChannelMix) and output.multilabel
    assert tuple(output.mix.shape) == (2, 3)
    head = model.get_layer("glove_probabilities")
    assert head.activation is keras.activations.sigmoid
    # The combined output is monitored only; each channel has its own loss.
    losses = model.loss
    assert [getattr(f, "__name__", f) for f in losses] == [
        "binary_crossentropy",
        "squared_hinge",
        "binary_crossentropy",
    ]
    assert losses[1] is squared_hinge
    assert model._compile_config.config["loss_weights"] == [0.0, 1.0, 1.0]
    targets = next(iter(kwargs["x"]))[1]
    assert len(targets) == 3
    for target in targets:
        assert target.dtype == "float32" and target.shape[1:] == (3,)
        np.testing.assert_array_equal(target, targets[0])
    rows = {tuple(row) for row in Y.tolist()}
    assert {tuple(row) for row in targets[0].numpy().astype(int).tolist()} <= rows


def test_thresholds_survive_save_load_and_pickle(fitted_tagged, tmp_path):
    docs, _ = make_tagged_posts(30, seed=3)
    thresholds = fitted_tagged[-1].threshold_
    assert thresholds.shape == (3,) and not np.allclose(thresholds, 0.5)
    skglove.save(fitted_tagged, tmp_path / "tags.skglove")
    for restored in (
        skglove.load(tmp_path / "tags.skglove"),
        pickle.loads(pickle.dumps(fitted_tagged)),
    ):
        clf = restored[-1]
        np.testing.assert_array_equal(clf.threshold_, thresholds)
        np.testing.assert_array_equal(clf.mix_, fitted_tagged[-1].mix_)
        assert clf.lexical_C_ == fitted_tagged[-1].lexical_C_ is not None
        np.testing.assert_array_equal(clf.classes_, [0, 1, 2])
        np.testing.assert_array_equal(
            restored.predict_proba(docs), fitted_tagged.predict_proba(docs)
        )
        np.testing.assert_array_equal(
            restored.predict(docs), fitted_tagged.predict(docs)
        )


def test_a_sparse_y_fits_as_its_dense_twin(tiny_glove, tagged, fitted_tagged):
    # Same seed, same data: the same network, as determinism asks.
    docs, Y = tagged
    sparse = tiny_pipeline(tiny_glove, **TAGGED_NET).fit(docs, csr_matrix(Y))
    np.testing.assert_array_equal(
        sparse.predict_proba(docs[:40]), fitted_tagged.predict_proba(docs[:40])
    )
    assert isinstance(sparse.predict(docs[:2]), np.ndarray)


def test_a_float_threshold_is_every_labels(tiny_glove, tagged):
    pipe = tiny_pipeline(tiny_glove, **{**TAGGED_NET, "threshold": 0.9, "epochs": 2})
    pipe.fit(*tagged)
    np.testing.assert_array_equal(pipe[-1].threshold_, [0.9, 0.9, 0.9])
    docs = tagged[0][:50]
    np.testing.assert_array_equal(
        pipe.predict(docs), (pipe.predict_proba(docs) > 0.9).astype(int)
    )


def test_a_label_never_seen_warns_and_is_never_predicted(tiny_glove, tagged):
    docs, Y = tagged
    Y = np.column_stack([Y, np.zeros(len(Y), dtype=Y.dtype)])
    pipe = tiny_pipeline(tiny_glove, **{**TAGGED_NET, "epochs": 2})
    with pytest.warns(UserWarning, match=r"label column\(s\) \[3\] never occur"):
        pipe.fit(docs, Y)
    assert pipe[-1].threshold_[3] == 2.0  # above any probability
    assert pipe[-1].threshold_[:3].max() < 1.0
    assert not pipe.predict(docs)[:, 3].any()


def test_cross_validation_scores_a_multilabel_pipeline(tiny_glove, tagged):
    pipe = tiny_pipeline(tiny_glove, **{**TAGGED_NET, "epochs": 3})
    scores = cross_val_score(pipe, *tagged, cv=2, scoring="f1_micro")
    assert scores.shape == (2,) and (scores > 0.5).all()


def test_partial_fit_keeps_labels_seen_in_earlier_batches(tagged, partly_trained):
    _, Y = tagged
    X, clf = partly_trained
    clf = pickle.loads(pickle.dumps(clf))
    without_label_2 = Y[120:, 2] == 0
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        clf.partial_fit(X[120:][without_label_2], Y[120:][without_label_2])
    # Label 2 was seen before: it does not warn, and stays predictable.
    assert clf.threshold_[2] < 1.0
    assert len(clf.history_["loss"]) == 2


def test_partial_fit_keeps_a_tuned_threshold_it_cannot_tune_again(
    tagged, partly_trained
):
    _, Y = tagged
    X, clf = partly_trained
    clf = pickle.loads(pickle.dumps(clf))
    before = clf.threshold_.copy()
    assert before[2] != 0.5
    without_label_2 = Y[120:].copy()
    without_label_2[:, 2] = 0
    clf.partial_fit(X[120:], without_label_2)
    assert clf.threshold_[2] == before[2]
    assert (clf.threshold_[:2] != before[:2]).any()  # tuned again


def test_a_threshold_of_one_is_not_an_unseen_label(tiny_glove, tagged):
    docs, Y = tagged
    pipe = tiny_pipeline(tiny_glove, threshold=1.0, unseen_glove_words=100)
    vectorizer, clf = pipe[0], pipe[-1]
    X = vectorizer.fit_transform(docs)
    clf.partial_fit(X[:100], Y[:100])
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        clf.partial_fit(X[100:], np.zeros_like(Y[100:]))
    np.testing.assert_array_equal(clf.threshold_, [1.0, 1.0, 1.0])


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("threshold", [float("nan"), 0.5, 0.5], "each must be in"),
        ("threshold", [0.5, 1.5, 0.5], "each must be in"),
        ("threshold", None, "each must be in"),
        ("mix", [1.0, 1.0], "channel weights of shape"),
        ("y_ndim", 1, "y_ndim 2"),
    ],
)
def test_load_refuses_a_multilabel_state_no_fit_made(
    fitted_tagged, tmp_path, key, value, message
):
    path = tmp_path / "tags.skglove"
    skglove.save(fitted_tagged, path)
    with zipfile.ZipFile(path) as archive:
        document = json.loads(archive.read("classifier.json"))
    document["state"][key] = value
    edited = _rewrite(
        path,
        tmp_path / "edited.skglove",
        [("classifier.json", json.dumps(document).encode())],
    )
    with pytest.raises(ValueError, match=message):
        skglove.load(edited)


# --- Bad targets: a clear error, before Keras sees them.


def _keras_in(error) -> bool:
    """Whether the error passed through Keras, scikeras or TensorFlow."""
    packages = {"keras", "scikeras", "tensorflow"}
    return any(
        packages & set(Path(frame.filename).parts)
        for frame in traceback.extract_tb(error.tb)
    )


@pytest.mark.parametrize(
    "make_y, message",
    [
        (lambda Y: Y * 2, "binary indicator matrix of 0 and 1"),
        (lambda Y: csr_matrix(Y[:, :1]), "at least two label columns"),
        (lambda Y: np.zeros_like(Y), "no label at all"),
        (lambda Y: Y.astype(str), "binary indicator matrix"),
    ],
)
def test_a_bad_indicator_is_refused_before_keras(tiny_glove, tagged, make_y, message):
    docs, Y = tagged
    with pytest.raises(ValueError, match=message) as error:
        tiny_pipeline(tiny_glove).fit(docs, make_y(Y))
    assert not _keras_in(error)


@pytest.mark.parametrize(
    "params, message",
    [
        ({"class_weight": "balanced"}, "sample_weight instead"),
        ({"loss": "categorical_crossentropy"}, "loss per label"),
        ({"loss": keras.losses.SparseCategoricalCrossentropy}, "loss per label"),
        ({"threshold": "tuned", "validation_split": 0.0}, "validation_split"),
        ({"label_names": ["cars", "med"]}, "2 names, but there are 3"),
        ({"label_names": ["cars", "med", "cars"]}, "repeats a name"),
    ],
)
def test_parameters_that_do_not_fit_a_multilabel_y(tiny_glove, tagged, params, message):
    with pytest.raises(ValueError, match=message) as error:
        tiny_pipeline(tiny_glove, **params).fit(*tagged)
    assert not _keras_in(error)


@pytest.mark.parametrize("threshold", [True, False])
def test_a_bool_threshold_is_refused(tiny_glove, tagged, threshold):
    # A bool is a Real to scikit-learn's checks: it would cut at 1 or 0.
    with pytest.raises(TypeError, match=f"got the bool {threshold!r}") as error:
        tiny_pipeline(tiny_glove, threshold=threshold).fit(*tagged)
    assert not _keras_in(error)


@pytest.mark.parametrize(
    "params, message",
    [
        ({"threshold": 0.3}, "applies to multi-label targets"),
        ({"label_names": ["a", "b", "c"]}, "leave label_names None"),
    ],
)
def test_multilabel_parameters_are_refused_for_one_label(
    tiny_glove, posts, params, message
):
    with pytest.raises(ValueError, match=message):
        tiny_pipeline(tiny_glove, **params).fit(*posts)


def test_training_cannot_go_on_with_another_target(tagged, partly_trained):
    _, Y = tagged
    X, clf = partly_trained
    clf = pickle.loads(pickle.dumps(clf))
    wider = np.column_stack([Y, Y[:, :1]])
    with pytest.raises(ValueError, match="4 label columns, but the classifier was"):
        clf.partial_fit(X, wider)
    with pytest.raises(ValueError, match="one label per sample"):
        clf.partial_fit(X, Y[:, 0] + 2 * Y[:, 1])
    with pytest.raises(ValueError, match="column numbers, 0 to 2"):
        clone(clf).partial_fit(X, Y, classes=["cars", "med", "space"])
    warm = clone(clf).set_params(warm_start=True, epochs=1).fit(X, Y)
    with pytest.raises(ValueError, match="5 label columns"):
        warm.fit(X, np.column_stack([wider, Y[:, :1]]))
