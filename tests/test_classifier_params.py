"""Parameters the classifier must not accept silently: unknown keywords,
routes, Keras arguments, combinations an architecture does not use, and
the id space of its input (issue 12, items 3 to 7 and 11)."""

import keras
import numpy as np
import pytest
from conftest import TINY_BLOG, TINY_MAX_LEN, TINY_NET, tiny_pipeline, write_glove_txt
from sklearn.base import clone

from skglove import GloveCNNClassifier, GloveSequenceVectorizer, make_glove_pipeline
from skglove.glove import load_glove


@pytest.fixture
def keras_calls(monkeypatch):
    """The keyword arguments of every keras.Model.fit and predict call."""
    calls = {"fit": [], "predict": []}
    for method in calls:
        original = getattr(keras.Model, method)

        def spy(model, *args, _original=original, _method=method, **kwargs):
            calls[_method].append(kwargs)
            return _original(model, *args, **kwargs)

        monkeypatch.setattr(keras.Model, method, spy)
    return calls


# Item 3: unknown keywords and routes.


@pytest.fixture(scope="module")
def ids(tiny_glove, posts):
    vec = GloveSequenceVectorizer(tiny_glove, max_len=TINY_MAX_LEN)
    return vec.fit_transform(posts[0]), posts[1]


def test_misspelt_parameter_names_the_closest_valid_ones(tiny_glove, ids, keras_calls):
    # Stored as scikit-learn asks of __init__; refused at fit, before Keras.
    clf = GloveCNNClassifier(tiny_glove, epoch=5)
    with pytest.raises(TypeError, match=r"'epoch'.*did you mean 'epochs'"):
        clf.fit(*ids)
    assert keras_calls["fit"] == []
    with pytest.raises(ValueError, match=r"'epoch'.*did you mean 'epochs'"):
        GloveCNNClassifier().set_params(epoch=5)


@pytest.mark.parametrize(
    "name, error, match",
    [
        ("model__filters", TypeError, "did you mean 'filters'"),
        ("compile__jit_compile", TypeError, "routed names: optimizer__"),
        ("foo", TypeError, "unexpected keyword argument 'foo'"),
        ("optimizer__", TypeError, "names no argument"),
        ("fit__batch_size", TypeError, "classifier sets the other arguments"),
        ("fit__verbose__x", TypeError, "'verbose__x' is not accepted"),
        ("predict__steps", TypeError, "classifier sets the other arguments"),
        ("fit__validation_batch_size", TypeError, "is not accepted"),
        ("optimizer__bogus", ValueError, "names no argument of Adam"),
        ("loss__from_logits", ValueError, "but loss=None; give the class"),
        ("optimizer__learning_rate", ValueError, "set learning_rate=None"),
        ("callbacks__patience", ValueError, "but callbacks is None"),
    ],
)
def test_routes_that_would_reach_nothing_are_refused(
    tiny_glove, ids, keras_calls, name, error, match
):
    with pytest.raises(error, match=match):
        GloveCNNClassifier(tiny_glove, **TINY_NET, **{name: 1}).fit(*ids)
    assert keras_calls["fit"] == []
    if error is TypeError:  # an unknown name: set_params refuses it at once
        with pytest.raises(ValueError, match=match):
            GloveCNNClassifier().set_params(**{name: 1})


def test_routes_survive_clone_and_set_params():
    clf = GloveCNNClassifier(optimizer="sgd", optimizer__momentum=0.9)
    clf.set_params(predict__verbose=0)
    params = clone(clf).get_params()
    assert params["optimizer__momentum"] == 0.9
    assert params["predict__verbose"] == 0


def test_optimizer_and_loss_routes_reach_keras(tiny_glove, posts):
    pipe = tiny_pipeline(
        tiny_glove,
        optimizer="sgd",
        learning_rate=None,
        optimizer__momentum=0.7,
        lexical=False,
        loss=keras.losses.SparseCategoricalCrossentropy,
        loss__reduction="sum",
    ).fit(*posts)
    model = pipe[-1].model_
    assert model.optimizer.momentum == pytest.approx(0.7)
    assert model.loss.reduction == "sum"


def test_fit_route_and_fit_arguments_reach_keras(tiny_glove, posts, keras_calls):
    seen = []
    callback = keras.callbacks.LambdaCallback(on_epoch_end=lambda *_: seen.append(1))
    pipe = tiny_pipeline(tiny_glove, fit__validation_freq=2, validation_split=0.2)
    pipe.fit(*posts, glovecnnclassifier__callbacks=[callback])
    (call,) = keras_calls["fit"]
    assert call["validation_freq"] == 2
    assert callback in call["callbacks"]
    assert len(seen) == TINY_NET["epochs"]
    with pytest.raises(TypeError, match="'batch_size' is not accepted"):
        pipe.fit(*posts, glovecnnclassifier__batch_size=3)


def test_callbacks_route_builds_the_callbacks(tiny_glove, posts, keras_calls):
    tiny_pipeline(
        tiny_glove,
        callbacks=[keras.callbacks.EarlyStopping],
        callbacks__monitor="loss",
    ).fit(*posts)
    built = [
        c
        for c in keras_calls["fit"][0]["callbacks"]
        if type(c).__name__ == "EarlyStopping"
    ]
    assert [c.monitor for c in built] == ["loss"]


# Item 4: predict arguments.


@pytest.mark.parametrize("architecture", ["kim", "blog"])
def test_predict_arguments_reach_keras(
    tiny_glove, posts, fitted_copy, keras_calls, architecture
):
    if architecture == "kim":
        # The session's pipeline is the tiny kim network; predict routes are
        # read at predict time, so setting one on a copy needs no new fit.
        pipe = fitted_copy.set_params(glovecnnclassifier__predict__verbose=2)
    else:
        pipe = tiny_pipeline(tiny_glove, predict__verbose=2, **TINY_BLOG).fit(*posts)
    keras_calls["predict"].clear()
    batches = []
    callback = keras.callbacks.LambdaCallback(
        on_predict_batch_end=lambda batch, logs: batches.append(batch)
    )
    pipe.predict_proba(posts[0][:5], callbacks=[callback], batch_size=3)
    (call,) = keras_calls["predict"]
    assert callback in call["callbacks"] and call["verbose"] == 2
    assert len(batches) == 2  # 5 documents in batches of 3
    with pytest.raises(TypeError, match="'steps' is not accepted"):
        pipe.predict(posts[0][:5], steps=1)


# Item 5: partial_fit validates like fit and refuses words it has no row for.


@pytest.mark.parametrize(
    "params, error, match",
    [
        ({"early_stopping": True, "validation_split": 0.0}, ValueError, "validation"),
        ({"architecture": "transformer"}, ValueError, "architecture"),
        ({"kernel_size": ()}, ValueError, "kernel_size"),
        ({"pool_size": 3}, ValueError, "pool_size"),
    ],
)
def test_partial_fit_checks_parameters_as_fit_does(
    tiny_glove, posts, params, error, match
):
    vec = GloveSequenceVectorizer(tiny_glove, max_len=TINY_MAX_LEN).fit(posts[0])
    X = vec.transform(posts[0])
    for method in ("fit", "partial_fit"):
        clf = GloveCNNClassifier(tiny_glove, **{**TINY_NET, **params})
        with pytest.raises(error, match=match):
            getattr(clf, method)(X, posts[1])


def test_partial_fit_refuses_glove_words_the_table_lacks(tiny_glove, posts):
    docs, labels = posts
    vec = GloveSequenceVectorizer(
        tiny_glove, max_len=TINY_MAX_LEN, unseen_glove_words=0
    ).fit(docs)
    first = vec.transform(["car engine"] * 3 + ["space rocket"] * 3)
    later = vec.transform(docs[:12])
    clf = GloveCNNClassifier(tiny_glove, unseen_glove_words=0, **TINY_NET)
    clf.partial_fit(first, ["cars"] * 3 + ["space"] * 3, classes=sorted(set(labels)))
    with pytest.raises(ValueError, match=r"no row for.*unseen_glove_words"):
        clf.partial_fit(later, labels[:12])


def test_partial_fit_with_every_glove_row_reads_later_words(tiny_glove, posts):
    docs, labels = posts
    glove = load_glove(tiny_glove)
    vec = GloveSequenceVectorizer(tiny_glove, max_len=TINY_MAX_LEN).fit(docs)
    first = vec.transform(["car engine"] * 3 + ["space rocket"] * 3)
    clf = GloveCNNClassifier(tiny_glove, unseen_glove_words=len(glove), **TINY_NET)
    clf.partial_fit(first, ["cars"] * 3 + ["space"] * 3, classes=sorted(set(labels)))
    clf.partial_fit(vec.transform(docs[:12]), labels[:12])
    # A word of the later batch only is read through its own GloVe row.
    word = "brake"
    row = clf.feature_encoder_.transform([[glove.index[word] + 2]])[0, 0]
    table = clf.model_.get_layer("embedding").get_weights()[0]
    np.testing.assert_array_equal(table[row], glove[word])


# Item 6: two steps, two GloVe sources.


@pytest.fixture(scope="module")
def other_glove_8d(tmp_path_factory, glove_rows):
    # The same words and dimension, in another order: every id means another word.
    path = tmp_path_factory.mktemp("other") / "other.8d.txt"
    return str(write_glove_txt(path, glove_rows[::-1]))


def test_vectorizer_without_glove_before_a_glove_classifier(tiny_glove, posts):
    pipe = make_glove_pipeline(tiny_glove, max_len=TINY_MAX_LEN, **TINY_NET)
    pipe.set_params(glovesequencevectorizer__glove=None)
    with pytest.raises(ValueError, match=r"frequency ranks.*different GloVe sources"):
        pipe.fit(*posts)


def test_two_glove_files_of_one_dimension(
    tiny_glove, other_glove_8d, posts, fitted_pipeline
):
    pipe = make_glove_pipeline(tiny_glove, max_len=TINY_MAX_LEN, **TINY_NET)
    pipe.set_params(glovecnnclassifier__glove=other_glove_8d)
    with pytest.raises(ValueError, match="different GloVe sources"):
        pipe.fit(*posts)
    # At predict too: ids from a vectorizer of the other file.
    other = GloveSequenceVectorizer(other_glove_8d, max_len=TINY_MAX_LEN).fit(posts[0])
    with pytest.raises(ValueError, match="different GloVe sources"):
        fitted_pipeline[-1].predict(other.transform(posts[0]))


def test_plain_arrays_and_slices(tiny_glove, posts, fitted_pipeline):
    X = fitted_pipeline[0].transform(posts[0])
    assert X.source == load_glove(tiny_glove).fingerprint
    assert X[:5].source == X.source
    # A plain array names no id space, and is read as it is.
    fitted_pipeline[-1].predict(np.asarray(X))


# Item 7: valid parameters that crashed or were ignored.


def test_max_words_that_keeps_no_word(tiny_glove, posts):
    vec = GloveSequenceVectorizer(tiny_glove, max_words=2, oov_token="<OOV>")
    X = vec.fit_transform(posts[0])
    assert vec.vocabulary_ == {} and vec.glove_coverage_ == {"words": 0, "tokens": 0}
    assert X.shape == (len(posts[0]), 1000)


def test_blog_architecture_with_its_defaults(tiny_glove, posts):
    pipe = make_glove_pipeline(
        tiny_glove, architecture="blog", filters=4, epochs=1, random_state=0
    ).fit(*posts)
    assert pipe[-1].model_.get_layer("embedding") is not None
    # kernel_size=None means the blog's width, 5, and pool_size its 5.
    convs = [layer for layer in pipe[-1].model_.layers if "conv1d" in layer.name]
    assert [c.kernel_size for c in convs] == [(5,)] * 3
    assert pipe[-1].kernel_size is None


def test_kim_reads_words_and_word_pairs_by_default(tiny_glove, posts):
    pipe = make_glove_pipeline(tiny_glove, filters=4, epochs=1, random_state=0)
    model = pipe.fit(*posts)[-1].model_
    windows = [
        layer.width for layer in model.layers if type(layer).__name__ == "Windows"
    ]
    assert windows == [2] and model.get_layer("conv_0").units == 4


@pytest.mark.parametrize(
    "params, match",
    [
        ({"pool_size": 3}, r"pool_size=3 is used by architecture 'blog' only"),
        ({**TINY_BLOG, "mean_pooling": True}, "mean_pooling=True is not available"),
        ({"embedding_dim": 16}, "embedding_dim=16 is the width"),
    ],
)
def test_parameters_an_architecture_ignores_are_refused(
    tiny_glove, posts, params, match
):
    with pytest.raises(ValueError, match=match):
        tiny_pipeline(tiny_glove, **params).fit(*posts)


def test_embedding_dim_equal_to_the_glove_dimension_is_accepted(tiny_glove, posts):
    tiny_pipeline(tiny_glove, embedding_dim=8, epochs=1).fit(*posts)


# Item 11: repr.


def test_repr_shows_changed_parameters_only():
    assert repr(GloveCNNClassifier()) == "GloveCNNClassifier()"
    assert (
        repr(GloveCNNClassifier(epochs=3, optimizer__momentum=0.5))
        == "GloveCNNClassifier(epochs=3, optimizer__momentum=0.5)"
    )


def test_warm_start_fits_again_and_keeps_its_classes(tiny_glove, posts, keras_calls):
    pipe = tiny_pipeline(tiny_glove, warm_start=True, validation_split=0.2)
    pipe.fit(*posts).fit(*posts)
    clf = pipe[-1]
    assert len(keras_calls["fit"]) == 2
    assert clf.classes_.tolist() == sorted(set(posts[1]))
    assert len(clf.history_["loss"]) == TINY_NET["epochs"]  # the last fit's
    assert pipe.predict_proba(posts[0][:2]).shape == (2, 3)


@pytest.mark.parametrize("method", ["warm fit", "partial_fit"])
def test_training_on_after_glove_changed_to_another_file_of_its_width(
    fitted_copy, other_glove_8d, posts, method
):
    # The session's pipeline: a classifier fitted with TINY_NET on the ids of
    # the tiny GloVe file (a copy, as the test changes it).
    vectorizer, clf = fitted_copy.named_steps.values()
    X = vectorizer.transform(posts[0])
    X_other = GloveSequenceVectorizer(
        other_glove_8d, max_len=TINY_MAX_LEN
    ).fit_transform(posts[0])
    clf.set_params(glove=other_glove_8d, warm_start=True)
    with pytest.raises(ValueError, match="not the one the fitted network's table"):
        if method == "partial_fit":
            clf.partial_fit(np.asarray(X), posts[1])
        else:
            clf.fit(X_other, posts[1])


def test_classifier_without_glove_remembers_the_id_space_of_fit(tiny_glove, posts):
    docs, labels = posts
    ranks = GloveSequenceVectorizer(None, max_len=TINY_MAX_LEN).fit_transform(docs)
    rows = GloveSequenceVectorizer(tiny_glove, max_len=TINY_MAX_LEN).fit_transform(docs)
    clf = GloveCNNClassifier(None, **TINY_NET).fit(ranks, labels)
    clf.predict(ranks[:3])
    with pytest.raises(ValueError, match="frequency ranks"):
        clf.predict(rows[:3])
    # A batch with words the learned table lacks is refused, as with GloVe.
    first = GloveSequenceVectorizer(None, max_len=TINY_MAX_LEN).fit(docs)
    partial = GloveCNNClassifier(None, **TINY_NET)
    partial.partial_fit(
        first.transform(docs[:3]), labels[:3], classes=sorted(set(labels))
    )
    with pytest.raises(ValueError, match=r"no row for.*first batch hold"):
        partial.partial_fit(first.transform(docs[3:]), labels[3:])
