"""The input checks both estimators share."""

import numpy as np
import pytest

from skglove._validation import check_documents, check_ids, check_keywords


def test_check_keywords_names_the_closest_valid_names():
    with pytest.raises(TypeError, match=r"'epoch'.*did you mean 'epochs'"):
        check_keywords("f()", {"epoch": 1}, ["epochs", "filters"])
    with pytest.raises(TypeError, match=r"routed names: fit__\*"):
        check_keywords("f()", {"model__x": 1}, ["epochs"], ["fit"])
    check_keywords("f()", {"epochs": 1, "fit__verbose": 0}, ["epochs"], ["fit"])


@pytest.mark.parametrize(
    "documents, error, match",
    [
        ("one string", ValueError, "string object received"),
        ([], ValueError, "empty corpus"),
        (["ok", None], TypeError, "document 1 is NoneType"),
        ([b"bytes"], TypeError, "decode bytes"),
        (np.array([["a"], ["b"]]), ValueError, "1-D"),
        (3, TypeError, "Iterable"),
    ],
)
def test_check_documents(documents, error, match):
    with pytest.raises(error, match=match):
        check_documents(documents)


@pytest.mark.parametrize(
    "X, error, match",
    [
        ("text", TypeError, "got a string"),
        (np.array([["a", "b"]]), TypeError, "dtype <U1"),
        (np.array([1, 2]), ValueError, "2-D"),
        (np.array([[1.5]]), ValueError, "non-integer"),
        (np.array([[np.nan]]), ValueError, "NaN"),
        (np.array([[-1]]), ValueError, "Negative"),
    ],
)
def test_check_ids(X, error, match):
    with pytest.raises(error, match=match):
        check_ids(X, "Clf")


def test_check_ids_accepts_integral_floats_and_returns_int32():
    assert check_ids(np.array([[1.0, 2.0]]), "Clf").dtype == np.int32
