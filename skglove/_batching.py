"""tf.data pipelines that batch id sequences by length and crop their padding.

Most posts are far shorter than ``max_len``, so a fixed-length batch is mostly
padding. For networks whose output ignores padding (see
``skglove._models.PADDING_INVARIANT``), batches of similar lengths are cropped
to their longest document: the same function, computed on a fraction of the
positions. All of it runs in tf.data, with no Python per batch.
"""

import numpy as np
import tensorflow as tf


def _bucket_boundaries(max_len: int) -> list[int]:
    """Doubling lengths from 16: a bucket wastes at most half its positions."""
    boundaries = []
    length = 16
    while length < max_len:
        boundaries.append(length)
        length *= 2
    return boundaries


def _cropper(min_len: int):
    """A function that drops all-padding columns at the ends of a batch.

    It keeps at least ``min_len`` columns, rounded up to a power of two: few
    distinct batch shapes mean few traces of the Keras step functions.
    """

    def crop(x):
        max_len = tf.shape(x)[1]
        used = tf.cast(tf.where(tf.reduce_any(x != 0, axis=0))[:, 0], tf.int32)
        start = tf.reduce_min(tf.concat([used, [max_len]], 0))
        end = tf.reduce_max(tf.concat([used + 1, [0]], 0))
        length = tf.maximum(end - start, min_len)
        length = _next_power_of_two(length)
        length = tf.minimum(length, max_len)
        # Grow towards the padding side: the start if the words end the row.
        start = tf.where(end - length >= 0, tf.minimum(start, end - length), 0)
        return x[:, start : start + length]

    return crop


def _next_power_of_two(n):
    """The smallest power of two >= n, for positive int32 tensors."""
    n = n - 1
    for shift in (1, 2, 4, 8, 16):
        n = tf.bitwise.bitwise_or(n, tf.bitwise.right_shift(n, shift))
    return n + 1


def _lengths(X: np.ndarray) -> np.ndarray:
    return np.count_nonzero(X, axis=1)


def training_dataset(
    X: np.ndarray,
    y: np.ndarray,
    sample_weight: np.ndarray | None,
    *,
    batch_size: int,
    min_len: int,
    shuffle: bool,
    seed: int | None,
) -> tf.data.Dataset:
    """Batches of ``(x, y[, sample_weight])`` grouped by document length.

    Each epoch reshuffles the samples (with ``shuffle``), groups them into
    length buckets, emits a batch whenever a bucket holds ``batch_size`` of
    them, and crops each batch's padding.
    """
    arrays = (X, y) if sample_weight is None else (X, y, sample_weight)
    dataset = tf.data.Dataset.from_tensor_slices(arrays)
    if shuffle:
        dataset = dataset.shuffle(len(X), seed=seed, reshuffle_each_iteration=True)
    boundaries = _bucket_boundaries(X.shape[1])
    dataset = dataset.bucket_by_sequence_length(
        lambda x, *_: tf.math.count_nonzero(x, dtype=tf.int32),
        bucket_boundaries=boundaries,
        bucket_batch_sizes=[batch_size] * (len(boundaries) + 1),
        no_padding=True,
    )
    crop = _cropper(min_len)
    dataset = dataset.map(lambda x, *rest: (crop(x), *rest))
    # Each bucket holds the same samples every epoch, so the number of batches
    # is known; telling Keras spares it a warning and gives a full progress bar.
    per_bucket = np.bincount(
        np.searchsorted(boundaries, _lengths(X), side="right"),
        minlength=len(boundaries) + 1,
    )
    n_batches = int(np.sum(-(-per_bucket // batch_size)))
    dataset = dataset.apply(tf.data.experimental.assert_cardinality(n_batches))
    return dataset.prefetch(tf.data.AUTOTUNE)


def predict_by_length(
    model, X: np.ndarray, *, batch_size: int, min_len: int, verbose: int = 0
) -> np.ndarray:
    """``model.predict`` on batches of similar lengths, in the order of ``X``."""
    order = np.argsort(_lengths(X), kind="stable")
    dataset = (
        tf.data.Dataset.from_tensor_slices(X[order])
        .batch(batch_size)
        .map(_cropper(min_len))
        .prefetch(tf.data.AUTOTUNE)
    )
    sorted_proba = model.predict(dataset, verbose=verbose)
    proba = np.empty_like(sorted_proba)
    proba[order] = sorted_proba
    return proba
