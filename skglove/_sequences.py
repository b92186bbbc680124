"""Id sequences of different lengths, stored flat, as CSR stores rows.

:class:`IdSequences` is what :class:`GloveSequenceVectorizer` returns. Its
memory follows the words: 4 bytes per kept token and 8 per document, where
the padded ``(n_documents, max_len)`` array costs ``4 * max_len`` bytes per
document. It still behaves as that padded array where scikit-learn looks:
``shape``, ``len``, row indexing (``X[rows]``, ``X[rows, ...]``, boolean
masks, slices), pickling, and ``np.asarray(X)``, which gives the padded array
itself, as do NumPy's functions, operators and array methods (``X != 0``
and ``X.max()`` are the padded array's). NumPy only.
"""

from numbers import Integral

import numpy as np
from numpy.lib.mixins import NDArrayOperatorsMixin

from ._ids import PAD

__all__ = ["IdSequences", "as_sequences", "id_source"]


class IdSequences(NDArrayOperatorsMixin):
    """Id sequences of varying lengths, as one flat array and offsets.

    Sequence ``i`` is ``ids[offsets[i]:offsets[i + 1]]``. The object stands
    for the ``(n_sequences, max_len)`` int32 array of those sequences padded
    with zeros before (``padding="pre"``) or after (``"post"``) their ids, as
    Keras' ``pad_sequences`` pads them: ``np.asarray(X)`` or
    :meth:`toarray` builds it.

    Parameters
    ----------
    ids : array-like of int
        Every sequence's ids, end to end; converted to int32.
    offsets : array-like of int of shape (n_sequences + 1,)
        Where each sequence starts in ``ids``, then ``len(ids)``.
    max_len : int
        The padded length; no sequence is longer.
    padding : {"pre", "post"}, default="pre"
        Where the padded array puts the zeros.
    source : str or None, default=None
        The id space (a GloVe source's fingerprint, or
        ``skglove._ids.RANK_IDS``), or None when unknown. Subsets keep it.

    Attributes
    ----------
    shape : tuple of int
        ``(n_sequences, max_len)``.
    lengths : ndarray of int64
        The number of ids of each sequence.

    Examples
    --------
    >>> from skglove import IdSequences
    >>> X = IdSequences([5, 6, 7], offsets=[0, 2, 3], max_len=3)
    >>> X.shape, X.lengths.tolist()
    ((2, 3), [2, 1])
    >>> X.toarray().tolist()
    [[0, 5, 6], [0, 0, 7]]
    >>> X[1:].toarray(length=1).tolist()
    [[7]]
    """

    ndim = 2
    dtype = np.dtype(np.int32)

    def __init__(self, ids, offsets, max_len: int, padding="pre", source=None):
        self.ids = _as_int_array(ids, np.int32, "ids")
        self.offsets = _as_int_array(offsets, np.int64, "offsets")
        self.max_len = int(max_len)
        self.padding = padding
        self.source = source
        if padding not in ("pre", "post"):
            raise ValueError(f"padding must be 'pre' or 'post', got {padding!r}")
        if (
            self.ids.ndim != 1
            or self.offsets.ndim != 1
            or not len(self.offsets)
            or self.offsets[0] != 0
            or self.offsets[-1] != len(self.ids)
            or np.any(np.diff(self.offsets) < 0)
        ):
            raise ValueError(
                "offsets must start at 0, never decrease and end at len(ids)"
            )
        if len(self.offsets) > 1 and self.lengths.max() > self.max_len:
            raise ValueError(
                f"a sequence holds {self.lengths.max()} ids, more than "
                f"max_len={self.max_len}"
            )

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self), self.max_len)

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    @property
    def nbytes(self) -> int:
        return self.ids.nbytes + self.offsets.nbytes

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __iter__(self):
        for i in range(len(self)):
            yield self._row(i)

    def __repr__(self) -> str:
        return (
            f"IdSequences(n_sequences={len(self)}, max_len={self.max_len}, "
            f"n_ids={len(self.ids)}, padding={self.padding!r})"
        )

    def __getitem__(self, key):
        columns = slice(None)
        if isinstance(key, tuple):
            if len(key) != 2:
                raise IndexError(
                    f"IdSequences takes [rows] or [rows, columns], got {key!r}"
                )
            key, columns = key
            key = slice(None) if key is Ellipsis else key
        if isinstance(key, Integral) and not isinstance(key, bool | np.bool_):
            row = self._row(int(key))
            return row if _every(columns) else row[columns]
        if np.ndim(key) > 1:  # such as a mask of the padded array's cells
            return self.toarray()[key if _every(columns) else (key, columns)]
        numbers = _row_numbers(key, len(self))
        rows = self.take(numbers)
        if _every(columns):
            return rows
        if isinstance(key, slice):
            return rows.toarray()[:, columns]
        # Rows given as an array index the padded rows taken, in their place:
        # with an array of columns they pair up, as in NumPy.
        return rows.toarray()[np.arange(len(numbers)), columns]

    def _row(self, i: int) -> np.ndarray:
        """Row ``i`` of the padded array, from that sequence alone."""
        return self.take(np.array([i])).toarray()[0]

    def take(self, rows) -> "IdSequences":
        """The sequences ``rows`` (int positions), in that order."""
        rows = np.asarray(rows, dtype=np.int64)
        n = len(self)
        if rows.size and (rows.min() < -n or rows.max() >= n):
            raise IndexError(f"row index out of range for {n} sequences")
        rows = np.where(rows < 0, rows + n, rows)
        starts = self.offsets[rows]
        lengths = self.offsets[rows + 1] - starts
        offsets = np.concatenate([[0], np.cumsum(lengths)])
        # Position of each output id in self.ids: its sequence's start plus
        # its place in the sequence.
        within = np.arange(offsets[-1]) - np.repeat(offsets[:-1], lengths)
        ids = self.ids[np.repeat(starts, lengths) + within]
        return IdSequences(ids, offsets, self.max_len, self.padding, self.source)

    def toarray(self, length: int | None = None) -> np.ndarray:
        """The sequences padded with zeros to ``length`` (default ``max_len``),
        on the side ``padding`` names; longer sequences keep their last ids
        (``"pre"``) or their first (``"post"``)."""
        length = self.max_len if length is None else int(length)
        lengths = self.lengths
        kept = np.minimum(lengths, length)
        out = np.full((len(self), length), PAD, dtype=np.int32)
        if not len(self):
            return out
        rows = np.repeat(np.arange(len(self)), kept)
        within = np.arange(kept.sum()) - np.repeat(np.cumsum(kept) - kept, kept)
        if self.padding == "pre":
            columns = within + np.repeat(length - kept, kept)
            source = within + np.repeat(self.offsets[1:] - kept, kept)
        else:
            columns = within
            source = within + np.repeat(self.offsets[:-1], kept)
        out[rows, columns] = self.ids[source]
        return out

    def __array__(self, dtype=None, copy=None):
        if copy is False:
            raise ValueError(
                "IdSequences holds no padded array to share: np.asarray(X) "
                "builds one, a copy"
            )
        array = self.toarray()
        return array if dtype is None else array.astype(dtype, copy=False)

    def __getattr__(self, name):
        # The padded array's other attributes (X.min(), X.tolist(), X.T, ...),
        # computed on it. Dunder names are left alone, for pickle and copy.
        if name.startswith("__") or not hasattr(np.ndarray, name):
            raise AttributeError(
                f"{type(self).__name__!r} object has no attribute {name!r}"
            )
        # Read-only, so that X.fill(0) or X.sort() fail rather than change
        # a copy that is then dropped.
        array = self.toarray()
        array.flags.writeable = False
        return getattr(array, name)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        # Operators and ufuncs act on the padded array and return arrays.
        if any(isinstance(x, IdSequences) for x in kwargs.get("out", ())):
            return NotImplemented
        inputs = [np.asarray(x) if isinstance(x, IdSequences) else x for x in inputs]
        return getattr(ufunc, method)(*inputs, **kwargs)

    @classmethod
    def from_array(cls, X, source=None) -> "IdSequences":
        """The sequences of a padded 2-D id array, such that :meth:`toarray`
        gives ``X`` back: each row from its first nonzero id to the end if
        every row ends with an id (``"pre"`` padding), otherwise from column 0
        to its last nonzero id (``"post"``). Zeros inside a sequence are kept.
        """
        X = np.asarray(X)
        if X.ndim != 2:
            raise ValueError(
                f"expected a 2-D array of padded id sequences, got shape {X.shape}"
            )
        n_columns = X.shape[1]
        is_id = X != PAD
        any_id = is_id.any(axis=1)
        if np.all(is_id[any_id, -1]):
            start = np.where(any_id, is_id.argmax(axis=1), n_columns)
            end, padding = np.full(len(X), n_columns), "pre"
        else:
            last = n_columns - is_id[:, ::-1].argmax(axis=1)
            start, end, padding = (
                np.zeros(len(X), int),
                np.where(any_id, last, 0),
                "post",
            )
        columns = np.arange(n_columns)
        inside = (columns >= start[:, None]) & (columns < end[:, None])
        offsets = np.concatenate([[0], np.cumsum(end - start)])
        return cls(X[inside], offsets, n_columns, padding, source)


def _every(columns) -> bool:
    return columns is Ellipsis or (
        isinstance(columns, slice) and columns == slice(None)
    )


def _as_int_array(values, dtype, name: str) -> np.ndarray:
    """``values`` as a 1-D array of ``dtype``, refusing what the cast would
    change: fractions, or integers out of its range."""
    array = np.asarray(values)
    if array.dtype == dtype:
        return array
    if array.dtype.kind == "f" and np.all(np.isfinite(array)):
        # Whole numbers read as floats (np.loadtxt, pandas) are still ids.
        if np.any(array != np.round(array)):
            raise TypeError(f"{name} must be integers, got fractions")
    elif array.size and array.dtype.kind not in "iub":
        raise TypeError(f"{name} must be integers, got dtype {array.dtype}")
    limits = np.iinfo(dtype)
    if array.size and (array.min() < limits.min or array.max() > limits.max):
        raise ValueError(
            f"{name} must lie in [{limits.min}, {limits.max}] to be stored as "
            f"{np.dtype(dtype).name}"
        )
    return array.astype(dtype)


def _row_numbers(key, n: int) -> np.ndarray:
    if isinstance(key, slice):
        return np.arange(n)[key]
    key = np.asarray(key)
    if key.dtype == bool:
        if key.shape != (n,):
            raise IndexError(
                f"boolean index of shape {key.shape} does not match {n} sequences"
            )
        return np.flatnonzero(key)
    if key.dtype.kind not in "iu" and key.size:
        raise IndexError(f"rows must be ints, a slice or a boolean mask, got {key!r}")
    return key.astype(np.int64).ravel()


def id_source(X) -> str | None:
    """The id space ``X`` names, or None for a plain array."""
    return X.source if isinstance(X, IdSequences) else None


def as_sequences(X) -> IdSequences:
    """``X`` as :class:`IdSequences`: as it is, or from a padded int array."""
    return X if isinstance(X, IdSequences) else IdSequences.from_array(X)
