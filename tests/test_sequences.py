"""Tests of IdSequences (skglove._sequences): it stands for its padded array
wherever NumPy and scikit-learn read it, and refuses what it cannot hold."""

import numpy as np
import pytest
from sklearn.utils import _safe_indexing

from skglove._sequences import IdSequences

#: Sequences of 2, 0, 4 and 1 ids, padded to 4.
IDS = [5, 6, 7, 8, 9, 10, 11]
OFFSETS = [0, 2, 2, 6, 7]


@pytest.fixture(params=["pre", "post"])
def X(request):
    return IdSequences(IDS, OFFSETS, max_len=4, padding=request.param)


KEYS = [
    1,
    -1,
    np.int64(2),
    slice(1, 3),
    [3, 0, 0],
    np.array([True, False, True, False]),
    (slice(None), 2),
    (slice(1, None), np.array([0, 3])),
    (0, np.array([1, 2])),
    ([0, 2], [1, 3]),
    (np.array([True, False, True, True]), np.array([0, 1, 3])),
    ([2, 3], 1),
    (Ellipsis, 3),
    (slice(None), slice(1, 3)),
]


@pytest.mark.parametrize("key", KEYS, ids=repr)
def test_indexing_gives_what_the_padded_array_gives(X, key):
    expected = X.toarray()[key]
    got = X[key]
    np.testing.assert_array_equal(np.asarray(got), expected)
    assert np.shape(got) == expected.shape


def test_safe_indexing_of_columns_as_of_the_padded_array(X):
    columns = np.array([1, 2])
    np.testing.assert_array_equal(
        _safe_indexing(X, columns, axis=1), X.toarray()[:, columns]
    )


def test_rows_iterate_as_the_padded_rows(X):
    np.testing.assert_array_equal(np.array(list(X)), X.toarray())


@pytest.mark.parametrize("method", ["fill", "sort", "put"])
def test_in_place_methods_raise_rather_than_change_a_copy(X, method):
    before = X.toarray()
    args = {"fill": (0,), "sort": (), "put": ([0], [1])}[method]
    with pytest.raises(ValueError, match="read-only"):
        getattr(X, method)(*args)
    np.testing.assert_array_equal(X.toarray(), before)
    assert not X.flags.writeable


def test_no_view_without_a_copy(X):
    with pytest.raises(ValueError, match="no padded array to share"):
        np.array(X, copy=False)
    np.testing.assert_array_equal(np.array(X, copy=None), X.toarray())


@pytest.mark.parametrize(
    "ids, offsets, error, message",
    [
        ([2**32 + 5], [0, 1], ValueError, "ids must lie in"),
        ([-(2**31) - 1], [0, 1], ValueError, "ids must lie in"),
        ([2.7], [0, 1], TypeError, "ids must be integers, got fractions"),
        ([np.nan], [0, 1], TypeError, "ids must be integers, got dtype float64"),
        ([5, 6], [0, 1.5, 2], TypeError, "offsets must be integers"),
        ([5], np.array([0, 2**64 - 1], np.uint64), ValueError, "offsets must lie in"),
    ],
)
def test_ids_and_offsets_the_dtypes_cannot_hold_are_refused(
    ids, offsets, error, message
):
    with pytest.raises(error, match=message):
        IdSequences(np.asarray(ids), np.asarray(offsets, dtype=None), max_len=4)


def test_from_array_names_a_wrong_number_of_dimensions():
    with pytest.raises(ValueError, match=r"2-D array .* got shape \(3,\)"):
        IdSequences.from_array(np.array([1, 2, 3]))


def test_whole_numbers_read_as_floats_are_ids():
    X = IdSequences.from_array(np.array([[0.0, 2.0, 3.0], [4.0, 5.0, 6.0]]))
    np.testing.assert_array_equal(X.toarray(), [[0, 2, 3], [4, 5, 6]])
    assert X.ids.dtype == np.int32
