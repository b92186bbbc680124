"""Training and prediction around the Keras model, without scikeras: seeds,
the held-out split, the callbacks, the datasets, the trained heads, the
multi-label thresholds and the log line of a fit (the channel mix is
:mod:`skglove._mix`'s).

Nothing here touches a process-global generator: every seed is drawn from
the estimator's own ``random_state`` and handed to the code that uses it.
"""

import logging
import math
from typing import NamedTuple

import keras
import numpy as np
import tensorflow as tf
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.class_weight import compute_sample_weight

from ._batching import predict_in_batches, training_dataset
from ._layers import squared_hinge
from ._models import GLOVE_HEAD, LEXICAL_HEAD, OUTPUT
from ._multilabel import NEVER, label_thresholds, tuned_thresholds
from ._sequences import as_sequences

_log = logging.getLogger(__name__)


def seed_source(random_state) -> np.random.RandomState:
    """The generator that a fit draws its seeds from.

    An int gives a fresh generator, so each fit from scratch draws the same
    seeds; a ``RandomState`` is used (and advanced) as it is, as in
    scikit-learn. ``None`` seeds a new generator from the operating system,
    where ``check_random_state`` would advance NumPy's global one.
    """
    if random_state is None:
        return np.random.RandomState(np.random.SeedSequence().generate_state(1))
    return check_random_state(random_state)


def draw_seed(rng: np.random.RandomState) -> int:
    """An int seed for Keras or NumPy, drawn from ``rng``."""
    return int(rng.randint(np.iinfo(np.int32).max))


class Seeds(NamedTuple):
    """The seeds of one fit, each for one use, drawn in this order."""

    network: int  #: weight initializers and dropout
    split: int  #: which samples are held out for validation
    shuffle: int  #: the order of the samples in each epoch

    @classmethod
    def draw(cls, rng: np.random.RandomState) -> "Seeds":
        return cls(*(draw_seed(rng) for _ in cls._fields))


def class_codes(y: np.ndarray) -> np.ndarray:
    """Class codes from encoded targets: ordinal (n, 1) or one-hot rows."""
    codes = y.argmax(axis=1) if y.ndim == 2 and y.shape[1] > 1 else y.ravel()
    return codes.astype(np.int64)


def hold_out(y, fraction: float, seed: int, *, multilabel: bool = False):
    """Row numbers of the training and of the validation samples, split
    stratified by class where possible; the validation rows are None when
    ``fraction`` is 0. Multi-label samples have no single class to stratify
    by, and are split at random."""
    rows = np.arange(len(y))
    if not fraction:
        return rows, None
    if multilabel:
        return tuple(train_test_split(rows, test_size=fraction, random_state=seed))
    labels = class_codes(y)
    _, counts = np.unique(labels, return_counts=True)
    # Stratify only if every class fits on both sides; on small data
    # train_test_split refuses to, and a plain shuffled split still works.
    n_valid = int(np.ceil(fraction * len(labels)))
    can_stratify = min(n_valid, len(labels) - n_valid) >= len(counts)
    stratify = labels if counts.min() >= 2 and can_stratify else None
    return tuple(
        train_test_split(rows, test_size=fraction, stratify=stratify, random_state=seed)
    )


def own_weights(sample_weight, y, class_weight=None):
    """A float copy of ``sample_weight`` (a scalar spread over the samples
    of ``y``): scikeras multiplies class weights into it in place.

    Refused, before scikeras builds a network: weights of another shape than
    ``y``'s samples; a negative or non-finite weight, since Keras would climb
    that sample's loss, or train on NaN; and weights that are all zero once
    ``class_weight`` is applied and in float32, as Keras trains, where
    scikeras would refuse them only after building a new network.
    """
    if sample_weight is None:
        return None
    n_samples = len(np.asarray(y))
    weights = np.array(sample_weight, dtype=float)
    if weights.ndim == 0:
        weights = np.full(n_samples, float(weights))
    if weights.shape != (n_samples,):
        raise ValueError(
            f"sample_weight has shape {weights.shape}, but there are "
            f"{n_samples} samples: give one weight per sample"
        )
    bad = np.flatnonzero(~(np.isfinite(weights) & (weights >= 0)))
    if bad.size:
        raise ValueError(
            f"sample_weight must be finite and non-negative, but sample "
            f"{bad[0]} weighs {float(weights.flat[bad[0]])!r} ({bad.size} such "
            "samples)"
        )
    effective = weights.astype(np.float32)
    if class_weight is not None:
        effective = effective * compute_sample_weight(class_weight, y)
    if weights.size and not effective.any():
        why = " once class_weight is applied, or in float32" if weights.any() else ""
        raise ValueError(
            f"sample_weight is zero for every sample{why}: there is nothing to train on"
        )
    return weights


class RenameLogs(keras.callbacks.Callback):
    """Rename the Keras log entries in place with ``rename``.

    Given first to ``keras.Model.fit``, so that later callbacks and the
    history see the new names.
    """

    def __init__(self, rename) -> None:
        super().__init__()
        self._rename_key = rename

    def _rename(self, logs):
        if logs:
            for key in list(logs):
                plain = self._rename_key(key)
                if plain != key:
                    logs[plain] = logs.pop(key)

    def on_train_batch_end(self, batch, logs=None):
        self._rename(logs)

    def on_epoch_end(self, epoch, logs=None):
        self._rename(logs)


class CosineDecay(keras.callbacks.Callback):
    """Decay the optimizer's learning rate from its value at the start of
    ``fit`` to near 0 over ``epochs`` epochs, along a half cosine.

    Epoch ``initial_epoch + i`` trains at ``base * (1 + cos(pi * i / epochs))
    / 2``, so the first epoch trains at the full rate. Another callback that
    changes the rate between epochs (such as ``ReduceLROnPlateau``) scales
    ``base`` by its change, so the two compose rather than the decay undoing
    it. The rate at the start of training is put back when training ends, so
    that a warm start or ``partial_fit`` starts from it again rather than
    from the last, smallest rate.

    Parameters
    ----------
    epochs : int
        The epochs this ``fit`` runs (at most, with early stopping).
    initial_epoch : int
        The number of the first of them, as ``keras.Model.fit`` counts.
    """

    def __init__(self, epochs: int, initial_epoch: int = 0) -> None:
        super().__init__()
        self.epochs = epochs
        self.initial_epoch = initial_epoch
        self._base = None

    def on_train_begin(self, logs=None):
        optimizer = self.model.optimizer
        # Setting the rate of an optimizer built on a schedule (or a callable)
        # would raise deep in Keras, or replace the user's schedule.
        if not isinstance(optimizer._learning_rate, keras.Variable):
            raise ValueError(
                f"the optimizer {type(optimizer).__name__} already has a "
                "learning-rate schedule; give it a float learning rate, or set "
                "learning_rate_schedule='constant' to keep its own schedule"
            )
        self._base = self._scaled = _rate(optimizer)
        self._set = None

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = self.model.optimizer
        if self._set is not None:
            current = _rate(optimizer)
            if not math.isclose(current, self._set, rel_tol=1e-6):
                self._scaled *= current / self._set
        progress = (epoch - self.initial_epoch) / self.epochs
        self._set = self._scaled * (1 + math.cos(math.pi * progress)) / 2
        optimizer.learning_rate = self._set

    def on_train_end(self, logs=None):
        self.restore()

    def restore(self) -> None:
        """Put the base learning rate back (nothing before training began)."""
        if self._base is not None:
            self.model.optimizer.learning_rate = self._base


def _rate(optimizer) -> float:
    # .numpy(), not convert_to_numpy: a keras.Variable's __array__ takes no
    # copy argument, which NumPy 2 deprecates.
    return float(optimizer.learning_rate.numpy())


def fit_callbacks(
    rename,
    callbacks: list,
    *,
    schedule: str,
    epochs: int,
    initial_epoch: int,
    early_stopping: bool,
    patience: int,
    monitor: str = "val_loss",
) -> tuple[list, CosineDecay | None]:
    """The callbacks of one ``keras.Model.fit``, and its learning-rate decay.

    Parameters
    ----------
    rename : callable
        Maps a Keras log key to its name in the history (see
        :class:`RenameLogs`).
    callbacks : list of keras.callbacks.Callback
        The classifier's and the user's callbacks.
    schedule : {"cosine", "constant"}
        The learning-rate schedule; ``"cosine"`` adds a :class:`CosineDecay`.
    epochs : int
        The epochs this fit runs.
    initial_epoch : int
        The number of the first of them.
    early_stopping : bool
        Whether to stop when the validation loss stops improving, restoring
        the best epoch's weights.
    patience : int
        Epochs without improvement before early stopping.
    monitor : str, default="val_loss"
        The validation loss that early stopping watches.

    Returns
    -------
    callbacks : list of keras.callbacks.Callback
        In the order Keras must call them.
    decay : CosineDecay or None
        The decay, whose rate the caller restores if ``fit`` raises (Keras
        then skips ``on_train_end``); None with a constant rate.
    """
    # The renaming runs first, so later callbacks and history_ see the
    # plain names (val_accuracy, not val_probabilities_accuracy); the
    # decay next, so the user's callbacks see each epoch's rate.
    callbacks = [RenameLogs(rename), *callbacks]
    decay = None
    if schedule == "cosine":
        # partial_fit runs one epoch, the decay's first: at the full rate.
        decay = CosineDecay(epochs, initial_epoch)
        callbacks.insert(1, decay)
    if early_stopping:
        callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor=monitor,
                mode="min",
                patience=patience,
                restore_best_weights=True,
            )
        )
    return callbacks, decay


def heads(model: keras.Model) -> list[str]:
    """Names of the output layers that are trained, each against the labels."""
    names = {layer.name for layer in model.layers}
    return [LEXICAL_HEAD, GLOVE_HEAD] if LEXICAL_HEAD in names else [OUTPUT]


def training_model(model: keras.Model) -> keras.Model:
    """The same layers with one output per head, for ``fit``.

    A network with a lexical channel trains each channel against its own
    loss, so that neither learns only what the other leaves unexplained.
    """
    names = heads(model)
    if names == [OUTPUT]:
        return model
    outputs = [model.get_layer(name).output for name in names]
    return keras.Model(model.inputs, outputs, name=f"{model.name}_heads")


def head_losses(model: keras.Model, loss) -> list:
    """The loss of each head of :func:`heads`: the lexical scores are a
    LinearSVC's, trained with its squared hinge; the network uses ``loss``."""
    return [squared_hinge if name == LEXICAL_HEAD else loss for name in heads(model)]


def trained_heads(model: keras.Model, metrics) -> keras.Model:
    """``model``, or a model of its layers that outputs each trained head too.

    The combined output comes first, monitored with ``metrics`` but not
    trained (loss weight 0); each head is trained against its own loss, on
    the optimizer of ``model``.
    """
    heads = training_model(model)
    if heads is model:
        return model
    combined = keras.Model(
        heads.inputs, [model.output, *heads.outputs], name=heads.name
    )
    n_heads = len(heads.outputs)
    combined.compile(
        optimizer=model.optimizer,
        loss=[model.loss, *head_losses(model, model.loss)],
        loss_weights=[0.0] + [1.0] * n_heads,
        metrics=[metrics] + [None] * n_heads,
    )
    return combined


def copied_optimizer(optimizer: keras.optimizers.Optimizer):
    """A copy of an optimizer given as a parameter, for one network: fit must
    leave the parameter as it was, and a built optimizer cannot train another
    network's variables.

    An optimizer Keras cannot copy (a schedule or an argument without
    ``get_config``, a lambda) is used itself while it is unbuilt, for one
    fit; after that, a clear error replaces Keras' own.
    """
    try:
        copy = type(optimizer).from_config(optimizer.get_config())
    except (NotImplementedError, TypeError, ValueError) as exc:
        if not optimizer.built:
            return optimizer
        raise ValueError(
            f"the optimizer {type(optimizer).__name__} trained an earlier "
            f"network and Keras cannot copy it for a new one ({exc}); give an "
            "optimizer whose get_config/from_config round-trip, or a new "
            "instance before each fit"
        ) from exc
    # Set by AdamW's exclude_from_weight_decay, and not in its config.
    for name in ("_exclude_from_weight_decay", "_exclude_from_weight_decay_pattern"):
        if hasattr(optimizer, name):
            setattr(copy, name, getattr(optimizer, name))
    return copy


def build_training_state(model: keras.Model, dataset: tf.data.Dataset) -> None:
    """Create the variables of ``model``'s optimizer, losses and metrics from
    the shapes of ``dataset``'s batches, before ``fit`` traces its step.

    Without a distribution strategy, Keras creates them inside the first
    trace of the training step, and TensorFlow then traces the step a second
    time: the larger part of a small fit's cost. Keras builds them the same
    way itself under a strategy; a Keras without this (private) method
    builds them in the trace, as before.
    """
    build = getattr(model, "_symbolic_build", None)
    if build is not None and getattr(model, "_distribute_strategy", None) is None:
        build(data_batch=dataset.element_spec)


def check_converged(model: keras.Model, history: dict, learning_rate) -> None:
    """Refuse a network that training left with a NaN or infinite weight, as
    scikit-learn's ``MLPClassifier`` does: it would answer one class, or NaN,
    for every document."""
    # The frozen tables cannot diverge, and are most of the bytes.
    if all(bool(keras.ops.all(keras.ops.isfinite(w))) for w in model.trainable_weights):
        return
    losses = history.get("loss") or [float("nan")]
    rate = (
        "the optimizer's learning rate"
        if learning_rate is None
        else f"learning_rate (it is {learning_rate!r})"
    )
    raise ValueError(
        f"training diverged: the network's weights are not finite after "
        f"{len(history.get('loss', []))} epoch(s) (last loss {losses[-1]:.4g}); "
        f"lower {rate}, or look for huge sample weights"
    )


def fit_data(X, y, sample_weight, rows, valid_rows, **batches) -> dict:
    """``x`` and ``validation_data`` for ``keras.Model.fit``, as datasets of
    the samples ``rows`` and ``valid_rows`` (None: no validation data).

    ``batches`` go to :func:`training_dataset` (``batch_size``, ``n_outputs``,
    ``by_length``, ``seed``); only the training data is shuffled, and only
    if ``batches["shuffle"]``.
    """
    shuffle = batches.pop("shuffle")
    data = {
        "x": training_dataset(X, y, sample_weight, rows, shuffle=shuffle, **batches)
    }
    if valid_rows is not None:
        data["validation_data"] = training_dataset(
            X, y, sample_weight, valid_rows, shuffle=False, **batches
        )
    return data


def predict(model: keras.Model, X, **predict_args):
    """``model.predict`` on encoded ids, each row independent of the others;
    see :func:`skglove._batching.predict_in_batches`."""
    return predict_in_batches(model, as_sequences(X), **predict_args)


def log_fit(
    seconds: float,
    *,
    architecture: str,
    n_sequences: int,
    n_ids: int,
    n_classes: int,
    history: dict,
) -> None:
    """One INFO line: the data, the epochs run and the last scores.

    Parameters
    ----------
    seconds : float
        How long the fit took.
    architecture : str
        The network's architecture.
    n_sequences : int
        The number of training sequences.
    n_ids : int
        The length of each sequence.
    n_classes : int
        The number of classes.
    history : dict of str to list of float
        Loss and metrics per epoch; ``loss`` counts the epochs.
    """
    if not _log.isEnabledFor(logging.INFO):
        return
    last = ", ".join(f"{k} {v[-1]:.4f}" for k, v in history.items() if v)
    _log.info(
        "fitted a %r network on %d sequences of %d ids, %d classes: %d epoch(s) "
        "in %.1f s; last epoch: %s",
        architecture,
        n_sequences,
        n_ids,
        n_classes,
        len(history.get("loss", [])),
        seconds,
        last,
    )


def fitted_thresholds(
    model: keras.Model, X, y, rows, threshold, present, previous=None, **predict_args
) -> np.ndarray:
    """Each label's decision threshold, ``(n_labels,)``.

    ``threshold="tuned"`` picks each label's threshold with the best F1 on
    the samples ``rows``, the validation split; a label without a positive
    there keeps its ``previous`` threshold when training goes on (such as
    ``partial_fit`` on a batch without it), else 0.5. A float is every
    label's. A label absent at fit (``present`` False) gets a threshold that
    no probability exceeds.
    """
    if threshold != "tuned":
        return label_thresholds(threshold, present)
    default = 0.5
    if previous is not None and np.shape(previous) == present.shape:
        default = np.where(previous < NEVER, previous, 0.5)
    proba = predict(model, X.take(rows), **predict_args)
    return np.where(present, tuned_thresholds(proba, y[rows], default), NEVER)
