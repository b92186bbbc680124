"""The id contract shared by the vectorizer, the classifier and the networks.

Id :data:`PAD` is padding and :data:`OOV` an out-of-vocabulary word; the word
on row ``r`` of the GloVe source is id ``r + FIRST_WORD_ID``
(:func:`glove_id`), and kept words that GloVe lacks get the ids after the
last GloVe row (:func:`missing_word_id`). A classifier compacts the ids it
needs into consecutive rows of a small table (:class:`IdTable`).

Sequences from :class:`GloveSequenceVectorizer` are :class:`IdSequences`:
plain arrays that also name the id space they are in, so that a classifier
reading another GloVe source's rows can refuse them. NumPy only.
"""

import numpy as np

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


class IdSequences(np.ndarray):
    """An array of id sequences that names its id space in ``.source``.

    ``source`` is the fingerprint of the GloVe source whose rows the ids
    follow (``GloveVectors.fingerprint``), :data:`RANK_IDS`, or None when
    unknown. Slices and copies keep it; ``np.asarray`` gives a plain array.
    """

    source: str | None = None

    def __new__(cls, array, source: str | None):
        ids = np.asarray(array).view(cls)
        ids.source = source
        return ids

    def __array_finalize__(self, obj) -> None:
        self.source = getattr(obj, "source", None)

    def __reduce__(self):
        return IdSequences, (np.asarray(self), self.source)


def id_source(X) -> str | None:
    """The id space ``X`` names, or None for a plain array."""
    return getattr(X, "source", None) if isinstance(X, IdSequences) else None


class IdTable:
    """Map ids to consecutive rows of a small embedding table.

    The word ids seen at :meth:`fit`, ascending, get rows ``2, 3, ...``; then
    come ``extra_ids`` that were not seen. Padding stays row 0, and every
    other id becomes row 1 (out-of-vocabulary). ``df_`` counts the fit
    sequences in which each row occurs.
    """

    def __init__(self, extra_ids=None):
        self.extra_ids = extra_ids

    def fit(self, X, y=None) -> "IdTable":
        X = np.asarray(X)
        seen = np.unique(X)
        seen = seen[seen >= FIRST_WORD_ID]
        extra = np.empty(0, dtype=np.int64)
        if self.extra_ids is not None:
            extra = np.setdiff1d(self.extra_ids, seen)
        return self.restore(np.concatenate([seen, extra]), len(seen), X)

    def restore(self, ids, n_seen: int, X=None) -> "IdTable":
        """Set the table's ids; with ``X``, count their document frequencies."""
        self.ids_ = np.asarray(ids, dtype=np.int64)
        self.n_seen_ = int(n_seen)
        if X is not None:
            self.n_documents_ = len(X)
            self.df_ = _document_frequency(self.transform(X), self.n_rows)
        return self

    @property
    def n_rows(self) -> int:
        return FIRST_WORD_ID + len(self.ids_)

    def transform(self, X) -> np.ndarray:
        X = np.asarray(X)
        if not len(self.ids_):
            return np.where(X < FIRST_WORD_ID, X, OOV).astype(np.int32)
        order = np.argsort(self.ids_, kind="stable")
        ordered = self.ids_[order]
        pos = np.minimum(np.searchsorted(ordered, X), len(ordered) - 1)
        rows = np.where(ordered[pos] == X, order[pos] + FIRST_WORD_ID, OOV)
        return np.where(X < FIRST_WORD_ID, X, rows).astype(np.int32)

    def unknown(self, X) -> np.ndarray:
        """The distinct word ids of ``X`` that have no row."""
        words = np.unique(np.asarray(X))
        words = words[words >= FIRST_WORD_ID]
        return np.setdiff1d(words, self.ids_)

    def idf(self) -> np.ndarray:
        """Smoothed idf per row, as ``TfidfVectorizer``'s; 0 for padding and OOV.

        Rows never seen at fit get the idf of a word in no document.
        """
        n = self.n_documents_
        idf = np.log((1 + n) / (1 + self.df_)) + 1
        idf[:FIRST_WORD_ID] = 0
        return idf.astype(np.float32)

    def embedding_matrix(self, vectors: np.ndarray) -> np.ndarray:
        """The rows of ``vectors`` (a GloVe table) for the table's ids.

        Padding, OOV and ids past GloVe (kept words it lacks) stay zero.
        """
        matrix = np.zeros((self.n_rows, vectors.shape[1]), dtype=np.float32)
        rows = glove_row(self.ids_)
        in_glove = rows < len(vectors)
        matrix[FIRST_WORD_ID:][in_glove] = vectors[rows[in_glove]]
        return matrix

    def missing_rows(self, n_glove_rows: int) -> np.ndarray:
        """A mask over the table's rows: the kept words GloVe lacks."""
        mask = np.zeros(self.n_rows, dtype=bool)
        mask[FIRST_WORD_ID:] = glove_row(self.ids_) >= n_glove_rows
        return mask


def _document_frequency(rows: np.ndarray, n_rows: int) -> np.ndarray:
    """In how many sequences (rows of ``rows``) each table row occurs."""
    ordered = np.sort(rows, axis=1)
    first = np.ones(ordered.shape, dtype=bool)
    first[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    return np.bincount(ordered[first], minlength=n_rows)
