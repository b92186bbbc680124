"""The schema of a classifier's fitted state in an archive of :func:`skglove.save`.

:func:`classifier_state` turns the fitted attributes besides ``model_`` into
JSON-ready values, and :func:`classifier_from_state` checks them and hands
them to ``GloveCNNClassifier._restore``. Archives written by older versions
lack the newer keys, which get the values that keep their meaning.
"""

from collections import defaultdict

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ._ids import IdTable


def classifier_state(clf) -> dict:
    """The fitted attributes of ``clf`` besides ``model_``, as JSON values."""
    check_is_fitted(clf, "model_")
    return {
        "classes": {
            "dtype": clf.classes_.dtype.str,
            "values": clf.classes_.tolist(),
        },
        "target_type": clf.target_type_,
        "y_dtype": clf.y_dtype_.str,
        "y_ndim": int(clf.y_ndim_),
        "X_shape": [int(n) for n in clf.X_shape_],
        "n_features_in": int(clf.n_features_in_),
        "ids": clf.feature_encoder_.ids_.tolist(),
        "n_seen_ids": int(clf.feature_encoder_.n_seen_),
        "mix": None if clf.mix_ is None else [float(w) for w in clf.mix_],
        "id_source": getattr(clf, "_id_source", None),
        "history": {
            key: [float(v) for v in values] for key, values in clf.history_.items()
        },
    }


def classifier_from_state(cls, params: dict, state: dict, model):
    """A fitted ``cls`` from :func:`classifier_state`'s output and its network."""
    if not isinstance(state, dict):
        raise ValueError("the classifier state must be a JSON object")
    try:
        classes = state["classes"]
        y_dtype = _label_dtype(state["y_dtype"])
        classes = np.asarray(classes["values"], dtype=_label_dtype(classes["dtype"]))
        ids = np.asarray(state["ids"], dtype=np.int64)
        history = state["history"].items()
        fitted = {
            "target_type_": str(state["target_type"]),
            "y_ndim_": int(state["y_ndim"]),
            "X_shape_": tuple(int(n) for n in state["X_shape"]),
            "n_features_in_": int(state["n_features_in"]),
            "history_": defaultdict(
                list, {str(k): [float(v) for v in vals] for k, vals in history}
            ),
        }
        n_seen = int(state.get("n_seen_ids", len(ids)))
        mix = state.get("mix")
        fitted["mix_"] = None if mix is None else np.asarray(mix, dtype=np.float32)
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise ValueError(f"malformed classifier state: {exc!r}") from None
    source = state.get("id_source")
    if source is not None and not isinstance(source, str):
        raise ValueError("the classifier state's id_source must be a string")
    if ids.ndim != 1 or not 0 <= n_seen <= len(ids):
        raise ValueError("the classifier state's ids must be a list of ints")
    return cls._restore(
        params,
        classes=classes,
        y_dtype=y_dtype,
        model=model,
        table=IdTable().restore(ids, n_seen),
        _id_source=source,
        **fitted,
    )


def _label_dtype(text: str) -> np.dtype:
    """A label dtype from its string form: bool, number, str or object only."""
    dtype = np.dtype(text)
    if dtype.kind not in "biufUO":
        raise ValueError(f"unsupported label dtype {text!r}")
    return dtype
