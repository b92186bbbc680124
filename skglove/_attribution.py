"""Exact word attributions of a Kim network with a linear readout.

With ``dense_units=0``, the class logits of :func:`skglove._models.build_kim_cnn`
(and of the lexical channel beside it) are sums over the document's tokens:

- each convolution filter's max-pooled value is the value of its winning
  window, so the filter's weight in the output layer times that value
  belongs to the window's words;
- the TF-IDF mean of the word vectors and the lexical channel's pooled word
  scores are weighted sums of one term per token.

The output layer adds a bias. So each class's logit, centred on the mean over
classes (which the softmax ignores), splits exactly into one share per token
plus an intercept: :func:`exact_attributions` returns those shares. Nothing
here is approximated; only the probabilities' clip at 1e-12 is ignored.
"""

from typing import NamedTuple

import keras
import numpy as np
from keras import layers

from ._layers import ChannelMix, TfidfPooling
from ._models import OUTPUT

__all__ = ["Attribution", "exact_attributions"]

#: Names that build_kim_cnn gives its network, alone or with a lexical channel.
_KIM_NAMES = ("kim_cnn", "kim_cnn_lexical")
#: Documents whose features are computed at once; bounds memory to a few
#: times batch x length x filters floats.
_BATCH = 32


class Attribution(NamedTuple):
    """One document's share of each class's centred logit.

    ``tokens[t, c]`` is the share of the ``t``-th id of the sequence in class
    ``c``'s logit minus the mean logit; ``tokens.sum(0) + intercept`` is that
    centred logit. ``windows`` lists ``(first, last, shares)`` for the winning
    windows of filters wider than one word; their shares are also split
    evenly over their words in ``tokens``.
    """

    tokens: np.ndarray
    windows: list
    intercept: np.ndarray


class _Block(NamedTuple):
    kind: str  # "max": a filter bank's windows; "mean": a TF-IDF mean
    rows: slice  # the block's rows of the output layer's kernel
    pool: TfidfPooling | None


class _Readout(NamedTuple):
    features: keras.Model  # ids -> each block's inputs, then the word scores
    blocks: list
    lexical: TfidfPooling | None
    kernel: np.ndarray  # the output layer's, centred over classes
    intercept: np.ndarray
    weights: tuple[float, float]  # of the lexical and the GloVe channel


def _producer(tensor):
    return tensor._keras_history.operation


def _readout(model: keras.Model) -> _Readout | None:
    """The parts of ``model`` that the logits are a sum of, or None if they
    are not a sum over tokens (another architecture, a hidden Dense layer)."""
    if model.name not in _KIM_NAMES:
        return None
    output = model.get_layer(OUTPUT)
    lexical = None
    weights = (0.0, 1.0)
    dense = output
    if isinstance(output, ChannelMix):
        lexical_scores, probabilities = output.input
        lexical, dense = _producer(lexical_scores), _producer(probabilities)
        weights = tuple(float(w) for w in keras.ops.convert_to_numpy(output.mix))
    features = dense.input
    while isinstance(_producer(features), layers.Dropout):
        features = _producer(features).input
    joined = _producer(features)
    parts = joined.input if isinstance(joined, layers.Concatenate) else [features]
    outputs, blocks, offset = [], [], 0
    for part in parts:
        layer = _producer(part)
        rows = slice(offset, offset + part.shape[-1])
        offset = rows.stop
        if isinstance(layer, layers.GlobalMaxPooling1D):
            outputs.append(layer.input)
            blocks.append(_Block("max", rows, None))
        elif isinstance(layer, TfidfPooling):
            outputs.append(layer.input[1])
            blocks.append(_Block("mean", rows, layer))
        else:  # such as a hidden Dense layer (dense_units > 0)
            return None
    if lexical is not None:
        outputs.append(lexical.input[1])
    kernel, bias = (keras.ops.convert_to_numpy(w) for w in dense.weights[:2])
    return _Readout(
        features=keras.Model(model.inputs[0], outputs),
        blocks=blocks,
        lexical=lexical,
        kernel=kernel - kernel.mean(axis=1, keepdims=True),
        intercept=weights[1] * (bias - bias.mean()),
        weights=weights,
    )


def exact_attributions(model: keras.Model, sequences) -> list[Attribution] | None:
    """Each sequence's token shares of the centred class logits of ``model``.

    Parameters
    ----------
    model : keras.Model
        A network of :func:`skglove._models.build_network`.
    sequences : list of 1-D int arrays
        The model's input ids of each document, without padding.

    Returns
    -------
    list of Attribution, or None
        None unless ``model`` is a Kim network whose output layer reads the
        pooled features directly (``dense_units=0``), with or without a
        lexical channel: other networks have no exact attribution.
    """
    readout = _readout(model)
    if readout is None:
        return None
    n_classes = readout.kernel.shape[1]
    results = [None] * len(sequences)
    lengths = np.array([len(s) for s in sequences], dtype=np.int64)
    order = np.argsort(lengths, kind="stable")
    for chunk in np.array_split(order, max(1, -(-len(order) // _BATCH))):
        if not len(chunk):
            continue
        width = max(1, int(lengths[chunk].max()))
        ids = np.zeros((len(chunk), width), dtype=np.int32)
        for row, i in enumerate(chunk):
            ids[row, : lengths[i]] = sequences[i]
        shares, windows = _chunk_shares(readout, ids, lengths[chunk])
        for row, i in enumerate(chunk):
            results[i] = Attribution(
                tokens=shares[row, : lengths[i]].reshape(-1, n_classes),
                windows=windows[row],
                intercept=readout.intercept,
            )
    return results


def _chunk_shares(readout: _Readout, ids: np.ndarray, lengths: np.ndarray):
    """Token shares ``(batch, length, classes)`` and the wide windows."""
    outputs = readout.features(ids)
    if not isinstance(outputs, list | tuple):  # a model of one output
        outputs = [outputs]
    outputs = [keras.ops.convert_to_numpy(x) for x in outputs]
    w_lexical, w_glove = readout.weights
    shares = np.zeros((*ids.shape, readout.kernel.shape[1]), dtype=np.float64)
    windows = [[] for _ in lengths]
    for block, values in zip(readout.blocks, outputs, strict=False):
        kernel = readout.kernel[block.rows].astype(np.float64)
        if block.kind == "mean":
            weights = keras.ops.convert_to_numpy(block.pool.token_weights(ids))
            shares += w_glove * weights[..., None] * (values @ kernel)
        else:
            _add_window_shares(shares, windows, w_glove * kernel, values, lengths)
    if readout.lexical is not None:
        scores = outputs[-1].astype(np.float64)
        weights = keras.ops.convert_to_numpy(readout.lexical.token_weights(ids))
        centred = scores - scores.mean(axis=-1, keepdims=True)
        shares += w_lexical * weights[..., None] * centred
    return shares, windows


def _add_window_shares(shares, windows, kernel, values, lengths) -> None:
    """Give each filter's pooled value to its winning window's words.

    ``values`` holds every window's filter outputs, ``(batch, n_windows,
    filters)``; a window of width ``w`` at ``j`` reads the words ``j - w + 1``
    to ``j``. A value that several windows reach is shared evenly among them,
    so equal words (which give equal values) get equal shares.
    """
    length = shares.shape[1]
    width = values.shape[1] - length + 1
    pooled = values.max(axis=1, keepdims=True)
    winners = (values == pooled) & (pooled > 0)
    n_winners = winners.sum(axis=1)
    # At most a few winners per filter: add their shares one by one.
    row, j, f = np.nonzero(winners)
    credit = pooled[row, 0, f] / n_winners[row, f]
    window_shares = np.zeros((*values.shape[:2], kernel.shape[1]))
    np.add.at(window_shares, (row, j), credit[:, None] * kernel[f])
    if width == 1:
        shares += window_shares
        return
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
    for row, n in enumerate(lengths.tolist()):
        won = np.flatnonzero(np.abs(window_shares[row, : n + width - 1]).sum(1) > 0)
        windows[row].extend(
            (int(first[k]), int(last[row, k]), window_shares[row, k]) for k in won
        )
