"""The frozen-GloVe convnet classifier, a scikeras ``KerasClassifier``.

Every scikeras-specific line of skglove lives in this module, so that a move to
``keras.wrappers.SKLearnClassifier`` touches one file.
"""

import logging
import os
import random
import time
from collections import defaultdict
from contextlib import contextmanager
from numbers import Integral, Real

import keras
import numpy as np
import tensorflow as tf
from keras.src.backend.common import global_state
from keras.src.random import seed_generator as keras_seed_generator
from keras.src.random.seed_generator import GLOBAL_SEED_GENERATOR
from keras.src.utils.rng_utils import GLOBAL_RANDOM_SEED
from scikeras.wrappers import KerasClassifier
from scipy.sparse import issparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import train_test_split
from sklearn.utils import ClassifierTags
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, column_or_1d
from tensorflow.python.eager import context as tf_context
from tensorflow.python.framework import config as tf_config

from ._batching import predict_by_length, training_dataset
from ._glove import DEFAULT_GLOVE, GloveVectors, load_glove
from ._models import ARCHITECTURES, PADDING_INVARIANT, build_network, min_length
from ._tf_threads import match_dask_worker
from ._vectorizer import FIRST_WORD_ID, OOV_ID

__all__ = ["BLOG_PARAMS", "GloveCNNClassifier"]

_log = logging.getLogger(__name__)

#: The Keras blog post's network and training, as ``GloveCNNClassifier``
#: parameters: ``make_glove_pipeline(**BLOG_PARAMS)`` reproduces the seed recipe.
BLOG_PARAMS = {
    "architecture": "blog",
    "filters": 128,
    "kernel_size": 5,
    "pool_size": 5,
    "dense_units": 128,
    "dropout": 0.0,
    "train_missing": False,
    "trainable_dim": 0,
    "optimizer": "rmsprop",
    "learning_rate": None,
    "epochs": 10,
    "batch_size": 128,
    "validation_split": 0.0,
    "early_stopping": False,
}


class GloveCNNClassifier(KerasClassifier):
    """A 1D convnet over frozen GloVe embeddings, as a scikit-learn classifier.

    It reads the id sequences of :class:`GloveSequenceVectorizer`. At fit it
    gathers the GloVe rows of the ids it sees into a small frozen embedding
    table (the kept vocabulary, not every GloVe row), so a fitted model stays
    small when pickled. Ids it did not see at fit read as out-of-vocabulary.

    The default network is Kim (2014)'s: frozen GloVe embedding, parallel
    convolutions of widths 3, 4 and 5 with 128 filters each, max-pooled over
    the document, dropout 0.5 and a softmax, trained with adam in batches of
    64 until the loss on a stratified 10% validation split stops improving.
    On 20 Newsgroups it is far more accurate than the Keras blog's network,
    which :data:`BLOG_PARAMS` reproduces (see the benchmarks page).

    Parameters
    ----------
    glove : str, path-like, GloveVectors or None, default="glove.6B.50d"
        The GloVe source; must match the vectorizer's. ``None`` learns a
        trainable embedding of ``embedding_dim`` from scratch ("CNN-rand").
    architecture : {"kim", "blog"}, default="kim"
        The network. ``"blog"`` is the Keras blog's three stacked convolutions.
        ``"kim"`` is Kim (2014)'s parallel convolutions of several widths, each
        max-pooled over the document; its output ignores padding, so training
        and prediction crop each batch to its longest document.
    filters : int, default=128
        Filters of each convolution.
    kernel_size : int or tuple of int, default=(3, 4, 5)
        Width of each convolution: for ``"kim"``, one parallel convolution per
        width; ``"blog"`` takes a single int (5 in the blog).
    pool_size : int, default=5
        Size of the max-pooling windows of ``"blog"``; ``"kim"`` ignores it.
    dense_units : int, default=0
        Width of a hidden dense layer before the softmax; 0 for none (the blog
        has 128).
    dropout : float, default=0.5
        Dropout rate before the dense layers.
    embedding_dim : int, default=50
        Width of the trainable embedding when ``glove=None``; ignored otherwise.
    train_missing : bool, default=True
        Learn vectors for the kept words that GloVe lacks (they start at
        zero); every GloVe row stays frozen. ``False`` keeps them at zero, as
        the Keras blog does.
    trainable_dim : int, default=0
        Append this many trainable features, learned from scratch, to every
        word's frozen GloVe vector; 0 for none. The GloVe rows stay frozen.
    optimizer : str or keras.optimizers.Optimizer, default="adam"
        The Keras optimizer.
    learning_rate : float or None, default=None
        The optimizer's learning rate; ``None`` keeps the optimizer's default.
    loss : str, default="sparse_categorical_crossentropy"
        The Keras loss.
    metrics : list or None, default=None
        Keras metrics recorded in ``history_``; ``None`` records accuracy.
    epochs : int, default=30
        Training epochs (the most, with ``early_stopping``).
    batch_size : int, default=64
        Training and prediction batch size.
    validation_split : float, default=0.1
        Fraction of the training data held out, stratified by class and
        shuffled with ``random_state``, to report ``val_*`` scores in
        ``history_`` and drive early stopping.
    early_stopping : bool, default=True
        Stop when the validation loss has not improved for ``patience``
        epochs, and restore the best weights. Needs ``validation_split > 0``.
    patience : int, default=3
        Epochs without improvement before early stopping.
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes in the loss, as in scikit-learn.
    random_state : int or None, default=None
        Seed for weight initialization, shuffling and the validation split.
        The same seed gives the same predictions on the same machine.
    verbose : int, default=0
        Keras' verbosity: 1 shows a progress bar.
    callbacks, shuffle, warm_start
        Passed to scikeras' ``KerasClassifier``.
    **kwargs
        Routed scikeras parameters, such as ``optimizer__momentum=0.9``.

    Attributes
    ----------
    model_ : keras.Model
        The fitted network.
    classes_ : ndarray of shape (n_classes,)
        The class labels.
    history_ : dict of str to list of float
        Loss and metrics per epoch (``val_*`` with a validation split).
    feature_encoder_ : object
        Maps vectorizer ids to rows of the embedding table.
    n_features_in_ : int
        Length of the id sequences seen at fit.

    See Also
    --------
    GloveSequenceVectorizer : Produces the id sequences.
    make_glove_pipeline : Both steps with a shared ``glove``.

    Examples
    --------
    >>> from skglove import make_glove_pipeline
    >>> docs = ["good great fine", "bad awful poor"] * 10
    >>> labels = ["pos", "neg"] * 10
    >>> pipe = make_glove_pipeline(
    ...     max_len=20,
    ...     filters=4,
    ...     kernel_size=2,
    ...     pool_size=2,
    ...     dense_units=4,
    ...     epochs=2,
    ...     random_state=0,
    ... )
    >>> pipe.fit(docs, labels).predict(["fine and great"]).shape
    (1,)
    """

    # Fixed for this estimator; class attributes keep them out of get_params.
    model = None
    build_fn = None
    run_eagerly = False
    validation_batch_size = None

    _parameter_constraints: dict = {
        "glove": [str, os.PathLike, GloveVectors, None],
        "architecture": [StrOptions(set(ARCHITECTURES))],
        "filters": [Interval(Integral, 1, None, closed="left")],
        "kernel_size": [Interval(Integral, 1, None, closed="left"), tuple, list],
        "pool_size": [Interval(Integral, 1, None, closed="left")],
        "dense_units": [Interval(Integral, 0, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "embedding_dim": [Interval(Integral, 1, None, closed="left")],
        "train_missing": ["boolean"],
        "trainable_dim": [Interval(Integral, 0, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither"), None],
        "epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "validation_split": [Interval(Real, 0, 1, closed="left")],
        "early_stopping": ["boolean"],
        "patience": [Interval(Integral, 0, None, closed="left")],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "shuffle": ["boolean"],
        "warm_start": ["boolean"],
    }

    def __init__(
        self,
        glove=DEFAULT_GLOVE,
        *,
        architecture="kim",
        filters=128,
        kernel_size=(3, 4, 5),
        pool_size=5,
        dense_units=0,
        dropout=0.5,
        embedding_dim=50,
        train_missing=True,
        trainable_dim=0,
        optimizer="adam",
        learning_rate=None,
        loss="sparse_categorical_crossentropy",
        metrics=None,
        epochs=30,
        batch_size=64,
        validation_split=0.1,
        early_stopping=True,
        patience=3,
        class_weight=None,
        random_state=None,
        verbose=0,
        callbacks=None,
        shuffle=True,
        warm_start=False,
        **kwargs,
    ):
        # scikeras' own __init__ would add model/build_fn/... as parameters.
        self.glove = glove
        self.architecture = architecture
        self.filters = filters
        self.kernel_size = kernel_size
        self.pool_size = pool_size
        self.dense_units = dense_units
        self.dropout = dropout
        self.embedding_dim = embedding_dim
        self.train_missing = train_missing
        self.trainable_dim = trainable_dim
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.loss = loss
        self.metrics = metrics
        self.epochs = epochs
        self.batch_size = batch_size
        self.validation_split = validation_split
        self.early_stopping = early_stopping
        self.patience = patience
        self.class_weight = class_weight
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks
        self.shuffle = shuffle
        self.warm_start = warm_start
        vars(self).update(kwargs)
        if kwargs:
            self._user_params = set(kwargs)

    def __sklearn_tags__(self):
        # scikeras predates __sklearn_tags__: without this, is_classifier() is
        # False and GridSearchCV(cv=5) silently skips stratification.
        tags = BaseEstimator.__sklearn_tags__(self)
        tags.estimator_type = "classifier"
        tags.classifier_tags = ClassifierTags()
        tags.target_tags.required = True
        tags.non_deterministic = self.random_state is None
        # X holds ids: categorical codes, never negative.
        tags.input_tags.categorical = True
        tags.input_tags.positive_only = True
        # Columns are positions over one shared vocabulary, not features: the
        # net cannot reach the generic checks' 0.83 accuracy on make_blobs.
        tags.classifier_tags.poor_score = True
        return tags

    @property
    def feature_encoder(self):
        return _DenseIdEncoder()

    def fit(self, X, y, sample_weight=None, **kwargs) -> "GloveCNNClassifier":
        """Fit the network to id sequences and labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, max_len)
            Id sequences from :class:`GloveSequenceVectorizer`.
        y : array-like of shape (n_samples,)
            Class labels, numbers or strings; at least two classes.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples in the loss.
        **kwargs
            Passed to ``keras.Model.fit``.

        Returns
        -------
        self : GloveCNNClassifier
            The fitted classifier.
        """
        self._validate_params()
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y "
                "is None"
            )
        if isinstance(self.kernel_size, tuple | list) and not (
            self.kernel_size
            and all(isinstance(k, Integral) and k >= 1 for k in self.kernel_size)
        ):
            raise ValueError(
                "The 'kernel_size' parameter of GloveCNNClassifier must be a "
                f"positive int or a tuple of them. Got {self.kernel_size!r} instead."
            )
        if self.early_stopping and not self.validation_split:
            raise ValueError(
                "early_stopping=True needs a validation set: set "
                "validation_split to a fraction such as 0.1"
            )
        sample_weight = _own_weights(sample_weight)
        classes = getattr(self, "classes_", None)
        match_dask_worker()
        start = time.perf_counter()
        try:
            with _seeded(self.random_state):
                super().fit(X, y, sample_weight=sample_weight, **kwargs)
            _log_fit(self, time.perf_counter() - start)
            return self
        except BaseException:
            # scikeras clears classes_ before it refits; a refit that fails
            # early must not leave the previous model without its classes.
            if getattr(self, "classes_", None) is None and classes is not None:
                self.classes_ = classes
            raise

    def partial_fit(self, X, y, classes=None, sample_weight=None, **kwargs):
        """Train for one more epoch, keeping the weights; see scikeras."""
        sample_weight = _own_weights(sample_weight)
        match_dask_worker()
        with _seeded(self.random_state):
            return super().partial_fit(
                X, y, classes=classes, sample_weight=sample_weight, **kwargs
            )

    def predict_proba(self, X, **kwargs) -> np.ndarray:
        """Class probabilities, one row per sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, max_len)
            Id sequences.
        **kwargs
            Passed to ``keras.Model.predict``.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probabilities, columns in the order of ``classes_``.
        """
        proba = super().predict_proba(X, **kwargs)
        # scikeras squeezes a single sample down to 1-D.
        return proba.reshape(-1, len(self.classes_))

    def _validate_data(self, X=None, y=None, reset=False, y_numeric=False):
        name = type(self).__name__
        if X is not None:
            X = _check_ids(X, name)
            expected = getattr(self, "n_features_in_", None)
            if not reset and expected is not None and X.shape[1] != expected:
                # scikit-learn's wording; here a feature is a sequence position.
                raise ValueError(
                    f"X has {X.shape[1]} features, but {name} is expecting "
                    f"{expected} features as input (id sequences of length "
                    f"{expected}: the vectorizer's max_len at fit)"
                )
        if y is not None:
            labels = np.asarray(y)
            _check_no_missing_labels(labels)
            if labels.shape[1:] == (1,):
                y = column_or_1d(y, warn=True)
        return super()._validate_data(X, y, reset=reset, y_numeric=y_numeric)

    def _keras_build_fn(self, meta, compile_kwargs):
        if meta["n_classes_"] < 2:
            raise ValueError(
                f"y holds a single class ({meta['classes_'].tolist()[0]!r}); a "
                "classifier needs more than one class"
            )
        ids = self.feature_encoder_.ids_
        if self.glove is None:
            embedding = {"embedding_dim": self.embedding_dim}
        else:
            glove = load_glove(self.glove)
            # Rows past GloVe's are kept words that GloVe lacks.
            missing = np.concatenate([[False] * FIRST_WORD_ID, ids - 2 >= len(glove)])
            embedding = {
                "embedding_dim": glove.dim,
                "weights": _embedding_matrix(glove, ids),
                "trainable_rows": missing if self.train_missing else None,
            }
        model = build_network(
            self.architecture,
            meta["n_features_in_"],
            meta["n_classes_"],
            n_ids=FIRST_WORD_ID + len(ids),
            trainable_dim=self.trainable_dim,
            filters=self.filters,
            kernel_size=self.kernel_size,
            pool_size=self.pool_size,
            dense_units=self.dense_units,
            dropout=self.dropout,
            **embedding,
        )
        optimizer = compile_kwargs["optimizer"]
        if self.learning_rate is not None:
            optimizer.learning_rate = self.learning_rate
        model.compile(
            optimizer=optimizer,
            loss=compile_kwargs["loss"],
            metrics=["accuracy"] if self.metrics is None else compile_kwargs["metrics"],
        )
        return model

    def _fit_keras_model(self, X, y, sample_weight, warm_start, epochs, **kwargs):
        self._check_embedding_width()
        if self.validation_split:
            X, y, sample_weight, validation = self._hold_out(X, y, sample_weight)
            kwargs = {"validation_split": 0.0, "validation_data": validation, **kwargs}
        if self.early_stopping:
            stop = keras.callbacks.EarlyStopping(
                patience=self.patience, restore_best_weights=True
            )
            kwargs["callbacks"] = [*self._fit_callbacks, stop]
        if self.architecture in PADDING_INVARIANT:
            X, y, sample_weight, kwargs = self._by_length(X, y, sample_weight, kwargs)
        super()._fit_keras_model(
            X, y, sample_weight, warm_start=warm_start, epochs=epochs, **kwargs
        )

    def _by_length(self, X, y, sample_weight, kwargs):
        """Length-bucketed, padding-cropped datasets in place of the arrays."""
        batches = {
            "batch_size": self.batch_size,
            "min_len": min_length(self.kernel_size),
            "seed": None if self.random_state is None else self._random_state,
        }
        train = training_dataset(X, y, sample_weight, shuffle=self.shuffle, **batches)
        validation = kwargs.get("validation_data")
        if validation is not None:
            kwargs["validation_data"] = training_dataset(
                *validation, *[None] * (3 - len(validation)), shuffle=False, **batches
            )
        # The dataset holds the weights and does the shuffling.
        return train, None, None, {**kwargs, "shuffle": False}

    def _predict_raw(self, X, **kwargs):
        match_dask_worker()
        if self.architecture not in PADDING_INVARIANT:
            return super()._predict_raw(X, **kwargs)
        if not self.initialized_:
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet; call "
                "'fit' before 'predict'"
            )
        X, _ = self._validate_data(X=X)
        return predict_by_length(
            self.model_,
            self.feature_encoder_.transform(X),
            batch_size=self.batch_size,
            min_len=min_length(self.kernel_size),
            verbose=self.verbose,
        )

    def _hold_out(self, X, y, sample_weight):
        """Split off a stratified validation set, in encoded space."""
        # Ordinal codes of shape (n, 1), or one-hot rows for categorical losses.
        labels = y.argmax(axis=1) if y.ndim == 2 and y.shape[1] > 1 else y.ravel()
        _, counts = np.unique(labels, return_counts=True)
        # Stratify only if every class fits on both sides; on small data
        # train_test_split refuses to, and a plain shuffled split still works.
        n_valid = int(np.ceil(self.validation_split * len(labels)))
        can_stratify = min(n_valid, len(labels) - n_valid) >= len(counts)
        stratify = labels if counts.min() >= 2 and can_stratify else None
        seed = None if self.random_state is None else self._random_state
        arrays = [X, y] if sample_weight is None else [X, y, sample_weight]
        parts = train_test_split(
            *arrays,
            test_size=self.validation_split,
            stratify=stratify,
            random_state=seed,
        )
        train, valid = parts[0::2], parts[1::2]
        if sample_weight is None:
            return train[0], train[1], None, tuple(valid)
        return train[0], train[1], train[2], tuple(valid)

    def _check_embedding_width(self):
        """Refuse to train on a network whose embedding ``glove`` no longer fits.

        A warm start, ``partial_fit`` or a loaded model keeps the network built
        at the first fit; if ``glove`` now names a source of another dimension,
        the ids would be read through the wrong table.
        """
        try:
            width = self.model_.get_layer("embedding").output_dim
        except (AttributeError, ValueError):  # an architecture without one
            return
        if self.glove is None:
            expected, source = self.embedding_dim, "embedding_dim"
        else:
            expected = load_glove(self.glove).dim
            source = f"the GloVe source {str(self.glove)!r}"
        if width != expected:
            raise ValueError(
                f"the fitted network's embedding has dimension {width}, but "
                f"{source} has dimension {expected}; the GloVe source changed "
                "since fit. Fit from scratch (warm_start=False) or set glove "
                "back to the source the model was trained with"
            )

    def _get_fitted_state(self) -> dict:
        """The fitted attributes besides ``model_``, as JSON-ready values.

        :func:`skglove.save` stores this next to the network. With
        :meth:`_from_fitted_state`, it is the only code that knows which
        scikeras attributes make a classifier fitted.
        """
        check_is_fitted(self, "model_")
        return {
            "classes": {
                "dtype": self.classes_.dtype.str,
                "values": self.classes_.tolist(),
            },
            "target_type": self.target_type_,
            "y_dtype": self.y_dtype_.str,
            "y_ndim": int(self.y_ndim_),
            "X_shape": [int(n) for n in self.X_shape_],
            "n_features_in": int(self.n_features_in_),
            "ids": self.feature_encoder_.ids_.tolist(),
            "history": {
                key: [float(v) for v in values] for key, values in self.history_.items()
            },
        }

    @classmethod
    def _from_fitted_state(
        cls, params: dict, state: dict, model: keras.Model
    ) -> "GloveCNNClassifier":
        """A fitted classifier from :meth:`_get_fitted_state` and its network."""
        clf = cls(**params)
        clf._validate_params()
        y_dtype = _label_dtype(state["y_dtype"])
        classes = np.asarray(
            state["classes"]["values"], dtype=_label_dtype(state["classes"]["dtype"])
        )
        clf.target_type_ = str(state["target_type"])
        clf.y_dtype_ = y_dtype
        clf.y_ndim_ = int(state["y_ndim"])
        clf.X_dtype_ = np.dtype(np.int32)  # what _check_ids always returns
        clf.X_shape_ = tuple(int(n) for n in state["X_shape"])
        clf.n_features_in_ = int(state["n_features_in"])
        # As in fit: no classes_ yet, so the encoder learns its categories
        # from labels, here one of each class, and gets the same encoding.
        clf.classes_ = None
        clf.target_encoder_ = clf.target_encoder.fit(classes.astype(y_dtype))
        vars(clf).update(clf.target_encoder_.get_metadata())
        if not np.array_equal(clf.classes_, classes):
            raise ValueError(f"classes {classes!r} are not sorted and unique")
        clf.feature_encoder_ = _DenseIdEncoder()
        clf.feature_encoder_.ids_ = np.asarray(state["ids"], dtype=np.int64)
        clf._random_state = clf.random_state
        clf.model_ = model
        clf._initialize_callbacks()
        history = state["history"].items()
        clf.history_ = defaultdict(
            list, {str(k): [float(v) for v in vals] for k, vals in history}
        )
        # Length-agnostic networks (such as "kim") take sequences of any length.
        if model.input_shape[-1] not in (None, clf.n_features_in_) or (
            model.output_shape[-1] != clf.n_classes_
        ):
            raise ValueError(
                f"the network maps {model.input_shape} to {model.output_shape}, "
                f"but the classifier state has {clf.n_features_in_} ids per "
                f"sequence and {clf.n_classes_} classes"
            )
        return clf


class _DenseIdEncoder(TransformerMixin, BaseEstimator):
    """Map vectorizer ids to consecutive rows of a small embedding table.

    The ids seen at fit, in ascending order, get rows 2, 3, ...; padding stays
    0, and every other id becomes 1 (out-of-vocabulary).
    """

    def fit(self, X, y=None):
        ids = np.unique(X)
        self.ids_ = ids[ids >= FIRST_WORD_ID].astype(np.int64)
        return self

    def transform(self, X):
        X = np.asarray(X)
        pos = np.searchsorted(self.ids_, X)
        found = (
            self.ids_[np.minimum(pos, len(self.ids_) - 1)] == X
            if len(self.ids_)
            else np.zeros(X.shape, dtype=bool)
        )
        rows = np.where(found, pos + FIRST_WORD_ID, OOV_ID)
        return np.where(X < FIRST_WORD_ID, X, rows).astype(np.int32)


def _log_fit(clf: GloveCNNClassifier, seconds: float) -> None:
    """One INFO line: the data, the epochs run and the last scores."""
    if not _log.isEnabledFor(logging.INFO):
        return
    history = clf.history_
    last = ", ".join(f"{k} {v[-1]:.4f}" for k, v in history.items() if v)
    _log.info(
        "fitted a %r network on %d sequences of %d ids, %d classes: %d epoch(s) "
        "in %.1f s; last epoch: %s",
        clf.architecture,
        clf.X_shape_[0],
        clf.n_features_in_,
        len(clf.classes_),
        len(history.get("loss", [])),
        seconds,
        last,
    )


def _check_no_missing_labels(y: np.ndarray) -> None:
    """Name missing labels, which scikeras reports as a failed comparison."""
    if y.dtype.kind == "f":
        missing = np.isnan(y).ravel()
    elif y.dtype.kind == "O":
        missing = np.fromiter(map(_is_missing, y.ravel()), dtype=bool, count=y.size)
    else:
        return
    if missing.any():
        raise ValueError(
            f"Input y contains NaN or None: {missing.sum()} missing label(s), the "
            f"first at position {np.flatnonzero(missing)[0]}; drop those samples "
            "or fill in their labels"
        )


def _is_missing(value) -> bool:
    try:
        return value is None or bool(value != value)
    except TypeError:  # pandas.NA has no truth value
        return True


def _label_dtype(text: str) -> np.dtype:
    """A label dtype from its string form: bool, number, str or object only."""
    dtype = np.dtype(text)
    if dtype.kind not in "biufUO":
        raise ValueError(f"unsupported label dtype {text!r}")
    return dtype


def _own_weights(sample_weight):
    """A float copy: scikeras multiplies class weights into it in place."""
    return None if sample_weight is None else np.array(sample_weight, dtype=float)


def _embedding_matrix(glove: GloveVectors, ids: np.ndarray) -> np.ndarray:
    """GloVe rows of ``ids`` under two zero rows; ids past GloVe stay zero."""
    matrix = np.zeros((FIRST_WORD_ID + len(ids), glove.dim), dtype=np.float32)
    rows = ids - FIRST_WORD_ID
    in_glove = rows < len(glove)
    matrix[FIRST_WORD_ID:][in_glove] = glove.vectors[rows[in_glove]]
    return matrix


def _check_ids(X, name: str):
    """Reject text and non-id input before scikeras' generic checks."""
    if isinstance(X, str | bytes):
        raise TypeError(
            f"{name} expects id sequences, got a string; put a "
            "GloveSequenceVectorizer before it (see make_glove_pipeline)"
        )
    if issparse(X):
        raise TypeError(
            f"{name} expects a dense array of id sequences; sparse input is not "
            "supported"
        )
    X = np.asarray(X) if not hasattr(X, "dtype") else X
    if X.dtype.kind == "O":
        # Numbers in an object array (e.g. a mixed pandas frame) are still ids.
        try:
            X = np.asarray(X, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"{name} expects integer id sequences from GloveSequenceVectorizer, "
                f"got an array of dtype object ({exc}); use make_glove_pipeline "
                "to vectorize text first"
            ) from None
    if X.dtype.kind in "US":
        raise TypeError(
            f"{name} expects integer id sequences from GloveSequenceVectorizer, "
            f"got an array of dtype {X.dtype}; use make_glove_pipeline to "
            "vectorize text first"
        )
    if X.ndim != 2:
        raise ValueError(
            f"{name} expects a 2-D array of id sequences, got shape {X.shape}; "
            "Reshape your data to one row per document, e.g. with "
            "X.reshape(1, -1) for a single sequence"
        )
    if X.dtype.kind == "c":
        raise ValueError(f"{name} expects integer ids: Complex data not supported")
    if X.dtype.kind == "f":
        if not np.all(np.isfinite(X)):
            raise ValueError(f"{name} expects integer ids, got NaN or inf")
        if np.any(X != np.round(X)):
            raise ValueError(f"{name} expects integer ids, got non-integer values")
        X = X.astype(np.int64)
    elif X.dtype.kind not in "iu":
        raise TypeError(f"{name} expects integer ids, got dtype {X.dtype}")
    if X.size and X.min() < 0:
        # "Negative values in data" is scikit-learn's wording for positive_only.
        raise ValueError(
            f"Negative values in data passed to {name}: it expects non-negative "
            f"ids, got {X.min()}"
        )
    if X.size and X.max() > np.iinfo(np.int32).max:
        raise ValueError(f"{name} expects ids below 2**31, got {X.max()}")
    # One dtype for fit and predict: scikeras refuses unsafe casts between them.
    return X.astype(np.int32, copy=False)


@contextmanager
def _seeded(seed):
    """Seed Python, NumPy, TensorFlow and Keras; restore them on exit.

    The seeds and op determinism are process-global, so the previous state is
    put back for the caller. Not safe under concurrent fits in threads.
    """
    if seed is None:
        yield
        return
    if isinstance(seed, np.random.RandomState):
        seed = int(seed.randint(np.iinfo(np.int32).max))
    saved_python = random.getstate()
    saved_numpy = np.random.get_state()  # noqa: NPY002 - the legacy global state
    saved_keras = (
        global_state.get_global_attribute(GLOBAL_RANDOM_SEED),
        global_state.get_global_attribute(GLOBAL_SEED_GENERATOR),
    )
    saved_tf = tf_context.global_seed()
    was_deterministic = tf_config.is_op_determinism_enabled()
    keras.utils.set_random_seed(int(seed))
    tf.config.experimental.enable_op_determinism()
    # Keras draws layers' default seeds from the global ``random`` module,
    # which other threads (a Dask worker's event loop) may draw from too: it
    # gets a private generator, in the state the global one was just given.
    saved_seed_source = keras_seed_generator.python_random
    keras_seed_generator.python_random = random.Random(int(seed))
    try:
        yield
    finally:
        keras_seed_generator.python_random = saved_seed_source
        if not was_deterministic:
            tf_config.disable_op_determinism()
        tf.random.set_seed(saved_tf)
        global_state.set_global_attribute(GLOBAL_RANDOM_SEED, saved_keras[0])
        global_state.set_global_attribute(GLOBAL_SEED_GENERATOR, saved_keras[1])
        np.random.set_state(saved_numpy)  # noqa: NPY002
        random.setstate(saved_python)
