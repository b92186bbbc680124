"""scikit-learn's estimator checks, and parameter validation of both estimators.

The generic checks feed random numeric matrices. GloveCNNClassifier reads
integer id sequences: it declares ``input_tags.categorical`` and
``positive_only``, so most checks round their data to non-negative integers.
The instance checked keeps the default architecture, kernel widths,
optimizer, validation split and early stopping, and only shrinks the network
and the training, for speed.
scikit-learn skips text transformers, so the vectorizer is checked by hand in
test_vectorizer_conformance.py. docs/reliability.md lists the expected
failures below with their reasons.
"""

from pathlib import Path

import numpy as np
import pytest
from sklearn.utils import estimator_checks
from sklearn.utils._param_validation import (
    InvalidParameterError,
    generate_invalid_param_val,
    make_constraint,
)
from sklearn.utils.estimator_checks import parametrize_with_checks

from skglove import GloveCNNClassifier, GloveSequenceVectorizer

#: The defaults, but one epoch of a two-filter network on a learned embedding.
FAST_CLASSIFIER = GloveCNNClassifier(
    None,
    embedding_dim=2,
    filters=2,
    epochs=1,
    batch_size=32,
    random_state=0,
)

_FLOAT_X = (
    "feeds non-integer floats as X without rounding them for the categorical "
    "tag; id sequences must be integers"
)
#: Checks that cannot pass, each with its reason; docs/reliability.md lists them.
EXPECTED_FAILED_CHECKS = {
    "check_estimator_tags_renamed": (
        "scikeras 0.13's BaseWrapper and KerasClassifier define _more_tags and "
        "not __sklearn_tags__; the tags come from GloveCNNClassifier."
        "__sklearn_tags__, so scikit-learn reads the right ones"
    ),
    "check_mixin_order": (
        "scikeras' KerasClassifier lists ClassifierMixin after BaseEstimator, "
        "and no consistent MRO puts it first; GloveCNNClassifier declares its "
        "classifier tags itself"
    ),
    "check_sample_weight_equivalence_on_dense_data": (
        f"{_FLOAT_X}; and minibatch training is not equivalent to repeating "
        "weighted samples anyway"
    ),
    "check_classifiers_one_label_sample_weights": _FLOAT_X,
    "check_class_weight_classifiers": _FLOAT_X,
}


@parametrize_with_checks(
    [FAST_CLASSIFIER],
    expected_failed_checks=lambda estimator: EXPECTED_FAILED_CHECKS,
    xfail_strict=True,  # a check that starts passing must leave the list
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_expected_failures_name_real_checks_listed_in_the_docs():
    page = (Path(__file__).resolve().parents[1] / "docs" / "reliability.md").read_text()
    for name, reason in EXPECTED_FAILED_CHECKS.items():
        assert hasattr(estimator_checks, name), name
        assert f"| `{name}` |" in page, name
        assert len(reason) > 40, name


def _fit_call(estimator):
    """A fit call that reaches parameter validation first."""
    if isinstance(estimator, GloveSequenceVectorizer):
        return lambda: estimator.fit(["moon car", "nasa"])
    X = np.arange(2, 42, dtype=np.int32).reshape(4, 10)
    return lambda: estimator.fit(X, ["a", "b", "a", "b"])


_CONSTRAINED = [
    (cls, name)
    for cls in (GloveSequenceVectorizer, GloveCNNClassifier)
    for name in cls._parameter_constraints
]


@pytest.mark.parametrize(
    "cls, param", _CONSTRAINED, ids=[f"{c.__name__}-{p}" for c, p in _CONSTRAINED]
)
def test_constrained_parameter_rejects_bad_values(cls, param):
    # As scikit-learn's check_param_validation: a value of no valid type, then
    # a value of a valid type outside each constraint that can produce one.
    bad_values = [type("BadType", (), {})()]
    for constraint in map(make_constraint, cls._parameter_constraints[param]):
        try:
            bad_values.append(generate_invalid_param_val(constraint))
        except NotImplementedError:
            continue
    match = rf"The '{param}' parameter of {cls.__name__} must be .* Got .* instead"
    for bad in bad_values:
        estimator = cls(**{param: bad})  # __init__ only stores the value
        with pytest.raises(InvalidParameterError, match=match):
            _fit_call(estimator)()


@pytest.mark.parametrize("cls", [GloveSequenceVectorizer, GloveCNNClassifier])
def test_every_parameter_is_constrained_or_known(cls):
    unvalidated = set(cls().get_params(deep=False)) - set(cls._parameter_constraints)
    assert unvalidated == set()
