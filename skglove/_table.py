"""The classifier's id table: the ids it reads, compacted into the rows of a
small embedding table, with their document frequencies. NumPy only."""

import numpy as np

from ._ids import FIRST_WORD_ID, OOV, glove_row
from ._sequences import IdSequences, as_sequences

__all__ = ["IdTable"]


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
        """Give rows to the word ids of ``X`` (:class:`IdSequences` or a
        padded array), then to ``extra_ids``."""
        X = as_sequences(X)
        seen = _distinct(X.ids)
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
            self.df_ = _document_frequency(self, X)
        return self

    @property
    def n_rows(self) -> int:
        return FIRST_WORD_ID + len(self.ids_)

    def transform(self, X):
        """The row of each id: of an :class:`IdSequences` (giving another,
        with the same offsets, that maps its ids as it is read) or of an int
        array of any shape."""
        if isinstance(X, IdSequences):
            return _TableRows(X, _row_mapping(self.ids_, X.ids))
        X = np.asarray(X)
        return _mapped(_row_mapping(self.ids_, X), X)

    def unknown(self, X) -> np.ndarray:
        """The distinct word ids of ``X`` (:class:`IdSequences` or a padded
        array) that have no row."""
        words = _distinct(as_sequences(X).ids)
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


#: Ids up to this bound are told apart with a count per id (memory that does
#: not grow with the data), larger ones by sorting.
_COUNTED_IDS = 1 << 24
#: About this many ids are counted at once, to bound the memory of a count.
_CHUNK_IDS = 1 << 20


def _distinct(ids: np.ndarray) -> np.ndarray:
    """The distinct values of ``ids`` (non-negative), ascending, as int64."""
    if not len(ids):
        return np.empty(0, dtype=np.int64)
    if ids.max() < _COUNTED_IDS:
        return np.flatnonzero(np.bincount(ids)).astype(np.int64)
    return np.unique(ids).astype(np.int64)


class _TableRows(IdSequences):
    """The table rows of id sequences, mapped as they are read.

    :meth:`take` and :meth:`toarray`, which give batches, map only what they
    return, so a fit or a prediction holds no second copy of every id.
    """

    def __init__(self, sequences: IdSequences, rows_of):
        # No IdSequences.__init__: the ids stay those of ``sequences``.
        self._sequences = sequences
        self._rows_of = rows_of
        self.offsets = sequences.offsets
        self.max_len = sequences.max_len
        self.padding = sequences.padding
        self.source = sequences.source

    @property
    def ids(self) -> np.ndarray:
        return _mapped(self._rows_of, self._sequences.ids)

    @property
    def nbytes(self) -> int:
        return self._sequences.nbytes

    def take(self, rows) -> IdSequences:
        taken = self._sequences.take(rows)
        return IdSequences(
            _mapped(self._rows_of, taken.ids),
            taken.offsets,
            self.max_len,
            self.padding,
            self.source,
        )

    def toarray(self, length: int | None = None) -> np.ndarray:
        # Padding is row 0 of every table.
        return _mapped(self._rows_of, self._sequences.toarray(length))


def _mapped(rows_of, X: np.ndarray) -> np.ndarray:
    """``rows_of`` applied to ``X``, in chunks, so that the mapping's
    temporaries stay small."""
    flat = X.reshape(-1)
    rows = np.empty(flat.shape, dtype=np.int32)
    for start in range(0, len(flat), _CHUNK_IDS):
        stop = start + _CHUNK_IDS
        rows[start:stop] = rows_of(flat[start:stop])
    return rows.reshape(X.shape)


def _row_mapping(ids: np.ndarray, X: np.ndarray):
    """A function that maps a chunk of ``X``'s ids to the rows of the table
    of ``ids``: padding and OOV (any id below ``FIRST_WORD_ID``) to
    themselves, ``ids[k]`` to ``FIRST_WORD_ID + k``, other ids to ``OOV``."""
    if X.dtype.kind in "iu" and X.size and 0 <= X.min() and X.max() < _COUNTED_IDS:
        # A row per id up to X's largest: one gather, no temporaries.
        lookup = np.full(int(X.max()) + 1, OOV, dtype=np.int32)
        special = min(FIRST_WORD_ID, len(lookup))
        lookup[:special] = np.arange(special)
        rows = np.arange(FIRST_WORD_ID, FIRST_WORD_ID + len(ids), dtype=np.int32)
        inside = (ids >= FIRST_WORD_ID) & (ids < len(lookup))
        # Reversed, so that a repeated id keeps its first row, as the search.
        lookup[ids[inside][::-1]] = rows[inside][::-1]
        return lookup.take
    if not len(ids):
        return lambda chunk: np.where(chunk < FIRST_WORD_ID, chunk, OOV)
    # Ids too large for a lookup array: a binary search among the sorted ids.
    order = np.argsort(ids, kind="stable")
    ordered = ids[order]

    def search(chunk):
        pos = np.minimum(np.searchsorted(ordered, chunk), len(ordered) - 1)
        rows = np.where(ordered[pos] == chunk, order[pos] + FIRST_WORD_ID, OOV)
        return np.where(chunk < FIRST_WORD_ID, chunk, rows)

    return search


def _document_frequency(table: IdTable, X: IdSequences) -> np.ndarray:
    """In how many sequences of ``X`` each row of ``table`` occurs.

    Each chunk of sequences is mapped to rows on its own: the rows of the
    whole of ``X`` are never held at once.
    """
    n_rows = table.n_rows
    df = np.zeros(n_rows, dtype=np.int64)
    step = max(1, _CHUNK_IDS // max(1, X.max_len))
    for start in range(0, len(X), step):
        chunk = X[start : start + step]
        doc = np.repeat(np.arange(len(chunk), dtype=np.int64), chunk.lengths)
        pairs = _distinct(doc * n_rows + table.transform(chunk.ids))
        df += np.bincount(pairs % n_rows, minlength=n_rows)
    return df
