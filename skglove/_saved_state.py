"""The schema of fitted state in an archive of :func:`skglove.save`.

``*_state`` turns an estimator's fitted state into JSON values, and
``*_from_state`` checks such values (every wrong field is a ``ValueError``
that names it) and sets them on a new estimator. Archives written by older
versions lack the newer fields, which get the values that keep their meaning.

The classifier's fitted attributes are scikeras': it hands its state over as
plain values (``_fitted_state``) and is rebuilt from them (``_restore``).
"""

from collections import defaultdict
from numbers import Real

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ._json_values import field
from ._table import IdTable
from ._vectorizer import GloveSequenceVectorizer, set_unseen_words, unseen_words

# Ids are int32 in the networks (check_ids).
_MAX_ID = 2**31


def vectorizer_state(vectorizer: GloveSequenceVectorizer) -> dict:
    """The fitted attributes of a vectorizer, as JSON values."""
    check_is_fitted(vectorizer, "vocabulary_")
    return {
        "vocabulary": vectorizer.vocabulary_,
        "missing_words": vectorizer.missing_words_,
        "glove_coverage": vectorizer.glove_coverage_,
        "unseen_words": unseen_words(vectorizer),
        "id_source": getattr(vectorizer, "id_source_", None),
    }


def vectorizer_from_state(
    params: dict, state: dict, where: str
) -> GloveSequenceVectorizer:
    """A fitted vectorizer from its parameters and :func:`vectorizer_state`."""
    vectorizer = GloveSequenceVectorizer(**params)
    vectorizer._validate_params()
    vocabulary = field(state, "vocabulary", dict, where)
    _ints(list(vocabulary.values()), "the vocabulary's ids", _MAX_ID)
    missing = _strings(field(state, "missing_words", list, where), "missing_words")
    coverage = field(state, "glove_coverage", (dict, type(None)), where)
    if coverage is not None and (
        set(coverage) != {"words", "tokens"}
        or not all(
            isinstance(v, Real) and not isinstance(v, bool) for v in coverage.values()
        )
    ):
        raise ValueError("glove_coverage must be None or hold 'words' and 'tokens'")
    # Archives written before unseen_glove_words existed let no word through.
    unseen = _strings(_optional(state, "unseen_words", list, where, []), "unseen_words")
    vectorizer.vocabulary_ = dict(vocabulary)
    vectorizer.missing_words_ = list(missing)
    vectorizer.glove_coverage_ = coverage
    set_unseen_words(vectorizer, unseen)
    # Archives written before id spaces were named carry none: unchecked.
    vectorizer.id_source_ = _optional(
        state, "id_source", (str, type(None)), where, None
    )
    return vectorizer


def classifier_state(clf) -> dict:
    """The fitted state of a classifier besides its network, as JSON values.

    The classifier gives it as plain values (``_fitted_state``), and refuses
    if it is not fitted.
    """
    fitted = clf._fitted_state()
    classes = fitted["classes"]
    return {
        "classes": {"dtype": classes.dtype.str, "values": classes.tolist()},
        "target_type": fitted["target_type"],
        "y_dtype": fitted["y_dtype"].str,
        "y_ndim": int(fitted["y_ndim"]),
        "X_shape": [int(n) for n in fitted["X_shape"]],
        "n_features_in": int(fitted["n_features_in"]),
        "ids": fitted["ids"].tolist(),
        "n_seen_ids": int(fitted["n_seen_ids"]),
        "mix": _floats(fitted["mix"]),
        "threshold": _floats(fitted["threshold"]),
        "lexical_C": fitted["lexical_C"],
        "id_source": fitted["id_source"],
        "history": {
            key: [float(v) for v in values] for key, values in fitted["history"].items()
        },
    }


def classifier_from_state(cls, params: dict, state: dict, load_network, where: str):
    """A fitted ``cls`` from :func:`classifier_state`'s output.

    ``load_network()`` gives the network; it is called once the state checks
    out.
    """
    classes = field(state, "classes", dict, where)
    where_classes = f"{where}: classes"
    values = field(classes, "values", list, where_classes)
    dtype = _label_dtype(field(classes, "dtype", str, where_classes))
    ids = _ints(field(state, "ids", list, where), "ids", _MAX_ID)
    n_seen = _optional(state, "n_seen_ids", int, where, len(ids))
    if not 0 <= n_seen <= len(ids):
        raise ValueError(f"{where}: n_seen_ids must be between 0 and {len(ids)}")
    mix = _optional(state, "mix", (list, type(None)), where, None)
    # Archives of single-label classifiers before multi-label hold none.
    threshold = _optional(state, "threshold", (list, type(None)), where, None)
    # Archives before the solved lexical channel hold none.
    lexical_C = _optional(state, "lexical_C", (float, type(None)), where, None)
    history = field(state, "history", dict, where)
    try:
        fitted = {
            "target_type_": field(state, "target_type", str, where),
            "y_ndim_": field(state, "y_ndim", int, where),
            "X_shape_": tuple(
                _ints(field(state, "X_shape", list, where), "X_shape", 2**62)
            ),
            "n_features_in_": field(state, "n_features_in", int, where),
            "mix_": None if mix is None else np.asarray(mix, dtype=np.float32),
            "threshold_": None
            if threshold is None
            else np.asarray(threshold, dtype=np.float64),
            "lexical_C_": lexical_C,
            "history_": defaultdict(
                list, {str(k): [float(v) for v in vals] for k, vals in history.items()}
            ),
            "_id_source": _optional(state, "id_source", (str, type(None)), where, None),
        }
        classes = np.asarray(values, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where}: malformed state ({exc})") from None
    return cls._restore(
        params,
        classes=classes,
        y_dtype=_label_dtype(field(state, "y_dtype", str, where)),
        model=load_network(),
        table=IdTable().restore(ids, n_seen),
        **fitted,
    )


def _floats(values):
    """An array as nested lists of floats, for JSON; None stays None."""
    return None if values is None else np.asarray(values, dtype=np.float64).tolist()


def _optional(state: dict, key: str, kinds, where: str, default):
    return field(state, key, kinds, where) if key in state else default


def _strings(values: list, what: str) -> list:
    if not all(isinstance(v, str) for v in values):
        raise ValueError(f"{what} must be a list of str")
    return values


def _ints(values: list, what: str, bound: int) -> list:
    if not all(
        isinstance(v, int) and not isinstance(v, bool) and 0 <= v < bound
        for v in values
    ):
        raise ValueError(f"{what} must be ints from 0 to {bound - 1}")
    return values


def _label_dtype(text: str) -> np.dtype:
    """A label dtype from its string form: bool, number, str or object only."""
    try:
        dtype = np.dtype(text)
    except TypeError:
        raise ValueError(f"unsupported label dtype {text!r}") from None
    if dtype.kind not in "biufUO":
        raise ValueError(f"unsupported label dtype {text!r}")
    return dtype
