"""skglove.explain: the scores, the tokens, the errors and the renderings."""

import re
import warnings

import numpy as np
import pytest
from conftest import (
    COMMON,
    TINY_BLOG,
    TOPICS,
    make_order_posts,
    tiny_pipeline,
)
from sklearn.exceptions import NotFittedError

import skglove
from skglove import Explanation, explain, make_glove_pipeline

#: Each class is marked by one word, every other word is noise.
PLANTED = {"space": "rocket", "med": "doctor", "cars": "engine"}
_NOISE = [w for words in TOPICS.values() for w in words if w not in PLANTED.values()]


def planted_posts(n_per_class, seed, length=14):
    rng = np.random.default_rng(seed)
    docs, labels = [], []
    for i in range(n_per_class * len(PLANTED)):
        label = list(PLANTED)[i % len(PLANTED)]
        words = rng.choice(_NOISE + COMMON, length).tolist()
        words.insert(int(rng.integers(length)), PLANTED[label])
        docs.append(" ".join(words))
        labels.append(label)
    return docs, np.asarray(labels)


def _centred_log(proba):
    logits = np.log(proba)
    return logits - logits.mean(axis=-1, keepdims=True)


def _output_layer(pipe):
    """The Dense softmax layer of the GloVe channel."""
    names = [layer.name for layer in pipe[-1].model_.layers]
    name = "glove_probabilities" if "glove_probabilities" in names else "probabilities"
    return pipe[-1].model_.get_layer(name)


def _saturate(pipe, factor=600.0):
    """Scale the output layer so that the softmax's small values underflow."""
    dense = _output_layer(pipe)
    kernel, bias = dense.get_weights()
    dense.set_weights([kernel * factor, bias * factor])


def _dense_logits(pipe, texts):
    """The centred logits of a network without a lexical channel, computed
    from the output layer's input (probabilities may round to 0)."""
    import keras

    vectorizer, clf = pipe[0], pipe[-1]
    dense = _output_layer(pipe)
    X = clf.feature_encoder_.transform(vectorizer.transform(texts))
    features = keras.Model(clf.model_.inputs, dense.input).predict(X, verbose=0)
    kernel, bias = dense.get_weights()
    logits = features.astype(np.float64) @ kernel + bias
    return logits - logits.mean(axis=1, keepdims=True)


@pytest.fixture(scope="module")
def fitted_on_posts(tiny_glove, posts):
    """``fitted_on_posts(glove, **params)``: ``tiny_pipeline(glove, **params)``
    fitted on ``posts``, once per module for each set of parameters (the fit is
    seeded, so it is the same network either way). Tests must not change it: a
    test that does takes a ``_copy``."""
    fitted = {}

    def fit(glove, **params):
        key = (glove, tuple(sorted(params.items())))
        if key not in fitted:
            fitted[key] = tiny_pipeline(glove, **params).fit(*posts)
        return fitted[key]

    return fit


def _copy(pipe):
    import pickle

    return pickle.loads(pickle.dumps(pipe))


@pytest.fixture(scope="module")
def planted_pipe(tiny_glove):
    """The default network (kernel width 1, lexical channel), small."""
    docs, labels = planted_posts(40, seed=0)
    pipe = make_glove_pipeline(
        tiny_glove, max_len=30, filters=8, epochs=8, batch_size=16, random_state=0
    )
    return pipe.fit(docs, labels)


def test_a_planted_topic_word_ranks_first(planted_pipe):
    docs, labels = planted_posts(10, seed=1)
    explanations = explain(planted_pipe, docs, top=3)
    right = [
        e for e, label in zip(explanations, labels, strict=True) if e.label == label
    ]
    assert len(right) >= 0.9 * len(docs)
    for explanation in right:
        assert explanation.method == "exact"
        assert explanation.top[0].text == PLANTED[explanation.label], explanation


@pytest.mark.parametrize(
    "params",
    [
        # the default: widths 1 and 2, TF-IDF mean, lexical channel
        {"kernel_size": (1, 2)},
        {"kernel_size": 1},  # a bag of words
        {"kernel_size": (1, 3), "mean_pooling": False},
        {"lexical": False, "glove": None, "kernel_size": 1},
    ],
    ids=["default", "words", "windows", "no-lexical-no-glove"],
)
def test_scores_and_intercept_add_up_to_the_centred_logit(
    tiny_glove, posts, fitted_on_posts, params
):
    docs = posts[0]
    params = {"glove": tiny_glove, "dense_units": 0, **params}
    pipe = fitted_on_posts(**params)
    sample = [*docs[:6], "Rocket to the MOON, zorblax!", "rocket rocket moon rocket"]
    logits = _centred_log(pipe.predict_proba(sample))
    for target in (None, "med"):
        for explanation, row in zip(
            explain(pipe, sample, target=target), logits, strict=True
        ):
            code = list(pipe.classes_).index(explanation.target)
            total = explanation.intercept + sum(t.score for t in explanation.tokens)
            assert total == pytest.approx(row[code], abs=1e-4)
    if params["kernel_size"] == 1:
        # A repeated word gets one score, shared by its tokens.
        rockets = {t.score for t in explanation.tokens if t.text == "rocket"}
        assert len(explanation.tokens) == 4 and len(rockets) == 1
    if params["kernel_size"] != 1:
        explanations = explain(pipe, sample)
        windows = [w for e in explanations for w in e.windows]
        widest = max(params["kernel_size"]) - 1
        assert windows and all(w.last - w.first <= widest for w in windows)
        assert any(w.last > w.first for w in windows)
        for e in explanations:
            assert len({(w.first, w.last) for w in e.windows}) == len(e.windows)


def test_windows_name_the_phrase_that_decides(tiny_glove):
    # Only the order of "rocket" and "moon" decides the class: windows that
    # show it carry the score. The pair itself is one of the two best; the
    # other best shows "rocket" or "moon" beside some other word.
    pipe = make_glove_pipeline(tiny_glove, random_state=0)
    pipe.fit(*make_order_posts(600, seed=0))
    docs, labels = make_order_posts(20, seed=1)
    explanations = explain(pipe, docs)
    for doc, label, why in zip(docs, labels, explanations, strict=True):
        assert why.label == label
        best = sorted(why.windows, key=lambda window: -window.score)[:2]
        assert {"rocket moon", "moon rocket"} & {window.text for window in best}
        for window in best:
            assert window.last - window.first <= 1  # one word: an overhang
            assert {"rocket", "moon"} & set(window.text.split())
            assert doc.split()[window.first : window.last + 1] == window.text.split()


def test_scores_stay_exact_where_probabilities_underflow(
    tiny_glove, posts, fitted_on_posts
):
    # A confident GloVe channel: some classes' probabilities fall below the
    # floor with which the output reads them. A copy, as _saturate changes it.
    pipe = _copy(fitted_on_posts(tiny_glove, kernel_size=1, dense_units=0))
    _saturate(pipe)
    sample = ["rocket moon orbit", "doctor nurse", "engine car", posts[0][0]]
    proba = pipe.predict_proba(sample)
    assert (_output_layer_probabilities(pipe, sample) < 1e-12).any()
    # The output's probabilities do not underflow (the floor keeps them
    # above 1e-12 ** weight), so their logs give the centred logits.
    assert proba.min() > 1e-30
    for code, target in enumerate(pipe.classes_):
        for why, row in zip(
            explain(pipe, sample, target=target), _centred_log(proba), strict=True
        ):
            total = why.intercept + sum(t.score for t in why.tokens)
            assert total == pytest.approx(row[code], abs=1e-3)


def _output_layer_probabilities(pipe, texts):
    import keras

    vectorizer, clf = pipe[0], pipe[-1]
    X = clf.feature_encoder_.transform(vectorizer.transform(texts))
    model = keras.Model(clf.model_.inputs, _output_layer(pipe).output)
    return model.predict(X, verbose=0)


@pytest.mark.parametrize(
    ("params", "factor"),
    [(TINY_BLOG, 1.0), ({"kernel_size": 1, "dense_units": 8}, 1.0), (TINY_BLOG, 1e4)],
    ids=["blog", "dense", "blog-saturated"],
)
def test_networks_without_a_sum_over_tokens_score_by_occlusion(
    tiny_glove, posts, fitted_on_posts, params, factor
):
    docs = posts[0]
    # A copy, as _saturate changes it.
    pipe = _copy(fitted_on_posts(tiny_glove, lexical=False, **params))
    _saturate(pipe, factor)
    doc = docs[0]
    (why,) = explain(pipe, [doc], target="med")
    assert why.method == "occlusion" and why.intercept is None
    read = [t for t in why.tokens if t.read]
    cuts = [doc[: t.start] + " " + doc[t.end :] for t in read]
    logits = _dense_logits(pipe, [doc, *cuts])[:, list(pipe.classes_).index("med")]
    assert [t.score for t in read] == pytest.approx(logits[0] - logits[1:], abs=1e-4)
    if factor > 1:  # the scores are not flattened by probabilities of 0
        assert (pipe.predict_proba([doc]) < 1e-30).any()
        assert np.abs(logits[0] - logits[1:]).max() > 1


def test_target_scores_toward_the_named_class(planted_pipe):
    doc = "the rocket is in it"
    (own,) = explain(planted_pipe, [doc])
    (other,) = explain(planted_pipe, [doc], target="med")
    proba = planted_pipe.predict_proba([doc])[0]
    assert own.label == other.label == "space"
    assert other.target == "med"
    assert other.target_probability == pytest.approx(proba[1])
    rocket = next(t.index for t in own.tokens if t.text == "rocket")
    assert own.tokens[rocket].score > 0 > other.tokens[rocket].score
    assert "toward med" in other.summary()


def test_tokens_are_as_written_with_offsets(planted_pipe):
    doc = "ROCKET-launch, zorblax! İİ the\tDoctor"
    (why,) = explain(planted_pipe, [doc])
    assert [t.text for t in why.tokens] == [
        "ROCKET",
        "launch",
        "zorblax",
        "İİ",
        "the",
        "Doctor",
    ]
    assert all(doc[t.start : t.end] == t.text for t in why.tokens)
    assert [t.index for t in why.tokens] == list(range(6))
    assert why.tokens[-1].text == "Doctor" and why.tokens[-1].index == 5
    assert [t.text for t in why.tokens[1:3]] == ["launch", "zorblax"]
    assert why.tokens.scores.tolist() == [t.score for t in why.tokens]
    with pytest.raises(ValueError, match="read-only"):
        why.tokens.scores[0] = 1.0
    with pytest.raises(IndexError):
        why.tokens[6]
    # Other words outside the vocabulary are dropped: not read, scored 0.
    read = {t.text: t.read for t in why.tokens}
    assert read == {
        "ROCKET": True,
        "launch": True,  # a GloVe word unseen at fit
        "zorblax": False,
        "İİ": False,
        "the": True,
        "Doctor": True,
    }
    assert all(t.score == 0 for t in why.tokens if not t.read)


@pytest.fixture(scope="module")
def three_word_pipe(tiny_glove, posts):
    """A pipeline that reads three words of each document, fitted once."""
    pipe = make_glove_pipeline(tiny_glove, max_len=3, filters=2, epochs=1)
    return pipe.fit(*posts)


@pytest.mark.parametrize("truncating", ["pre", "post"])
def test_words_cut_by_max_len_are_not_read(three_word_pipe, truncating):
    # The vectorizer cuts documents as ``truncating`` says when it transforms
    # them; a copy, as set_params changes it.
    pipe = _copy(three_word_pipe)
    pipe.set_params(glovesequencevectorizer__truncating=truncating)
    (why,) = explain(pipe, ["rocket the doctor a engine"])
    read = [t.text for t in why.tokens if t.read]
    assert read == (
        ["doctor", "a", "engine"]
        if truncating == "pre"
        else ["rocket", "the", "doctor"]
    )


def test_document_without_read_tokens_is_an_empty_explanation(planted_pipe):
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error", RuntimeWarning)
        empty = explain(planted_pipe, ["zorblax quuxly", "", "!!! ..."])
    proba = planted_pipe.predict_proba(["zorblax quuxly"])[0]
    for why in empty:
        assert why.empty and why.top == () and why.windows == ()
        assert all(t.score == 0 and not t.read for t in why.tokens)
        assert "no token was read" in why.summary()
        assert why.probability == pytest.approx(proba.max())
    assert [t.text for t in empty[0].tokens] == ["zorblax", "quuxly"]
    assert "no token was read" in empty[1]._repr_html_()


def test_a_batch_of_only_empty_documents_is_explained(planted_pipe):
    # Every row of the network's batch padding: its bags hold no word.
    (why,) = explain(planted_pipe, [""])
    assert why.empty and why.tokens == ()
    assert why.probability == pytest.approx(planted_pipe.predict_proba([""])[0].max())


def _error(call):
    with pytest.raises(Exception) as info:
        call()
    return info.type, str(info.value)


@pytest.mark.parametrize(
    "documents",
    ["a bare string", ["fine", None], [b"bytes"], [], np.array([["2d"]])],
    ids=["string", "none", "bytes", "empty", "2d"],
)
def test_bad_documents_raise_as_predict_does(planted_pipe, documents):
    expected = _error(lambda: planted_pipe.predict(documents))
    assert _error(lambda: explain(planted_pipe, documents)) == expected
    assert issubclass(expected[0], ValueError | TypeError)


def test_errors_name_the_problem(planted_pipe, tiny_glove):
    unfitted = make_glove_pipeline(tiny_glove)
    with pytest.raises(NotFittedError) as predicting:
        unfitted.predict(["a doc"])
    with pytest.raises(NotFittedError, match=re.escape(str(predicting.value))):
        explain(unfitted, ["a doc"])
    with pytest.raises(NotFittedError, match="not fitted"):
        unfitted[0].fit(["a doc"])
        explain(unfitted, ["a doc"])
    with pytest.raises(ValueError, match=r"target='sports' is not a class.*'cars'"):
        explain(planted_pipe, ["a doc"], target="sports")
    with pytest.raises(ValueError, match=r"target=True is not a class"):
        explain(planted_pipe, ["a doc"], target=True)
    with pytest.raises(TypeError, match=r"target must be one class label"):
        explain(planted_pipe, ["a doc"], target=np.array(["med", "cars"]))
    with pytest.raises(TypeError, match="Pipeline of a GloveSequenceVectorizer"):
        explain(planted_pipe[-1], ["a doc"])
    for top in (-1, True, 2.5):
        with pytest.raises(ValueError, match="top must be an int"):
            explain(planted_pipe, ["a doc"], top=top)
    assert explain(planted_pipe, ["rocket"], top=0)[0].top == ()


def test_html_shades_each_read_token_with_a_legend(planted_pipe):
    explanations = explain(planted_pipe, ["<b>rocket</b> & the zorblax", "doctor"])
    html = explanations[0]._repr_html_()
    assert "&lt;" in html and "<b>" not in html
    shaded = re.findall(
        r'<span style="background: rgba\([^"]+\)" title="([^"]+)">', html
    )
    assert len(shaded) == sum(t.read for t in explanations[0].tokens) == 2
    assert "toward space" in html and "against space" in html and "not read" in html
    assert explanations._repr_html_().count("skglove-explanation") == 2
    assert str(explanations).splitlines()[1].startswith("med (")
    assert isinstance(explanations[0], Explanation)
    assert "rocket" in repr(explanations[0])


def test_a_loaded_pipeline_explains_the_same(planted_pipe, tmp_path):
    path = tmp_path / "model.skglove"
    skglove.save(planted_pipe, path)
    docs, _ = planted_posts(2, seed=2)
    before = explain(planted_pipe, docs)
    after = explain(skglove.load(path), docs)
    for a, b in zip(before, after, strict=True):
        assert a.tokens.scores == pytest.approx(b.tokens.scores)
        assert np.array_equal(a.tokens.starts, b.tokens.starts)


def test_explanations_compare_hash_and_pickle(planted_pipe):
    import pickle

    (why,) = explain(planted_pipe, ["the rocket and the doctor"])
    tokens = why.tokens
    assert tokens == tuple(tokens) and hash(tokens) == hash(tuple(tokens))
    assert hash(why) == hash(explain(planted_pipe, ["the rocket and the doctor"])[0])
    again = pickle.loads(pickle.dumps(why))
    assert again == why
    assert not again.tokens.scores.flags.writeable
    assert explain(planted_pipe, ["rocket"], top=0)[0].summary().endswith(")")


def test_a_networks_readout_model_is_built_once_and_dies_with_it(
    tiny_glove, posts, fitted_on_posts
):
    import gc
    import weakref

    from skglove import _attribution

    # A network of its own (a copy), so that this test holds its only reference.
    pipe = _copy(fitted_on_posts(tiny_glove, kernel_size=(1, 2), dense_units=0))
    network = pipe[-1].model_
    explain(pipe, posts[0][:2])
    readout = _attribution._FEATURES[network]
    explain(pipe, posts[0][2:4])
    assert _attribution._FEATURES[network] is readout
    gone = weakref.ref(network)
    del pipe, network, readout
    gc.collect()
    assert gone() is None


# Multi-label: one explanation per (document, label), each toward the label's
# own log-odds.

_LABELS = list(TOPICS)


def tagged_posts(n_posts, seed, length=10):
    """Posts of words of one or two topics among common words, and the
    indicator matrix of the topics each uses (columns in ``TOPICS`` order)."""
    rng = np.random.default_rng(seed)
    docs, tags = [], np.zeros((n_posts, len(_LABELS)), dtype=np.int64)
    for i in range(n_posts):
        topics = rng.choice(len(_LABELS), 1 + i % 2, replace=False)
        words = rng.choice(COMMON, length).tolist()
        for topic in topics:
            words += rng.choice(TOPICS[_LABELS[topic]], 3).tolist()
        rng.shuffle(words)
        docs.append(" ".join(words))
        tags[i, topics] = 1
    return docs, tags


def _tagged_pipeline(tiny_glove, **params):
    """A small multi-label pipeline, fitted; ``params`` override."""
    params = {
        "kernel_size": None,  # (1, 2): windows of one and two words
        "dense_units": 0,
        "epochs": 8,
        "validation_split": 0.2,
        "early_stopping": False,
        "label_names": _LABELS,
        **params,
    }
    return tiny_pipeline(tiny_glove, **params).fit(*tagged_posts(200, seed=0))


@pytest.fixture(scope="module")
def tagged_pipe(tiny_glove):
    """The default multi-label network (lexical channel), exact."""
    return _tagged_pipeline(tiny_glove)


def _log_odds(p):
    p = np.asarray(p, dtype=np.float64)
    return np.log(p) - np.log1p(-p)


def _log_odds_tolerance(p):
    """float32 probabilities near 0 or 1 hold their log-odds less precisely."""
    return float(1e-5 + 1e-6 / np.minimum(p, 1 - p).min())


def _sample():
    docs, _ = tagged_posts(6, seed=1)
    return [*docs, "Rocket to the MOON, zorblax!", "the doctor drove the car"]


@pytest.mark.parametrize("lexical", [True, False], ids=["lexical", "glove-only"])
def test_each_labels_scores_add_up_to_its_log_odds(tagged_pipe, tiny_glove, lexical):
    pipe = tagged_pipe if lexical else _tagged_pipeline(tiny_glove, lexical=False)
    sample = _sample()
    proba = pipe.predict_proba(sample)
    predicted = pipe.predict(sample)
    assert (predicted == 0).any()  # labels that are not predicted are checked too
    for column, name in enumerate(_LABELS):
        explanations = explain(pipe, sample, target=name)
        assert len(explanations) == len(sample)
        for i, why in enumerate(explanations):
            p = proba[i, column]
            assert why.method == "exact"
            assert why.document_index == i
            assert why.label == why.target == name
            assert why.probability == why.target_probability == pytest.approx(p)
            assert why.predicted == bool(predicted[i, column])
            total = why.intercept + why.tokens.scores.sum()
            assert total == pytest.approx(_log_odds(p), abs=_log_odds_tolerance(p))
            # Each window's share is also split over its words.
            assert all(w.last - w.first <= 1 for w in why.windows)


def test_a_target_is_a_label_name_or_column(tagged_pipe):
    doc = ["the rocket and the doctor reached orbit"]
    (by_name,) = explain(tagged_pipe, doc, target="space")
    (by_column,) = explain(tagged_pipe, doc, target=2)
    (numpy_column,) = explain(tagged_pipe, doc, target=np.int64(2))
    assert by_name.target == by_column.target == numpy_column.target == "space"
    assert by_name.tokens.scores.tolist() == by_column.tokens.scores.tolist()
    rocket = next(t for t in by_name.tokens if t.text == "rocket")
    assert rocket.score > 0
    (cars,) = explain(tagged_pipe, doc, target="cars")
    assert cars.tokens[rocket.index].score < rocket.score
    if not cars.predicted:
        assert "not predicted" in cars.summary()
    # Without label_names, labels are shown and taken as their columns.
    unnamed = _copy(tagged_pipe)
    unnamed[-1].label_names = None
    (why,) = explain(unnamed, doc, target=2)
    assert why.label == why.target == 2
    assert why.tokens.scores.tolist() == by_name.tokens.scores.tolist()
    with pytest.raises(ValueError, match=r"target='space' is not a label.*0 to 2"):
        explain(unnamed, doc, target="space")


@pytest.mark.parametrize("target", ["sports", 3, -1, True, 1.0, "Space"])
def test_a_wrong_label_target_names_the_labels(tagged_pipe, target):
    with pytest.raises(
        ValueError, match=r"is not a label of this classifier.*'cars', 'med', 'space'"
    ):
        explain(tagged_pipe, ["a doc"], target=target)


def test_the_default_explains_each_predicted_label_in_order(tagged_pipe):
    sample = [*_sample(), "the one of them was in it"]
    proba = tagged_pipe.predict_proba(sample)
    # Thresholds under which the last document has no predicted label.
    pipe = _copy(tagged_pipe)
    pipe[-1].threshold_ = np.maximum(pipe[-1].threshold_, proba[-1])
    predicted = pipe.predict(sample)
    assert not predicted[-1].any() and predicted.sum(axis=1).max() >= 2
    expected = [
        (i, column, bool(row.any()))
        for i, row in enumerate(predicted)
        for column in (np.flatnonzero(row) if row.any() else [proba[i].argmax()])
    ]
    explanations = explain(pipe, sample)
    assert [
        (why.document_index, _LABELS.index(why.label), why.predicted)
        for why in explanations
    ] == expected
    by_target = {name: explain(pipe, sample, target=name) for name in set(_LABELS)}
    for why in explanations:
        i = why.document_index
        assert why.document == sample[i]
        assert why.probability == pytest.approx(proba[i, _LABELS.index(why.label)])
        # The same scores as when the label is named.
        same = by_target[why.label][i]
        assert why.tokens.scores == pytest.approx(same.tokens.scores)
        assert why.intercept == pytest.approx(same.intercept)
    assert "not predicted" in explanations[-1].summary()
    assert len(str(explanations).splitlines()) == len(expected)


def test_multi_label_occlusion_scores_each_labels_log_odds(tiny_glove):
    pipe = _tagged_pipeline(tiny_glove, dense_units=8)
    doc = "the doctor and a car on the road to the moon"
    tokens = list(re.finditer(r"\w+", doc))
    cuts = [doc[: t.start()] + " " + doc[t.end() :] for t in tokens]
    proba = pipe.predict_proba([doc, *cuts]).astype(np.float64)
    checked = 0
    for column, name in enumerate(_LABELS):
        (why,) = explain(pipe, [doc], target=name)
        assert why.method == "occlusion" and why.intercept is None
        assert all(t.read for t in why.tokens)
        p = proba[:, column]
        if np.minimum(p, 1 - p).min() < 1e-3:
            continue  # float32 probabilities too close to 0 or 1 to compare
        falls = _log_odds(p[0]) - _log_odds(p[1:])
        assert why.tokens.scores == pytest.approx(falls, abs=2 * _log_odds_tolerance(p))
        checked += 1
    assert checked


def test_explanations_know_their_document(planted_pipe):
    docs, _ = planted_posts(2, seed=3)
    explanations = explain(planted_pipe, docs)
    assert [why.document_index for why in explanations] == list(range(len(docs)))
    assert all(why.predicted is None for why in explanations)
