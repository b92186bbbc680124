"""The class logits of skglove's networks, and their exact token shares.

Every multiclass network ends in a softmax over class logits ``z``: the
output layer's logits, or with a lexical channel ``w_lex * s + w_glove * log
p_glove`` (see :class:`skglove._layers.ChannelMix`). A multi-label network
ends in one sigmoid per label instead, of the label's own logit (log-odds):
the output layer's, or with a lexical channel ``w_lex[l] * s_l + w_glove[l] *
log_odds(p_glove_l) + b_l``, each label with its own weights. :func:`output_logits`
computes them, in float64, from the layers' inputs, so that they do not lose
what float32 probabilities round to 0 (or to 1).

With ``dense_units=0``, the logits of :func:`skglove._models.build_kim_cnn`
(and of the lexical channel beside it) are sums over the document's tokens:

- each convolution filter's max-pooled value is the value of its winning
  window, so the filter's weight in the output layer times that value
  belongs to the window's words;
- the TF-IDF mean of the word vectors and the lexical channel's pooled word
  scores are weighted sums of one term per token.

The output layer adds a bias. So each class's logit, centred on the mean over
classes (which the softmax ignores), splits exactly into one share per token
plus an intercept: :func:`exact_attributions` returns those shares. The one
term that is not a sum over tokens is ChannelMix's floor on the GloVe
channel's probabilities; it joins the intercept of the documents it touches.

A multi-label network's labels are independent, so nothing is centred: each
label's log-odds splits into token shares and an intercept on its own. The
GloVe channel's share is its output layer's logit ``z_l``; the output reads
``log_odds(p_l)`` of its float32 probability instead, which differs from
``z_l`` by the floor (1e-12 on ``p`` and ``1 - p``) and by the rounding of
``p`` near 1, and that difference joins the intercept, with the biases of
the lexical scores and of the output.
"""

import weakref
from typing import NamedTuple

import keras
import numpy as np
from keras import layers

from ._layers import PROBABILITY_FLOOR, BagMax, Bags, BagTfidf, ChannelMix, log_odds
from ._mix import is_multilabel
from ._models import BAGS, KIM, OUTPUT
from ._training import predict
from ._windows import WindowMax

__all__ = ["Attribution", "exact_attributions", "label_attributions", "output_logits"]

#: Names that build_kim_cnn gives its network, alone or with a lexical channel.
_KIM_NAMES = (KIM, f"{KIM}_lexical")
#: Documents whose features are computed at once; bounds memory to a few
#: times batch x length x filters floats.
_BATCH = 32
#: Each network's readout model, while the network lives: a new model would
#: trace its predict function again at every call.
_FEATURES: "weakref.WeakKeyDictionary[keras.Model, keras.Model]" = (
    weakref.WeakKeyDictionary()
)


class Attribution(NamedTuple):
    """One document's shares of its target class's centred logit, or of its
    target label's log-odds for a multi-label network.

    ``tokens[t]`` is the share of the ``t``-th id of the sequence in the
    target's logit minus the mean logit (a label's log-odds, not centred);
    ``tokens.sum() + intercept`` is that centred logit (those log-odds).
    ``windows`` lists ``(first, last, share)`` for the distinct spans that
    won filters wider than one word; their shares are also split evenly over
    their words in ``tokens``.
    """

    tokens: np.ndarray
    windows: list
    intercept: float


class _Head(NamedTuple):
    """How a network's class logits are made from its last layers' inputs."""

    dense: layers.Dense  # the GloVe channel's output layer
    lexical: BagTfidf | None  # the lexical channel's pooling, if any
    # The channel weights, (lexical, GloVe): floats, or for a multi-label
    # network arrays of one weight per label.
    weights: tuple
    multilabel: bool = False
    # Multi-label only, per label: the bias added to the pooled lexical
    # scores, and the output's intercept (0 where the network has none).
    lexical_bias: np.ndarray | float = 0.0
    offset: np.ndarray | float = 0.0


def _producer(tensor):
    return tensor._keras_history.operation


def _head(model: keras.Model) -> _Head:
    output = model.get_layer(OUTPUT)
    multilabel = is_multilabel(model)
    if not isinstance(output, ChannelMix):
        return _Head(output, None, (0.0, 1.0), multilabel)
    lexical_scores, probabilities = output.input
    mix = output.mix.numpy().astype(np.float64)
    if not multilabel:
        weights = tuple(float(w) for w in mix)
        return _Head(_producer(probabilities), _producer(lexical_scores), weights)
    pool, lexical_bias = _producer(lexical_scores), 0.0
    if not isinstance(pool, BagTfidf):  # a per-label bias after the pooling
        lexical_bias = pool.bias.numpy().astype(np.float64)
        pool = _producer(pool.input)
    offset = getattr(output, "offset", None)
    return _Head(
        _producer(probabilities),
        pool,
        (mix[0], mix[1]),
        multilabel=True,
        lexical_bias=lexical_bias,
        offset=0.0 if offset is None else offset.numpy().astype(np.float64),
    )


def _dense_logits(head: _Head, features: np.ndarray) -> np.ndarray:
    kernel, bias = (w.numpy() for w in head.dense.weights[:2])
    return features.astype(np.float64) @ kernel.astype(np.float64) + bias


def _centred(logits: np.ndarray) -> np.ndarray:
    return logits - logits.mean(axis=-1, keepdims=True)


def _mixed(
    head: _Head, glove_logits, lexical_scores=None, glove_probabilities=None
) -> np.ndarray:
    """The network's centred output logits from its channels' logits; for a
    multi-label network, each label's log-odds. ``glove_probabilities``, the
    GloVe channel's float32 outputs, are what a multi-label ChannelMix reads
    (by their log-odds)."""
    if head.multilabel:
        if head.lexical is None:
            return glove_logits
        w_lexical, w_glove = head.weights
        glove = log_odds(glove_probabilities.astype(np.float64), np)
        lexical = lexical_scores + head.lexical_bias
        return w_lexical * lexical + w_glove * glove + head.offset
    if head.lexical is None:
        return _centred(glove_logits)
    shifted = glove_logits - glove_logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    w_lexical, w_glove = head.weights
    # As ChannelMix: log(max(p, floor)).
    log_p = np.maximum(log_p, np.log(np.float32(PROBABILITY_FLOOR)))
    return _centred(w_lexical * lexical_scores + w_glove * log_p)


def output_logits(model: keras.Model, X: np.ndarray, **predict_args) -> np.ndarray:
    """The centred class logits of ``model`` on ``X``, in float64; for a
    multi-label network, each label's log-odds (not centred).

    ``predict_args`` go to :func:`skglove._training.predict` (``by_length``,
    ``batch_size``, ``verbose``).
    """
    head = _head(model)
    outputs = [head.dense.input]
    if head.lexical is not None:
        outputs.append(head.lexical.output)
        if head.multilabel:
            outputs.append(head.dense.output)
    parts = predict(keras.Model(model.inputs[0], outputs), X, **predict_args)
    parts = parts if isinstance(parts, list) else [parts]
    glove_logits = _dense_logits(head, parts[0])
    return _mixed(head, glove_logits, *[p.astype(np.float64) for p in parts[1:]])


class _Block(NamedTuple):
    kind: str  # "max": windows or words max-pooled; "mean": a TF-IDF mean
    rows: slice  # the block's rows of the output layer's kernel
    pool: BagTfidf | WindowMax | None
    per: str  # values per "token", "word", "pair", or "window" of WindowMax


class _Readout(NamedTuple):
    head: _Head
    features: keras.Model  # ids -> the bags, each block's inputs, word scores
    bags: Bags | None
    blocks: list


def _readout(model: keras.Model) -> _Readout | None:
    """The parts of ``model`` that the logits are a sum of, or None if they
    are not a sum over tokens (another architecture, a hidden Dense layer)."""
    if model.name not in _KIM_NAMES:
        return None
    head = _head(model)
    features = head.dense.input
    while isinstance(_producer(features), layers.Dropout):
        features = _producer(features).input
    joined = _producer(features)
    parts = joined.input if isinstance(joined, layers.Concatenate) else [features]
    names = {layer.name for layer in model.layers}
    bags = model.get_layer(BAGS) if BAGS in names else None
    outputs = list(bags.output) if bags is not None else []
    blocks, offset = [], 0
    for part in parts:
        layer = _producer(part)
        rows = slice(offset, offset + part.shape[-1])
        offset = rows.stop
        if isinstance(layer, layers.GlobalMaxPooling1D):
            outputs.append(layer.input)
            blocks.append(_Block("max", rows, None, per="token"))
        elif isinstance(layer, BagMax):
            outputs.append(layer.input[0])
            blocks.append(_Block("max", rows, None, per="word"))
        elif isinstance(layer, WindowMax):
            outputs.extend(layer.input[:2])  # the words' vectors, the windows
            blocks.append(_Block("max", rows, layer, per="window"))
        elif isinstance(layer, BagTfidf):
            outputs.append(layer.input[0])
            blocks.append(_Block("mean", rows, layer, per="pair"))
        else:  # such as a hidden Dense layer (dense_units > 0)
            return None
    if head.lexical is not None:
        outputs.append(head.lexical.input[0])
        if head.multilabel:  # the probabilities whose log-odds the output reads
            outputs.append(head.dense.output)
    features = _FEATURES.get(model)
    if features is None:
        features = _FEATURES[model] = keras.Model(model.inputs[0], outputs)
    return _Readout(head, features, bags, blocks)


def exact_attributions(
    model: keras.Model, sequences, targets
) -> list[Attribution] | None:
    """Each sequence's token shares of its target's centred logit (of its
    target label's log-odds, for a multi-label network).

    Parameters
    ----------
    model : keras.Model
        A network of :func:`skglove._models.build_network`.
    sequences : list of 1-D int arrays
        The model's input ids of each document, without padding.
    targets : array of int
        The class code (label column) to explain, per sequence.

    Returns
    -------
    list of Attribution, or None
        None unless ``model`` is a Kim network whose output layer reads the
        pooled features directly (``dense_units=0``), with or without a
        lexical channel: other networks have no exact attribution.
    """
    per_label = label_attributions(
        model, sequences, [[code] for code in np.asarray(targets).tolist()]
    )
    return None if per_label is None else [shares for (shares,) in per_label]


def label_attributions(
    model: keras.Model, sequences, targets
) -> list[list[Attribution]] | None:
    """As :func:`exact_attributions`, toward several targets per sequence,
    from one pass through the network: ``targets[i]`` lists the class codes
    (label columns) of sequence ``i``, and its attributions come in that
    order."""
    readout = _readout(model)
    if readout is None:
        return None
    results = [None] * len(sequences)
    lengths = np.array([len(s) for s in sequences], dtype=np.int64)
    order = np.argsort(lengths, kind="stable")
    for chunk in np.array_split(order, max(1, -(-len(order) // _BATCH))):
        if not len(chunk):
            continue
        ids = np.zeros((len(chunk), max(1, int(lengths[chunk].max()))), np.int32)
        for row, i in enumerate(chunk):
            ids[row, : lengths[i]] = sequences[i]
        chunk_targets = [np.asarray(targets[i], dtype=np.int64) for i in chunk]
        for row, result in enumerate(
            _chunk_shares(readout, ids, lengths[chunk], chunk_targets)
        ):
            results[chunk[row]] = result
    return results


def _chunk_shares(readout: _Readout, ids, lengths, targets) -> list[list]:
    """The attributions of a batch of sequences, padded at the end: for each
    sequence, one per code of its ``targets``."""
    head = readout.head
    outputs = readout.features.predict_on_batch(ids)
    if not isinstance(outputs, list | tuple):  # a model of one output
        outputs = [outputs]
    outputs = [keras.ops.convert_to_numpy(x) for x in outputs]
    glove_probabilities = None
    if head.multilabel and head.lexical is not None:
        glove_probabilities, outputs = outputs[-1], outputs[:-1]
    pairs = None
    if readout.bags is not None:
        bag, outputs = outputs[:5], outputs[5:]
        pairs = _TokenPairs(readout.bags, ids, bag)
    kernel = head.dense.weights[0].numpy().astype(np.float64)
    # A softmax reads only logits' differences; a sigmoid reads each label's.
    centre = (lambda x: x) if head.multilabel else _centred
    centred_kernel = centre(kernel)
    w_lexical, w_glove = head.weights
    n_classes = kernel.shape[1]
    shares = np.zeros((*ids.shape, n_classes))
    pooled = np.zeros((len(ids), kernel.shape[0]))
    windows = [[] for _ in lengths]
    block_inputs = iter(outputs)
    for block in readout.blocks:
        block_kernel = centred_kernel[block.rows]
        values = next(block_inputs)
        if block.per == "window":
            values = _per_position(block.pool, ids, values, next(block_inputs))
        elif block.per != "token":
            values = pairs.per_token(values, block.per)
        if block.kind == "mean":
            vectors = pairs.weights(block.pool)[..., None] * values
            shares += w_glove * (vectors @ block_kernel)
            pooled[:, block.rows] = vectors.sum(axis=1)
        else:
            pooled[:, block.rows] = _add_window_shares(
                shares, windows, w_glove * block_kernel, values, lengths
            )
    lexical_scores = None
    if head.lexical is not None:
        scores = pairs.per_token(outputs[-1], "pair").astype(np.float64)
        token_scores = pairs.weights(head.lexical)[..., None] * scores
        shares += w_lexical * centre(token_scores)
        lexical_scores = token_scores.sum(axis=1)
    # Windows that overhang a shorter document's end gave padding a share too.
    shares[np.arange(ids.shape[1]) >= lengths[:, None]] = 0
    # The intercept: the output logits less the tokens' shares, which is the
    # bias's share and, where it applies, the probability floor's.
    logits = _mixed(
        head, _dense_logits(head, pooled), lexical_scores, glove_probabilities
    )
    intercepts = logits - shares.sum(axis=1)
    return [
        [
            Attribution(
                tokens=shares[row, :n, code],
                windows=_distinct_windows(windows[row], code),
                intercept=float(intercepts[row, code]),
            )
            for code in codes.tolist()
        ]
        for row, (n, codes) in enumerate(zip(lengths.tolist(), targets, strict=True))
    ]


class _TokenPairs:
    """Where each token of a batch is among the (document, word) pairs of
    :class:`skglove._layers.Bags`: to read per-word or per-pair values per
    token."""

    def __init__(self, bags: Bags, ids, outputs) -> None:
        # words, word_of_pair, doc_of_pair, count, pair_words
        self.bag = outputs
        pair = keras.ops.convert_to_numpy(bags.token_pairs(ids))
        self.is_token = pair >= 0
        pair = np.where(self.is_token, pair, 0)
        # With no pairs at all, no index is read.
        word = outputs[1][pair] if len(outputs[1]) else pair
        self.index = {"pair": pair, "word": word}

    def per_token(self, values: np.ndarray, per: str) -> np.ndarray:
        """Values per ``"word"`` or per ``"pair"``, ``(n, k)``, as ``(batch,
        length, k)``; zeros at padding."""
        if not len(values):
            return np.zeros((*self.is_token.shape, values.shape[1]), values.dtype)
        return values[self.index[per]] * self.is_token[..., None]

    def weights(self, pool: BagTfidf) -> np.ndarray:
        """Each token's TF-IDF weight in ``pool``: its pair's weight, shared
        evenly by the pair's tokens."""
        _, _, doc_of_pair, count, pair_words = self.bag
        if not len(count):
            return np.zeros(self.is_token.shape)
        weights = pool.pair_weights(pair_words, doc_of_pair, count)
        weights = keras.ops.convert_to_numpy(weights)[self.index["pair"]]
        return np.where(self.is_token, weights / count[self.index["pair"]], 0.0)


def _per_position(conv: WindowMax, ids, vectors, slots) -> np.ndarray:
    """The value of the window at each position, ``(batch, length + width -
    1, filters)``, from the words' vectors and the windows of a
    :class:`WindowMax`; zeros where a window holds no word."""
    values = keras.ops.convert_to_numpy(conv.window_values(vectors, slots))
    windows = _producer(conv.input[1])
    index = keras.ops.convert_to_numpy(windows.token_windows(ids))
    if not len(values):
        return np.zeros((*index.shape, conv.filters), np.float32)
    return values[np.maximum(index, 0)] * (index >= 0)[..., None]


def _add_window_shares(shares, windows, kernel, values, lengths) -> np.ndarray:
    """Give each filter's pooled value to its winning window's words.

    ``values`` holds every window's filter outputs, ``(batch, n_windows,
    filters)``; a window of width ``w`` at ``j`` reads the words ``j - w + 1``
    to ``j``. A value that several windows reach is shared evenly among them,
    so equal words (which give equal values) get equal shares. Returns the
    pooled values, ``(batch, filters)``.
    """
    length = shares.shape[1]
    width = values.shape[1] - length + 1
    pooled = values.max(axis=1, keepdims=True)
    winners = (values == pooled) & (pooled > 0)
    n_winners = np.maximum(winners.sum(axis=1, keepdims=True), 1).astype(pooled.dtype)
    credit = winners * (pooled / n_winners)  # float32, as the network's values
    window_shares = (credit @ kernel.astype(np.float32)).astype(np.float64)
    if width == 1:
        shares += window_shares
        return pooled[:, 0]
    j = np.arange(values.shape[1])
    first = np.maximum(j - width + 1, 0)
    last = np.minimum(j[None, :], lengths[:, None] - 1)
    n_words = np.maximum(last - first[None, :] + 1, 1)
    per_word = window_shares / n_words[..., None]
    # Word t is read by the windows t .. t + width - 1.
    ends = np.concatenate(
        [np.zeros_like(per_word[:, :1]), np.cumsum(per_word, axis=1)], axis=1
    )
    t = np.arange(length)
    shares += ends[:, t + width] - ends[:, t]
    won = winners.any(axis=2)
    for row in range(len(lengths)):
        windows[row].extend(
            (int(first[k]), int(last[row, k]), window_shares[row, k])
            for k in np.flatnonzero(won[row])
        )
    return pooled[:, 0]


def _distinct_windows(windows, code: int) -> list:
    """One ``(first, last, share)`` per span: overhanging windows of a short
    document, and windows of several widths, can read the same words."""
    spans = {}
    for first, last, share in windows:
        spans[first, last] = spans.get((first, last), 0.0) + float(share[code])
    return [(first, last, share) for (first, last), share in spans.items()]
