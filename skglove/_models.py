"""Keras architectures, as pure functions of their hyper-parameters.

Each builder takes the sequence length, the embedding table and the number of
classes, and returns an uncompiled :class:`keras.Model` that maps int32 id
sequences to class probabilities.
"""

import keras
import numpy as np
from keras import layers

__all__ = ["ARCHITECTURES", "build_blog_cnn", "embedding_layer"]


def embedding_layer(
    n_ids: int, dim: int, weights: np.ndarray | None = None
) -> layers.Embedding:
    """A frozen embedding holding ``weights``, or a trainable one if None."""
    if weights is None:
        return layers.Embedding(n_ids, dim, name="embedding")
    if weights.shape != (n_ids, dim):
        raise ValueError(
            f"embedding weights have shape {weights.shape}, expected {(n_ids, dim)}"
        )
    return layers.Embedding(
        n_ids, dim, weights=[weights], trainable=False, name="embedding"
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
    embedding: layers.Embedding,
    *,
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
        Length of the input id sequences.
    n_classes : int
        Number of output classes.
    embedding : keras.layers.Embedding
        The embedding layer, from :func:`embedding_layer`.
    filters, kernel_size, pool_size : int
        Filters and kernel width of each Conv1D, and the max-pooling size.
    dense_units : int
        Width of the hidden Dense layer.
    dropout : float
        Dropout rate before each Dense layer.

    Returns
    -------
    keras.Model
        The uncompiled model.
    """
    shortest = _min_blog_length(kernel_size, pool_size)
    if seq_len < shortest:
        raise ValueError(
            f"architecture 'blog' with kernel_size={kernel_size} and "
            f"pool_size={pool_size} needs sequences of at least {shortest} ids, "
            f"got max_len={seq_len}; raise max_len or lower kernel_size/pool_size"
        )
    inputs = keras.Input(shape=(seq_len,), dtype="int32", name="ids")
    x = embedding(inputs)
    for _ in range(2):
        x = layers.Conv1D(filters, kernel_size, activation="relu")(x)
        x = layers.MaxPooling1D(pool_size)(x)
    x = layers.Conv1D(filters, kernel_size, activation="relu")(x)
    x = layers.GlobalMaxPooling1D()(x)
    if dropout:
        x = layers.Dropout(dropout)(x)
    x = layers.Dense(dense_units, activation="relu")(x)
    if dropout:
        x = layers.Dropout(dropout)(x)
    outputs = layers.Dense(n_classes, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="blog_cnn")


#: Architecture names accepted by ``GloveCNNClassifier(architecture=...)``.
ARCHITECTURES = {"blog": build_blog_cnn}
