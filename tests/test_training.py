"""Tests of the training loop (skglove._training): its learning-rate schedule,
its callbacks and its log line."""

import logging
import math
import pickle

import keras
import numpy as np
import pytest
from conftest import make_tagged_posts, tiny_pipeline
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

import skglove
from skglove import BLOG_PARAMS, GloveCNNClassifier, explain, save
from skglove._mix import current_mix
from skglove._training import CosineDecay, RenameLogs, fit_callbacks, log_fit

BASE = 0.01
#: Few rows: these tests look at the learning rate, not at what is learned.
N_ROWS = 45


class _Rates(keras.callbacks.Callback):
    """The optimizer's learning rate at the start of each epoch and at the
    end of training."""

    def __init__(self):
        super().__init__()
        self.at_epoch, self.at_end = [], []

    def _rate(self):
        return float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))

    def on_epoch_begin(self, epoch, logs=None):
        self.at_epoch.append(self._rate())

    def on_train_end(self, logs=None):
        self.at_end.append(self._rate())


def _cosine(epochs: int) -> list[float]:
    return [BASE * (1 + math.cos(math.pi * i / epochs)) / 2 for i in range(epochs)]


@pytest.fixture(scope="module")
def few_posts(posts):
    docs, labels = posts
    return docs[:N_ROWS], labels[:N_ROWS]


def _fit(tiny_glove, few_posts, rates, **params):
    params = {"learning_rate": BASE, "epochs": 4, **params}
    pipe = tiny_pipeline(tiny_glove, **params)
    return pipe.fit(*few_posts, glovecnnclassifier__callbacks=[rates])


@pytest.fixture(scope="module")
def cosine_fit(tiny_glove, few_posts):
    """A pipeline fitted for 4 epochs with the default cosine schedule, and the
    ``_Rates`` it recorded. Tests must not change it: one that trains it on
    takes ``_copy(pipe)``."""
    rates = _Rates()
    return _fit(tiny_glove, few_posts, rates), rates


def _copy(pipe):
    return pickle.loads(pickle.dumps(pipe))


def _rate_of(pipe) -> float:
    optimizer = pipe[-1].model_.optimizer
    return float(keras.ops.convert_to_numpy(optimizer.learning_rate))


def test_cosine_is_the_default_and_not_the_blogs():
    assert GloveCNNClassifier().learning_rate_schedule == "cosine"
    assert BLOG_PARAMS["learning_rate_schedule"] == "constant"


def test_cosine_decays_each_epoch_and_restores_the_base_rate(cosine_fit):
    pipe, rates = cosine_fit
    assert rates.at_epoch == pytest.approx(_cosine(4), rel=1e-6)
    assert rates.at_epoch[0] == pytest.approx(BASE, rel=1e-6)
    assert rates.at_end == pytest.approx([BASE], rel=1e-6)
    assert _rate_of(pipe) == pytest.approx(BASE, rel=1e-6)


def test_a_warm_start_decays_again_from_the_base_rate(cosine_fit, few_posts):
    pipe, first = cosine_fit
    pipe = _copy(pipe).set_params(glovecnnclassifier__warm_start=True)
    rates = _Rates()
    pipe.fit(*few_posts, glovecnnclassifier__callbacks=[rates])
    both = [*first.at_epoch, *rates.at_epoch]
    assert both == pytest.approx(_cosine(4) * 2, rel=1e-6)
    assert _rate_of(pipe) == pytest.approx(BASE, rel=1e-6)


def test_a_new_learning_rate_reaches_a_warm_start_and_partial_fit(
    cosine_fit, few_posts
):
    # The network keeps its optimizer; set_params must still reach it.
    pipe = _copy(cosine_fit[0]).set_params(
        glovecnnclassifier__warm_start=True, glovecnnclassifier__learning_rate=BASE / 4
    )
    rates = _Rates()
    pipe.fit(*few_posts, glovecnnclassifier__callbacks=[rates])
    assert rates.at_epoch == pytest.approx([r / 4 for r in _cosine(4)], rel=1e-6)
    pipe[-1].set_params(learning_rate=BASE / 8)
    rates = _Rates()
    pipe[-1].partial_fit(
        pipe[0].transform(few_posts[0]), few_posts[1], callbacks=[rates]
    )
    assert rates.at_epoch == pytest.approx([BASE / 8], rel=1e-6)


class _StopAfter(keras.callbacks.Callback):
    """Stop training after ``n`` epochs, as early stopping would."""

    def __init__(self, n):
        super().__init__()
        self.n = n

    def on_epoch_end(self, epoch, logs=None):
        self.model.stop_training = epoch + 1 >= self.n


def test_a_fit_stopped_early_keeps_the_decay_and_restores_the_rate(
    tiny_glove, few_posts
):
    rates = _Rates()
    pipe = tiny_pipeline(tiny_glove, learning_rate=BASE, epochs=4)
    pipe.fit(*few_posts, glovecnnclassifier__callbacks=[rates, _StopAfter(2)])
    assert rates.at_epoch == pytest.approx(_cosine(4)[:2], rel=1e-6)
    assert _rate_of(pipe) == pytest.approx(BASE, rel=1e-6)


class _Halve(keras.callbacks.Callback):
    """Halve the learning rate at the end of epoch ``epoch``, as
    ``ReduceLROnPlateau`` would on a plateau."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch:
            optimizer = self.model.optimizer
            optimizer.learning_rate = float(optimizer.learning_rate.numpy()) / 2


def test_a_callback_that_lowers_the_rate_scales_the_decay(tiny_glove, few_posts):
    rates = _Rates()
    pipe = tiny_pipeline(tiny_glove, learning_rate=BASE, epochs=4)
    pipe.fit(*few_posts, glovecnnclassifier__callbacks=[_Halve(1), rates])
    expected = _cosine(4)
    assert rates.at_epoch == pytest.approx(
        [*expected[:2], *(rate / 2 for rate in expected[2:])], rel=1e-6
    )
    assert _rate_of(pipe) == pytest.approx(BASE, rel=1e-6)


def test_a_fit_that_raises_restores_the_rate(cosine_fit, few_posts):
    pipe = _copy(cosine_fit[0]).set_params(glovecnnclassifier__warm_start=True)

    def fail(epoch, logs=None):
        if epoch == 1:
            raise RuntimeError("interrupted")

    failing = keras.callbacks.LambdaCallback(on_epoch_begin=fail)
    with pytest.raises(RuntimeError, match="interrupted"):
        pipe.fit(*few_posts, glovecnnclassifier__callbacks=[failing])
    assert _rate_of(pipe) == pytest.approx(BASE, rel=1e-6)


def test_constant_keeps_the_rate(tiny_glove, few_posts):
    rates = _Rates()
    _fit(tiny_glove, few_posts, rates, learning_rate_schedule="constant")
    assert rates.at_epoch == pytest.approx([BASE] * 4, rel=1e-6)


def test_partial_fit_trains_at_the_full_rate(cosine_fit, few_posts):
    pipe, first = cosine_fit
    vectorizer, clf = _copy(pipe).named_steps.values()
    rates = _Rates()
    X = vectorizer.transform(few_posts[0])
    for _ in range(2):
        clf.partial_fit(X, few_posts[1], callbacks=[rates])
    both = [*first.at_epoch, *rates.at_epoch]
    assert both == pytest.approx([*_cosine(4), BASE, BASE], rel=1e-6)
    assert clf.current_epoch == 6


def test_an_optimizer_with_a_schedule_is_refused(tiny_glove, few_posts):
    schedule = keras.optimizers.schedules.ExponentialDecay(0.01, 10, 0.9)
    pipe = tiny_pipeline(
        tiny_glove,
        optimizer=keras.optimizers.Adam(learning_rate=schedule),
        learning_rate=None,
        epochs=1,
    )
    with pytest.raises(ValueError, match="learning_rate_schedule='constant'"):
        pipe.fit(*few_posts)
    pipe.set_params(glovecnnclassifier__learning_rate_schedule="constant")
    proba = pipe.fit(*few_posts).predict_proba(few_posts[0])
    assert np.isfinite(proba).all()


def test_an_optimizer_instance_is_copied_for_each_network(tiny_glove, few_posts):
    optimizer = keras.optimizers.Adam(learning_rate=0.02, beta_1=0.8)
    pipe = tiny_pipeline(tiny_glove, optimizer=optimizer, learning_rate=None)
    first = pipe.fit(*few_posts)[-1].model_.optimizer
    assert first is not optimizer and not optimizer.built
    assert first.get_config() == {**optimizer.get_config(), "name": first.name}
    second = pipe.fit(*few_posts)[-1].model_.optimizer  # refits on a new copy
    assert second is not first and second.built


class _NoConfigSchedule(keras.optimizers.schedules.LearningRateSchedule):
    def __call__(self, step):
        return 0.01


def test_an_optimizer_keras_cannot_copy_serves_one_fit_then_is_refused(
    tiny_glove, few_posts
):
    optimizer = keras.optimizers.Adam(learning_rate=_NoConfigSchedule())
    pipe = tiny_pipeline(
        tiny_glove,
        optimizer=optimizer,
        learning_rate=None,
        learning_rate_schedule="constant",
    )
    assert pipe.fit(*few_posts)[-1].model_.optimizer is optimizer
    with pytest.raises(ValueError, match="Keras cannot copy it for a new one"):
        pipe.fit(*few_posts)


def test_adamw_exclusions_survive_the_copy():
    from skglove._training import copied_optimizer

    optimizer = keras.optimizers.AdamW()
    optimizer.exclude_from_weight_decay(var_names=["bias"])
    copy = copied_optimizer(optimizer)
    assert copy is not optimizer
    assert copy._exclude_from_weight_decay_pattern.pattern == "bias"


def test_an_unknown_schedule_is_refused_by_name():
    with pytest.raises(ValueError, match="learning_rate_schedule"):
        GloveCNNClassifier(learning_rate_schedule="linear")._validate_params()


def test_the_callback_alone():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=BASE), loss="mse")
    rates = _Rates()
    x, y = np.zeros((4, 2), "float32"), np.zeros((4, 1), "float32")
    model.fit(
        x, y, epochs=5, initial_epoch=2, callbacks=[CosineDecay(3, 2), rates], verbose=0
    )
    assert rates.at_epoch == pytest.approx(_cosine(3), rel=1e-6)
    assert rates.at_end == pytest.approx([BASE], rel=1e-6)


def test_fit_callbacks_rename_first_then_decay_and_stop_last():
    user = keras.callbacks.Callback()
    callbacks, decay = fit_callbacks(
        str.upper,
        [user],
        schedule="cosine",
        epochs=4,
        initial_epoch=2,
        early_stopping=True,
        patience=3,
    )
    rename, first_decay, given, stop = callbacks
    assert isinstance(rename, RenameLogs) and given is user
    assert first_decay is decay and (decay.epochs, decay.initial_epoch) == (4, 2)
    assert isinstance(stop, keras.callbacks.EarlyStopping)
    assert stop.patience == 3 and stop.restore_best_weights
    callbacks, decay = fit_callbacks(
        str.upper,
        [user],
        schedule="constant",
        epochs=4,
        initial_epoch=0,
        early_stopping=False,
        patience=3,
    )
    assert decay is None and callbacks[1:] == [user]


def test_log_fit_reports_plain_values(caplog):
    history = {"loss": [0.5, 0.25], "accuracy": [0.5, 0.75], "empty": []}
    with caplog.at_level(logging.INFO, logger="skglove"):
        log_fit(
            2.0,
            architecture="kim",
            n_sequences=40,
            n_ids=12,
            n_classes=3,
            history=history,
        )
    assert [r.getMessage() for r in caplog.records] == [
        "fitted a 'kim' network on 40 sequences of 12 ids, 3 classes: 2 epoch(s) "
        "in 2.0 s; last epoch: loss 0.2500, accuracy 0.7500"
    ]


def test_the_training_step_is_traced_once_per_fit(tiny_glove, few_posts, monkeypatch):
    # Keras creates the optimizer's, losses' and metrics' variables in the
    # first trace unless they exist; TensorFlow then traces the step again.
    from keras.src.backend.tensorflow.trainer import TensorFlowTrainer

    traces = []
    original = TensorFlowTrainer.train_step

    def counted(self, data):
        traces.append(self.name)
        return original(self, data)

    monkeypatch.setattr(TensorFlowTrainer, "train_step", counted)
    pipe = tiny_pipeline(tiny_glove, epochs=3, early_stopping=False)
    pipe.fit(*few_posts)
    assert len(pipe[-1].history_["loss"]) == 3
    assert len(traces) == 1
    pipe.set_params(glovecnnclassifier__warm_start=True).fit(*few_posts)
    assert len(traces) == 2


def test_a_fit_that_diverges_is_refused_by_name(tiny_glove, few_posts):
    # At this rate the weights overflow in the first steps; the network would
    # answer one class for every post.
    pipe = tiny_pipeline(tiny_glove, learning_rate=1e12, epochs=2)
    with pytest.raises(
        ValueError, match=r"training diverged: .* after 2 epoch"
    ) as info:
        pipe.fit(*few_posts)
    assert "lower learning_rate (it is 1000000000000.0)" in str(info.value)
    # No fitted model is left behind, and partial_fit starts a new network.
    assert _fitted_names(pipe[-1]) == []
    with pytest.raises(NotFittedError):
        pipe.predict(few_posts[0][:3])
    clf = pipe[-1].set_params(learning_rate=0.005)
    X = pipe[0].transform(few_posts[0])
    clf.partial_fit(X, few_posts[1])
    assert np.isfinite(clf.predict_proba(X)).all()


#: A multi-label fit, whose thresholds and channel mix come after training.
TAGGED = dict(
    kernel_size=None, dense_units=0, epochs=2, validation_split=0.25, threshold="tuned"
)


@pytest.fixture(scope="module")
def tagged_fit(tiny_glove):
    """A fitted multi-label pipeline and its posts. Tests take ``_copy(pipe)``."""
    docs, Y = make_tagged_posts(80, seed=3)
    return tiny_pipeline(tiny_glove, **TAGGED).fit(docs, Y), docs, Y


def _fitted_names(clf) -> list[str]:
    return sorted(n for n in vars(clf) if n.endswith("_") and not n.startswith("_"))


def _interrupt():
    def fail(epoch, logs=None):
        raise RuntimeError("interrupted")

    return keras.callbacks.LambdaCallback(on_epoch_end=fail)


@pytest.mark.parametrize("refit", [False, True], ids=["first fit", "refit"])
def test_a_fit_that_raises_leaves_the_classifier_unfitted(
    tiny_glove, tagged_fit, refit, tmp_path
):
    # Not a network without thresholds, nor the fit before's beside a new one.
    fitted, docs, Y = tagged_fit
    pipe = _copy(fitted) if refit else tiny_pipeline(tiny_glove, **TAGGED)
    with pytest.raises(RuntimeError, match="interrupted"):
        pipe.fit(docs, Y, glovecnnclassifier__callbacks=[_interrupt()])
    assert _fitted_names(pipe[-1]) == []
    with pytest.raises(NotFittedError):
        check_is_fitted(pipe[-1])
    for use in (
        pipe.predict,
        pipe.predict_proba,
        lambda docs: pipe.score(docs, Y[:3]),
        lambda docs: explain(pipe, docs),
        lambda docs: save(pipe, tmp_path / "model.skglove"),
    ):
        with pytest.raises(NotFittedError):
            use(docs[:3])
    assert not list(tmp_path.iterdir())
    assert pipe.fit(docs, Y).predict(docs).shape == Y.shape


def test_a_refit_refused_before_it_builds_a_network_keeps_the_fit_before(
    cosine_fit, few_posts
):
    pipe, untouched = _copy(cosine_fit[0]), _copy(cosine_fit[0])
    clf = pipe[-1]
    before = {name: getattr(clf, name) for name in _fitted_names(clf)}
    source = clf._id_source  # the id space predict checks X against
    proba = pipe.predict_proba(few_posts[0])
    with pytest.raises(ValueError, match="single class"):
        pipe.fit(few_posts[0], ["spam"] * N_ROWS)
    assert _fitted_names(clf) == sorted(before)
    assert clf._id_source is source
    for name, value in before.items():
        assert getattr(clf, name) is value, name
    np.testing.assert_array_equal(pipe.predict_proba(few_posts[0]), proba)
    # And its seeds: training goes on as from the fit before.
    for model in (pipe, untouched):
        model.set_params(glovecnnclassifier__warm_start=True).fit(*few_posts)
    np.testing.assert_array_equal(
        pipe.predict_proba(few_posts[0]), untouched.predict_proba(few_posts[0])
    )


def test_a_later_partial_fit_takes_only_the_first_calls_classes(cosine_fit, few_posts):
    pipe = _copy(cosine_fit[0])
    clf, X = pipe[-1], pipe[0].transform(few_posts[0])
    classes = clf.classes_
    for other in (["a", "b", "c"], [*classes, "zzz"]):
        with pytest.raises(
            ValueError, match=r"classes=\[.*\] is not the same as on the first"
        ):
            clf.partial_fit(X, few_posts[1], classes=other)
        assert clf.classes_ is classes
    clf.partial_fit(X, few_posts[1], classes=classes[::-1].tolist())
    assert clf.predict_proba(X).shape == (N_ROWS, len(classes))


@pytest.mark.parametrize("fails_in", ["keras.Model.fit", "fitted_thresholds"])
def test_training_that_goes_on_and_raises_keeps_its_network(
    tagged_fit, fails_in, monkeypatch
):
    # As Keras leaves a model whose fit raised: the network as the failure
    # left it, with the thresholds of the fit before and the mix it holds.
    fitted, docs, Y = tagged_fit
    pipe = _copy(fitted).set_params(glovecnnclassifier__warm_start=True)
    clf = pipe[-1]
    before = {name: getattr(clf, name) for name in _fitted_names(clf)}
    callbacks = []
    if fails_in == "keras.Model.fit":
        callbacks = [_interrupt()]
    else:

        def fail(*args, **kwargs):
            raise RuntimeError("interrupted")

        monkeypatch.setattr(skglove._keras_hooks, "fitted_thresholds", fail)
    with pytest.raises(RuntimeError, match="interrupted"):
        pipe.fit(docs, Y, glovecnnclassifier__callbacks=callbacks)
    assert _fitted_names(clf) == sorted(before)
    for name in ("model_", "classes_", "threshold_"):
        assert getattr(clf, name) is before[name], name
    np.testing.assert_array_equal(clf.mix_, current_mix(clf.model_))
    assert np.isfinite(pipe.predict_proba(docs)).all()
