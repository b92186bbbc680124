"""A fitted :class:`GloveCNNClassifier` as plain values, and back: what
:mod:`skglove._persistence` saves and loads besides the network."""

import keras
import numpy as np
from sklearn.utils.validation import check_is_fitted

from ._multilabel import check_saved_state
from ._table import IdTable
from ._training import seed_source

#: What a fit sets besides the fitted attributes: the id space of its ``X``,
#: and scikeras' and skglove's seeds.
_FIT_STATE = frozenset({"_id_source", "_seeds", "_random_state", "_new_network_seeds"})


class FittedState:
    """``_fitted_state``, ``_restore`` and what a fit that raises leaves, a
    mixin of :class:`~skglove.GloveCNNClassifier`."""

    def _fitted_state(self) -> dict:
        """The fitted values besides the network, for :mod:`skglove._saved_state`:
        the counterpart of :meth:`_restore`.

        Returns
        -------
        dict
            Arrays, dtypes, ints, strings and the history, by their names in
            the archive.

        Raises
        ------
        NotFittedError
            If the classifier is not fitted.
        """
        check_is_fitted(self, "model_")
        return {
            "classes": self.classes_,
            "target_type": self.target_type_,
            "y_dtype": self.y_dtype_,
            "y_ndim": self.y_ndim_,
            "X_shape": self.X_shape_,
            "n_features_in": self.n_features_in_,
            "ids": self.feature_encoder_.ids_,
            "n_seen_ids": self.feature_encoder_.n_seen_,
            "mix": self.mix_,
            "threshold": getattr(self, "threshold_", None),
            "lexical_C": getattr(self, "lexical_C_", None),
            "id_source": getattr(self, "_id_source", None),
            "history": self.history_,
        }

    def _fitted_values(self) -> dict:
        """Every fitted attribute, and the private state a fit sets beside
        them (the seeds it draws from), by name."""
        return {
            n: v
            for n, v in vars(self).items()
            if (n.endswith("_") and n[0] != "_") or n in _FIT_STATE
        }

    def _set_fitted_values(self, values: dict) -> None:
        """Make ``values`` the fitted attributes, and drop every other."""
        for name in self._fitted_values().keys() - values.keys():
            delattr(self, name)
        vars(self).update(values)

    def _forget_fit(self) -> None:
        """Drop every fitted value: the classifier is as before its first fit."""
        self._set_fitted_values({})

    @classmethod
    def _restore(
        cls,
        params: dict,
        *,
        classes,
        y_dtype,
        model: keras.Model,
        table: IdTable,
        **fitted,
    ):
        """A fitted classifier from its parameters, network and fitted values.

        ``fitted`` holds ``target_type_``, ``y_ndim_``, ``X_shape_``,
        ``n_features_in_``, ``mix_``, ``threshold_``, ``lexical_C_``,
        ``history_`` and ``_id_source``, as :mod:`skglove._persistence`
        stores them; this is the only code that knows which scikeras
        attributes make a classifier fitted.
        """
        clf = cls(**params)
        clf._validate_params()
        vars(clf).update(fitted)
        clf.y_dtype_ = y_dtype
        clf.X_dtype_ = np.dtype(np.int32)  # what check_ids always returns
        # As in fit: no classes_ yet, so the encoder learns its categories
        # from labels, here one of each class, and gets the same encoding.
        clf.classes_ = None
        labels = classes.astype(y_dtype)
        if clf._multilabel:  # an indicator of as many labels
            labels = np.eye(len(classes), dtype=y_dtype)
        clf.target_encoder_ = clf.target_encoder.fit(labels)
        vars(clf).update(clf.target_encoder_.get_metadata())
        if not np.array_equal(clf.classes_, classes):
            raise ValueError(f"classes {classes!r} are not sorted and unique")
        clf.feature_encoder_ = table
        clf._seeds = seed_source(clf.random_state)
        clf._random_state = None
        clf.model_ = model
        clf._initialize_callbacks()
        # Length-agnostic networks (such as "kim") take sequences of any length.
        if model.input_shape[-1] not in (None, clf.n_features_in_) or (
            model.output_shape[-1] != clf.n_classes_
        ):
            raise ValueError(
                f"the network maps {model.input_shape} to {model.output_shape}, "
                f"but the classifier state has {clf.n_features_in_} ids per "
                f"sequence and {clf.n_classes_} classes"
            )
        check_saved_state(
            clf._multilabel,
            clf.n_classes_,
            threshold=vars(clf).get("threshold_"),
            mix=clf.mix_,
            y_ndim=clf.y_ndim_,
            label_names=clf.label_names,
        )
        return clf
