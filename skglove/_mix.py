"""The channel mix: the weights with which a network's output combines its
channels' logits, fitted on the validation split after training (see
:class:`skglove._layers.ChannelMix`).
"""

import logging

import keras
import numpy as np
from scipy.optimize import minimize

from ._layers import PROBABILITY_FLOOR, log_odds
from ._models import LEXICAL_HEAD, OUTPUT
from ._multilabel import mean_best_f1
from ._training import class_codes, heads, predict, training_model

_log = logging.getLogger(__name__)


def is_multilabel(model: keras.Model) -> bool:
    """Whether the network's outputs are one sigmoid per label."""
    output = model.get_layer(OUTPUT)
    if hasattr(output, "multilabel"):  # a ChannelMix
        return output.multilabel
    return output.activation is keras.activations.sigmoid


def head_logits(model: keras.Model, outputs) -> list[np.ndarray]:
    """Each head's output of :func:`training_model` as logits, as
    :class:`skglove._layers.ChannelMix` reads them: the lexical scores as
    they are, the network's probabilities by their log (softmax) or their
    log-odds (sigmoid, one per label)."""
    multilabel = is_multilabel(model)
    return [
        out
        if name == LEXICAL_HEAD
        else log_odds(out.astype(np.float64), np)
        if multilabel
        else np.log(np.maximum(out, PROBABILITY_FLOOR))
        for name, out in zip(heads(model), outputs, strict=True)
    ]


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


#: The shares of the lexical channel's standardized logits tried for the
#: ranking of each label's combined score (the network's is the rest).
_SHARES = np.linspace(0.0, 1.0, 11)


def fit_label_mix(
    logits, Y, sample_weight=None, alpha: float = 1e-3, min_count: int = 2
) -> np.ndarray:
    """Non-negative weights ``w`` of the two heads' logits for each label,
    and an intercept ``b`` per label, for ``sigmoid(sum_i w[i, l] *
    logits_i[:, l] + b[l])``.

    First the ranking: each head's logits are divided by their standard
    deviation over all labels on these samples, and one share ``s`` of the first
    head (``1 - s`` of the second), the same for every label, is chosen from
    ``0, 0.1, ..., 1``: the share with the highest mean, over the labels with
    a positive sample, of each label's best F1 (:func:`best_f1`), the score
    that tuned thresholds read; ties go to the share nearest an even mix. A
    head that is constant on these samples ranks nothing, and gets no share.
    Weights fitted per label to the log-loss (Platt scaling on the two
    channels) ranked worse than the lexical channel alone on GoEmotions: on a
    validation split where many labels have a few dozen positive samples,
    they are fitted to calibration, and mostly to the negatives. Then the
    calibration: Platt scaling of each label's combined score
    (:func:`_fit_platt`), in units of its standard deviation, which keeps
    its ranking and makes the mix independent of the heads' scale.

    Parameters
    ----------
    logits : list of two ndarrays of shape (n_samples, n_labels)
        The lexical head's label scores, then the network's label log-odds,
        on held-out samples.
    Y : ndarray of shape (n_samples, n_labels)
        Their indicator matrix.
    sample_weight : ndarray of shape (n_samples,) or None
        Weights of the held-out samples in the log-loss of the calibration
        (the F1 of the ranking counts samples).
    alpha : float, default=1e-3
        Strength of the L2 penalties of the calibration, on the weights of
        the combined score in standard deviations.
    min_count : int, default=2
        The fewest positive and negative samples for a label's own scale and
        intercept.

    Returns
    -------
    ndarray of shape (3, n_labels)
        The weights of each head, then the intercepts.
    """
    first, second = (np.asarray(z, dtype=np.float64) for z in logits)
    # One spread per head, over all labels: a label's own would blow up the
    # weights of a label whose logits barely vary, and leave the scale that
    # rare labels share in no common unit.
    spread = np.array([first.std(), second.std()])
    if spread.all():
        share = _best_share(first / spread[0], second / spread[1], Y)
    else:
        share = 1.0 if spread[0] else 0.0 if spread[1] else 0.5
    spread[spread == 0] = 1.0
    direction = np.array([share / spread[0], (1 - share) / spread[1]])
    combined = direction[0] * first + direction[1] * second
    unit = combined.std() or 1.0
    scale, intercept = _fit_platt([combined / unit], Y, sample_weight, alpha, min_count)
    mix = [scale / unit * direction[0], scale / unit * direction[1], intercept]
    return np.stack(mix).astype(np.float32)


def _best_share(first, second, Y) -> float:
    """The share of :func:`fit_label_mix`'s ranking."""
    if not np.asarray(Y).any():
        return 0.5
    quality = [
        mean_best_f1(share * first + (1 - share) * second, Y) for share in _SHARES
    ]
    best = max(range(len(_SHARES)), key=lambda k: (quality[k], -abs(_SHARES[k] - 0.5)))
    return float(_SHARES[best])


def _fit_platt(
    logits, Y, sample_weight=None, alpha: float = 1e-3, min_count: int = 2
) -> np.ndarray:
    """Non-negative weights ``w`` of each head's logits for each label, and
    an intercept ``b`` per label, such that ``sigmoid(sum_i w[i, l] *
    logits_i[:, l] + b[l])`` has the lowest binary log-loss on label ``l``:
    Platt scaling, with Platt's targets ``(n_pos + 1) / (n_pos + 2)`` and
    ``1 / (n_neg + 2)`` in place of 1 and 0, so that scores that separate
    the samples still get finite weights, and probabilities short of 0 and 1.

    First one set of weights is fitted for all labels at once (each label
    with its own intercept, the weights with the penalty ``alpha / 2 *
    |w|^2``); then each label's own weights, with the penalty ``alpha / 2 *
    |w_l - w|^2`` that shrinks them toward the shared ones. A label with
    fewer than ``min_count`` positive or negative samples here gets the
    shared weights and no intercept. With ``sample_weight``, samples are
    counted by their weight, scaled to a mean of 1. Each objective is convex.

    Returns
    -------
    ndarray of shape (n_heads + 1, n_labels)
        The weights of each head, then the intercepts.
    """
    logits = np.stack([np.asarray(z, dtype=np.float64) for z in logits])
    Y = np.asarray(Y, dtype=np.float64)
    n_heads, _, n_labels = logits.shape
    weights = np.ones(len(Y)) if sample_weight is None else sample_weight
    weights = np.asarray(weights, dtype=np.float64) / np.sum(weights)
    positives = (Y > 0).sum(axis=0)
    if sample_weight is not None:  # samples counted by weight, of mean 1
        raw = np.asarray(sample_weight, dtype=np.float64)
        positives = raw @ (Y > 0) / raw.mean()  # weights of 1 count exactly
    negatives = len(Y) - positives
    own = (positives >= min_count) & (negatives >= min_count)
    Y = np.where(Y > 0, (positives + 1) / (positives + 2), 1 / (negatives + 2))
    mix = np.zeros((n_heads + 1, n_labels))
    if not own.any():  # nothing to fit an intercept on: one pair for all
        own = np.ones(n_labels, dtype=bool)
        intercepts = False
    else:
        intercepts = True
    logits, Y = logits[:, :, own], Y[:, own]
    n_own = int(own.sum())

    def losses(w, b):
        z = np.einsum("hl,hnl->nl", w, logits) + b * intercepts
        # log(1 + e^z) - t z, and its derivative sigmoid(z) - t.
        loss = weights @ (np.logaddexp(0.0, z) - Y * z)
        residual = weights[:, None] * (0.5 * (1 + np.tanh(z / 2)) - Y)
        db = residual.sum(axis=0) * intercepts
        return loss.sum(), np.einsum("hnl,nl->hl", logits, residual), db

    def shared(flat):
        w, b = flat[:n_heads], flat[n_heads:]
        loss, gradient, db = losses(np.repeat(w[:, None], n_own, axis=1), b)
        penalty = alpha / 2 * w @ w
        return loss + penalty, np.concatenate([gradient.sum(axis=1) + alpha * w, db])

    heads = [(0, None)] * n_heads
    free = [(None, None)] * n_own
    start = np.concatenate([np.ones(n_heads), np.zeros(n_own)])
    pooled = minimize(shared, start, jac=True, bounds=heads + free).x
    common, offsets = pooled[:n_heads], pooled[n_heads:]
    mix[:n_heads] = common[:, None]
    if not intercepts:
        return mix.astype(np.float32)

    def per_label(flat):
        w = flat[:-n_own].reshape(n_heads, n_own)
        loss, gradient, db = losses(w, flat[-n_own:])
        gap = w - common[:, None]
        penalty = alpha / 2 * np.sum(gap * gap)
        return loss + penalty, np.concatenate([(gradient + alpha * gap).ravel(), db])

    start = np.concatenate([np.repeat(common[:, None], n_own, axis=1).ravel(), offsets])
    fitted = minimize(per_label, start, jac=True, bounds=heads * n_own + free).x
    mix[:n_heads, own] = fitted[:-n_own].reshape(n_heads, n_own)
    mix[n_heads, own] = fitted[-n_own:]
    return mix.astype(np.float32)


def current_mix(model: keras.Model) -> np.ndarray:
    """The weights of :func:`set_mix`, as the network holds them."""
    output = model.get_layer(OUTPUT)
    if output.multilabel:
        return np.concatenate([output.mix.numpy(), output.offset.numpy()[None]])
    return output.mix.numpy()


def set_mix(model: keras.Model, weights) -> None:
    """Set the weights with which the heads' probabilities are combined: for
    a multi-label network, the last row holds each label's intercept."""
    output = model.get_layer(OUTPUT)
    weights = np.asarray(weights, dtype=np.float32)
    if output.multilabel:
        weights, offset = weights[:-1], weights[-1]
        output.offset.assign(offset)
    output.mix.assign(weights)


def fitted_mix(
    model: keras.Model, X, y, sample_weight, rows, n_classes: int, **predict_args
):
    """Set and return the channel weights with the lowest log-loss on the
    samples ``rows``, the validation split.

    Without a validation split (``rows`` None), with fewer than two samples
    per class in it (too few to weigh anything), with no label in it (for
    multi-label), or where the heads' outputs on it are not finite, the
    weights are the neutral ones: 1 for each head, and no intercept. Weights
    kept from an earlier fit would have been fitted to other heads.
    """
    if rows is None:
        return _neutral(model)
    if len(rows) < 2 * n_classes:
        return _neutral(model, f"it holds {len(rows)} samples for {n_classes} classes")
    if is_multilabel(model) and not np.asarray(y[rows]).any():
        return _neutral(model, "no sample in it has a label")
    weights = None if sample_weight is None else sample_weight[rows]
    outputs = predict(training_model(model), X.take(rows), **predict_args)
    logits = head_logits(model, outputs)
    if not all(np.isfinite(z).all() for z in logits):
        return _neutral(model, "the channels' outputs on it are not finite")
    if is_multilabel(model):
        mix = fit_label_mix(logits, y[rows], weights)
    else:
        mix = fit_mix(logits, class_codes(y[rows]), weights)
    set_mix(model, mix)
    return mix


def _neutral(model: keras.Model, why: str | None = None) -> np.ndarray:
    """Set and return the neutral channel weights, saying ``why`` in the log."""
    if why is not None:
        _log.info("neutral channel weights: the validation split %s", why)
    neutral = np.ones_like(current_mix(model))
    if is_multilabel(model):
        neutral[-1] = 0  # the intercepts
    set_mix(model, neutral)
    return neutral
