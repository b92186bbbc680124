"""Input checks shared by the vectorizer and the classifier.

Each raises a ``TypeError`` or ``ValueError`` that names the problem, before
scikit-learn's, scikeras' or Keras' generic checks see the input.
"""

from collections.abc import Iterable
from difflib import get_close_matches

import numpy as np
from scipy.sparse import issparse
from sklearn.utils.validation import check_consistent_length, column_or_1d

from ._multilabel import check_indicator, is_indicator
from ._sequences import IdSequences


def check_keywords(owner: str, given, valid, prefixes=()) -> None:
    """Refuse keywords that are neither in ``valid`` nor start with a prefix.

    The message names the unknown keyword and the closest valid names, as a
    misspelt ``epoch=5`` deserves.
    """
    for name in given:
        if name in valid or any(name.startswith(f"{p}__") for p in prefixes):
            continue
        close = get_close_matches(name, [*valid, *(f"{p}__" for p in prefixes)])
        hint = f"; did you mean {' or '.join(map(repr, close))}?" if close else ""
        routes = ", ".join(f"{p}__*" for p in prefixes)
        raise TypeError(
            f"{owner} got an unexpected keyword argument {name!r}{hint} "
            f"(valid names: {', '.join(sorted(valid))}"
            + (f"; routed names: {routes})" if routes else ")")
        )


def check_ids(X, name: str) -> IdSequences:
    """Id sequences as :class:`IdSequences`, from themselves or a padded 2-D
    array of ids; text and non-id input are refused, each with a message that
    names the problem."""
    if isinstance(X, IdSequences):
        _check_id_range(X.ids, name)
        _check_not_empty(X.shape, name)
        return X
    if isinstance(X, str | bytes):
        raise TypeError(
            f"{name} expects id sequences, got a string; put a "
            "GloveSequenceVectorizer before it (see make_glove_pipeline)"
        )
    if issparse(X):
        raise TypeError(
            f"{name} expects a dense array of id sequences; sparse input is not "
            "supported"
        )
    X = np.asarray(X) if not hasattr(X, "dtype") else X
    if X.dtype.kind == "O":
        # Numbers in an object array (e.g. a mixed pandas frame) are still ids.
        try:
            X = np.asarray(X, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"{name} expects integer id sequences from GloveSequenceVectorizer, "
                f"got an array of dtype object ({exc}); use make_glove_pipeline "
                "to vectorize text first"
            ) from None
    if X.dtype.kind in "US":
        raise TypeError(
            f"{name} expects integer id sequences from GloveSequenceVectorizer, "
            f"got an array of dtype {X.dtype}; use make_glove_pipeline to "
            "vectorize text first"
        )
    if X.ndim != 2:
        raise ValueError(
            f"{name} expects a 2-D array of id sequences, got shape {X.shape}; "
            "Reshape your data to one row per document, e.g. with "
            "X.reshape(1, -1) for a single sequence"
        )
    if X.dtype.kind == "c":
        raise ValueError(f"{name} expects integer ids: Complex data not supported")
    if X.dtype.kind == "f":
        if not np.all(np.isfinite(X)):
            raise ValueError(f"{name} expects integer ids, got NaN or inf")
        if np.any(X != np.round(X)):
            raise ValueError(f"{name} expects integer ids, got non-integer values")
        X = X.astype(np.int64)
    elif X.dtype.kind not in "iu":
        raise TypeError(f"{name} expects integer ids, got dtype {X.dtype}")
    _check_id_range(X, name)
    _check_not_empty(X.shape, name)
    return IdSequences.from_array(X.astype(np.int32, copy=False))


def _check_id_range(ids: np.ndarray, name: str) -> None:
    if ids.size and ids.min() < 0:
        # "Negative values in data" is scikit-learn's wording for positive_only.
        raise ValueError(
            f"Negative values in data passed to {name}: it expects non-negative "
            f"ids, got {ids.min()}"
        )
    if ids.size and ids.max() > np.iinfo(np.int32).max:
        raise ValueError(f"{name} expects ids below 2**31, got {ids.max()}")


def _check_not_empty(shape: tuple, name: str) -> None:
    # scikit-learn's wording, which its checks look for.
    for n, what in zip(shape, ("sample", "feature"), strict=True):
        if n < 1:
            raise ValueError(
                f"Found array with {n} {what}(s) (shape={shape}) while a "
                f"minimum of 1 is required by {name}."
            )


def check_labels(y: np.ndarray) -> None:
    """Name missing labels, which scikeras reports as a failed comparison."""
    if y.dtype.kind == "f":
        missing = np.isnan(y).ravel()
    elif y.dtype.kind == "O":
        missing = np.fromiter(map(_is_missing, y.ravel()), dtype=bool, count=y.size)
    else:
        return
    if missing.any():
        raise ValueError(
            f"Input y contains NaN or None: {missing.sum()} missing label(s), the "
            f"first at position {np.flatnonzero(missing)[0]}; drop those samples "
            "or fill in their labels"
        )


def check_targets(y, X=None):
    """Refuse missing labels, malformed indicator matrices, and labels of
    another length than ``X``; return ``y``: a column vector made 1-D with
    scikit-learn's warning, a multi-label indicator (sparse or 2-D with
    several columns) as a dense array."""
    if is_indicator(y):
        y = check_indicator(y)
    labels = np.asarray(y)
    check_labels(labels)
    if labels.shape[1:] == (1,):
        y = column_or_1d(y, warn=True)
    elif labels.ndim > 2:
        raise ValueError(
            f"y has shape {labels.shape}: a label per sample (1-D) or a "
            "multi-label indicator matrix (2-D) is supported"
        )
    if X is not None:
        check_consistent_length(X, y)
    return y


def check_sequence_length(X, expected: int | None, name: str) -> None:
    """Refuse id sequences of another length than at fit (``expected``;
    None: unchecked)."""
    if expected is not None and X.shape[1] != expected:
        # scikit-learn's wording; here a feature is a sequence position.
        raise ValueError(
            f"X has {X.shape[1]} features, but {name} is expecting "
            f"{expected} features as input (id sequences of length "
            f"{expected}: the vectorizer's max_len at fit)"
        )


def _is_missing(value) -> bool:
    try:
        return value is None or bool(value != value)
    except TypeError:  # pandas.NA has no truth value
        return True


def check_documents(raw_documents) -> list[str]:
    """Return the documents as a list of str, or raise a clear error."""
    if isinstance(raw_documents, str | bytes):
        raise ValueError(
            "Iterable over raw text documents expected, string object received."
        )
    if getattr(raw_documents, "ndim", 1) != 1:
        raise ValueError(
            "expected a 1-D sequence of documents, got an array of shape "
            f"{raw_documents.shape}; select the text column first"
        )
    if not isinstance(raw_documents, Iterable):
        raise TypeError(
            "Iterable over raw text documents expected, got "
            f"{type(raw_documents).__name__}"
        )
    documents = list(raw_documents)
    if not documents:
        raise ValueError("empty corpus: at least one document is needed")
    for i, doc in enumerate(documents):
        if not isinstance(doc, str):
            hint = " (decode bytes to str first)" if isinstance(doc, bytes) else ""
            raise TypeError(
                f"documents must be str, but document {i} is "
                f"{type(doc).__name__} {doc!r:.40}{hint}"
            )
    return documents
