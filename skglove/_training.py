"""What a fit needs besides the estimator: seeds, the held-out split, targets.

Nothing here touches a process-global generator: every seed is drawn from
the estimator's own ``random_state`` and handed to the code that uses it.
"""

import keras
import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state


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
    """An int seed for Keras or tf.data, drawn from ``rng``."""
    return int(rng.randint(np.iinfo(np.int32).max))


def class_codes(y: np.ndarray) -> np.ndarray:
    """Class codes from encoded targets: ordinal (n, 1) or one-hot rows."""
    codes = y.argmax(axis=1) if y.ndim == 2 and y.shape[1] > 1 else y.ravel()
    return codes.astype(np.int64)


def hold_out(X, y, sample_weight, fraction: float, seed: int):
    """Split off a validation set, stratified by class where possible.

    Returns ``X, y, sample_weight, validation`` with ``validation`` the tuple
    ``(X, y[, sample_weight])`` held out.
    """
    labels = class_codes(y)
    _, counts = np.unique(labels, return_counts=True)
    # Stratify only if every class fits on both sides; on small data
    # train_test_split refuses to, and a plain shuffled split still works.
    n_valid = int(np.ceil(fraction * len(labels)))
    can_stratify = min(n_valid, len(labels) - n_valid) >= len(counts)
    stratify = labels if counts.min() >= 2 and can_stratify else None
    arrays = [X, y] if sample_weight is None else [X, y, sample_weight]
    parts = train_test_split(
        *arrays, test_size=fraction, stratify=stratify, random_state=seed
    )
    train, valid = parts[0::2], parts[1::2]
    weights = train[2] if sample_weight is not None else None
    return train[0], train[1], weights, tuple(valid)


def repeat_targets(data: tuple, n_outputs: int) -> tuple:
    """``(X, y[, w])`` with ``y`` given to each of ``n_outputs`` outputs."""
    if n_outputs == 1:
        return data
    return (data[0], [data[1]] * n_outputs, *data[2:])


def own_weights(sample_weight):
    """A float copy: scikeras multiplies class weights into it in place."""
    return None if sample_weight is None else np.array(sample_weight, dtype=float)


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
