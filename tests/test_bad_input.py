"""Odd and hostile input through the whole pipeline.

Each case gives a clear error that names the problem, raised by skglove,
scikit-learn or scikeras before Keras sees the data, or a documented result.
docs/reliability.md shows this matrix; ``test_reliability_page_lists_every_case``
keeps its messages in sync with ``ERROR_CASES``. Cases tested elsewhere are not
repeated: an unseen label at ``score`` counts as wrong
(test_pipeline.py::test_unseen_label_at_score_counts_as_wrong), and id-level
input to the classifier alone is in test_classifier.py::test_bad_X.
"""

import pickle
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import TINY_MAX_LEN, tiny_pipeline, write_glove_txt
from sklearn.exceptions import NotFittedError

import skglove

ROOT = Path(__file__).resolve().parents[1]
N_POSTS = 90  # make_posts() with its defaults


@dataclass(frozen=True)
class Case:
    name: str  # as in the docs' table
    stage: str  # "fit" or "predict"
    X: object
    error: type
    message: str  # a literal part of the message, shown in the docs
    y: object = None  # the posts' labels when None


def _labels_with(value):
    y = np.asarray(["cars", "med", "space"] * 30, dtype=object)
    y[3] = value
    return y


ERROR_CASES = [
    Case(
        "a single string",
        "fit",
        "a post about the moon",
        ValueError,
        "Iterable over raw text documents expected, string object received.",
    ),
    Case(
        "a single string",
        "predict",
        "a post about the moon",
        ValueError,
        "Iterable over raw text documents expected, string object received.",
    ),
    Case(
        "bytes",
        "predict",
        b"a post about the moon",
        ValueError,
        "Iterable over raw text documents expected, string object received.",
    ),
    Case(
        "a list of bytes",
        "fit",
        [b"moon"] * N_POSTS,
        TypeError,
        "documents must be str, but document 0 is bytes b'moon' (decode bytes "
        "to str first)",
    ),
    Case(
        "a one-column DataFrame",
        "fit",
        pd.DataFrame({"text": ["moon car"] * N_POSTS}),
        ValueError,
        f"expected a 1-D sequence of documents, got an array of shape ({N_POSTS}, "
        "1); select the text column first",
    ),
    Case(
        "an object array with None",
        "predict",
        np.array(["moon", None], dtype=object),
        TypeError,
        "documents must be str, but document 1 is NoneType None",
    ),
    Case(
        "an object array with NaN",
        "predict",
        np.array(["moon", np.nan], dtype=object),
        TypeError,
        "documents must be str, but document 1 is float nan",
    ),
    Case(
        "all-empty documents",
        "fit",
        ["", "  ", "?!"] * 30,
        ValueError,
        "empty vocabulary: the documents hold no tokens after lowercasing and "
        "removing the filter characters",
    ),
    Case(
        "no documents",
        "predict",
        [],
        ValueError,
        "empty corpus: at least one document is needed",
    ),
    Case(
        "a single class in y",
        "fit",
        None,
        ValueError,
        "y holds a single class ('cars'); a classifier needs more than one class",
        y=["cars"] * N_POSTS,
    ),
    Case(
        "y with NaN",
        "fit",
        None,
        ValueError,
        "Input y contains NaN or None: 1 missing label(s), the first at position 3",
        y=_labels_with(np.nan),
    ),
    Case(
        "y with None",
        "fit",
        None,
        ValueError,
        "Input y contains NaN or None: 1 missing label(s), the first at position 3",
        y=_labels_with(None),
    ),
    Case(
        "a continuous y",
        "fit",
        None,
        ValueError,
        "Unknown label type: continuous",
        y=np.linspace(0, 1, N_POSTS),
    ),
    Case(
        "a 2-D y of counts, not 0/1",
        "fit",
        None,
        ValueError,
        "a 2-D y must be a binary indicator matrix of 0 and 1, got the values 0, 2",
        y=2 * np.eye(3, dtype=int)[np.arange(N_POSTS) % 3],
    ),
    Case(
        "a multi-output y",
        "fit",
        None,
        ValueError,
        "y has shape (90, 2) and dtype <U5: a 2-D y must be a binary indicator",
        y=np.stack([["cars", "med", "space"] * 30, ["a", "b"] * 45], axis=1),
    ),
    Case(
        "mismatched X/y lengths",
        "fit",
        None,
        ValueError,
        "Found input variables with inconsistent numbers of samples: [90, 89]",
        y=["cars", "med", "space"] * 29 + ["cars", "med"],
    ),
]
DIMENSION_MESSAGE = "the fitted network's embedding has dimension 8, but the GloVe"


@pytest.fixture(scope="module")
def glove_4d(tmp_path_factory, glove_rows):
    rows = [(word, vector[:4]) for word, vector in glove_rows]
    return str(write_glove_txt(tmp_path_factory.mktemp("g4") / "tiny.4d.txt", rows))


def _assert_not_from_keras(excinfo):
    # Raised while checking the input, not deep inside Keras or TensorFlow.
    raised_in = str(excinfo.traceback[-1].path)
    assert "/keras/" not in raised_in and "/tensorflow/" not in raised_in, raised_in


@pytest.mark.parametrize(
    "case", ERROR_CASES, ids=[f"{c.name}-{c.stage}" for c in ERROR_CASES]
)
def test_error_cases(case, tiny_glove, fitted_pipeline, posts):
    docs, labels = posts
    X = docs if case.X is None else case.X
    y = labels if case.y is None else case.y
    with pytest.raises(case.error, match=re.escape(case.message)) as excinfo:
        if case.stage == "fit":
            tiny_pipeline(tiny_glove).fit(X, y)
        else:
            fitted_pipeline.predict(X)
    _assert_not_from_keras(excinfo)


def test_generator_and_series_work_like_lists(tiny_glove, fitted_pipeline, posts):
    # Documents may be any iterable of str; pandas indexes are ignored, as
    # everywhere in scikit-learn. Same seed, same data: the same model.
    docs, labels = posts
    expected = fitted_pipeline.predict_proba(docs)
    by_generator = tiny_pipeline(tiny_glove).fit((d for d in docs), list(labels))
    np.testing.assert_array_equal(by_generator.predict_proba(iter(docs)), expected)
    by_series = tiny_pipeline(tiny_glove).fit(
        pd.Series(docs, index=np.arange(len(docs))[::-1]),
        pd.Series(labels, index=np.arange(len(docs)) + 1000),
    )
    np.testing.assert_array_equal(
        by_series.predict_proba(
            pd.Series(docs, index=[f"p{i}" for i in range(len(docs))])
        ),
        expected,
    )


def test_empty_documents_at_predict_read_as_all_padding(fitted_pipeline):
    # A document without kept words becomes a row of padding ids, like Keras'
    # pad_sequences of an empty list; every such row gets the same output (up
    # to float rounding, which may differ with a row's place in its batch).
    proba = fitted_pipeline.predict_proba(["", "   ", "?!.", "\x00 zzzz unknownword"])
    assert (fitted_pipeline[0].transform(["?!.", "\x00 zzzz unknownword"]) == 0).all()
    np.testing.assert_allclose(proba, np.repeat(proba[:1], 4, axis=0), rtol=1e-6)
    padding = np.zeros((1, TINY_MAX_LEN), dtype=np.int32)
    np.testing.assert_allclose(
        proba[:1], fitted_pipeline[-1].predict_proba(padding), rtol=1e-6
    )


def test_glove_dimension_change_on_warm_start(fitted_copy, posts, glove_4d):
    before = fitted_copy.predict_proba(posts[0])
    fitted_copy.set_params(
        glovecnnclassifier__glove=glove_4d, glovecnnclassifier__warm_start=True
    )
    with pytest.raises(ValueError, match=DIMENSION_MESSAGE) as excinfo:
        fitted_copy.fit(*posts)
    assert f"{glove_4d!r} has dimension 4" in str(excinfo.value)
    _assert_not_from_keras(excinfo)
    # Nothing was trained: the model predicts as before.
    np.testing.assert_array_equal(fitted_copy.predict_proba(posts[0]), before)


def test_glove_dimension_change_on_partial_fit(fitted_copy, posts, glove_4d):
    vectorizer, classifier = fitted_copy.named_steps.values()
    classifier.set_params(glove=glove_4d)
    with pytest.raises(ValueError, match=DIMENSION_MESSAGE):
        classifier.partial_fit(vectorizer.transform(posts[0]), posts[1])


def test_glove_dimension_change_after_loading(
    fitted_pipeline, posts, glove_4d, tmp_path
):
    skglove.save(fitted_pipeline, tmp_path / "model.skglove")
    loaded = skglove.load(tmp_path / "model.skglove")
    loaded.set_params(
        glovecnnclassifier__glove=glove_4d, glovecnnclassifier__warm_start=True
    )
    with pytest.raises(ValueError, match=DIMENSION_MESSAGE):
        loaded.fit(*posts)
    # A fit from scratch with the new GloVe is fine.
    loaded.set_params(glovesequencevectorizer__glove=glove_4d)
    loaded.set_params(
        glovecnnclassifier__warm_start=False, glovecnnclassifier__epochs=1
    )
    assert loaded.fit(*posts)[-1].model_.get_layer("embedding").output_dim == 4


def test_integer_sample_weight_with_class_weight_is_not_modified(tiny_glove, posts):
    # scikeras multiplies class weights into sample_weight in place; the
    # classifier passes it a float copy, so the caller's array is untouched
    # and integer weights work.
    docs, labels = posts
    weights = np.arange(len(docs)) % 3 + 1
    tiny_pipeline(tiny_glove, class_weight="balanced", epochs=1).fit(
        docs, labels, glovecnnclassifier__sample_weight=weights
    )
    np.testing.assert_array_equal(weights, np.arange(len(docs)) % 3 + 1)


@pytest.mark.parametrize("value, at", [(-1.0, 4), (np.nan, 7), (np.inf, 0)])
def test_a_negative_or_non_finite_sample_weight_is_refused_before_keras(
    tiny_glove, posts, value, at
):
    docs, labels = posts
    weights = np.ones(len(docs))
    weights[at] = value
    with pytest.raises(
        ValueError, match=re.escape(f"sample {at} weighs {value!r}")
    ) as e:
        tiny_pipeline(tiny_glove).fit(
            docs, labels, glovecnnclassifier__sample_weight=weights
        )
    _assert_not_from_keras(e)


@pytest.mark.parametrize(
    "weights, class_weight, message",
    [
        (0.0, None, "sample_weight is zero for every sample: "),
        (
            1e-50,
            None,
            "zero for every sample once class_weight is applied, or in float32",
        ),
        (1.0, {"space": 0, "cars": 0, "med": 0}, "once class_weight is applied"),
        (np.ones(3), None, r"sample_weight has shape \(3,\), but there are"),
    ],
)
def test_weights_that_train_nothing_are_refused_before_a_network_is_built(
    tiny_glove, posts, fitted_pipeline, weights, class_weight, message
):
    docs, labels = posts
    assert set(labels) == {"space", "cars", "med"}
    weights = (
        np.broadcast_to(weights, (len(docs),)) if np.ndim(weights) == 0 else weights
    )
    # A refit must not replace the trained network with an untrained one...
    pipe = pickle.loads(pickle.dumps(fitted_pipeline))
    before = pipe.predict_proba(docs)
    pipe.set_params(glovecnnclassifier__class_weight=class_weight)
    with pytest.raises(ValueError, match=message) as e:
        pipe.fit(docs, labels, glovecnnclassifier__sample_weight=weights)
    _assert_not_from_keras(e)
    np.testing.assert_array_equal(pipe.predict_proba(docs), before)
    # ...and a first fit must not leave one that looks fitted.
    pipe = tiny_pipeline(tiny_glove, class_weight=class_weight)
    with pytest.raises(ValueError, match=message):
        pipe.fit(docs, labels, glovecnnclassifier__sample_weight=weights)
    assert not hasattr(pipe[-1], "model_")
    with pytest.raises(NotFittedError):
        pipe.predict(docs[:2])


def test_validation_split_on_few_samples(tiny_glove, posts):
    # 10% of 12 samples cannot hold each of 3 classes: the hold-out is then
    # shuffled without stratification instead of failing in train_test_split.
    docs, labels = posts
    pipe = tiny_pipeline(tiny_glove, validation_split=0.1, epochs=1).fit(
        docs[:12], labels[:12]
    )
    assert len(pipe[-1].history_["val_loss"]) == 1


def test_reliability_page_lists_every_case():
    page = (ROOT / "docs" / "reliability.md").read_text()
    for case in ERROR_CASES:
        assert case.name in page, case.name
        assert case.message in page, case.message
    assert DIMENSION_MESSAGE in page
