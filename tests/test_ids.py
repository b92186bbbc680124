"""The id contract: ids of GloVe rows and missing words, and the compaction
of ids into a small table."""

import numpy as np
import pytest

from skglove import _table
from skglove._ids import FIRST_WORD_ID, OOV, PAD, glove_id, glove_row, missing_word_id
from skglove._sequences import IdSequences
from skglove._table import IdTable


def test_ids_of_rows_and_missing_words():
    assert (PAD, OOV, FIRST_WORD_ID) == (0, 1, 2)
    assert glove_id(0) == FIRST_WORD_ID and glove_row(glove_id(7)) == 7
    # The first word GloVe lacks comes right after its last row.
    assert missing_word_id(10, 0) == glove_id(10)


def test_id_table_rows_unknown_ids_and_idf():
    table = IdTable(extra_ids=[9, 20]).fit(np.array([[0, 5, 9], [0, 0, 5]]))
    np.testing.assert_array_equal(table.ids_, [5, 9, 20])
    assert table.n_seen_ == 2 and table.n_rows == 5
    np.testing.assert_array_equal(
        table.transform([[0, 1, 5, 7, 9, 20]]), [[0, 1, 2, 1, 3, 4]]
    )
    np.testing.assert_array_equal(table.unknown([[0, 1, 5, 7, 30]]), [7, 30])
    # Padding is no word: it occurs in no document.
    np.testing.assert_array_equal(table.df_, [0, 0, 2, 1, 0])
    idf = table.idf()
    assert idf[PAD] == idf[OOV] == 0 and idf[2] < idf[3] < idf[4]


def test_embedding_matrix_and_missing_rows():
    vectors = np.arange(12, dtype=np.float32).reshape(4, 3)  # a GloVe of 4 rows
    table = IdTable().restore(np.array([glove_id(2), glove_id(0), glove_id(4)]), 3)
    matrix = table.embedding_matrix(vectors)
    np.testing.assert_array_equal(matrix[:2], 0)
    np.testing.assert_array_equal(matrix[2:4], vectors[[2, 0]])
    np.testing.assert_array_equal(matrix[4], 0)  # a word GloVe lacks
    np.testing.assert_array_equal(
        table.missing_rows(len(vectors)), [False, False, False, False, True]
    )


def _searched_rows(ids, X):
    """The rows of ``X`` by a plain dictionary: the contract of transform."""
    row = {int(i): FIRST_WORD_ID + k for k, i in reversed(list(enumerate(ids)))}
    return np.vectorize(lambda i: i if i < FIRST_WORD_ID else row.get(i, OOV))(X)


@pytest.mark.parametrize("largest", [100, 2**24 - 1, 2**24, 2**31 - 1])
def test_transform_by_lookup_and_by_search_agree(monkeypatch, largest):
    # Below 2**24 the ids are looked up in an array, from 2**24 on searched.
    monkeypatch.setattr(_table, "_CHUNK_IDS", 7)  # several chunks
    rng = np.random.default_rng(0)
    ids = np.unique(rng.integers(FIRST_WORD_ID, largest, 20))
    table = IdTable(extra_ids=ids[10:]).fit(np.array([ids[:5], ids[5:10]]))
    X = np.concatenate([[0, 1], ids, rng.integers(0, largest, 30), [largest]])
    X = rng.permutation(X).astype(np.int32).reshape(1, -1)
    rows = table.transform(X)
    assert rows.dtype == np.int32 and rows.shape == X.shape
    np.testing.assert_array_equal(rows, _searched_rows(table.ids_, X))


def test_transform_of_ids_past_the_lookup_bound():
    big = 2**24 + 5
    table = IdTable().fit(np.array([[0, 3, big], [0, 0, big]]))
    np.testing.assert_array_equal(table.ids_, [3, big])
    np.testing.assert_array_equal(
        table.transform([[0, 1, 3, big, big + 1, 2**30]]), [[0, 1, 2, 3, 1, 1]]
    )
    np.testing.assert_array_equal(table.df_, [0, 0, 1, 2])
    empty = IdTable().restore(np.empty(0, dtype=np.int64), 0)
    np.testing.assert_array_equal(empty.transform([[0, 1, 5, big]]), [[0, 1, 1, 1]])
    assert table.transform(np.empty((0, 4), dtype=np.int32)).shape == (0, 4)


def test_document_frequency_over_several_chunks(monkeypatch):
    monkeypatch.setattr(_table, "_CHUNK_IDS", 8)  # two sequences a chunk
    X = IdSequences([5, 9, 5, 9, 9, 7, 5, 2**24 + 1], [0, 2, 3, 5, 6, 8], max_len=4)
    table = IdTable().fit(X)
    np.testing.assert_array_equal(table.ids_, [5, 7, 9, 2**24 + 1])
    np.testing.assert_array_equal(table.df_, [0, 0, 3, 1, 2, 1])


@pytest.mark.parametrize("largest", [100, 2**30])
def test_transform_of_sequences_maps_each_batch_as_the_array(largest):
    # The rows of IdSequences are mapped as they are read, by lookup (small
    # ids) or by search (large ones), and agree with the padded array's.
    rng = np.random.default_rng(1)
    ids = np.unique(rng.integers(FIRST_WORD_ID, largest, 12))
    table = IdTable().fit(np.array([ids[:6], ids[6:]]))
    flat = rng.choice(np.concatenate([ids, [1, largest + 1]]), 40)
    X = IdSequences(flat, [0, 7, 7, 20, 33, 40], max_len=14, padding="post")
    rows = table.transform(X)
    expected = table.transform(X.toarray())
    assert isinstance(rows, IdSequences) and rows.shape == X.shape
    np.testing.assert_array_equal(rows.toarray(), expected)
    np.testing.assert_array_equal(rows.toarray(9), table.transform(X.toarray(9)))
    np.testing.assert_array_equal(rows.take([3, 0]).toarray(), expected[[3, 0]])
    np.testing.assert_array_equal(rows[1:4], expected[1:4])
    np.testing.assert_array_equal(rows.ids, table.transform(flat))
    np.testing.assert_array_equal(rows.lengths, X.lengths)
    # No second copy of the ids: the mapped sequences read the same buffer.
    assert rows.nbytes == X.nbytes
    assert np.shares_memory(rows._sequences.ids, X.ids)
