"""Property-based tests of GloveSequenceVectorizer on arbitrary Unicode text.

The documents mix arbitrary Unicode (lone surrogates, NUL, control and
bidirectional characters included) with words of the tiny GloVe file, emoji,
right-to-left text and Keras filter characters, so that both known and unknown
words occur. The oracle for the kept tokens is a plain Python version of Keras'
tokenization. Hypothesis profiles are set in conftest.py.
"""

import numpy as np
import pytest
from conftest import TOPICS
from hypothesis import example, given, settings
from hypothesis import strategies as st

from skglove import KERAS_FILTERS, GloveSequenceVectorizer, load_glove

#: The slow tests run a fifth of the profile's examples (10 under "ci").
slow_settings = settings(max_examples=max(10, settings.default.max_examples // 5))

KNOWN_WORDS = [word for words in TOPICS.values() for word in words][:12]
SPECIAL = [
    "",
    "\x00",
    "moon\x00car",
    "🙂",
    "👩‍👩‍👧",
    "שלום עולם",
    "مرحبا بالعالم",
    "\u202eevil\u202c",
    "İstanbul",
    "ß",
    "\ud800",
    "\t\n",
    *KERAS_FILTERS,
]
MEGABYTE_DOCUMENT = "moon rocket 🙂 שלום " * 50_000  # about 1 MB of UTF-8

words = st.one_of(
    st.sampled_from(KNOWN_WORDS),
    st.sampled_from(SPECIAL),
    st.text(st.characters(codec=None), max_size=12),
)
separators = st.sampled_from([" ", "  ", "\t", "\n", ".", ", ", "\x00", "\u3000"])
documents = st.builds(
    lambda parts, sep: sep.join(parts), st.lists(words, max_size=30), separators
)
corpora = st.lists(documents, min_size=1, max_size=12)
options = st.fixed_dictionaries(
    {
        "max_len": st.integers(1, 25),
        "padding": st.sampled_from(["pre", "post"]),
        "truncating": st.sampled_from(["pre", "post"]),
        "oov_token": st.sampled_from([None, "<unk>"]),
        "lowercase": st.booleans(),
        "max_words": st.sampled_from([None, 3, 20]),
        "unseen_glove_words": st.sampled_from([0, 5, 50_000]),
    }
)


def _tokens(vec, doc):
    """Keras' tokenization, in plain Python."""
    if vec.lowercase:
        doc = doc.lower()
    table = str.maketrans(vec.filter_chars, " " * len(vec.filter_chars))
    return [t for t in doc.translate(table).split(" ") if t]


def _glove_ids(vec):
    """The ids that words outside the vocabulary keep: their GloVe row + 2."""
    if vec.glove is None:
        return {}
    head = load_glove(vec.glove).words[: vec.unseen_glove_words]
    return {word: row + 2 for row, word in enumerate(head)}


def _kept_tokens(vec, doc):
    """The tokens the vectorizer keeps, and the OOV marker it puts in."""
    known = set(vec.vocabulary_) | set(_glove_ids(vec))
    tokens = _tokens(vec, doc)
    if vec.oov_token is None:
        return [t for t in tokens if t in known]
    return [t if t in known else vec.oov_token for t in tokens]


def _check_output(vec, docs, X):
    assert X.shape == (len(docs), vec.max_len)
    assert X.dtype == np.int32
    allowed = {0, *vec.vocabulary_.values(), *_glove_ids(vec).values()}
    allowed |= {1} if vec.oov_token else set()
    assert set(np.unique(X).tolist()) <= allowed
    words = (X != 0).astype(np.int8)
    if vec.padding == "pre":
        # Once a word starts, no padding follows.
        assert np.all(np.diff(words, axis=1) >= 0)
    else:
        assert np.all(np.diff(words, axis=1) <= 0)
    np.testing.assert_array_equal(vec.transform(docs), X)  # deterministic
    marker = vec.oov_token or "<OOV>"
    for doc, tokens in zip(docs, vec.inverse_transform(X), strict=True):
        assert set(tokens) <= set(vec.vocabulary_) | set(_glove_ids(vec)) | {marker}
        kept = _kept_tokens(vec, doc)
        kept = kept[-vec.max_len :] if vec.truncating == "pre" else kept
        assert tokens == kept[: vec.max_len]


@pytest.fixture(scope="module")
def fitted(tiny_glove, posts):
    """Vectorizers fitted on the synthetic posts, by their options."""
    cache = {}

    def get(**params):
        key = tuple(sorted(params.items(), key=lambda item: item[0]))
        if key not in cache:
            vec = GloveSequenceVectorizer(tiny_glove, **params)
            cache[key] = vec.fit(posts[0] + SPECIAL)
        return cache[key]

    return get


@given(docs=corpora, params=options)
@example(docs=["", "", ""], params={"max_len": 3, "padding": "pre"})
@example(docs=["\x00moon\x00", "🙂 moon 🙂", "שלום moon"], params={"max_len": 2})
def test_transform_properties(fitted, docs, params):
    vec = fitted(**params)
    _check_output(vec, docs, vec.transform(docs))


@pytest.mark.slow
@slow_settings
@given(docs=corpora, params=options)
@example(docs=[MEGABYTE_DOCUMENT, "", "moon"], params={"max_len": 25})
@example(
    docs=[MEGABYTE_DOCUMENT],
    params={"max_len": 7, "padding": "post", "truncating": "post"},
)
def test_fit_transform_properties(tiny_glove, docs, params):
    # Fitting on the generated corpus itself, with or without GloVe ids.
    for glove in (tiny_glove, None):
        vec = GloveSequenceVectorizer(glove, **params)
        try:
            X = vec.fit_transform(docs)
        except ValueError as exc:
            assert "empty vocabulary" in str(exc)
            assert not any(_tokens(vec, doc) for doc in docs)
            continue
        assert all(isinstance(w, str) and w for w in vec.vocabulary_)
        _check_output(vec, docs, X)
        np.testing.assert_array_equal(X, vec.transform(docs))


@given(docs=corpora)
def test_row_of_a_document_does_not_depend_on_the_others(fitted, docs):
    vec = fitted(max_len=9, oov_token="<unk>")
    X = vec.transform(docs)
    for i, doc in enumerate(docs):
        np.testing.assert_array_equal(vec.transform([doc])[0], X[i])
