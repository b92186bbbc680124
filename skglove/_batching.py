"""tf.data pipelines that batch id sequences by length and crop their padding.

Most posts are far shorter than ``max_len``, so a fixed-length batch is mostly
padding. For networks whose output ignores padding (see
``skglove._models.PADDING_INVARIANT``), batches of similar lengths are cropped
to the columns that hold words: the same function, computed on a fraction of
the positions. All of it runs in tf.data, with no Python per batch. Keras
traces its step functions with ``reduce_retracing``, so the many batch shapes
cost a few traces, not one each.
"""

import numpy as np
import tensorflow as tf

from ._ids import PAD

#: Each length bucket is this much longer than the one before, so a batch
#: wastes at most a fifth of its positions on padding.
_BUCKET_GROWTH = 1.25
_SHORTEST_BUCKET = 8


def _bucket_boundaries(max_len: int) -> list[int]:
    """Lengths from 8 that grow by a quarter, below ``max_len``."""
    boundaries = []
    length = float(_SHORTEST_BUCKET)
    while length < max_len:
        if int(length) not in boundaries:
            boundaries.append(int(length))
        length *= _BUCKET_GROWTH
    return boundaries


def _crop(x):
    """Drop the columns of a batch that hold no word; keep at least one."""
    used = tf.cast(tf.where(tf.reduce_any(x != PAD, axis=0))[:, 0], tf.int32)
    start = tf.reduce_min(tf.concat([used, [tf.shape(x)[1] - 1]], 0))
    end = tf.reduce_max(tf.concat([used + 1, [start + 1]], 0))
    return x[:, start:end]


def _lengths(X: np.ndarray) -> np.ndarray:
    return np.count_nonzero(X != PAD, axis=1)


def training_dataset(
    X: np.ndarray,
    y: np.ndarray,
    sample_weight: np.ndarray | None,
    *,
    batch_size: int,
    shuffle: bool,
    seed: int,
    n_outputs: int = 1,
    by_length: bool = True,
) -> tf.data.Dataset:
    """Batches of ``(x, y[, sample_weight])`` grouped by document length.

    Each epoch reshuffles the samples (with ``shuffle``, from the explicit
    ``seed``, so no global TensorFlow seed is read or advanced), groups them
    into length buckets, emits a batch whenever a bucket holds
    ``batch_size`` of them, and crops each batch's padding. ``by_length=False``
    keeps the shuffled order and the full length instead, for networks that
    read padding. With ``n_outputs > 1``, ``y`` is given once to each output
    of the model.
    """
    arrays = (X, y) if sample_weight is None else (X, y, sample_weight)
    # Shuffle row numbers, not rows: a buffer of every sample is then small.
    if shuffle:
        dataset = _reshuffled_rows(len(X), seed)
    else:
        dataset = tf.data.Dataset.range(len(X))
    tensors = tuple(tf.constant(a) for a in arrays)
    dataset = dataset.map(lambda i: tuple(tf.gather(t, i) for t in tensors))
    if not by_length:
        dataset = dataset.batch(batch_size)
        if n_outputs > 1:
            dataset = dataset.map(lambda x, y, *rest: (x, (y,) * n_outputs, *rest))
        n_batches = -(-len(X) // batch_size)
        dataset = dataset.apply(tf.data.experimental.assert_cardinality(n_batches))
        return _without_autotune(dataset.prefetch(2))
    boundaries = _bucket_boundaries(X.shape[1])
    dataset = dataset.bucket_by_sequence_length(
        lambda x, *_: tf.math.count_nonzero(x, dtype=tf.int32),
        bucket_boundaries=boundaries,
        bucket_batch_sizes=[batch_size] * (len(boundaries) + 1),
        no_padding=True,
    )
    if n_outputs == 1:
        dataset = dataset.map(lambda x, *rest: (_crop(x), *rest))
    else:
        dataset = dataset.map(lambda x, y, *rest: (_crop(x), (y,) * n_outputs, *rest))
    # Each bucket holds the same samples every epoch, so the number of batches
    # is known; telling Keras spares it a warning and gives a full progress bar.
    per_bucket = np.bincount(
        np.searchsorted(boundaries, _lengths(X), side="right"),
        minlength=len(boundaries) + 1,
    )
    n_batches = int(np.sum(-(-per_bucket // batch_size)))
    dataset = dataset.apply(tf.data.experimental.assert_cardinality(n_batches))
    return _without_autotune(dataset.prefetch(2))


def _reshuffled_rows(n_rows: int, seed: int) -> tf.data.Dataset:
    """Row numbers in a new order at each pass, from ``seed`` alone.

    tf.data's own shuffle mixes TensorFlow's global seed into ``seed``; here a
    private generator draws each pass's seed for a stateless shuffle.
    """
    generator = tf.random.Generator.from_seed(seed)
    rows = tf.range(n_rows, dtype=tf.int64)
    return (
        tf.data.Dataset.range(1)
        .map(lambda _: generator.make_seeds(1)[:, 0])
        .flat_map(
            lambda pass_seed: tf.data.Dataset.from_tensor_slices(
                tf.random.experimental.stateless_shuffle(rows, seed=pass_seed)
            )
        )
    )


def _without_autotune(dataset: tf.data.Dataset) -> tf.data.Dataset:
    """Keras drops each epoch's iterator unfinished; with tf.data's autotuning
    on, dropping one waits for the tuning thread's next wake-up, which was
    measured at up to 10 s an epoch."""
    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.with_options(options)


def predict_by_length(
    model, X: np.ndarray, *, batch_size: int, **predict_args
) -> np.ndarray | list[np.ndarray]:
    """``model.predict`` on batches of similar lengths, in the order of ``X``.

    ``predict_args`` (``verbose``, ``callbacks``) go to ``keras.Model.predict``.
    A model with several outputs gives a list, one array per output.
    """
    order = np.argsort(_lengths(X), kind="stable")
    dataset = (
        tf.data.Dataset.from_tensor_slices(X[order])
        .batch(batch_size)
        .map(_crop)
        .prefetch(2)
    )
    dataset = _without_autotune(dataset)
    predicted = model.predict(dataset, **predict_args)
    inverse = np.empty_like(order)
    inverse[order] = np.arange(len(order))
    if isinstance(predicted, list):
        return [p[inverse] for p in predicted]
    return predicted[inverse]
