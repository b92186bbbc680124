"""Turning raw documents into padded sequences of GloVe word ids."""

import logging
import os
from collections.abc import Iterable
from itertools import chain
from numbers import Integral
from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._ids import (
    FIRST_WORD_ID,
    OOV,
    PAD,
    RANK_IDS,
    glove_id,
    glove_row,
    missing_word_id,
)
from ._sequences import IdSequences
from ._validation import check_documents
from .glove import DEFAULT_GLOVE, GloveVectors, load_glove

__all__ = ["KERAS_FILTERS", "GloveSequenceVectorizer"]

_log = logging.getLogger(__name__)

#: The characters Keras' ``Tokenizer`` replaces by spaces before splitting.
KERAS_FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'
#: Documents tokenized at once: bounds the memory of their tokens as Arrow
#: strings, which take several times the memory of their ids.
_CHUNK = 10_000


class GloveSequenceVectorizer(TransformerMixin, BaseEstimator):
    """Convert documents to fixed-length sequences of GloVe word ids.

    The tokenization follows Keras' ``Tokenizer`` word for word: lowercase,
    replace each character of ``filter_chars`` with a space, split on spaces, keep
    the ``max_words - 1`` most frequent training words (ties in first-seen
    order), drop every other word, then pad or truncate to ``max_len`` as
    ``pad_sequences`` does (both ``"pre"`` by default, so the last ``max_len``
    words are kept). One addition, which ``unseen_glove_words=0`` turns off: a
    word outside the kept vocabulary that is among the GloVe source's first
    ``unseen_glove_words`` words keeps its GloVe id, so that a word first met
    after fit still reaches the classifier's frozen vector for it.

    Ids form a fixed feature space that does not depend on the training data,
    in the spirit of :class:`~sklearn.feature_extraction.text.HashingVectorizer`:
    ``0`` is padding, ``1`` marks an out-of-vocabulary word, and the word on
    row ``r`` of the GloVe source gets id ``r + 2``. A kept word that GloVe
    lacks keeps its position with an id past the GloVe rows; the classifier
    gives it a zero vector. This is what lets :class:`GloveCNNClassifier`, a
    separate pipeline step, find the GloVe row of every id on its own.

    Parameters
    ----------
    glove : str, path-like, GloveVectors or None, default="glove.6B.50d"
        The GloVe source whose rows define the ids; see :func:`load_glove`.
        Use the same value as the classifier's ``glove``
        (:func:`make_glove_pipeline` does this for you). ``None`` numbers the
        kept words by frequency rank instead (ids ``2, 3, ...``), for a
        classifier that learns its embedding from scratch.
    max_len : int, default=1000
        Length of every output sequence.
    max_words : int or None, default=None
        Keras' ``num_words``: only words whose frequency rank gives them an index
        below ``max_words`` are kept, that is the ``max_words - 1`` most frequent
        words (``max_words - 2`` when ``oov_token`` is set, since the marker
        takes an index). ``None`` keeps every training word, as Keras does.
    lowercase : bool, default=True
        Convert documents to lowercase before tokenizing.
    filter_chars : str, default=KERAS_FILTERS
        Characters replaced by spaces before splitting: Keras' default
        punctuation, tab and newline. This is the ``filters`` argument of
        Keras' ``Tokenizer``, renamed so that it cannot be confused with the
        classifier's convolution ``filters`` in a pipeline.
    padding : {"pre", "post"}, default="pre"
        Pad short sequences with zeros before or after the words.
    truncating : {"pre", "post"}, default="pre"
        Cut long sequences at the start (keeping the last words) or the end.
    oov_token : str or None, default=None
        The out-of-vocabulary policy. ``None`` drops words outside the kept
        vocabulary, as Keras does by default. A string keeps their positions
        with id ``1``; :meth:`inverse_transform` shows them as this string.
    unseen_glove_words : int, default=50000
        Words outside the kept vocabulary that are among the first (most
        frequent) ``unseen_glove_words`` words of the GloVe source map to
        their GloVe id instead of following ``oov_token``. Use the
        classifier's value (:func:`make_glove_pipeline` sets both); 0 follows
        Keras exactly. Ignored when ``glove=None``. The words are taken from
        GloVe at fit and kept with the fitted vectorizer, so ``transform``
        never reads the GloVe source; a change takes effect at the next fit.

    Attributes
    ----------
    vocabulary_ : dict of str to int
        The kept words, most frequent first, mapped to their ids.
    missing_words_ : list of str
        Kept words that the GloVe source lacks, most frequent first. Word
        ``missing_words_[j]`` has id ``len(glove) + 2 + j``. Empty when
        ``glove=None``.
    glove_coverage_ : dict or None
        ``{"words": ..., "tokens": ...}``: the share of kept vocabulary words,
        and of training tokens of kept words, found in GloVe (0 when no word
        is kept). ``None`` when ``glove=None``.
    id_source_ : str
        The id space of the output: the GloVe source's
        ``GloveVectors.fingerprint``, or ``"frequency ranks (glove=None)"``.
        The sequences that :meth:`transform` returns carry it as ``.source``
        (see ``skglove._ids.IdSequences``), so that a classifier reading the
        rows of another GloVe source refuses them.

    See Also
    --------
    GloveCNNClassifier : The convnet that reads these sequences.
    make_glove_pipeline : Both steps with a shared ``glove``.

    Examples
    --------
    >>> from skglove import GloveSequenceVectorizer
    >>> docs = ["The cat sat on the mat.", "The dog ate my homework!"]
    >>> vec = GloveSequenceVectorizer(max_len=6).fit(docs)
    >>> X = vec.transform(docs)
    >>> X.shape, X.dtype
    ((2, 6), dtype('int32'))
    >>> vec.inverse_transform(X)[1]
    ['the', 'dog', 'ate', 'my', 'homework']
    """

    _parameter_constraints: dict = {
        "glove": [str, os.PathLike, GloveVectors, None],
        "max_len": [Interval(Integral, 1, 2**31 - 1, closed="both")],
        "max_words": [Interval(Integral, 2, None, closed="left"), None],
        "lowercase": ["boolean"],
        "filter_chars": [str],
        "padding": [StrOptions({"pre", "post"})],
        "truncating": [StrOptions({"pre", "post"})],
        "oov_token": [str, None],
        "unseen_glove_words": [Interval(Integral, 0, None, closed="left")],
    }

    def __init__(
        self,
        glove=DEFAULT_GLOVE,
        *,
        max_len=1000,
        max_words=None,
        lowercase=True,
        filter_chars=KERAS_FILTERS,
        padding="pre",
        truncating="pre",
        oov_token=None,
        unseen_glove_words=50_000,
    ):
        self.glove = glove
        self.max_len = max_len
        self.max_words = max_words
        self.lowercase = lowercase
        self.filter_chars = filter_chars
        self.padding = padding
        self.truncating = truncating
        self.oov_token = oov_token
        self.unseen_glove_words = unseen_glove_words

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, raw_documents: Iterable[str], y=None) -> "GloveSequenceVectorizer":
        """Learn the vocabulary of the training documents.

        Parameters
        ----------
        raw_documents : iterable of str
            The training documents. A single string is rejected.
        y : None
            Ignored.

        Returns
        -------
        self : GloveSequenceVectorizer
            The fitted vectorizer.
        """
        words, counts, _ = _count_words(self._chunks(raw_documents), keep=False)
        self._fit_vocabulary(words, counts)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, raw_documents: Iterable[str], y=None) -> IdSequences:
        """Learn the vocabulary and return the id sequences.

        Equivalent to ``fit(raw_documents).transform(raw_documents)``, but
        tokenizes each document once.

        Parameters
        ----------
        raw_documents : iterable of str
            The training documents.
        y : None
            Ignored.

        Returns
        -------
        X : IdSequences of shape (n_samples, max_len)
            The id sequences; see :meth:`transform`.
        """
        words, counts, chunks = _count_words(self._chunks(raw_documents), keep=True)
        self._fit_vocabulary(words, counts)
        word_ids = self._word_ids(words)
        return self._sequences(_popped_ids(chunks, word_ids))

    def transform(self, raw_documents: Iterable[str]) -> IdSequences:
        """Convert documents to id sequences of at most ``max_len`` ids.

        Parameters
        ----------
        raw_documents : iterable of str
            The documents.

        Returns
        -------
        X : IdSequences of shape (n_samples, max_len)
            Each document's kept ids, truncated to ``max_len`` as
            ``truncating`` says, stored flat (4 bytes an id, whatever
            ``max_len``). It stands for the padded ``(n_samples, max_len)``
            int32 array, which ``np.asarray(X)`` or ``X.toarray()`` builds
            (padded as ``padding`` says), and its ``.source`` is
            ``id_source_``.
        """
        check_is_fitted(self, "vocabulary_")
        vocabulary = _as_binary(self.vocabulary_)
        return self._sequences(
            (*self._token_ids(tokens, vocabulary), tokens.n_documents)
            for tokens in self._chunks(raw_documents)
        )

    def inverse_transform(self, X) -> list[list[str]]:
        """Return the kept tokens of each id sequence.

        Parameters
        ----------
        X : array-like of shape (n_samples, max_len)
            Id sequences, as returned by :meth:`transform`.

        Returns
        -------
        tokens : list of list of str
            The tokens of each sequence without padding; out-of-vocabulary
            positions show as ``oov_token`` (``"<OOV>"`` if it is ``None``).
        """
        check_is_fitted(self, "vocabulary_")
        X = np.asarray(X)
        if X.ndim != 2 or X.dtype.kind not in "iu":
            raise ValueError(
                f"X must be a 2-D array of integer ids, got shape {X.shape} "
                f"and dtype {X.dtype}"
            )
        words = {i: w for w, i in self.vocabulary_.items()}
        words[OOV] = "<OOV>" if self.oov_token is None else self.oov_token
        unknown = np.setdiff1d(X, [PAD, *words])
        unseen = _fitted_unseen_words(self)
        if unknown.size and len(unseen):
            rows = glove_row(unknown)
            readable = (rows >= 0) & (rows < len(unseen))
            head = unseen.take(pa.array(rows[readable])).to_pylist()
            words.update(
                zip(
                    unknown[readable].tolist(),
                    (w.decode("utf-8", "surrogatepass") for w in head),
                    strict=True,
                )
            )
            unknown = unknown[~readable]
        if unknown.size:
            raise ValueError(
                f"X holds {unknown.size} id(s) outside this vectorizer's "
                f"vocabulary, such as {unknown[0]}"
            )
        return [[words[i] for i in row.tolist() if i != PAD] for row in X]

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """Names of the output columns, one per sequence position.

        Parameters
        ----------
        input_features : None
            Ignored; text input has no feature names.

        Returns
        -------
        feature_names_out : ndarray of str objects
            ``["glovesequencevectorizer0", ..., "glovesequencevectorizer{max_len-1}"]``.
        """
        check_is_fitted(self, "vocabulary_")
        prefix = type(self).__name__.lower()
        return np.asarray([f"{prefix}{i}" for i in range(self.max_len)], dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        tags.transformer_tags.preserves_dtype = []
        return tags

    def _chunks(self, raw_documents):
        """The tokens of the documents, :data:`_CHUNK` documents at a time."""
        documents = check_documents(raw_documents)
        pool = pa.default_memory_pool()
        for start in range(0, len(documents), _CHUNK):
            yield self._tokenize(documents[start : start + _CHUNK])
            # Arrow's pool (mimalloc) keeps what the last chunk freed, and
            # its RSS grew chunk after chunk: hand it back to the system.
            pool.release_unused()

    def _tokenize(self, documents: list[str]) -> "_Tokens":
        normalize = self._normalizer()
        # Python does the lowercasing and filtering, so the semantics are
        # exactly Keras'; Arrow splits, counts and looks up the tokens in C++
        # without making a Python object per token. UTF-8 with surrogatepass
        # maps every str, even one with lone surrogates, to distinct bytes.
        encoded = [normalize(doc).encode("utf-8", "surrogatepass") for doc in documents]
        lists = pc.split_pattern(pa.array(encoded, pa.large_binary()), b" ")
        flat = pc.list_flatten(lists)
        nonempty = pc.not_equal(pc.binary_length(flat), 0)
        doc = pc.filter(pc.list_parent_indices(lists), nonempty)
        return _Tokens(
            pc.filter(flat, nonempty), doc.to_numpy().astype(np.int64), len(documents)
        )

    def _fit_vocabulary(self, words: pa.Array, counts: np.ndarray) -> None:
        """Keep the most frequent ``words`` (distinct, in first-seen order,
        with their ``counts``) and give them ids."""
        if not len(counts):
            raise ValueError(
                "empty vocabulary: the documents hold no tokens after "
                "lowercasing and removing the filter characters"
            )
        # words is in first-seen order, and a stable sort keeps ties in that
        # order, as Keras' Tokenizer does.
        ranked = np.argsort(-counts, kind="stable")
        if self.max_words is not None:
            ranked = ranked[: self.max_words - 1 - (self.oov_token is not None)]
        words = [
            word.decode("utf-8", "surrogatepass")
            for word in words.take(pa.array(ranked)).to_pylist()
        ]
        counts = counts[ranked]

        if self.glove is None:
            self.vocabulary_ = dict(
                zip(
                    words, range(FIRST_WORD_ID, FIRST_WORD_ID + len(words)), strict=True
                )
            )
            self.missing_words_ = []
            self.glove_coverage_ = None
            self.id_source_ = RANK_IDS
            self._unseen_words = _as_binary([])
            _log.info("kept %d words (glove=None: no GloVe lookup)", len(words))
            return

        glove = load_glove(self.glove)
        # Kept with the fitted state, so that transform never reads GloVe.
        self._unseen_words = _as_binary(glove.words[: self.unseen_glove_words])
        self.id_source_ = glove.fingerprint
        rows = glove.index
        vocabulary = {}
        missing = []
        found_tokens = 0
        for word, count in zip(words, counts.tolist(), strict=True):
            row = rows.get(word)
            if row is None:
                vocabulary[word] = missing_word_id(len(glove), len(missing))
                missing.append(word)
            else:
                vocabulary[word] = glove_id(row)
                found_tokens += count
        self.vocabulary_ = vocabulary
        self.missing_words_ = missing
        # A max_words that keeps no word leaves nothing covered.
        self.glove_coverage_ = {
            "words": 1.0 - len(missing) / len(words) if words else 0.0,
            "tokens": found_tokens / int(counts.sum()) if words else 0.0,
        }
        _log.info(
            "kept %d words; GloVe %s covers %.1f%% of them and %.1f%% of their "
            "training tokens",
            len(words),
            glove.source,
            100 * self.glove_coverage_["words"],
            100 * self.glove_coverage_["tokens"],
        )

    def _normalizer(self):
        """A document as the tokenizer splits it: lowercased, filters as spaces."""
        table = str.maketrans(self.filter_chars, " " * len(self.filter_chars))
        if self.lowercase:
            return lambda doc: doc.lower().translate(table)
        return lambda doc: doc.translate(table)

    def _token_spans(self, document: str) -> tuple[np.ndarray, np.ndarray]:
        """Where each token of ``document`` is written: its start and end
        offsets, two int arrays. The tokens are those of :meth:`_tokenize`,
        in the same order.
        """
        normalized = self._normalizer()(document)
        code_points = np.frombuffer(
            normalized.encode("utf-32-le", "surrogatepass"), dtype=np.uint32
        )
        # A token is a run of anything but spaces, as split_pattern(b" ") sees.
        is_text = np.concatenate([[False], code_points != ord(" "), [False]])
        edges = np.flatnonzero(is_text[1:] != is_text[:-1])
        starts, ends = edges[0::2], edges[1::2]
        if len(normalized) != len(document):
            # Lowercasing lengthened some characters (such as "İ"): map the
            # offsets of the lowercased text back to the original's.
            lengths = np.cumsum([len(c.lower()) for c in document])
            starts = np.searchsorted(lengths, starts, side="right")
            ends = np.searchsorted(lengths, ends - 1, side="right") + 1
        return starts, ends

    def _word_ids(self, words: pa.Array, vocabulary: pa.Array | None = None):
        """The id of each of ``words`` (distinct), -1 for a word the output
        drops. ``vocabulary`` is the kept words as :func:`_as_binary` gives
        them (built from ``vocabulary_`` if None).

        A word outside the vocabulary keeps its GloVe id if it is one of the
        unseen words let through; otherwise it is dropped when ``oov_token``
        is None, and has id ``OOV`` when not.
        """
        vocabulary = _as_binary(self.vocabulary_) if vocabulary is None else vocabulary
        position = np.array(pc.index_in(words, value_set=vocabulary).fill_null(-1))
        # One spare slot at the end: position -1 reads it as OOV.
        ids = np.fromiter(
            chain(self.vocabulary_.values(), [OOV]),
            dtype=np.int64,
            count=len(self.vocabulary_) + 1,
        )[position]
        unseen = _fitted_unseen_words(self)
        if len(unseen):
            unknown = np.flatnonzero(position < 0)
            rows = pc.index_in(words.take(pa.array(unknown)), value_set=unseen)
            rows = rows.fill_null(-1).to_numpy()
            found = rows >= 0
            ids[unknown[found]] = glove_id(rows[found])
            position[unknown[found]] = 0  # any value >= 0: a word with an id
        if self.oov_token is None:
            ids[position < 0] = -1
        return ids

    def _token_ids(self, tokens: "_Tokens", vocabulary: pa.Array | None = None):
        """The id of every token, in order (-1 for a token the output drops;
        see :meth:`_word_ids`), and each token's document."""
        encoded = pc.dictionary_encode(tokens.flat)
        word_ids = self._word_ids(encoded.dictionary, vocabulary)
        return word_ids[encoded.indices.to_numpy()], tokens.doc

    def _sequences(self, chunks) -> IdSequences:
        """The sequences of chunks of ``(ids, doc, n_documents)``: each
        document's ids (those >= 0), truncated to ``max_len``."""
        parts, lengths = [], []
        for ids, doc, n_documents in chunks:
            kept = ids >= 0
            part, length = _truncate(
                ids[kept], doc[kept], n_documents, int(self.max_len), self.truncating
            )
            parts.append(part)
            lengths.append(length)
        offsets = np.concatenate([[0], np.cumsum(np.concatenate(lengths))])
        # Vectorizers pickled before id spaces were named have no id_source_.
        return IdSequences(
            np.concatenate(parts),
            offsets,
            self.max_len,
            self.padding,
            getattr(self, "id_source_", None),
        )


def _as_binary(words) -> pa.Array:
    """Words as an Arrow binary array, the form the token lookups use."""
    return pa.array(
        [w.encode("utf-8", "surrogatepass") for w in words], pa.large_binary()
    )


def _fitted_unseen_words(vectorizer: "GloveSequenceVectorizer") -> pa.Array:
    # Vectorizers pickled before unseen_glove_words existed have none.
    return getattr(vectorizer, "_unseen_words", None) or _as_binary([])


def unseen_words(vectorizer: "GloveSequenceVectorizer") -> list[str]:
    """The GloVe words a fitted vectorizer lets through outside its vocabulary."""
    return [
        w.decode("utf-8", "surrogatepass")
        for w in _fitted_unseen_words(vectorizer).to_pylist()
    ]


def set_unseen_words(vectorizer: "GloveSequenceVectorizer", words) -> None:
    """Restore what :func:`unseen_words` returned, as :func:`skglove.load` does."""
    vectorizer._unseen_words = _as_binary(words)


class _Tokens(NamedTuple):
    """The tokens of all documents in order, and the document of each."""

    flat: pa.Array
    doc: np.ndarray
    n_documents: int


def _count_words(chunks, *, keep: bool):
    """Every distinct token of the chunks (an Arrow array, in first-seen
    order) and its count; with ``keep``, also each chunk's tokens as
    ``(index into the words, length of each document)``, else None.

    The kept tokens cost 4 bytes each: int32 indices, and a length per
    document rather than the document of every token.
    """
    words = pa.array([], pa.large_binary())
    counts = np.zeros(0, dtype=np.int64)
    kept = [] if keep else None
    for tokens in chunks:
        encoded = pc.dictionary_encode(tokens.flat)
        local = encoded.dictionary
        # Words new to this chunk follow the earlier ones, in their order.
        known = np.array(pc.index_in(local, value_set=words).fill_null(-1))
        new = np.flatnonzero(known < 0)
        known[new] = len(words) + np.arange(len(new))
        words = pa.concat_arrays([words, local.take(pa.array(new))])
        index = known[encoded.indices.to_numpy()]
        counts = np.concatenate([counts, np.zeros(len(new), dtype=np.int64)])
        counts += np.bincount(index, minlength=len(counts))
        if keep:
            lengths = np.bincount(tokens.doc, minlength=tokens.n_documents)
            kept.append((index.astype(np.int32), lengths))
    return words, counts, kept


def _popped_ids(chunks: list, word_ids: np.ndarray):
    """The ``(ids, doc, n_documents)`` of each chunk that :func:`_count_words`
    kept, popped from ``chunks`` first to last, so that each is freed once
    it is converted."""
    chunks.reverse()
    while chunks:
        index, lengths = chunks.pop()
        doc = np.repeat(np.arange(len(lengths)), lengths)
        ids = word_ids[index]
        del index  # the only reference left: free it before the next chunk
        yield ids, doc, len(lengths)


def _truncate(ids, doc, n_documents, max_len, truncating):
    """Each document's ids cut to ``max_len`` as Keras' ``pad_sequences``
    cuts them: the last ones kept (``"pre"``) or the first (``"post"``).

    ``ids`` holds the kept ids of all documents in order and ``doc`` the
    (sorted) document of each; returns the cut ids and each document's
    length.
    """
    lengths = np.bincount(doc, minlength=n_documents)
    if not np.any(lengths > max_len):
        return ids.astype(np.int32), lengths
    starts = np.cumsum(lengths) - lengths
    place = np.arange(len(ids)) - starts[doc]
    if truncating == "pre":
        inside = place >= (lengths - max_len)[doc]
    else:
        inside = place < max_len
    return ids[inside].astype(np.int32), np.minimum(lengths, max_len)
