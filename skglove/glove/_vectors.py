"""The container of loaded word vectors: :class:`GloveVectors`."""

import hashlib
from collections.abc import Iterable
from functools import cached_property

import numpy as np

__all__ = ["GloveVectors"]

#: Changes whenever the fingerprint is computed differently.
_FINGERPRINT_VERSION = b"skglove-glove-fingerprint-1\n"


class GloveVectors:
    """A read-only table of word vectors, in the row order of its source.

    Parameters
    ----------
    words : sequence of str
        The words, one per row of ``vectors``. Must be unique.
    vectors : ndarray of shape (n_words, dim)
        The vectors, converted to float32.
    source : str, default=""
        Where the vectors came from, for messages and provenance.

    Attributes
    ----------
    words : tuple of str
        The words, in row order.
    vectors : ndarray of shape (n_words, dim), dtype float32
        The vectors. The array is read-only because it is shared by every
        estimator in the process; it may be a memory-mapped file.
    dim : int
        The vector dimension.
    source : str
        The source the vectors were loaded from.
    fingerprint : str
        A 32-digit hex digest (BLAKE2b, 16 bytes) of the words in row order
        and the dimension: what the ids built on these vectors mean (an id is
        a row). Two sources with different words, or the same words in
        another order, differ: a file and a ``words=`` subset of it, or two
        GloVe files of the same dimension. The same words and dimension give
        the same value however they were loaded: twice, from the disk cache,
        pickled or copied. The vector values are not hashed, so that the
        fingerprint stays cheap for a memory-mapped table. Computed once, on
        first use.

    Examples
    --------
    >>> import numpy as np
    >>> from skglove.glove import GloveVectors
    >>> glove = GloveVectors(["cat", "dog"], np.eye(2))
    >>> glove.dim, len(glove)
    (2, 2)
    >>> glove["dog"]
    array([0., 1.], dtype=float32)
    >>> glove.fingerprint == GloveVectors(["dog", "cat"], np.eye(2)).fingerprint
    False
    """

    def __init__(self, words: Iterable[str], vectors, source: str = "") -> None:
        words = tuple(words)
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[0] != len(words):
            raise ValueError(
                f"vectors must have shape (n_words, dim) = ({len(words)}, dim); "
                f"got {vectors.shape}"
            )
        if vectors.flags.writeable:
            # A read-only view: the caller's own array keeps its flags.
            vectors = vectors.view()
            vectors.flags.writeable = False
        self.words = words
        self.vectors = vectors
        self.source = source

    @property
    def dim(self) -> int:
        return self.vectors.shape[1]

    @cached_property
    def index(self) -> dict[str, int]:
        """Mapping from word to row, built once on first use."""
        index = dict(zip(self.words, range(len(self.words)), strict=True))
        if len(index) != len(self.words):
            raise ValueError(f"GloVe source {self.source!r} has duplicate words")
        return index

    @cached_property
    def fingerprint(self) -> str:
        """Hex digest of the words in row order and the dimension."""
        words = self.words
        digest = hashlib.blake2b(_FINGERPRINT_VERSION, digest_size=16)
        digest.update(np.int64([self.dim, len(words)]).tobytes())
        # The lengths make the joined text unambiguous, whatever the words hold.
        digest.update(np.fromiter(map(len, words), np.int64, len(words)).tobytes())
        digest.update("\n".join(words).encode("utf-8", "surrogatepass"))
        return digest.hexdigest()

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: object) -> bool:
        return word in self.index

    def __getitem__(self, word: str) -> np.ndarray:
        return self.vectors[self.index[word]]

    def __repr__(self) -> str:
        return (
            f"GloveVectors(source={self.source!r}, n_words={len(self)}, dim={self.dim})"
        )

    # Immutable and possibly 400,000 rows: sklearn.clone must share, not copy.
    def __copy__(self) -> "GloveVectors":
        return self

    def __deepcopy__(self, memo) -> "GloveVectors":
        return self

    def __reduce__(self):
        # By value: the file may exist only on this machine. The registry's
        # embedded vectors override this to pickle by name.
        return type(self), (self.words, np.asarray(self.vectors), self.source)
