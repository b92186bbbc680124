"""Keras layers of skglove's networks, registered for ``.keras`` files.

They are written with ``keras.ops`` and, for the ragged work of
:class:`Bags` and its poolings, TensorFlow ops that have CPU and GPU kernels;
:func:`skglove.load` reads them back with ``safe_mode=True``.
"""

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from ._ids import PAD

__all__ = [
    "PROBABILITY_FLOOR",
    "ROW_BLOCK",
    "BagMax",
    "BagTfidf",
    "Bags",
    "ChannelMix",
    "DynamicShapeLayer",
    "LabelBias",
    "SubsetEmbedding",
    "log_odds",
    "squared_hinge",
]

#: The package under which skglove registers its layers with Keras.
PACKAGE = "skglove"
#: Matrices whose rows are computed each on its own (a batch's documents, its
#: distinct words) get a multiple of this many rows: CPU kernels compute rows
#: in blocks (6 rows in a matrix product on AVX2, 16 floats in an AVX-512
#: register) and a block's tail by other code, whose last bit can differ.
#: With whole blocks, a row's bits do not depend on its neighbours.
ROW_BLOCK = 48
#: ChannelMix reads a probability p as log(max(p, PROBABILITY_FLOOR)).
PROBABILITY_FLOOR = 1e-12
#: log_odds floors p and 1 - p here: float32's resolution near 1.
_LOG_ODDS_FLOOR = float(np.finfo(np.float32).eps)


def pad_rows(x):
    """``x`` with rows of ``PAD`` (zeros) appended up to a multiple of
    :data:`ROW_BLOCK` rows."""
    # Non-negative operands: C and Python agree on their remainder.
    missing = (ROW_BLOCK - tf.shape(x)[0] % ROW_BLOCK) % ROW_BLOCK
    return tf.pad(x, [[0, missing]] + [[0, 0]] * (len(x.shape) - 1))


class DynamicShapeLayer(keras.layers.Layer):
    """A layer whose tensors' shapes depend on the data (``tf.unique``,
    segment reductions). XLA cannot compile it, so it says so: Keras'
    ``jit_compile="auto"``, which turns XLA on where a GPU is, then leaves
    it off, and ``jit_compile=True`` falls back with a warning."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_jit = False


@keras.saving.register_keras_serializable(package=PACKAGE)
class Bags(DynamicShapeLayer):
    """Each document's distinct words and how often each occurs in it.

    The input is a batch of padded id sequences, ``(batch, length)``. The
    outputs describe the batch's (document, word) pairs, grouped by document
    (rows in order) and, within a document, in the order its words first
    occur:

    - ``words``, ``(n_words,)``: the batch's distinct ids, then padding ids
      up to a multiple of :data:`ROW_BLOCK`;
    - ``word_of_pair``, ``(n_pairs,)``: each pair's word, an index into
      ``words``;
    - ``doc_of_pair``, ``(n_pairs,)``: each pair's document, a row of the
      batch (non-decreasing);
    - ``count``, ``(n_pairs,)``: how often the word occurs in the document,
      as floats;
    - ``pair_words``, ``(n_pairs,)``: each pair's word, as its id.

    A function of a document's words that only depends on each word, pooled
    by a max or a sum over its distinct words (:class:`BagMax`,
    :class:`BagTfidf`), is then computed once per distinct word of the batch.
    Each document's pairs depend on its own ids alone, in an order that no
    other document changes.

    Parameters
    ----------
    n_ids : int
        Size of the id space: every id is below it.
    """

    def __init__(self, n_ids: int, **kwargs):
        super().__init__(**kwargs)
        self.n_ids = int(n_ids)

    def call(self, ids):
        pair_keys, _, count = tf.unique_with_counts(self._keys(ids))
        words, word_of_pair = tf.unique(pair_keys % self.n_ids)
        return (
            pad_rows(tf.cast(words, tf.int32)),
            word_of_pair,
            tf.cast(pair_keys // self.n_ids, tf.int32),
            tf.cast(count, tf.float32),
            tf.cast(pair_keys % self.n_ids, tf.int32),
        )

    def _keys(self, ids):
        """A (document, word) key per token, padding left out, row by row:
        so a document's pairs follow each other, in the order of its words'
        first occurrences."""
        ids = tf.cast(ids, tf.int64)
        shape = tf.shape(ids, out_type=tf.int64)
        doc = tf.broadcast_to(tf.range(shape[0])[:, None], shape)
        return tf.boolean_mask(doc * self.n_ids + ids, ids != PAD)

    def token_pairs(self, ids):
        """Each token's pair, an index into the pairs of :meth:`call`'s
        outputs, of shape ``(batch, length)``; -1 for padding."""
        _, pair = tf.unique(self._keys(ids))
        where = tf.where(tf.cast(ids, tf.int64) != PAD)
        return tf.tensor_scatter_nd_update(
            tf.fill(tf.shape(ids), tf.constant(-1, pair.dtype)), where, pair
        )

    def compute_output_spec(self, ids):
        return tuple(
            keras.KerasTensor((None,), dtype=dtype)
            for dtype in ("int32", "int32", "int32", "float32", "int32")
        )

    def get_config(self):
        return {**super().get_config(), "n_ids": self.n_ids}


def per_document(pooled, ids):
    """Complete the output of a sorted segment reduction with zero rows for
    the batch's last documents, which have no pairs."""
    missing = tf.shape(ids)[0] - tf.shape(pooled)[0]
    return tf.pad(pooled, [[0, missing], [0, 0]])


@keras.saving.register_keras_serializable(package=PACKAGE)
class BagMax(DynamicShapeLayer):
    """Max-pool each document's word values over its distinct words.

    Call arguments: ``[values, word_of_pair, doc_of_pair, ids]``, where
    ``values`` holds a ReLU's output for each word of a :class:`Bags`
    output, and ``ids`` is the batch it came from. A document without words
    pools to zeros. Returns ``(batch, features)``.

    The gradient is TensorFlow's for a segment max (the words that hold a
    document's max share it evenly), computed from those words alone rather
    than with several passes over every pair. Where a document's max is 0,
    it flows to no word: the ReLU before passes none there anyway, and as
    training goes on many filters are 0 over a whole document, every pair of
    which would tie (measured: 15 tied pairs per document and filter after
    8 epochs on 20 Newsgroups, and steps 30% slower).
    """

    def call(self, inputs):
        values, word_of_pair, doc_of_pair, ids = inputs
        return per_document(_bag_max(values, word_of_pair, doc_of_pair), ids)

    def compute_output_spec(self, inputs):
        values = inputs[0]
        return keras.KerasTensor((None, values.shape[-1]), dtype=values.dtype)


def relu_segment_max(values, segment_ids):
    """``tf.math.segment_max`` of a ReLU's output (never negative). The floor
    at 0 changes nothing in TensorFlow, which gives an empty segment 0, and
    keeps that 0 where a converter gives it -inf (tf2onnx, for ONNX)."""
    return tf.maximum(tf.math.segment_max(values, segment_ids), 0.0)


@tf.custom_gradient
def _bag_max(values, word_of_pair, doc_of_pair):
    gathered = tf.gather(values, word_of_pair)
    pooled = relu_segment_max(gathered, doc_of_pair)

    def gradient(upstream):
        pair, feature, reached = max_winners(gathered, pooled, doc_of_pair, upstream)
        word = tf.cast(tf.gather(word_of_pair, pair), tf.int64)
        grad = tf.scatter_nd(
            tf.stack([word, feature], axis=1),
            reached,
            tf.shape(values, out_type=tf.int64),
        )
        return grad, None, None

    return pooled, gradient


def max_winners(gathered, pooled, doc_of_pair, upstream):
    """The (pair, feature) entries that hold their document's max, and the
    gradient each receives: ``(pair, feature, reached)``.

    About one pair per document and feature holds it, so only those are
    gathered and scattered. Tied ones share it evenly, as in TensorFlow's
    gradient of a segment max (words that GloVe lacks start as equal zero
    vectors, and tie). A max of 0 passes nothing: the values are always a
    ReLU's output, which passes no gradient at 0.
    """
    at_max = tf.equal(gathered, tf.gather(pooled, doc_of_pair))
    pair, feature = tf.unstack(tf.where(at_max & (gathered > 0)), axis=1)
    doc = tf.cast(tf.gather(doc_of_pair, pair), tf.int64)
    n_features = tf.shape(upstream, out_type=tf.int64)[1]
    place = doc * n_features + feature
    ties = tf.math.unsorted_segment_sum(
        tf.ones_like(place, upstream.dtype), place, tf.size(upstream, tf.int64)
    )
    reached = tf.gather(tf.reshape(upstream, [-1]), place) / tf.gather(ties, place)
    return pair, feature, reached


@keras.saving.register_keras_serializable(package=PACKAGE)
class BagTfidf(DynamicShapeLayer):
    """Sum each document's word vectors, weighted by sublinear TF-IDF.

    A word that occurs ``c`` times in its document weighs ``idf[word] *
    (1 + ln c)``, as in scikit-learn's ``TfidfVectorizer(sublinear_tf=True)``.
    The weights are then normalized per document: ``norm="l2"`` makes the sum
    the dot product of the document's L2-normalized TF-IDF vector with the
    word vectors; ``"l1"`` makes it a weighted mean. Words with an idf of 0
    (unknown words) weigh nothing, and a document of such words pools to
    zeros.

    Parameters
    ----------
    n_ids : int
        Size of the id space; ``idf`` has one frozen value per id, set with
        ``set_weights`` after the layer is built.
    norm : {"l2", "l1"}, default="l2"
        How the weights of each document are normalized.
    max_count : int, default=1000
        ``1 + ln c`` is looked up in a table of this many counts, computed
        with the same shape at every call; a larger count (a sequence longer
        than this) computes its own, whose last bit can then depend on the
        other documents of the batch.

    Call arguments: ``[vectors, pair_words, doc_of_pair, count, ids]``: one
    vector per (document, word) pair of a :class:`Bags` output, the pairs'
    words, documents and counts from it, and the batch it came from. Returns
    ``(batch, dim)``.

    The vectors are read per pair, not per distinct word of the batch, so
    that a trainable table's gradient holds one row per pair: Keras' Adam
    then sums the squares of a word's gradients over the documents of the
    batch, not the square of their sum, and moves frequent words faster
    (measured: 0.930 against 0.920 on CLINC150).
    """

    def __init__(self, n_ids: int, norm: str = "l2", max_count: int = 1000, **kwargs):
        super().__init__(**kwargs)
        if norm not in ("l1", "l2"):
            raise ValueError(f"norm must be 'l1' or 'l2', got {norm!r}")
        self.n_ids = int(n_ids)
        self.norm = norm
        self.max_count = int(max_count)

    def build(self, input_shape):
        self.idf = self.add_weight(
            shape=(self.n_ids,), initializer="ones", trainable=False, name="idf"
        )

    def call(self, inputs):
        vectors, pair_words, doc_of_pair, count, ids = inputs
        weights = self.pair_weights(pair_words, doc_of_pair, count)
        vectors = tf.cast(vectors, weights.dtype)
        return per_document(
            tf.math.segment_sum(weights[:, None] * vectors, doc_of_pair), ids
        )

    def pair_weights(self, pair_words, doc_of_pair, count):
        """The normalized weight of each (document, word) pair, ``(n_pairs,)``:
        the output is the weighted sum of the pairs' vectors."""
        idf = tf.gather(tf.convert_to_tensor(self.idf), pair_words)
        weights = idf * self._sublinear_tf(count)
        if self.norm == "l2":
            total = tf.sqrt(tf.math.segment_sum(weights * weights, doc_of_pair))
        else:
            total = tf.math.segment_sum(weights, doc_of_pair)
        return weights / tf.maximum(tf.gather(total, doc_of_pair), 1e-12)

    def _sublinear_tf(self, count):
        table = 1.0 + tf.math.log(tf.range(1, self.max_count + 1, dtype=tf.float32))
        index = tf.cast(tf.minimum(count, self.max_count), tf.int32) - 1
        return tf.where(
            count <= self.max_count, tf.gather(table, index), 1.0 + tf.math.log(count)
        )

    def compute_output_spec(self, inputs):
        vectors = inputs[0]
        return keras.KerasTensor((None, vectors.shape[-1]), dtype="float32")

    def get_config(self):
        return {
            **super().get_config(),
            "n_ids": self.n_ids,
            "norm": self.norm,
            "max_count": self.max_count,
        }


@keras.saving.register_keras_serializable(package=PACKAGE)
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
    embeddings_regularizer : str, regularizer or None, default=None
        A penalty on the trainable vectors, added to the training loss.

    The frozen map is set with ``set_weights([rows, vectors])`` after the
    layer is built, or with :meth:`set_rows`.
    """

    def __init__(
        self,
        n_ids: int,
        n_rows: int,
        output_dim: int,
        embeddings_initializer="zeros",
        embeddings_regularizer=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.n_ids = int(n_ids)
        self.n_rows = int(n_rows)
        self.output_dim = int(output_dim)
        self.embeddings_initializer = keras.initializers.get(embeddings_initializer)
        self.embeddings_regularizer = keras.regularizers.get(embeddings_regularizer)

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
            regularizer=self.embeddings_regularizer,
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
            "embeddings_regularizer": keras.regularizers.serialize(
                self.embeddings_regularizer
            ),
        }


@keras.saving.register_keras_serializable(package=PACKAGE)
class ChannelMix(keras.layers.Layer):
    """Combine the class scores of several channels into probabilities.

    ``softmax(sum_i w_i * z_i)``, where ``z_i`` is input ``i`` itself (a
    score) or its log (a probability), as ``log_inputs`` says. For inputs that
    are all probabilities, this is their log-linear pool: a weighted
    geometric mean. The weights ``w`` are frozen, and set after training
    (see ``GloveCNNClassifier``); they start at one.

    With ``multilabel``, each label is its own binary problem: the output is
    ``sigmoid(sum_i w_i * z_i + b)`` per label, where a probability's ``z`` is
    its log-odds (see :func:`log_odds`), and each label has its own weights
    and intercept: ``w`` (``mix``) has shape ``(n_inputs, n_labels)``, ``b``
    (``offset``, from zero) ``(n_labels,)``. A softmax would ignore an
    intercept shared by all classes; a sigmoid needs one, or the weights
    must calibrate each label's rate as well as weigh its channels.

    Parameters
    ----------
    log_inputs : list of bool
        For each input, whether it holds probabilities (used by their log,
        or log-odds) rather than scores.
    multilabel : bool, default=False
        Independent sigmoid outputs rather than a softmax over classes.
    """

    def __init__(self, log_inputs, multilabel: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.log_inputs = [bool(b) for b in log_inputs]
        self.multilabel = bool(multilabel)

    def build(self, input_shape):
        shape = (len(self.log_inputs),)
        if self.multilabel:
            shape += (input_shape[0][-1],)
        self.mix = self.add_weight(
            shape=shape, initializer="ones", trainable=False, name="mix"
        )
        if self.multilabel:
            self.offset = self.add_weight(
                shape=shape[1:], initializer="zeros", trainable=False, name="offset"
            )

    def call(self, inputs):
        if self.multilabel:
            logits = [
                log_odds(x) if log else x
                for x, log in zip(inputs, self.log_inputs, strict=True)
            ]
            mixed = sum(self.mix[i] * z for i, z in enumerate(logits))
            return ops.sigmoid(mixed + self.offset)
        logits = [
            ops.log(ops.maximum(x, PROBABILITY_FLOOR)) if log else x
            for x, log in zip(inputs, self.log_inputs, strict=True)
        ]
        return ops.softmax(sum(self.mix[i] * z for i, z in enumerate(logits)))

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {
            **super().get_config(),
            "log_inputs": self.log_inputs,
            "multilabel": self.multilabel,
        }


@keras.saving.register_keras_serializable(package=PACKAGE)
class LabelBias(keras.layers.Layer):
    """Add a trainable bias, from zero, to each label's score: the intercept
    of a one-vs-rest linear model, such as LinearSVC's. A label that few
    samples have needs it: without one, every word would have to score
    against it."""

    def build(self, input_shape):
        self.bias = self.add_weight(
            shape=(input_shape[-1],), initializer="zeros", name="bias"
        )

    def call(self, scores):
        return scores + ops.cast(self.bias, scores.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape


def log_odds(p, module=ops):
    """``log(p) - log(1 - p)``, with Keras ops or, given ``module=np``, NumPy.

    ``p`` and ``1 - p`` are floored at float32's epsilon, the step of a
    float32 probability near 1: the log-odds saturate at about +-15.9 rather
    than jump to the floor's value when a sigmoid rounds to exactly 1.
    """
    floor = _LOG_ODDS_FLOOR
    return module.log(module.maximum(p, floor)) - module.log(
        module.maximum(1.0 - p, floor)
    )


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
