"""Keras architectures, as pure functions of their hyper-parameters.

Each builder returns an uncompiled :class:`keras.Model` that maps int32 id
sequences (rows of an embedding table; 0 is padding) to class probabilities.
"""

from collections.abc import Sequence
from numbers import Integral

import keras
import numpy as np
from keras import layers

__all__ = ["ARCHITECTURES", "PADDING_INVARIANT", "build_network"]


def _embed(
    ids, n_ids: int, dim: int, weights=None, trainable_rows=None, trainable_dim=0
):
    """Embed ``ids``: a frozen ``weights`` table, or a trainable one if None.

    ``trainable_rows`` (a boolean mask over the table) adds a trainable
    correction, starting at zero, to those rows only; every other row stays
    exactly its frozen value. ``trainable_dim`` appends that many trainable
    features per id, learned from scratch.
    """
    if trainable_dim:
        extra = layers.Embedding(n_ids, trainable_dim, name="trainable_features")(ids)
        x = _embed(ids, n_ids, dim, weights, trainable_rows)
        return layers.Concatenate(name="features")([x, extra])
    if weights is None:
        return layers.Embedding(n_ids, dim, name="embedding")(ids)
    if weights.shape != (n_ids, dim):
        raise ValueError(
            f"embedding weights have shape {weights.shape}, expected {(n_ids, dim)}"
        )
    x = layers.Embedding(
        n_ids, dim, weights=[weights], trainable=False, name="embedding"
    )(ids)
    if trainable_rows is None or not np.any(trainable_rows):
        return x
    correction = layers.Embedding(
        n_ids, dim, embeddings_initializer="zeros", name="trainable_rows"
    )(ids)
    gate = _row_indicator(ids, trainable_rows, "trainable_rows_gate")
    return layers.Add()([x, layers.Multiply()([correction, gate])])


def _row_indicator(ids, rows: np.ndarray, name: str):
    """A frozen 0/1 lookup: 1 where ``rows[id]`` is true, shape (..., 1)."""
    table = np.asarray(rows, dtype=np.float32).reshape(-1, 1)
    return layers.Embedding(len(table), 1, weights=[table], trainable=False, name=name)(
        ids
    )


def _min_blog_length(kernel_size: int, pool_size: int) -> int:
    """Shortest input for which the three valid convolutions fit."""
    length = kernel_size
    for _ in range(2):
        length = length * pool_size + kernel_size - 1
    return length


def build_blog_cnn(
    seq_len: int,
    n_classes: int,
    *,
    n_ids: int,
    embedding_dim: int,
    weights: np.ndarray | None = None,
    trainable_rows: np.ndarray | None = None,
    trainable_dim: int = 0,
    filters: int = 128,
    kernel_size: int = 5,
    pool_size: int = 5,
    dense_units: int = 128,
    dropout: float = 0.0,
) -> keras.Model:
    """The convnet of the Keras blog post on pre-trained embeddings.

    Embedding, then Conv1D → MaxPooling1D → Conv1D → MaxPooling1D → Conv1D →
    GlobalMaxPooling1D → Dense(relu) → Dense(softmax). ``dropout`` adds a
    Dropout layer before each Dense layer when positive.

    Parameters
    ----------
    seq_len : int
        Length of the input id sequences; the pooling makes the output depend
        on it, so it is fixed.
    n_classes : int
        Number of output classes.
    n_ids, embedding_dim : int
        Shape of the embedding table.
    weights : ndarray of shape (n_ids, embedding_dim) or None
        A frozen table, or None for a trainable one learned from scratch.
    trainable_rows : ndarray of bool of shape (n_ids,) or None
        Rows of a frozen table that get a trainable correction.
    trainable_dim : int
        Trainable features appended to each id's vector; 0 for none.
    filters, kernel_size, pool_size : int
        Filters and width of each Conv1D, and the max-pooling size.
    dense_units : int
        Width of the hidden Dense layer (128 in the blog); 0 for none.
    dropout : float
        Dropout rate before each Dense layer.

    Returns
    -------
    keras.Model
        The uncompiled model.
    """
    if not isinstance(kernel_size, Integral):
        raise ValueError(
            f"architecture 'blog' stacks convolutions of one width; got "
            f"kernel_size={kernel_size!r}, expected an int"
        )
    shortest = _min_blog_length(kernel_size, pool_size)
    if seq_len < shortest:
        raise ValueError(
            f"architecture 'blog' with kernel_size={kernel_size} and "
            f"pool_size={pool_size} needs sequences of at least {shortest} ids, "
            f"got max_len={seq_len}; raise max_len or lower kernel_size/pool_size"
        )
    ids = keras.Input(shape=(seq_len,), dtype="int32", name="ids")
    x = _embed(ids, n_ids, embedding_dim, weights, trainable_rows, trainable_dim)
    for _ in range(2):
        x = layers.Conv1D(filters, kernel_size, activation="relu")(x)
        x = layers.MaxPooling1D(pool_size)(x)
    x = layers.Conv1D(filters, kernel_size, activation="relu")(x)
    x = layers.GlobalMaxPooling1D()(x)
    if dense_units:
        if dropout:
            x = layers.Dropout(dropout)(x)
        x = layers.Dense(dense_units, activation="relu")(x)
    if dropout:
        x = layers.Dropout(dropout)(x)
    outputs = layers.Dense(n_classes, activation="softmax", name="probabilities")(x)
    return keras.Model(ids, outputs, name="blog_cnn")


def build_kim_cnn(
    seq_len: int,
    n_classes: int,
    *,
    n_ids: int,
    embedding_dim: int,
    weights: np.ndarray | None = None,
    trainable_rows: np.ndarray | None = None,
    trainable_dim: int = 0,
    filters: int = 128,
    kernel_size: int | Sequence[int] = (3, 4, 5),
    dense_units: int = 0,
    dropout: float = 0.5,
    pool_size: int | None = None,
) -> keras.Model:
    """Kim (2014)'s convnet: parallel convolutions, each max-pooled over time.

    One Conv1D(relu) per kernel width, each reduced by a global max over the
    windows that lie wholly inside the document, concatenated, then Dropout
    and a softmax (with a hidden Dense layer first if ``dense_units > 0``).
    Windows that touch padding are excluded, so the output does not depend on
    how much padding surrounds a document: the input length is free, and
    batches can be cropped to their longest document.

    Parameters
    ----------
    seq_len : int or None
        The vectorizer's ``max_len``, checked against the widest kernel; the
        model itself takes sequences of any length.
    n_classes : int
        Number of output classes.
    n_ids, embedding_dim, weights, trainable_rows, trainable_dim
        The embedding table; see :func:`build_blog_cnn`.
    filters : int
        Filters per kernel width.
    kernel_size : int or sequence of int
        The kernel widths.
    dense_units : int
        Width of an optional hidden Dense layer; 0 for none.
    dropout : float
        Dropout rate before the output layer.
    pool_size : None
        Ignored; accepted so that every architecture takes the same keywords.

    Returns
    -------
    keras.Model
        The uncompiled model.
    """
    widths = _widths(kernel_size)
    if seq_len is not None and seq_len < max(widths):
        raise ValueError(
            f"architecture 'kim' with kernel_size={kernel_size!r} needs sequences "
            f"of at least {max(widths)} ids, got max_len={seq_len}"
        )
    ids = keras.Input(shape=(None,), dtype="int32", name="ids")
    x = _embed(ids, n_ids, embedding_dim, weights, trainable_rows, trainable_dim)
    is_padding = _row_indicator(ids, np.arange(n_ids) == 0, "padding")
    pooled = []
    for width in widths:
        windows = layers.Conv1D(filters, width, activation="relu")(x)
        # relu output is >= 0, so zeroing a window removes it from the max.
        touches_padding = layers.MaxPooling1D(width, strides=1)(is_padding)
        windows = layers.Subtract()(
            [windows, layers.Multiply()([windows, touches_padding])]
        )
        pooled.append(layers.GlobalMaxPooling1D()(windows))
    x = layers.Concatenate()(pooled) if len(pooled) > 1 else pooled[0]
    if dense_units:
        x = layers.Dropout(dropout)(x)
        x = layers.Dense(dense_units, activation="relu")(x)
    x = layers.Dropout(dropout)(x)
    outputs = layers.Dense(n_classes, activation="softmax", name="probabilities")(x)
    return keras.Model(ids, outputs, name="kim_cnn")


#: Architecture names accepted by ``GloveCNNClassifier(architecture=...)``.
ARCHITECTURES = {"blog": build_blog_cnn, "kim": build_kim_cnn}
#: Architectures whose output ignores padding, so batches may be cropped.
PADDING_INVARIANT = frozenset({"kim"})


def _widths(kernel_size) -> tuple[int, ...]:
    return (kernel_size,) if isinstance(kernel_size, Integral) else tuple(kernel_size)


def min_length(kernel_size) -> int:
    """The shortest sequence a padding-invariant network can take: its widest
    kernel."""
    return max(_widths(kernel_size))


def build_network(architecture: str, seq_len: int, n_classes: int, **params):
    """Build the named architecture; see :data:`ARCHITECTURES`."""
    return ARCHITECTURES[architecture](seq_len, n_classes, **params)
