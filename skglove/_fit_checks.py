"""What a fit of :class:`GloveCNNClassifier` checks before it trains: the
parameters together, the target, and, when training goes on, that the
fitted network can read the new ids."""

import inspect
from contextlib import contextmanager

import numpy as np

from ._multilabel import (
    NEVER,
    check_indicator,
    check_label_names,
    is_indicator,
    warn_absent_labels,
)
from ._params import (
    check_combinations,
    check_embedding_width,
    check_keras_args,
    check_routes,
    check_same_glove,
    check_same_source,
    check_table_covers,
    check_target_params,
)
from ._sequences import id_source
from ._validation import check_ids
from .glove import load_glove


class TrainingChecks:
    """The checks of ``fit`` and ``partial_fit``, a mixin of
    :class:`~skglove.GloveCNNClassifier`."""

    @contextmanager
    def _glove_resolved(self):
        """Resolve ``glove`` once for a fit: its vectors are ``_vectors``
        (None with ``glove=None``) until the fit ends."""
        self._validate_params()  # a bad glove is named before it is read
        self._vectors = None if self.glove is None else load_glove(self.glove)
        try:
            yield
        finally:
            del self._vectors

    def _check_params(self, y, fit_kwargs: dict) -> None:
        """Check what ``_parameter_constraints`` cannot: the combinations."""
        self._validate_params()
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target "
                "y is None"
            )
        routed = getattr(self, "_user_params", ())
        check_routes(
            f"{type(self).__name__}()",
            {k: getattr(self, k) for k in routed},
            init_params(type(self)),
        )
        glove_dim = None if self._vectors is None else self._vectors.dim
        check_combinations(self.get_params(), glove_dim, type(self).__name__)
        check_keras_args(fit_kwargs, "fit", "fit() argument ")

    def _check_training_input(self, X, y, fit_kwargs, continuing: bool):
        """Check the parameters, the targets and, when training goes on from
        the fitted network, that it can read ``X`` and ``y``; return the id
        space ``X`` is in, and ``y`` (a multi-label one dense)."""
        self._check_params(y, fit_kwargs)
        y = self._check_target_kind(y, continuing)
        if continuing:
            self._check_embedding_width()
            self._check_same_glove_as_fit()
            self._check_id_source(X)
            self._check_table_covers(X)
        if self.glove is None:  # an embedding learned for whatever ids X holds
            return id_source(X), y
        expected = self._vectors.fingerprint
        check_same_source(id_source(X), expected, f"glove={str(self.glove)!r}")
        return expected, y

    def _check_target_kind(self, y, continuing: bool):
        """``y``, checked against the parameters and, when training goes on,
        against the kind of target the network was built for."""
        multilabel = is_indicator(y)
        check_target_params(self.get_params(), multilabel)
        if not multilabel:
            if continuing and self._multilabel:
                raise ValueError(
                    f"the classifier was fitted on a multi-label indicator of "
                    f"{self.n_classes_} labels, but y has shape {np.asarray(y).shape}; "
                    "training cannot go on with one label per sample"
                )
            return y
        fitted = self.n_classes_ if continuing and self._multilabel else None
        if continuing and not self._multilabel:
            raise ValueError(
                f"the classifier was fitted on one label per sample, but y is a "
                f"multi-label indicator of shape {np.asarray(y).shape}; training "
                "cannot go on with it"
            )
        Y = check_indicator(y, fitted)
        check_label_names(self.label_names, Y.shape[1])
        self._labels_present = warn_absent_labels(Y, self._seen_labels(continuing))
        return Y

    def _seen_labels(self, continuing: bool) -> bool | np.ndarray:
        """The labels that training went on from: those with a threshold
        that some probability can exceed (none after a fit that raised
        before it set them)."""
        thresholds = vars(self).get("threshold_") if continuing else None
        if thresholds is None:
            return False
        return np.asarray(thresholds) < NEVER

    @staticmethod
    def _check_label_columns(classes, Y):
        """``partial_fit``'s ``classes`` for a multi-label ``Y``: its column
        numbers, if given."""
        if classes is not None and not np.array_equal(
            np.asarray(classes), np.arange(Y.shape[1])
        ):
            raise ValueError(
                f"classes={classes!r}: the labels of a multi-label y are its "
                f"column numbers, 0 to {Y.shape[1] - 1}; leave classes None"
            )
        return None

    def _check_same_classes(self, classes) -> None:
        """A later ``partial_fit``'s ``classes``: those of the first call, as
        scikit-learn's ``partial_fit`` asks (scikeras would take them as the
        new ``classes_`` of the same network)."""
        if not np.array_equal(np.unique(np.asarray(classes)), self.classes_):
            raise ValueError(
                f"classes={list(classes)!r} is not the same as on the first "
                f"call to partial_fit, {self.classes_.tolist()!r}"
            )

    def _check_same_glove_as_fit(self) -> None:
        if self.glove is not None:
            check_same_glove(
                self.glove,
                self._vectors.fingerprint,
                getattr(self, "_id_source", None),
            )

    def _check_id_source(self, X) -> None:
        check_same_source(
            id_source(X), getattr(self, "_id_source", None), "it was fitted"
        )

    def _check_table_covers(self, X) -> None:
        X = check_ids(X, type(self).__name__)
        n_glove_rows = None if self._vectors is None else len(self._vectors)
        check_table_covers(self.feature_encoder_, X, n_glove_rows)

    def _check_embedding_width(self):
        """Refuse to train a network built for another GloVe dimension.

        A warm start, ``partial_fit`` or a loaded model keeps the network built
        at the first fit; if ``glove`` now names a source of another dimension,
        the ids would be read through the wrong table.
        """
        check_embedding_width(
            self.model_,
            self.get_params(),
            None if self._vectors is None else self._vectors.dim,
        )


def init_params(cls) -> list[str]:
    """The parameters ``cls.__init__`` names, without ``**kwargs``."""
    signature = inspect.signature(cls.__init__)
    return [p for p in signature.parameters if p not in ("self", "kwargs")]
