"""Keras architectures, as pure functions of their hyper-parameters.

Each builder returns an uncompiled :class:`keras.Model` that maps int32 id
sequences (rows of an embedding table; 0 is padding) to class probabilities.
:func:`build_network` can put a lexical channel beside any of them: a
trainable class score per word, pooled with TF-IDF weights. The two channels
are trained against their own losses (:func:`training_model`): the lexical
scores against LinearSVC's squared hinge, the network against the given loss.
The output is the softmax of a weighted sum of the lexical scores and the log
of the network's probabilities, with weights fit on held-out data
(:func:`fit_mix`, :func:`set_mix`).
"""

from collections.abc import Sequence
from numbers import Integral

import keras
import numpy as np
from keras import layers
from scipy.optimize import minimize

from ._ids import PAD
from ._layers import (
    PROBABILITY_FLOOR,
    ChannelMix,
    SubsetEmbedding,
    TfidfPooling,
    squared_hinge,
)

__all__ = [
    "ARCHITECTURES",
    "PADDING_INVARIANT",
    "build_network",
    "fit_mix",
    "head_logits",
    "head_losses",
    "heads",
    "set_mix",
    "training_model",
]

#: Name of every network's output layer.
OUTPUT = "probabilities"
#: Output layers of the two channels of a network with a lexical channel: the
#: lexical class scores, and the network's probabilities.
LEXICAL_HEAD = "lexical_scores"
GLOVE_HEAD = "glove_probabilities"
#: Word scores are multiplied by this, so that adam, whose steps have the same
#: size for every weight, moves the lexical channel as fast as the network.
_LEXICAL_SCALE = 3.0


class _Seeds:
    """Distinct seeds for a network's random layers, all drawn from one seed.

    Every random layer gets an explicit seed, so building never draws from
    Keras' process-global generator (which reads Python's ``random``).
    """

    def __init__(self, seed: int) -> None:
        self._rng = np.random.default_rng(seed)

    def __call__(self) -> int:
        return int(self._rng.integers(np.iinfo(np.int32).max))

    def glorot(self) -> keras.initializers.Initializer:
        return keras.initializers.GlorotUniform(seed=self())

    def dropout(self, rate: float, **kwargs) -> layers.Dropout:
        return layers.Dropout(rate, seed=self(), **kwargs)


def _trainable_embedding(n_ids: int, dim: int, seeds: _Seeds, name: str):
    # Keras' default initializer for Embedding, with an explicit seed.
    init = keras.initializers.RandomUniform(-0.05, 0.05, seed=seeds())
    return layers.Embedding(n_ids, dim, embeddings_initializer=init, name=name)


def _frozen_embedding(table: np.ndarray, name: str):
    # "zeros": the table replaces it, and a random default would draw a seed.
    n_ids, dim = table.shape
    return layers.Embedding(
        n_ids,
        dim,
        weights=[table],
        embeddings_initializer="zeros",
        trainable=False,
        name=name,
    )


def _embed(
    ids,
    n_ids: int,
    dim: int,
    seeds: _Seeds,
    weights=None,
    trainable_rows=None,
    trainable_dim=0,
):
    """Embed ``ids``: a frozen ``weights`` table, or a trainable one if None.

    ``trainable_rows`` (a boolean mask over the table) adds a trainable
    correction, starting at zero, to those rows only; every other row stays
    exactly its frozen value. ``trainable_dim`` appends that many trainable
    features per id, learned from scratch.
    """
    if trainable_dim:
        extra = _trainable_embedding(n_ids, trainable_dim, seeds, "trainable_features")(
            ids
        )
        x = _embed(ids, n_ids, dim, seeds, weights, trainable_rows)
        return layers.Concatenate(name="features")([x, extra])
    if weights is None:
        return _trainable_embedding(n_ids, dim, seeds, "embedding")(ids)
    if weights.shape != (n_ids, dim):
        raise ValueError(
            f"embedding weights have shape {weights.shape}, expected {(n_ids, dim)}"
        )
    x = _frozen_embedding(weights, "embedding")(ids)
    if trainable_rows is None or not np.any(trainable_rows):
        return x
    correction = _subset_embedding(
        ids, n_ids, np.flatnonzero(trainable_rows), dim, "trainable_rows"
    )
    return layers.Add()([x, correction])


def _subset_embedding(ids, n_ids: int, rows: np.ndarray, dim: int, name: str):
    """Zero-initialized trainable vectors for the ids ``rows`` only."""
    layer = SubsetEmbedding(n_ids, len(rows), dim, name=name)
    vectors = layer(ids)
    layer.set_rows(rows)
    return vectors


def _row_indicator(ids, rows: np.ndarray, name: str):
    """A frozen 0/1 lookup: 1 where ``rows[id]`` is true, shape (..., 1)."""
    table = np.asarray(rows, dtype=np.float32).reshape(-1, 1)
    return _frozen_embedding(table, name)(ids)


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
    output_name: str = OUTPUT,
    seed: int = 0,
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
    output_name : str
        Name of the softmax layer.
    seed : int
        Seed of the initializers and dropout layers: the same seed builds
        the same network, and no process-global generator is read.

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
    seeds = _Seeds(seed)
    ids = keras.Input(shape=(seq_len,), dtype="int32", name="ids")
    x = _embed(ids, n_ids, embedding_dim, seeds, weights, trainable_rows, trainable_dim)
    for _ in range(2):
        x = _conv(filters, kernel_size, seeds)(x)
        x = layers.MaxPooling1D(pool_size)(x)
    x = _conv(filters, kernel_size, seeds)(x)
    x = layers.GlobalMaxPooling1D()(x)
    if dense_units:
        if dropout:
            x = seeds.dropout(dropout)(x)
        x = _dense(dense_units, "relu", seeds)(x)
    if dropout:
        x = seeds.dropout(dropout)(x)
    outputs = _dense(n_classes, "softmax", seeds, name=output_name)(x)
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
    mean_idf: np.ndarray | None = None,
    output_name: str = OUTPUT,
    seed: int = 0,
) -> keras.Model:
    """Kim (2014)'s convnet: parallel convolutions, each max-pooled over time.

    One Conv1D(relu) per kernel width, each reduced by a global max over the
    windows that hold at least one word of the document, concatenated, then
    Dropout and a softmax (with a hidden Dense layer first if
    ``dense_units > 0``). Each document is read as if ``width - 1`` zero
    vectors stood on either side of its words, so a document shorter than a
    kernel is still read by it (a one-word document by every window that
    holds its word). Windows of padding alone are left out, so the output
    does not depend on how much padding surrounds a document: the input
    length is free, and batches can be cropped to their longest document.

    Parameters
    ----------
    seq_len : int or None
        Ignored: the model takes sequences of any length. Accepted so that
        every architecture takes the same arguments.
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
    mean_idf : ndarray of shape (n_ids,) or None
        If given, the document's mean word vector, weighted by sublinear
        TF-IDF with these idf values, joins the max-pooled features.
    output_name : str
        Name of the softmax layer.
    seed : int
        Seed of the initializers and dropout layers; see :func:`build_blog_cnn`.
    seed : int
        Seed of the initializers and dropout layers: the same seed builds
        the same network, and no process-global generator is read.

    Returns
    -------
    keras.Model
        The uncompiled model.
    """
    seeds = _Seeds(seed)
    ids = keras.Input(shape=(None,), dtype="int32", name="ids")
    is_word = _row_indicator(ids, np.arange(n_ids) != PAD, "is_word")
    x = _embed(ids, n_ids, embedding_dim, seeds, weights, trainable_rows, trainable_dim)
    # Padding must read as zeros, whatever trainable rows id 0 may have.
    x = layers.Multiply(name="words_only")([x, is_word])
    pooled = []
    for width in _widths(kernel_size):
        windows = _conv(filters, width, seeds)(_pad(x, width))
        # relu output is >= 0, so zeroing a window removes it from the max.
        has_word = layers.MaxPooling1D(width, strides=1)(_pad(is_word, width))
        windows = layers.Multiply()([windows, has_word])
        pooled.append(layers.GlobalMaxPooling1D()(windows))
    if mean_idf is not None:
        pooled.append(_tfidf_pool(ids, x, mean_idf, "l1", "tfidf_mean"))
    x = layers.Concatenate()(pooled) if len(pooled) > 1 else pooled[0]
    if dense_units:
        x = seeds.dropout(dropout)(x)
        x = _dense(dense_units, "relu", seeds)(x)
    x = seeds.dropout(dropout)(x)
    outputs = _dense(n_classes, "softmax", seeds, name=output_name)(x)
    return keras.Model(ids, outputs, name="kim_cnn")


def _conv(filters: int, width: int, seeds: _Seeds) -> layers.Conv1D:
    return layers.Conv1D(
        filters, width, activation="relu", kernel_initializer=seeds.glorot()
    )


def _dense(units: int, activation: str, seeds: _Seeds, **kwargs) -> layers.Dense:
    return layers.Dense(
        units, activation=activation, kernel_initializer=seeds.glorot(), **kwargs
    )


def _tfidf_pool(ids, vectors, idf: np.ndarray, norm: str, name: str):
    pool = TfidfPooling(len(idf), norm=norm, name=name)
    pooled = pool([ids, vectors])
    pool.set_weights([np.asarray(idf, dtype=np.float32)])
    return pooled


def _with_lexical_channel(
    network: keras.Model, *, n_words: int, idf: np.ndarray
) -> keras.Model:
    """``network`` beside a trainable class score per word, TF-IDF pooled.

    Ids below ``n_words`` have a score vector, learned from zero; the others
    (words met only after fit) score nothing, and an idf of zero keeps them
    out of the TF-IDF norm as well, as in scikit-learn's ``TfidfVectorizer``.
    The document's scores are a linear model on its L2-normalized sublinear
    TF-IDF vector.
    """
    ids = network.inputs[0]
    n_classes = network.output_shape[-1]
    scores = _subset_embedding(
        ids, len(idf), np.arange(n_words), n_classes, "word_scores"
    )
    scores = layers.Rescaling(_LEXICAL_SCALE, name="word_scores_scale")(scores)
    lexical = _tfidf_pool(ids, scores, idf, "l2", LEXICAL_HEAD)
    outputs = ChannelMix([False, True], name=OUTPUT)([lexical, network.output])
    return keras.Model(ids, outputs, name=f"{network.name}_lexical")


def _pad(x, width: int):
    """``width - 1`` zero steps on both sides, for windows that overhang."""
    return layers.ZeroPadding1D(width - 1)(x) if width > 1 else x


#: Architecture names accepted by ``GloveCNNClassifier(architecture=...)``.
ARCHITECTURES = {"blog": build_blog_cnn, "kim": build_kim_cnn}
#: Architectures whose output ignores padding, so batches may be cropped.
PADDING_INVARIANT = frozenset({"kim"})


def _widths(kernel_size) -> tuple[int, ...]:
    return (kernel_size,) if isinstance(kernel_size, Integral) else tuple(kernel_size)


def build_network(
    architecture: str,
    seq_len: int,
    n_classes: int,
    *,
    lexical: dict | None = None,
    **params,
) -> keras.Model:
    """Build the named architecture; see :data:`ARCHITECTURES`.

    ``lexical``, if given, holds ``n_words`` and ``idf`` for a lexical channel
    beside the network (see :func:`_with_lexical_channel`).
    """
    if lexical is None:
        return ARCHITECTURES[architecture](seq_len, n_classes, **params)
    network = ARCHITECTURES[architecture](
        seq_len, n_classes, output_name=GLOVE_HEAD, **params
    )
    return _with_lexical_channel(network, **lexical)


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


def fit_mix(logits, labels, sample_weight=None, alpha: float = 1e-3) -> np.ndarray:
    """Non-negative weights ``w`` of each head's logits, such that
    ``softmax(sum_i w_i * logits_i)`` has the lowest log-loss on ``labels``,
    plus ``alpha / 2 * |w|^2``.

    The objective is convex in ``w``, so L-BFGS-B finds the best weights: they
    weigh the heads and set the temperature of the result at once. The
    penalty keeps them finite when a head separates the held-out samples,
    where the log-loss alone would drive the probabilities to 0 and 1.

    Parameters
    ----------
    logits : list of ndarrays of shape (n_samples, n_classes)
        Each head's class scores (log-probabilities for a probabilistic head)
        on held-out samples.
    labels : ndarray of shape (n_samples,)
        The held-out class codes.
    sample_weight : ndarray of shape (n_samples,) or None
        Weights of the held-out samples in the log-loss.
    alpha : float, default=1e-3
        Strength of the L2 penalty on ``w``, against the mean log-loss.

    Returns
    -------
    ndarray of shape (n_heads,)
    """
    logits = np.stack([np.asarray(z, dtype=np.float64) for z in logits])
    labels = np.asarray(labels)
    rows = np.arange(len(labels))
    weights = np.ones(len(labels)) if sample_weight is None else sample_weight
    weights = np.asarray(weights, dtype=np.float64) / np.sum(weights)

    def loss_and_gradient(w):
        z = np.tensordot(w, logits, axes=1)
        z -= z.max(axis=1, keepdims=True)
        proba = np.exp(z)
        proba /= proba.sum(axis=1, keepdims=True)
        loss = -np.sum(weights * np.log(np.maximum(proba[rows, labels], 1e-300)))
        # d(-log p_y)/dz = p - onehot(y), and dz/dw_i = logits_i.
        residual = proba
        residual[rows, labels] -= 1
        gradient = np.einsum("n,hnc,nc->h", weights, logits, residual)
        return loss + alpha / 2 * w @ w, gradient + alpha * w

    start = np.ones(len(logits))
    result = minimize(
        loss_and_gradient,
        start,
        jac=True,
        method="L-BFGS-B",
        bounds=[(0, None)] * len(logits),
    )
    return result.x.astype(np.float32)


def head_losses(model: keras.Model, loss) -> list:
    """The loss of each head of :func:`heads`: the lexical scores are a
    LinearSVC's, trained with its squared hinge; the network uses ``loss``."""
    return [squared_hinge if name == LEXICAL_HEAD else loss for name in heads(model)]


def head_logits(model: keras.Model, outputs) -> list[np.ndarray]:
    """Each head's output of :func:`training_model` as class logits: the
    lexical scores as they are, the network's probabilities by their log."""
    return [
        out if name == LEXICAL_HEAD else np.log(np.maximum(out, PROBABILITY_FLOOR))
        for name, out in zip(heads(model), outputs, strict=True)
    ]


def set_mix(model: keras.Model, weights) -> None:
    """Set the weights with which the heads' probabilities are combined."""
    model.get_layer(OUTPUT).mix.assign(np.asarray(weights, dtype=np.float32))
