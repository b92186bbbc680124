"""Batches of id sequences for ``keras.Model.fit`` and ``predict``.

The sequences stay flat (:class:`skglove._sequences.IdSequences`) until a
batch is made: only a batch is padded. Most posts are far shorter than
``max_len``, so for networks whose output ignores padding (see
``skglove._models.PADDING_INVARIANT``) a batch holds documents of one length
bucket and is padded to its longest: the same function, computed on a
fraction of the positions. Other networks read every document at
``max_len``. A batch is a few NumPy operations, made in a ``tf.data``
generator thread while the network trains on the one before.
"""

import numpy as np
import tensorflow as tf

from ._layers import ROW_BLOCK
from ._sequences import IdSequences

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


def bucket_widths(max_len: int) -> list[int]:
    """The widths a prediction pads documents to: a document is padded to the
    first that holds it (:func:`predict_in_batches`)."""
    return [*_bucket_boundaries(max_len), max_len]


def _bucket_widths(X: IdSequences) -> np.ndarray:
    """Each sequence's bucket: the shortest width that holds it."""
    edges = np.array(bucket_widths(X.max_len))
    return edges[np.searchsorted(edges, X.lengths)]


def _split(rows: np.ndarray, size: int) -> list[np.ndarray]:
    return [rows[i : i + size] for i in range(0, len(rows), size)]


def _batches(rows: np.ndarray, widths: np.ndarray | None, size: int) -> list:
    """``rows`` in batches of ``size``, in their order; with ``widths``, each
    batch holds rows of one width (bucket) only."""
    if widths is None:
        return _split(rows, size)
    return [
        batch
        for width in np.unique(widths[rows])
        for batch in _split(rows[widths[rows] == width], size)
    ]


def training_dataset(
    X: IdSequences,
    y: np.ndarray,
    sample_weight: np.ndarray | None,
    rows: np.ndarray,
    *,
    batch_size: int,
    shuffle: bool,
    seed: int,
    n_outputs: int = 1,
    by_length: bool = True,
) -> tf.data.Dataset:
    """Batches of ``(x, y[, sample_weight])`` over the samples ``rows``.

    Each pass reshuffles the samples (with ``shuffle``, from a generator
    seeded with ``seed`` alone, so no global seed is read or advanced). With
    ``by_length`` they are grouped into length buckets, batched within
    each bucket, and the batches shuffled; each batch is padded to its
    longest document. Otherwise batches keep the shuffled order and every
    document is padded to ``max_len``. With ``n_outputs > 1``, ``y`` is given
    once to each output of the model.
    """
    rng = np.random.default_rng(seed)
    widths = _bucket_widths(X) if by_length else None

    def epoch():
        order = rng.permutation(rows) if shuffle else rows
        batches = _batches(order, widths, batch_size)
        if shuffle and by_length:
            batches = [batches[i] for i in rng.permutation(len(batches))]
        return batches

    def padded_batches():
        for batch in epoch():
            x = X.take(batch)
            x = x.toarray(int(x.lengths.max(initial=1))) if by_length else x.toarray()
            targets = y[batch]
            yield (
                x,
                targets if n_outputs == 1 else (targets,) * n_outputs,
                *(() if sample_weight is None else (sample_weight[batch],)),
            )

    target = tf.TensorSpec((None, *y.shape[1:]), tf.as_dtype(y.dtype))
    signature = (
        tf.TensorSpec((None, None), tf.int32),
        target if n_outputs == 1 else (target,) * n_outputs,
    )
    if sample_weight is not None:
        signature += (tf.TensorSpec((None,), tf.as_dtype(sample_weight.dtype)),)
    dataset = tf.data.Dataset.from_generator(padded_batches, output_signature=signature)
    # Every pass has the same number of batches; telling Keras spares it a
    # warning and gives a full progress bar.
    n_batches = len(_batches(rows, widths, batch_size))
    dataset = dataset.apply(tf.data.experimental.assert_cardinality(n_batches))
    return _without_autotune(dataset.prefetch(2))


def _without_autotune(dataset: tf.data.Dataset) -> tf.data.Dataset:
    """Keras drops each epoch's iterator unfinished; with tf.data's autotuning
    on, dropping one waits for the tuning thread's next wake-up, which was
    measured at up to 10 s an epoch."""
    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.with_options(options)


def predict_in_batches(
    model, X: IdSequences, *, batch_size: int, by_length: bool, **predict_args
) -> np.ndarray | list[np.ndarray]:
    """``model.predict`` on ``X``, each row's output independent of the others.

    With ``by_length``, for networks whose output ignores padding, each
    document is padded to its own length bucket, and a batch holds documents
    of one bucket. Otherwise every document is read at ``max_len``. Each
    batch is then completed with empty rows to a multiple of
    :data:`skglove._layers.ROW_BLOCK`. So every tensor the network computes has the same
    shape, and each row the same place in its SIMD registers, whatever other
    documents, order or ``batch_size`` share the call: a document's outputs
    are the same bits. ``predict_args`` (``verbose``, ``callbacks``) go to
    ``keras.Model.predict``. A model with several outputs gives a list, one
    array per output, in the order of ``X``.
    """
    rows = np.arange(len(X))
    widths = _bucket_widths(X) if by_length else np.full(len(X), X.max_len)
    batches = _batches(rows, widths, batch_size)
    sizes = [-(-len(batch) // ROW_BLOCK) * ROW_BLOCK for batch in batches]

    def padded_batches():
        for batch, size in zip(batches, sizes, strict=True):
            x = np.zeros((size, widths[batch[0]]), dtype=np.int32)
            x[: len(batch)] = X.take(batch).toarray(widths[batch[0]])
            yield x

    signature = tf.TensorSpec((None, None), tf.int32)
    dataset = tf.data.Dataset.from_generator(padded_batches, output_signature=signature)
    dataset = dataset.apply(tf.data.experimental.assert_cardinality(len(batches)))
    predicted = model.predict(_without_autotune(dataset.prefetch(2)), **predict_args)
    # Where each row of X is among the outputs, which hold the empty rows too.
    where = np.empty(len(X), dtype=np.int64)
    for batch, offset in zip(batches, np.cumsum([0, *sizes[:-1]]), strict=True):
        where[batch] = offset + np.arange(len(batch))
    if isinstance(predicted, list):
        return [p[where] for p in predicted]
    return predicted[where]
