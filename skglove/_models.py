"""Keras architectures, as pure functions of their hyper-parameters.

Each builder returns an uncompiled :class:`keras.Model` that maps int32 id
sequences (rows of an embedding table; 0 is padding) to class probabilities.
:func:`build_network` can put a lexical channel beside any of them: a
trainable class score per word, pooled with TF-IDF weights. The output is the
softmax of a weighted sum of the lexical scores and the log of the network's
probabilities; how the two channels are trained and weighed is
:mod:`skglove._training`'s.
"""

from collections.abc import Sequence
from numbers import Integral

import keras
import numpy as np
from keras import layers

from ._layers import BagMax, Bags, BagTfidf, ChannelMix, LabelBias, SubsetEmbedding
from ._windows import WindowMax, Windows

__all__ = ["ARCHITECTURES", "PADDING_INVARIANT", "build_network"]

#: Name of every network's output layer.
OUTPUT = "probabilities"
#: Output layers of the two channels of a network with a lexical channel: the
#: lexical class scores, and the network's probabilities.
LEXICAL_HEAD = "lexical_scores"
GLOVE_HEAD = "glove_probabilities"
#: The lexical channel's TF-IDF pooling, when a :class:`LabelBias` follows it
#: (multi-label networks) as the channel's output.
LEXICAL_POOL = "lexical_pool"
#: The layer that finds each document's distinct words (``Bags``).
BAGS = "bags"
#: The name of :func:`build_kim_cnn`'s network.
KIM = "kim_cnn"
#: The lexical channel's trainable table of a score per word and class.
WORD_SCORES = "word_scores"
#: Word scores are multiplied by this, so that adam, whose steps have the same
#: size for every weight, moves the lexical channel as fast as the network.
LEXICAL_SCALE = 3.0
#: The lexical channel's L2 penalty of a multi-label network, as LinearSVC's C.
LEXICAL_C = 0.5


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


class _Embedder:
    """Embeds id tensors of any shape with one set of layers.

    A frozen ``weights`` table, or a trainable one if None. ``trainable_rows``
    (a boolean mask over the table) adds a trainable correction, starting at
    zero, to those rows only; every other row stays exactly its frozen value.
    ``trainable_dim`` appends that many trainable features per id, learned
    from scratch. Calling it on several tensors (a batch's distinct words,
    and its sequences) shares the layers and their weights.
    """

    def __init__(
        self,
        n_ids: int,
        dim: int,
        seeds: _Seeds,
        weights=None,
        trainable_rows=None,
        trainable_dim=0,
    ):
        if weights is None:
            self.table = _trainable_embedding(n_ids, dim, seeds, "embedding")
        elif weights.shape != (n_ids, dim):
            raise ValueError(
                f"embedding weights have shape {weights.shape}, expected {(n_ids, dim)}"
            )
        else:
            self.table = _frozen_embedding(weights, "embedding")
        self.rows = None
        if weights is not None and trainable_rows is not None:
            self.rows = np.flatnonzero(trainable_rows)
        self.correction = None
        if self.rows is not None and len(self.rows):
            self.correction = SubsetEmbedding(
                n_ids, len(self.rows), dim, name="trainable_rows"
            )
        self.features = None
        if trainable_dim:
            self.features = _trainable_embedding(
                n_ids, trainable_dim, seeds, "trainable_features"
            )

    def __call__(self, ids):
        x = self.table(ids)
        if self.correction is not None:
            first = not self.correction.built
            x = layers.Add()([x, self.correction(ids)])
            if first:
                self.correction.set_rows(self.rows)
        if self.features is not None:
            name = "features" if not self.features.built else None
            x = layers.Concatenate(name=name)([x, self.features(ids)])
        return x


def _subset_embedding(
    ids, n_ids: int, rows: np.ndarray, dim: int, name: str, regularizer=None
):
    """Zero-initialized trainable vectors for the ids ``rows`` only."""
    layer = SubsetEmbedding(
        n_ids, len(rows), dim, embeddings_regularizer=regularizer, name=name
    )
    vectors = layer(ids)
    layer.set_rows(rows)
    return vectors


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
    multilabel: bool = False,
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
    multilabel : bool
        One sigmoid output per label, rather than a softmax over classes.
    output_name : str
        Name of the output layer.
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
    embed = _Embedder(
        n_ids, embedding_dim, seeds, weights, trainable_rows, trainable_dim
    )
    x = embed(ids)
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
    outputs = _dense(n_classes, _activation(multilabel), seeds, name=output_name)(x)
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
    multilabel: bool = False,
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

    A convolution max-pooled over time is computed from each distinct word
    of the batch: once per word and offset in the window, added up per
    window that holds a word (:class:`skglove._windows.Windows`,
    :class:`skglove._windows.WindowMax`), then max-pooled per document. Width
    1 is a dense layer on each distinct word, max-pooled over each
    document's distinct words (:class:`skglove._layers.Bags`). The TF-IDF
    mean is computed once per distinct word too.

    Parameters
    ----------
    seq_len : int or None
        The longest sequence the network will read (``max_len``), or None
        for 1000; longer ones are read too. Only the TF-IDF mean's table of
        ``1 + ln(count)`` depends on it.
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
    multilabel : bool
        One sigmoid output per label, rather than a softmax over classes.
    output_name : str
        Name of the output layer.
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
    embed = _Embedder(
        n_ids, embedding_dim, seeds, weights, trainable_rows, trainable_dim
    )
    widths = _widths(kernel_size)
    if 1 in widths or mean_idf is not None:
        words, word_of_pair, doc_of_pair, count, pair_words = Bags(n_ids, name=BAGS)(
            ids
        )
    pooled = []
    for width in widths:
        if width == 1:
            # A convolution of width 1 is a dense layer on each word's vector.
            values = _dense(filters, "relu", seeds, name=f"conv_{len(pooled)}")
            pooled.append(
                BagMax()([values(embed(words)), word_of_pair, doc_of_pair, ids])
            )
            continue
        windows = Windows(n_ids, width)(ids)
        conv = WindowMax(
            filters,
            width,
            kernel_initializer=seeds.glorot(),
            name=f"conv_{len(pooled)}",
        )
        pooled.append(conv([embed(windows[0]), *windows[1:], ids]))
    if mean_idf is not None:
        mean = _bag_tfidf(mean_idf, "l1", seq_len, "tfidf_mean")
        pooled.append(mean([embed(pair_words), pair_words, doc_of_pair, count, ids]))
    x = layers.Concatenate()(pooled) if len(pooled) > 1 else pooled[0]
    if dense_units:
        x = seeds.dropout(dropout)(x)
        x = _dense(dense_units, "relu", seeds)(x)
    x = seeds.dropout(dropout)(x)
    outputs = _dense(n_classes, _activation(multilabel), seeds, name=output_name)(x)
    return keras.Model(ids, outputs, name=KIM)


def _activation(multilabel: bool) -> str:
    return "sigmoid" if multilabel else "softmax"


def _conv(filters: int, width: int, seeds: _Seeds) -> layers.Conv1D:
    return layers.Conv1D(
        filters, width, activation="relu", kernel_initializer=seeds.glorot()
    )


def _dense(units: int, activation: str, seeds: _Seeds, **kwargs) -> layers.Dense:
    return layers.Dense(
        units, activation=activation, kernel_initializer=seeds.glorot(), **kwargs
    )


def _bag_tfidf(idf: np.ndarray, norm: str, seq_len, name: str) -> BagTfidf:
    """A :class:`BagTfidf` layer with the frozen ``idf``, built."""
    pool = BagTfidf(len(idf), norm=norm, max_count=seq_len or 1000, name=name)
    pool.build(None)
    pool.set_weights([np.asarray(idf, dtype=np.float32)])
    return pool


def _with_lexical_channel(
    network: keras.Model,
    *,
    n_words: int,
    idf: np.ndarray,
    n_documents: int = 1,
    seq_len=None,
    multilabel: bool = False,
) -> keras.Model:
    """``network`` beside a trainable class score per word, TF-IDF pooled.

    Ids below ``n_words`` have a score vector, learned from zero; the others
    (words met only after fit) score nothing, and an idf of zero keeps them
    out of the TF-IDF norm as well, as in scikit-learn's ``TfidfVectorizer``.
    The document's scores are a linear model on its L2-normalized sublinear
    TF-IDF vector, computed once per distinct word of the batch. With
    ``multilabel``, each label's scores are a one-vs-rest model's, and get an
    intercept (:class:`skglove._layers.LabelBias`), which a softmax ignores,
    and LinearSVC's L2 penalty for ``C=0.5`` over ``n_documents``: adam moves
    a rare word's score as fast as a frequent one's, and without the penalty
    the scores of rare labels overfit their few documents within two epochs.
    """
    ids = network.inputs[0]
    n_classes = network.output_shape[-1]
    names = {layer.name for layer in network.layers}
    bags = network.get_layer(BAGS).output if BAGS in names else Bags(len(idf))(ids)
    _, _, doc_of_pair, count, pair_words = bags
    penalty = None
    if multilabel:
        # LinearSVC's 1/2 |w|^2 + C sum(loss), per label, scaled as the mean
        # loss over samples and labels that Keras trains on, w = scale * s.
        strength = LEXICAL_SCALE**2 / (2 * LEXICAL_C * n_documents * n_classes)
        penalty = keras.regularizers.L2(strength)
    scores = _subset_embedding(
        pair_words, len(idf), np.arange(n_words), n_classes, WORD_SCORES, penalty
    )
    scores = layers.Rescaling(LEXICAL_SCALE, name=f"{WORD_SCORES}_scale")(scores)
    pool = _bag_tfidf(idf, "l2", seq_len, LEXICAL_POOL if multilabel else LEXICAL_HEAD)
    lexical = pool([scores, pair_words, doc_of_pair, count, ids])
    if multilabel:  # each label's scores are a one-vs-rest linear model's
        lexical = LabelBias(name=LEXICAL_HEAD)(lexical)
    mix = ChannelMix([False, True], multilabel=multilabel, name=OUTPUT)
    outputs = mix([lexical, network.output])
    return keras.Model(ids, outputs, name=f"{network.name}_lexical")


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
    multilabel: bool = False,
    **params,
) -> keras.Model:
    """Build the named architecture; see :data:`ARCHITECTURES`.

    ``lexical``, if given, holds ``n_words`` and ``idf`` for a lexical channel
    beside the network (see :func:`_with_lexical_channel`). ``multilabel``
    gives one sigmoid output per label (``n_classes`` labels).
    """
    build = ARCHITECTURES[architecture]
    if lexical is None:
        return build(seq_len, n_classes, multilabel=multilabel, **params)
    network = build(
        seq_len, n_classes, multilabel=multilabel, output_name=GLOVE_HEAD, **params
    )
    return _with_lexical_channel(
        network, seq_len=seq_len, multilabel=multilabel, **lexical
    )
