"""Multi-label targets: the indicator check, the label-absence warning, the
per-label decision thresholds and the target encoder.

A multi-label ``y`` is scikit-learn's binary indicator matrix, ``(n_samples,
n_labels)``, one column per label (what ``MultiLabelBinarizer`` gives), dense
or sparse. The network has one sigmoid output per label, and a label is
predicted where its probability exceeds its threshold.
"""

import warnings

import numpy as np
from scipy.sparse import issparse

__all__ = [
    "MULTILABEL",
    "IndicatorEncoder",
    "best_f1",
    "check_indicator",
    "check_label_names",
    "check_saved_state",
    "is_indicator",
    "label_thresholds",
    "tuned_thresholds",
    "warn_absent_labels",
]

#: scikit-learn's name for the target type (``type_of_target``).
MULTILABEL = "multilabel-indicator"
#: The threshold of a label never seen at fit: above any probability, and
#: above any threshold a user may give, so that it also marks the label unseen.
NEVER = 2.0


def is_indicator(y) -> bool:
    """Whether ``y`` is meant as an indicator matrix: sparse, or 2-D with
    more than one column. A column vector ``(n, 1)`` is one label per
    sample, as scikit-learn reads it."""
    if issparse(y):
        return True
    try:
        shape = np.asarray(y).shape
    except ValueError:  # ragged: such as a list of label lists
        raise ValueError(
            "y holds sequences of different lengths, such as a list of label "
            "lists per sample; turn them into an indicator matrix with "
            "sklearn.preprocessing.MultiLabelBinarizer"
        ) from None
    return len(shape) == 2 and shape[1] > 1


def check_indicator(y, n_labels: int | None = None) -> np.ndarray:
    """``y`` as a dense indicator matrix, or a ``ValueError`` naming what is
    wrong with it.

    Parameters
    ----------
    y : array-like or sparse matrix of shape (n_samples, n_labels)
        The targets, 0 or 1 (or False or True) for each label.
    n_labels : int or None
        The number of labels the classifier was fitted on, when training goes
        on (``partial_fit``, ``warm_start``); None for a new fit.

    Returns
    -------
    ndarray of shape (n_samples, n_labels)
        The same values and dtype, dense.
    """
    Y = y.toarray() if issparse(y) else np.asarray(y)
    if Y.dtype.kind == "O":  # such as pandas' nullable Int64 or boolean
        try:
            Y = Y.astype(np.float64)
        except (TypeError, ValueError):
            pass
    if Y.ndim != 2:
        raise ValueError(f"a multi-label y must be 2-D, got shape {Y.shape}")
    if Y.shape[1] < 2:
        raise ValueError(
            f"a multi-label y needs at least two label columns, got shape "
            f"{Y.shape}; a single label is a binary target: pass it as a 1-D y"
        )
    if Y.dtype.kind not in "biuf":
        raise ValueError(
            f"y has shape {Y.shape} and dtype {Y.dtype}: a 2-D y must be a "
            "binary indicator matrix, 0 or 1 per label (use "
            "sklearn.preprocessing.MultiLabelBinarizer on lists of labels; for "
            "several labels of several classes each, wrap the pipeline in "
            "sklearn.multioutput.MultiOutputClassifier)"
        )
    values = np.unique(Y)
    if not np.isin(values, (0, 1)).all():
        shown = ", ".join(map(str, values[:5].tolist()))
        raise ValueError(
            f"a 2-D y must be a binary indicator matrix of 0 and 1, got the "
            f"values {shown}{', ...' if len(values) > 5 else ''}; multi-output "
            "targets with several classes per column need "
            "sklearn.multioutput.MultiOutputClassifier"
        )
    if n_labels is not None and Y.shape[1] != n_labels:
        raise ValueError(
            f"y has {Y.shape[1]} label columns, but the classifier was fitted "
            f"on {n_labels}; the label set cannot change between fits that go "
            "on training (partial_fit, warm_start)"
        )
    return Y


def check_label_names(names, n_labels: int) -> None:
    """Refuse ``label_names`` that do not name ``n_labels`` columns, each
    once, with a string (None: unnamed)."""
    if names is None:
        return
    names = list(names)
    if len(names) != n_labels:
        raise ValueError(
            f"label_names has {len(names)} names, but there are {n_labels} label "
            "columns"
        )
    if not all(isinstance(name, str) for name in names):
        raise TypeError(f"label_names must be strings, got {names!r:.80}")
    if len(set(names)) != len(names):
        raise ValueError(f"label_names repeats a name: {names!r:.80}")


def check_saved_state(
    multilabel: bool, n_labels: int, *, threshold, mix, y_ndim: int, label_names
) -> None:
    """Refuse a saved classifier state that no fit could have made: the
    thresholds, channel weights, ``y_ndim`` and ``label_names`` of a
    multi-label classifier, or thresholds on a single-label one."""
    if not multilabel:
        if threshold is not None:
            raise ValueError("the state of a single-label classifier has thresholds")
        expected_mix = (2,)
    else:
        threshold = np.asarray(threshold, dtype=np.float64)
        valid = ((threshold >= 0) & (threshold <= 1)) | (threshold == NEVER)
        if threshold.shape != (n_labels,) or not valid.all():
            raise ValueError(
                f"the state holds thresholds {threshold.tolist()!r:.80} for "
                f"{n_labels} labels; each must be in [0, 1], or {NEVER} for a "
                "label absent at fit"
            )
        if y_ndim != 2:
            raise ValueError(f"a multi-label state has y_ndim 2, not {y_ndim}")
        check_label_names(label_names, n_labels)
        expected_mix = (3, n_labels)
    if mix is not None and np.shape(mix) != expected_mix:
        raise ValueError(
            f"the state holds channel weights of shape {np.shape(mix)}, "
            f"expected {expected_mix}"
        )


def warn_absent_labels(Y: np.ndarray, seen=False) -> np.ndarray:
    """The mask of the labels present in ``Y`` or already ``seen`` (a mask,
    when training goes on). Warn about the others, which are then never
    predicted; refuse if there are none."""
    present = Y.any(axis=0) | seen
    if not present.any():
        raise ValueError(
            f"y holds no label at all: every one of its {Y.shape[1]} columns is "
            "0, so there is nothing to learn"
        )
    if not present.all():
        absent = np.flatnonzero(~present).tolist()
        warnings.warn(
            f"label column(s) {absent} never occur in y: the classifier cannot "
            "learn them, and will never predict them",
            UserWarning,
            stacklevel=5,
        )
    return present


def label_thresholds(threshold: float, present: np.ndarray) -> np.ndarray:
    """``threshold`` for each label present at fit; :data:`NEVER` for the
    others."""
    return np.where(present, float(threshold), NEVER)


def tuned_thresholds(proba: np.ndarray, Y: np.ndarray, default=0.5):
    """Each label's threshold with the best F1 on ``(proba, Y)``.

    A label is predicted where ``proba > threshold``. For each label, every
    cut between two consecutive distinct probabilities (and below the
    lowest) is tried; the threshold is the midpoint of the best cut, so it
    does not sit on a probability it was fitted on. Ties in F1 go to the
    higher threshold, which predicts fewer labels. A label without a
    positive sample here keeps its ``default``.

    Parameters
    ----------
    proba : ndarray of shape (n_samples, n_labels)
        Probabilities, on samples the network was not trained on.
    Y : ndarray of shape (n_samples, n_labels)
        Their indicator matrix.
    default : float or ndarray of shape (n_labels,), default=0.5
        The threshold of a label with no positive sample.

    Returns
    -------
    ndarray of shape (n_labels,)
    """
    thresholds = np.broadcast_to(np.asarray(default, float), np.shape(proba)[1]).copy()
    for label, scores, best, _ in _best_cuts(proba, Y):
        below = scores[best + 1] if best + 1 < len(scores) else 0.0
        thresholds[label] = (scores[best] + below) / 2
    return thresholds


def best_f1(scores: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """Each label's F1 at its best threshold on ``(scores, Y)``, as
    :func:`tuned_thresholds` finds it; NaN for a label without a positive
    sample. It depends on the order of each label's scores alone."""
    f1 = np.full(np.shape(scores)[1], np.nan)
    for label, _, _, value in _best_cuts(scores, Y):
        f1[label] = value
    return f1


def mean_best_f1(scores: np.ndarray, Y: np.ndarray) -> float:
    """The mean of :func:`best_f1` over the labels with a positive sample
    (NaN if none has one): how well ``scores`` rank the labels for tuned
    thresholds."""
    f1 = best_f1(scores, Y)
    f1 = f1[~np.isnan(f1)]
    return float(f1.mean()) if f1.size else np.nan


def _best_cuts(scores, Y):
    """For each label with a positive sample: the label, its scores in
    descending order, the position of the last predicted sample at the cut
    with the best F1 (the first such: the highest threshold), and that F1."""
    scores = np.asarray(scores, dtype=np.float64)
    Y = np.asarray(Y).astype(bool)
    for label in range(scores.shape[1]):
        n_positive = int(Y[:, label].sum())
        if not n_positive:
            continue
        order = np.argsort(-scores[:, label], kind="stable")
        column = scores[order, label]
        true_positives = np.cumsum(Y[order, label])
        # A cut after position k predicts the k + 1 highest; only cuts
        # between distinct scores can be a threshold.
        cut = np.flatnonzero(np.append(column[1:] < column[:-1], True))
        f1 = 2 * true_positives[cut] / (cut + 1 + n_positive)
        best = int(np.argmax(f1))
        yield label, column, cut[best], float(f1[best])


class IndicatorEncoder:
    """The target encoder of a multi-label classifier, for scikeras.

    Keras trains on the indicator matrix itself, as floats. Unlike scikeras'
    own encoder, it never reads an indicator with one label per row as
    one-hot classes: an indicator is multi-label, as in ``MLPClassifier``.
    """

    def fit(self, y) -> "IndicatorEncoder":
        self.n_labels_ = np.shape(y)[1]
        return self

    def transform(self, y) -> np.ndarray:
        return np.asarray(y, dtype=np.float32)

    def inverse_transform(self, proba, return_proba: bool = False) -> np.ndarray:
        # The classifier thresholds the probabilities itself.
        return np.asarray(proba).reshape(-1, self.n_labels_)

    def get_metadata(self) -> dict:
        """The attributes scikeras sets on the classifier, as
        ``MLPClassifier`` names the labels: their column numbers."""
        return {
            "classes_": np.arange(self.n_labels_),
            "n_classes_": self.n_labels_,
            "n_outputs_": 1,
            "n_outputs_expected_": 1,
        }
