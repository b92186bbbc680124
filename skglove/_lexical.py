"""The lexical channel of a multi-label network, solved rather than descended:
each label's scores are a LinearSVC (squared hinge, L2 penalty) on the
documents' TF-IDF vectors, as :class:`skglove._layers.BagTfidf` weighs them,
with ``C`` chosen on the validation split.

Adam, in the epochs the network trains for, leaves a one-vs-rest linear model
on tens of thousands of words short of its optimum, and no one ``C`` suits
every corpus; liblinear solves each label exactly, in seconds (see the
GoEmotions benchmark in docs/benchmarks.md).
"""

from contextlib import contextmanager

import keras
import numpy as np
import scipy.sparse as sp
from sklearn.svm import LinearSVC

from ._models import LEXICAL_C, LEXICAL_HEAD, LEXICAL_POOL, LEXICAL_SCALE, WORD_SCORES
from ._multilabel import mean_best_f1
from ._sequences import as_sequences

#: The values of LinearSVC's ``C`` tried on the validation split, on a log
#: scale; without a split, the channel is solved at ``LEXICAL_C``.
CANDIDATE_CS = (0.03, 0.1, 0.3, 1.0)


def has_lexical_labels(model: keras.Model) -> bool:
    """Whether ``model`` has a multi-label lexical channel to solve."""
    return any(layer.name == LEXICAL_POOL for layer in model.layers)


def tfidf_rows(X, idf: np.ndarray) -> sp.csr_matrix:
    """Each sequence's L2-normalized sublinear TF-IDF vector over the ids
    below ``len(idf)``: the weights with which :class:`BagTfidf(norm="l2")
    <skglove._layers.BagTfidf>` sums a document's word vectors. Ids past
    ``idf``, like ids with an idf of 0, weigh nothing."""
    X = as_sequences(X)
    idf = np.asarray(idf, dtype=np.float64)
    ids = np.asarray(X.ids, dtype=np.int64)
    docs = np.repeat(np.arange(len(X)), X.lengths)
    kept = ids < len(idf)
    counts = sp.csr_matrix(
        (np.ones(int(kept.sum())), (docs[kept], ids[kept])), shape=(len(X), len(idf))
    )
    counts.sum_duplicates()
    counts.data = (1 + np.log(counts.data)) * idf[counts.indices]
    norms = np.sqrt(np.asarray(counts.multiply(counts).sum(axis=1)).ravel())
    return sp.diags(1 / np.maximum(norms, 1e-12)) @ counts


def lexical_features(model: keras.Model, X) -> sp.csr_matrix:
    """The TF-IDF rows of ``X`` that the lexical channel of ``model`` reads
    (:func:`tfidf_rows` over its words)."""
    words = np.flatnonzero(model.get_layer(WORD_SCORES).rows.numpy() >= 0)
    if not np.array_equal(words, np.arange(len(words))):
        raise ValueError("the lexical channel's words are not the first ids")
    return tfidf_rows(X, model.get_layer(LEXICAL_POOL).idf.numpy()[: len(words)])


@contextmanager
def lexical_frozen(model: keras.Model, trained: keras.Model):
    """Keep the lexical channel of ``model`` as it is while ``trained`` (a
    model of its layers, see :func:`skglove._training.trained_heads`)
    trains: the network trains, and early stopping watches it, beside the
    channel it will be mixed with.

    The optimizer is built for every trainable variable first, so that a
    later ``partial_fit`` can train the channel too. An optimizer with EMA
    (``use_ema=True``) pairs its averages with the variables it is given by
    position when training ends: it is given every one, and the frozen
    channel is then put back as it was.
    """
    optimizer = trained.optimizer
    every = list(trained.trainable_variables)
    if not optimizer.built:
        optimizer.build(every)
    layers = [model.get_layer(WORD_SCORES), model.get_layer(LEXICAL_HEAD)]
    frozen = [v for layer in layers for v in layer.trainable_variables]
    finalize = optimizer.finalize_variable_values

    def finalize_every(var_list):
        values = [v.numpy() for v in frozen]
        finalize(every)
        for variable, value in zip(frozen, values, strict=True):
            variable.assign(value)

    for layer in layers:
        layer.trainable = False
    optimizer.finalize_variable_values = finalize_every
    try:
        yield
    finally:
        del optimizer.finalize_variable_values
        for layer in layers:
            layer.trainable = True


def solve_lexical(
    model: keras.Model,
    features: sp.csr_matrix,
    Y,
    sample_weight,
    rows,
    valid_rows,
    seed: int,
    C=None,
) -> float:
    """Set the lexical channel of ``model`` to each label's LinearSVC on the
    samples ``rows`` of ``features`` (:func:`lexical_features`), and return
    its ``C``.

    With ``C`` None, each ``C`` of :data:`CANDIDATE_CS` is scored on the
    samples ``valid_rows`` by :func:`skglove._multilabel.mean_best_f1`, the
    score that tuned thresholds and the channel mix read; ties go to the
    smaller ``C``. Without a validation split, or without a positive sample
    in it, ``C`` is ``LEXICAL_C``. The sample weights are scaled to a mean of
    1, so that ``C`` means what it does without them.
    """
    Y = np.asarray(Y)
    weights = None
    if sample_weight is not None:
        weights = np.asarray(sample_weight, dtype=np.float64)[rows]
        if not weights.mean() > 0:
            raise ValueError("sample_weight is zero for every sample solved on")
        weights = weights / weights.mean()
    train = (features[rows], Y[rows], weights, seed)
    if C is None and valid_rows is not None and Y[valid_rows].any():
        best, valid, Y_valid = None, features[valid_rows], Y[valid_rows]
        for candidate in CANDIDATE_CS:
            coef, intercept = _fit_labels(*train, candidate)
            quality = mean_best_f1(valid @ coef.T + intercept, Y_valid)
            if best is None or quality > best[0]:
                best = (quality, candidate, coef, intercept)
        _, C, coef, intercept = best
    else:
        C = LEXICAL_C if C is None else C
        coef, intercept = _fit_labels(*train, C)
    scores = (coef.T / LEXICAL_SCALE).astype(np.float32)
    model.get_layer(WORD_SCORES).embeddings.assign(scores)
    model.get_layer(LEXICAL_HEAD).bias.assign(intercept.astype(np.float32))
    return C


def _fit_labels(features, Y, sample_weight, seed: int, C: float):
    """Each label's LinearSVC: ``coef`` of shape (n_labels, n_features) and
    ``intercept`` of shape (n_labels,). A label of one class on these
    samples scores every document as that class, by its intercept alone."""
    coef = np.zeros((Y.shape[1], features.shape[1]))
    intercept = np.zeros(Y.shape[1])
    for label, column in enumerate(Y.T):
        if column.min() == column.max():
            intercept[label] = 1.0 if column[0] else -1.0
            continue
        svc = LinearSVC(C=C, random_state=seed)
        svc.fit(features, column, sample_weight=sample_weight)
        coef[label], intercept[label] = svc.coef_[0], svc.intercept_[0]
    return coef, intercept
