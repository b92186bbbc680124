"""The id contract shared by the vectorizer, the classifier and the networks.

Id :data:`PAD` is padding and :data:`OOV` an out-of-vocabulary word; the word
on row ``r`` of the GloVe source is id ``r + FIRST_WORD_ID``
(:func:`glove_id`), and kept words that GloVe lacks get the ids after the
last GloVe row (:func:`missing_word_id`). A classifier compacts the ids it
needs into consecutive rows of a small table
(:class:`skglove._table.IdTable`).

Sequences of ids are :class:`skglove._sequences.IdSequences`, which also
name the id space they are in, so that a classifier reading another GloVe
source's rows can refuse them. NumPy only.
"""

PAD = 0
OOV = 1
#: The first id that stands for a word.
FIRST_WORD_ID = 2

#: The id space of a vectorizer with ``glove=None``: words by frequency rank.
RANK_IDS = "frequency ranks (glove=None)"


def glove_id(row):
    """The id of the word on GloVe row ``row`` (an int or an array)."""
    return row + FIRST_WORD_ID


def glove_row(ids):
    """The GloVe row of each id; meaningful for word ids only."""
    return ids - FIRST_WORD_ID


def missing_word_id(n_glove_rows: int, k: int) -> int:
    """The id of the ``k``-th kept word that a source of ``n_glove_rows`` lacks."""
    return FIRST_WORD_ID + n_glove_rows + k
