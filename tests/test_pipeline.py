"""The two estimators together, as scikit-learn users combine them."""

import io

import joblib
import numpy as np
import pytest
from conftest import TINY_MAX_LEN, TINY_NET, make_posts, tiny_pipeline
from sklearn.base import clone
from sklearn.model_selection import (
    GridSearchCV,
    StratifiedShuffleSplit,
    cross_val_score,
)
from sklearn.pipeline import Pipeline

from skglove import GloveCNNClassifier, GloveSequenceVectorizer, make_glove_pipeline


def test_make_glove_pipeline_steps_and_routing(tiny_glove):
    pipe = make_glove_pipeline(tiny_glove, max_len=50, filters=7, epochs=3)
    assert type(pipe) is Pipeline
    assert list(pipe.named_steps) == ["glovesequencevectorizer", "glovecnnclassifier"]
    vec, clf = pipe.named_steps.values()
    assert isinstance(vec, GloveSequenceVectorizer)
    assert isinstance(clf, GloveCNNClassifier)
    assert vec.glove == clf.glove == tiny_glove
    assert (vec.max_len, clf.filters, clf.epochs) == (50, 7, 3)


def test_make_glove_pipeline_unknown_name():
    with pytest.raises(TypeError, match="unexpected keyword argument 'fliters'"):
        make_glove_pipeline(fliters=3)


def test_fit_predict_score(fitted_pipeline, posts):
    docs, labels = posts
    predicted = fitted_pipeline.predict(docs)
    assert predicted.shape == labels.shape
    assert fitted_pipeline.score(docs, labels) == np.mean(predicted == labels)
    assert fitted_pipeline.predict_proba(docs).shape == (len(docs), 3)


def test_unseen_label_at_score_counts_as_wrong(fitted_pipeline, posts):
    docs, labels = posts
    relabeled = np.where(labels == "cars", "boats", labels)
    correct = fitted_pipeline.predict(docs) == relabeled
    assert fitted_pipeline.score(docs, relabeled) == correct.mean()


def test_joblib_round_trip(fitted_pipeline, posts):
    docs, _ = posts
    buffer = io.BytesIO()
    joblib.dump(fitted_pipeline, buffer)
    buffer.seek(0)
    restored = joblib.load(buffer)
    np.testing.assert_array_equal(
        restored.predict_proba(docs), fitted_pipeline.predict_proba(docs)
    )


def test_default_pipeline_pickle_holds_only_kept_rows(posts):
    # The default 400,000 x 50 GloVe table is 80 MB; a model keeps the rows of
    # the words seen at fit and of the first ``unseen_glove_words`` GloVe words.
    pipe = make_glove_pipeline(
        max_len=TINY_MAX_LEN, random_state=0, unseen_glove_words=5_000, **TINY_NET
    )
    pipe.fit(*posts)
    buffer = io.BytesIO()
    joblib.dump(pipe, buffer)
    clf = pipe[-1]
    n_rows = len(clf.feature_encoder_.ids_) + 2
    assert 5_000 <= n_rows < 5_000 + clf.feature_encoder_.n_seen_ + 3
    assert clf.model_.get_layer("embedding").get_weights()[0].shape == (n_rows, 50)
    table_bytes = n_rows * 50 * 4
    assert table_bytes < len(buffer.getvalue()) < 2 * table_bytes


def test_cross_val_score(tiny_glove, posts):
    # Two folds show the pipeline clones, fits and scores per fold; a third
    # would only add a fit.
    scores = cross_val_score(tiny_pipeline(tiny_glove), *posts, cv=2)
    assert scores.shape == (2,)
    assert np.all((scores >= 0) & (scores <= 1))


def test_grid_search_over_both_steps(tiny_glove, posts):
    # One stratified train/test split: the test is about parameters reaching
    # both steps, not about averaging folds (each fold is another fit).
    split = StratifiedShuffleSplit(n_splits=1, test_size=0.5, random_state=0)
    search = GridSearchCV(
        tiny_pipeline(tiny_glove),
        # Two candidates, each changing both steps.
        [
            {
                "glovesequencevectorizer__max_len": [max_len],
                "glovecnnclassifier__filters": [filters],
            }
            for max_len, filters in ((TINY_MAX_LEN, 2), (40, 4))
        ],
        cv=split,
    ).fit(*posts)
    assert len(search.cv_results_["params"]) == 2
    best = search.best_estimator_
    assert best[0].max_len == search.best_params_["glovesequencevectorizer__max_len"]
    assert best[-1].n_features_in_ == best[0].max_len
    scores = search.cv_results_["mean_test_score"]
    assert np.all((scores >= 0) & (scores <= 1))


def test_clone_gives_an_unfitted_equal_pipeline(fitted_pipeline, posts):
    copy = clone(fitted_pipeline)
    assert (
        copy.get_params(deep=False).keys()
        == fitted_pipeline.get_params(deep=False).keys()
    )
    assert not hasattr(copy[-1], "model_")
    assert copy[-1].get_params() == fitted_pipeline[-1].get_params()
    docs, labels = posts
    np.testing.assert_array_equal(
        copy.fit(docs, labels).predict_proba(docs), fitted_pipeline.predict_proba(docs)
    )


def test_generalizes_to_new_posts(tiny_glove):
    train = make_posts(n_per_class=40, seed=0)
    test = make_posts(n_per_class=10, seed=5)
    pipe = tiny_pipeline(tiny_glove, epochs=25, filters=16).fit(*train)
    assert pipe.score(*test) > 0.8


@pytest.mark.parametrize(
    "bad, error, match",
    [
        ("one post", ValueError, "string object received"),
        ([None, "x"], TypeError, "document 0 is NoneType"),
        ([b"x", "y"], TypeError, "decode bytes"),
        ([1, 2], TypeError, "document 0 is int"),
        ([], ValueError, "empty corpus"),
    ],
)
def test_bad_documents_at_predict(fitted_pipeline, bad, error, match):
    with pytest.raises(error, match=match):
        fitted_pipeline.predict(bad)


def test_mismatched_lengths(tiny_glove, posts):
    docs, labels = posts
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        tiny_pipeline(tiny_glove).fit(docs, labels[:-1])
