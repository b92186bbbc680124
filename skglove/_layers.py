"""Keras layers of skglove's networks, registered for ``.keras`` files.

They are written with ``keras.ops`` only, so they run on any device (CPU
or GPU), and :func:`skglove.load` reads them back with ``safe_mode=True``.
"""

import keras
import numpy as np
from keras import ops

__all__ = [
    "PROBABILITY_FLOOR",
    "ChannelMix",
    "SubsetEmbedding",
    "TfidfPooling",
    "squared_hinge",
]

_PACKAGE = "skglove"
#: ChannelMix reads a probability p as log(max(p, PROBABILITY_FLOOR)).
PROBABILITY_FLOOR = 1e-12


@keras.saving.register_keras_serializable(package=_PACKAGE)
class TfidfPooling(keras.layers.Layer):
    """Sum each document's token vectors, weighted by sublinear TF-IDF.

    A token of a word that occurs ``c`` times in its document weighs
    ``idf[word] * (1 + ln c) / c``, so the weights of a word's tokens add up to
    its sublinear TF-IDF, as in scikit-learn's
    ``TfidfVectorizer(sublinear_tf=True)``. The weights are then normalized
    per document: ``norm="l2"`` makes the sum the dot product of the
    document's L2-normalized TF-IDF vector with the word vectors; ``"l1"``
    makes it a weighted mean. Words with an idf of 0 (padding, unknown words)
    weigh nothing, and a document of such words pools to zeros.

    Parameters
    ----------
    n_ids : int
        Size of the id space; ``idf`` has one frozen value per id, set with
        ``set_weights`` after the layer is built.
    norm : {"l2", "l1"}, default="l2"
        How the weights of each document are normalized.

    Call arguments
    --------------
    inputs : list of two tensors
        ``ids`` of shape ``(batch, length)`` and ``vectors`` of shape
        ``(batch, length, dim)``: each token's id and vector.

    Returns
    -------
    tensor of shape ``(batch, dim)``
    """

    def __init__(self, n_ids: int, norm: str = "l2", **kwargs):
        super().__init__(**kwargs)
        if norm not in ("l1", "l2"):
            raise ValueError(f"norm must be 'l1' or 'l2', got {norm!r}")
        self.n_ids = int(n_ids)
        self.norm = norm

    def build(self, input_shape):
        self.idf = self.add_weight(
            shape=(self.n_ids,), initializer="ones", trainable=False, name="idf"
        )

    def call(self, inputs):
        ids, vectors = inputs
        weights = self.token_weights(ids)
        vectors = ops.cast(vectors, weights.dtype)
        return ops.einsum("bl,bld->bd", weights, vectors)

    def token_weights(self, ids):
        """The normalized weight of each token, of shape ``(batch, length)``:
        the output is the weighted sum of the token vectors."""
        ids = ops.cast(ids, "int32")
        counts = _counts_in_row(ids, self.n_ids)
        idf = ops.take(self.idf, ids)
        tf = 1.0 + ops.log(counts)
        weights = idf * tf / counts
        if self.norm == "l2":
            # Each distinct word has `counts` tokens: sum its square once.
            total = ops.sqrt(ops.sum(weights * idf * tf, axis=1, keepdims=True))
        else:
            total = ops.sum(weights, axis=1, keepdims=True)
        return weights / ops.maximum(total, 1e-12)

    def compute_output_shape(self, input_shape):
        _, vectors = input_shape
        return (vectors[0], vectors[-1])

    def get_config(self):
        return {**super().get_config(), "n_ids": self.n_ids, "norm": self.norm}


def _counts_in_row(ids, n_ids: int):
    """How often each token's id occurs in its row, as floats."""
    shape = ops.shape(ids)
    rows = ops.arange(shape[0], dtype="int64")[:, None] * n_ids
    keys = ops.reshape(ops.cast(ids, "int64") + rows, (-1,))
    ordered = ops.sort(keys)
    counts = ops.searchsorted(ordered, keys, side="right") - ops.searchsorted(
        ordered, keys, side="left"
    )
    return ops.cast(ops.reshape(counts, shape), "float32")


@keras.saving.register_keras_serializable(package=_PACKAGE)
class SubsetEmbedding(keras.layers.Layer):
    """Trainable vectors for some ids of an id space; the rest read zeros.

    A frozen int table maps each id to its row of the trainable table, or to
    -1. Only the chosen ids have weights, and optimizer state: a table for a
    few thousand words of a space of millions costs a few thousand rows.

    Parameters
    ----------
    n_ids : int
        Size of the id space.
    n_rows : int
        How many ids have a trainable vector.
    output_dim : int
        Size of each vector.
    embeddings_initializer : str or initializer, default="zeros"
        How the vectors start.

    The frozen map is set with ``set_weights([rows, vectors])`` after the
    layer is built, or with :meth:`set_rows`.
    """

    def __init__(
        self,
        n_ids: int,
        n_rows: int,
        output_dim: int,
        embeddings_initializer="zeros",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.n_ids = int(n_ids)
        self.n_rows = int(n_rows)
        self.output_dim = int(output_dim)
        self.embeddings_initializer = keras.initializers.get(embeddings_initializer)

    def build(self, input_shape):
        self.rows = self.add_weight(
            shape=(self.n_ids,),
            initializer=keras.initializers.Constant(-1),
            dtype="int32",
            trainable=False,
            name="rows",
        )
        self.embeddings = self.add_weight(
            shape=(max(self.n_rows, 1), self.output_dim),
            initializer=self.embeddings_initializer,
            name="embeddings",
        )

    def set_rows(self, ids) -> None:
        """Give ``ids`` (in this order) the trainable rows 0, 1, ..."""
        rows = np.full(self.n_ids, -1, dtype=np.int32)
        rows[np.asarray(ids, dtype=np.int64)] = np.arange(len(ids), dtype=np.int32)
        self.rows.assign(rows)

    def call(self, inputs):
        rows = ops.take(self.rows, ops.cast(inputs, "int32"))
        vectors = ops.take(self.embeddings, ops.maximum(rows, 0), axis=0)
        return vectors * ops.cast(rows >= 0, vectors.dtype)[..., None]

    def compute_output_shape(self, input_shape):
        return (*input_shape, self.output_dim)

    def get_config(self):
        return {
            **super().get_config(),
            "n_ids": self.n_ids,
            "n_rows": self.n_rows,
            "output_dim": self.output_dim,
            "embeddings_initializer": keras.initializers.serialize(
                self.embeddings_initializer
            ),
        }


@keras.saving.register_keras_serializable(package=_PACKAGE)
class ChannelMix(keras.layers.Layer):
    """Combine the class scores of several channels into probabilities.

    ``softmax(sum_i w_i * z_i)``, where ``z_i`` is input ``i`` itself (a
    score) or its log (a probability), as ``log_inputs`` says. For inputs that
    are all probabilities, this is their log-linear pool: a weighted
    geometric mean. The weights ``w`` are frozen, and set after training
    (see ``GloveCNNClassifier``); they start at one.

    Parameters
    ----------
    log_inputs : list of bool
        For each input, whether it holds probabilities (used by their log)
        rather than scores.
    """

    def __init__(self, log_inputs, **kwargs):
        super().__init__(**kwargs)
        self.log_inputs = [bool(b) for b in log_inputs]

    def build(self, input_shape):
        self.mix = self.add_weight(
            shape=(len(self.log_inputs),),
            initializer="ones",
            trainable=False,
            name="mix",
        )

    def call(self, inputs):
        logits = [
            ops.log(ops.maximum(x, PROBABILITY_FLOOR)) if log else x
            for x, log in zip(inputs, self.log_inputs, strict=True)
        ]
        return ops.softmax(sum(self.mix[i] * z for i, z in enumerate(logits)))

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "log_inputs": self.log_inputs}


def squared_hinge(y_true, y_pred):
    """LinearSVC's loss: each class's score against its one-vs-rest label.

    ``y_true`` holds class codes, of shape ``(batch,)`` or ``(batch, 1)``, or
    one-hot rows; ``y_pred`` one score per class.
    """
    n_classes = y_pred.shape[-1]
    if y_true.shape[-1] != n_classes or n_classes == 1:
        codes = ops.cast(ops.reshape(y_true, (-1,)), "int32")
        y_true = ops.one_hot(codes, n_classes)
    signs = 2.0 * ops.cast(y_true, y_pred.dtype) - 1.0
    return ops.mean(ops.square(ops.relu(1.0 - signs * y_pred)), axis=-1)
