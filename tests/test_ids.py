"""The id contract: ids of GloVe rows and missing words, and the compaction
of ids into a small table."""

import numpy as np

from skglove._ids import FIRST_WORD_ID, OOV, PAD, glove_id, glove_row, missing_word_id
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
