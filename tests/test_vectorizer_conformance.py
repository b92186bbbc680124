"""scikit-learn's estimator contract, checked by hand for GloveSequenceVectorizer.

scikit-learn's generic checks skip estimators with the ``input_tags.string``
tag, so the checks that apply to a text transformer are written out here,
named after their scikit-learn counterparts. test_vectorizer.py already covers
output values, bad documents, feature names and a fitted pickle round trip.

Feature-count attributes follow CountVectorizer: text input has no columns,
so neither ``n_features_in_`` nor ``feature_names_in_`` is set; the output has
``max_len`` columns, which the next step records as its ``n_features_in_``.
"""

import pickle

import joblib
import numpy as np
import pandas as pd
import pytest
from conftest import TINY_MAX_LEN, TINY_NET
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.utils.validation import check_is_fitted

from skglove import GloveSequenceVectorizer, make_glove_pipeline

FITTED_ATTRIBUTES = ("vocabulary_", "missing_words_", "glove_coverage_", "id_source_")


@pytest.fixture
def vec(tiny_glove):
    return GloveSequenceVectorizer(tiny_glove, max_len=12, max_words=20)


def _fitted_state(vec):
    return {name: getattr(vec, name) for name in FITTED_ATTRIBUTES}


#: A valid value for each parameter, other than the ``vec`` fixture's.
NEW_VALUES = {
    "glove": None,
    "max_len": 5,
    "max_words": None,
    "lowercase": False,
    "filter_chars": "!?",
    "padding": "post",
    "truncating": "post",
    "oov_token": "<unk>",
    "unseen_glove_words": 7,
}


def test_check_estimator_cloneable_and_clone_is_unfitted(vec, posts):
    vec.fit(posts[0])
    copy = clone(vec)
    assert copy.get_params() == vec.get_params()
    assert not any(hasattr(copy, name) for name in FITTED_ATTRIBUTES)


def test_check_get_params_invariance_and_set_params_round_trip(vec):
    params = vec.get_params(deep=False)
    assert vec.get_params(deep=True) == params
    assert vec.set_params(**params).get_params() == params
    assert set(NEW_VALUES) == set(params)
    for name, value in params.items():
        assert NEW_VALUES[name] != value
        assert (
            vec.set_params(**{name: NEW_VALUES[name]}).get_params()[name]
            == (NEW_VALUES[name])
        )
        vec.set_params(**{name: value})
    assert vec.get_params() == params


def test_check_no_attributes_set_in_init(tiny_glove):
    params = {"glove": tiny_glove, "max_len": 7, "oov_token": "#"}
    vec = GloveSequenceVectorizer(**params)
    assert set(vars(vec)) == set(vec.get_params())
    assert all(vars(vec)[name] is value for name, value in params.items())


def test_check_do_not_raise_errors_in_init_or_set_params():
    # __init__ and set_params only store values; fit validates and loads.
    vec = GloveSequenceVectorizer("/no/such/glove.txt", max_len=-1, padding="up")
    vec.set_params(max_words="many")
    with pytest.raises(ValueError, match="'max_len' parameter"):
        vec.fit(["moon"])
    vec.set_params(max_len=3, padding="pre", max_words=None)
    with pytest.raises(ValueError, match="neither a registered name"):
        vec.fit(["moon"])


def test_check_estimator_repr(tiny_glove):
    assert repr(GloveSequenceVectorizer(None, max_len=7)) == (
        "GloveSequenceVectorizer(glove=None, max_len=7)"
    )


def test_check_estimators_fit_returns_self_and_overwrite_params(vec, posts):
    before = joblib.hash(vec.get_params())
    assert vec.fit(posts[0]) is vec
    assert joblib.hash(vec.get_params()) == before


def test_check_dont_overwrite_parameters(vec, posts):
    before = set(vars(vec))
    vec.fit(posts[0])
    added = set(vars(vec)) - before
    # As in scikit-learn's check: public fitted attributes end in "_"; the
    # private ones (the GloVe words kept for transform) start with it.
    assert {a for a in added if not a.startswith("_")} == set(FITTED_ATTRIBUTES)
    assert {a for a in added if a.startswith("_")} == {"_unseen_words"}


def test_check_fit_idempotent(vec, posts):
    docs, _ = posts
    once = _fitted_state(clone(vec).fit(docs))
    expected = vec.fit(docs).transform(docs)
    # Refitting, even after other data, leaves no trace of earlier fits.
    vec.fit(["zorblax quuxly unused", "moon"]).fit(docs)
    assert _fitted_state(vec) == once
    assert list(vec.vocabulary_) == list(once["vocabulary_"])  # order too
    np.testing.assert_array_equal(vec.transform(docs), expected)


def test_check_dict_unchanged_by_transform(vec, posts):
    docs, _ = posts
    vec.fit(docs)
    before = joblib.hash(vars(vec))
    vec.transform(docs)
    vec.inverse_transform(vec.transform(docs))
    vec.get_feature_names_out()
    assert joblib.hash(vars(vec)) == before


def test_check_methods_subset_and_sample_order_invariance(vec, posts):
    docs, _ = posts
    X = vec.fit(docs).transform(docs)
    order = np.random.default_rng(0).permutation(len(docs))
    np.testing.assert_array_equal(vec.transform([docs[i] for i in order]), X[order])
    np.testing.assert_array_equal(vec.transform(docs[5:9]), X[5:9])


def test_check_estimators_unfitted(vec):
    for call in (
        lambda: vec.transform(["moon"]),
        lambda: vec.inverse_transform([[0, 2]]),
        lambda: vec.get_feature_names_out(),
        lambda: check_is_fitted(vec),
    ):
        with pytest.raises(NotFittedError):
            call()


def test_check_fit_check_is_fitted(vec, posts):
    check_is_fitted(vec.fit(posts[0]))


def test_check_estimators_pickle_unfitted_and_fitted(vec, posts):
    docs, _ = posts
    unfitted = pickle.loads(pickle.dumps(vec))
    assert unfitted.get_params() == vec.get_params()
    X = unfitted.fit(docs).transform(docs)
    restored = pickle.loads(pickle.dumps(unfitted))
    assert _fitted_state(restored) == _fitted_state(unfitted)
    np.testing.assert_array_equal(restored.transform(docs), X)


def test_check_readonly_input(vec, posts):
    docs = np.array(posts[0])
    docs.flags.writeable = False
    np.testing.assert_array_equal(
        vec.fit_transform(docs), clone(vec).fit_transform(list(posts[0]))
    )


def test_no_input_feature_attributes_like_count_vectorizer(vec, posts):
    docs = pd.Series(posts[0], name="text")
    for estimator in (vec, CountVectorizer()):
        estimator.fit(docs)
        assert not hasattr(estimator, "n_features_in_")
        assert not hasattr(estimator, "feature_names_in_")
    # Output names ignore input_features, as CountVectorizer's do.
    names = vec.get_feature_names_out()
    np.testing.assert_array_equal(vec.get_feature_names_out(["text"]), names)
    assert len(names) == vec.transform(docs).shape[1] == vec.max_len


@pytest.mark.parametrize("method", ["fit", "fit_transform", "transform"])
def test_bare_string_rejected_as_count_vectorizer_does(method):
    errors = []
    for estimator in (GloveSequenceVectorizer(None), CountVectorizer()):
        estimator.fit(["moon"])
        with pytest.raises(ValueError) as excinfo:
            getattr(estimator, method)("moon car")
        errors.append(str(excinfo.value))
    assert errors[0] == errors[1]


def test_set_output_pandas_through_the_pipeline(tiny_glove, posts):
    # With pandas output the classifier reads a DataFrame of ids; its
    # predictions match those from plain arrays.
    docs, labels = posts
    pipe = make_glove_pipeline(
        tiny_glove, max_len=TINY_MAX_LEN, random_state=0, **TINY_NET
    ).set_output(transform="pandas")
    frame = pipe[:-1].fit_transform(docs)
    assert isinstance(frame, pd.DataFrame)
    assert frame.dtypes.unique().tolist() == [np.int32]
    assert list(frame.columns) == pipe[0].get_feature_names_out().tolist()
    proba = pipe.fit(docs, labels).predict_proba(docs)
    assert pipe[-1].n_features_in_ == TINY_MAX_LEN
    pipe.set_output(transform="default")
    np.testing.assert_array_equal(pipe.predict_proba(docs), proba)
