"""The solved lexical channel of multi-label networks (skglove._lexical)."""

import pickle

import keras
import numpy as np
import pytest
from conftest import make_posts, make_tagged_posts, tiny_pipeline
from keras.callbacks import EarlyStopping
from scipy.sparse import csr_matrix
from sklearn.feature_extraction.text import TfidfTransformer, TfidfVectorizer
from sklearn.svm import LinearSVC

import skglove._keras_hooks
from skglove import IdSequences
from skglove._lexical import (
    CANDIDATE_CS,
    _fit_labels,
    lexical_features,
    solve_lexical,
    tfidf_rows,
)
from skglove._models import GLOVE_HEAD, LEXICAL_C, LEXICAL_HEAD, WORD_SCORES
from skglove._multilabel import best_f1
from skglove._training import predict, training_model

#: A network with a lexical channel, small enough to fit in about a second.
NET = dict(kernel_size=None, dense_units=0, epochs=2)


@pytest.fixture(scope="module")
def noisy_tags():
    """Tagged posts with a sixth of the tags flipped: the C that ranks
    labels best on held-out posts is then not simply the smallest."""
    docs, Y = make_tagged_posts(240, seed=0)
    flip = np.random.default_rng(1).random(Y.shape) < 1 / 6
    return docs, np.where(flip, 1 - Y, Y)


#: The validation split of the fits here: every fourth post.
VALID = np.arange(240) % 4 == 0
SPLIT = (np.flatnonzero(~VALID), np.flatnonzero(VALID))


@pytest.fixture(scope="module")
def solved(tiny_glove, noisy_tags):
    """The tiny pipeline fitted on ``noisy_tags``, validated on ``SPLIT``;
    the calls to ``solve_lexical`` that its fit made; and for each
    ``keras.Model.fit`` call, the paths of the variables it trained."""
    calls, trained = [], []
    solve, fit = skglove._keras_hooks.solve_lexical, keras.Model.fit

    def spy(*args, **kwargs):
        calls.append(args)
        return solve(*args, **kwargs)

    def fit_spy(model, *args, **kwargs):
        stoppers = [c for c in kwargs["callbacks"] if isinstance(c, EarlyStopping)]
        trained.append(({v.path for v in model.trainable_variables}, stoppers))
        return fit(model, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(skglove._keras_hooks, "hold_out", lambda *a, **k: SPLIT)
        patch.setattr(skglove._keras_hooks, "solve_lexical", spy)
        patch.setattr(keras.Model, "fit", fit_spy)
        pipe = tiny_pipeline(
            tiny_glove, validation_split=0.25, early_stopping=True, **NET
        )
        pipe.fit(*noisy_tags)
    return pipe, calls, trained


def _lexical_scores(pipe, docs):
    clf = pipe[-1]
    X = clf.feature_encoder_.transform(pipe[0].transform(docs))
    return predict(training_model(clf.model_), X, **clf._predict_args())[0]


def test_fit_solves_each_label_as_a_linearsvc_with_the_best_c_on_validation(
    solved, noisy_tags
):
    pipe, calls, _ = solved
    docs, Y = noisy_tags
    # Once to choose C on the training split, once on every post at that C.
    assert [args[4] is SPLIT[0] for args in calls] == [True, False]
    # The posts' TF-IDF vectors as scikit-learn computes them: every word
    # of these posts is kept, and idf is computed on all the fitted posts.
    features = TfidfVectorizer(sublinear_tf=True, token_pattern=r"\S+").fit_transform(
        docs
    )
    train, valid = SPLIT

    def decision(rows, C):
        svcs = [
            LinearSVC(C=C, random_state=0).fit(features[rows], y) for y in Y[rows].T
        ]
        return np.column_stack([svc.decision_function(features) for svc in svcs])

    quality = [
        np.mean(best_f1(decision(train, C)[valid], Y[valid])) for C in CANDIDATE_CS
    ]
    assert len(set(quality)) > 1  # the choice matters on these posts
    C = CANDIDATE_CS[int(np.argmax(quality))]
    assert pipe[-1].lexical_C_ == C
    # Then solved again at that C on every post, as GridSearchCV refits.
    every = np.arange(len(Y))
    np.testing.assert_allclose(
        _lexical_scores(pipe, docs), decision(every, C), atol=2e-3
    )
    assert not np.allclose(decision(train, C), decision(every, C), atol=2e-3)


def test_the_network_trains_beside_the_solved_channel_and_leaves_it_be(solved):
    # Solved before Keras trains, and frozen while it does: the network and
    # early stopping see the channel they will be mixed with.
    pipe, _, trained = solved
    model = pipe[-1].model_
    lexical = {model.get_layer(WORD_SCORES), model.get_layer(LEXICAL_HEAD)}
    lexical_paths = {v.path for layer in lexical for v in layer.trainable_weights}
    glove_paths = {v.path for v in model.get_layer(GLOVE_HEAD).trainable_weights}
    ((paths, stoppers),) = trained
    assert len(lexical_paths) == 2 and not lexical_paths & paths
    assert glove_paths and glove_paths <= paths  # the GloVe channel trains
    assert all(layer.trainable for layer in lexical)  # for partial_fit
    # Early stopping watches the summed channel losses, the frozen channel's
    # a constant: the GloVe channel's own.
    assert [stopper.monitor for stopper in stoppers] == ["val_loss"]


def test_an_ema_optimizer_averages_the_network_and_leaves_the_channel_solved(
    tiny_glove, noisy_tags, monkeypatch
):
    # Keras pairs EMA averages with the variables it trains by position.
    docs, Y = noisy_tags
    solved, mixed = [], []
    solve, fitted_mix = (
        skglove._keras_hooks.solve_lexical,
        skglove._keras_hooks.fitted_mix,
    )

    def solve_spy(model, *args, **kwargs):
        C = solve(model, *args, **kwargs)
        solved.append(model.get_layer(WORD_SCORES).embeddings.numpy())
        return C

    def mix_spy(model, *args, **kwargs):
        mixed.append(model.get_layer(WORD_SCORES).embeddings.numpy())
        return fitted_mix(model, *args, **kwargs)

    monkeypatch.setattr(skglove._keras_hooks, "solve_lexical", solve_spy)
    monkeypatch.setattr(skglove._keras_hooks, "fitted_mix", mix_spy)
    monkeypatch.setattr(skglove._keras_hooks, "hold_out", lambda *a, **k: SPLIT)
    optimizer = keras.optimizers.Adam(0.01, use_ema=True)
    pipe = tiny_pipeline(
        tiny_glove, validation_split=0.25, optimizer=optimizer, **NET
    ).fit(docs, Y)
    assert np.isfinite(pipe.predict_proba(docs)).all()
    # The mix read the channel as it was solved on the training split.
    np.testing.assert_array_equal(mixed[0], solved[0])
    before = _lexical_scores(pipe, docs)
    pipe[-1].partial_fit(pipe[0].transform(docs), Y)
    assert not np.allclose(_lexical_scores(pipe, docs), before)


def test_partial_fit_descends_and_a_fit_without_a_split_solves_at_the_default(
    tiny_glove, noisy_tags, solved, monkeypatch
):
    docs, Y = noisy_tags
    pipe, _, _ = solved
    calls = []
    monkeypatch.setattr(
        skglove._keras_hooks, "solve_lexical", lambda *a: calls.append(a) or 0.5
    )
    before = _lexical_scores(pipe, docs)
    copy = pickle.loads(pickle.dumps(pipe))  # the fixture stays as it is
    X = copy[0].transform(docs)
    copy[-1].partial_fit(X, Y)
    assert calls == []
    assert copy[-1].lexical_C_ is None
    assert not np.allclose(_lexical_scores(copy, docs), before)  # adam moved it
    # Without a validation split, fit solves the channel at LEXICAL_C.
    monkeypatch.undo()
    unsplit = tiny_pipeline(tiny_glove, validation_split=0.0, **NET).fit(docs, Y)
    assert unsplit[-1].lexical_C_ == LEXICAL_C


def test_the_solved_channel_reads_sample_weights_whatever_their_scale(
    solved, noisy_tags
):
    # Weights that sum to 1 would otherwise divide C by the number of posts.
    docs, Y = noisy_tags
    copy = pickle.loads(pickle.dumps(solved[0]))
    model = copy[-1].model_
    features = lexical_features(
        model, copy[-1].feature_encoder_.transform(copy[0].transform(docs))
    )
    weights = np.random.default_rng(0).uniform(0.2, 5, len(Y))
    every = np.arange(len(Y))

    def scores(sample_weight):
        solve_lexical(model, features, Y, sample_weight, every, None, 0, C=0.3)
        return _lexical_scores(copy, docs)

    weighted = scores(weights)
    np.testing.assert_allclose(scores(weights / weights.sum()), weighted, atol=1e-4)
    np.testing.assert_allclose(scores(weights * 1000), weighted, atol=1e-4)
    assert not np.allclose(scores(None), weighted, atol=1e-2)


def test_single_label_networks_are_not_solved(tiny_glove, monkeypatch):
    calls = []
    monkeypatch.setattr(
        skglove._keras_hooks, "solve_lexical", lambda *a: calls.append(a) or 0.5
    )
    docs, labels = make_posts()
    pipe = tiny_pipeline(tiny_glove, epochs=1).fit(docs, labels)
    assert calls == [] and pipe[-1].lexical_C_ is None


def test_tfidf_rows_weigh_words_as_tfidf_transformer():
    rng = np.random.default_rng(0)
    lengths = rng.integers(0, 9, 30)
    ids = rng.integers(1, 14, lengths.sum())
    X = IdSequences(ids, np.concatenate([[0], np.cumsum(lengths)]), max_len=9)
    idf = rng.uniform(1, 3, 12)
    idf[:2] = 0  # padding and an unknown word weigh nothing
    # Ids 12 and 13 are past idf: words met after fit.
    docs = np.repeat(np.arange(len(X)), lengths)
    counts = csr_matrix((np.ones(len(ids)), (docs, ids)), shape=(len(X), 14))
    expected = TfidfTransformer(sublinear_tf=True).fit(counts)
    expected.idf_ = np.concatenate([idf, [0, 0]])
    np.testing.assert_allclose(
        tfidf_rows(X, idf).toarray(), expected.transform(counts).toarray()[:, :12]
    )


def test_a_label_of_one_class_scores_by_its_intercept_alone():
    features = csr_matrix(np.eye(6))
    Y = np.array([[1, 0, 1], [0, 0, 1], [1, 0, 1], [0, 0, 1], [1, 0, 1], [0, 0, 1]])
    coef, intercept = _fit_labels(features, Y, None, 0, 1.0)
    assert (coef[1:] == 0).all() and intercept[1:].tolist() == [-1.0, 1.0]
    assert (np.sign(features @ coef[0] + intercept[0]) == 2 * Y[:, 0] - 1).all()
