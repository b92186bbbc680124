"""The frozen-GloVe convnet classifier, a scikeras ``KerasClassifier``.

Every scikeras-specific line of skglove lives in this module, so that a move to
``keras.wrappers.SKLearnClassifier`` touches one file.
"""

import os
import random
from contextlib import contextmanager
from numbers import Integral, Real

import keras
import numpy as np
import tensorflow as tf
from keras.src.backend.common import global_state
from keras.src.random.seed_generator import GLOBAL_SEED_GENERATOR
from keras.src.utils.rng_utils import GLOBAL_RANDOM_SEED
from scikeras.wrappers import KerasClassifier
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.model_selection import train_test_split
from sklearn.utils import ClassifierTags
from sklearn.utils._param_validation import Interval, StrOptions
from tensorflow.python.eager import context as tf_context
from tensorflow.python.framework import config as tf_config

from ._glove import DEFAULT_GLOVE, GloveVectors, load_glove
from ._models import ARCHITECTURES, embedding_layer
from ._vectorizer import FIRST_WORD_ID, OOV_ID

__all__ = ["GloveCNNClassifier"]


class GloveCNNClassifier(KerasClassifier):
    """A 1D convnet over frozen GloVe embeddings, as a scikit-learn classifier.

    It reads the id sequences of :class:`GloveSequenceVectorizer`. At fit it
    gathers the GloVe rows of the ids it sees into a small frozen embedding
    table (the kept vocabulary, not every GloVe row), so a fitted model stays
    small when pickled. Ids it did not see at fit read as out-of-vocabulary.

    The default network is the Keras blog's: frozen Embedding, then
    Conv1D(128, 5) → MaxPooling1D(5) → Conv1D(128, 5) → MaxPooling1D(5) →
    Conv1D(128, 5) → GlobalMaxPooling1D → Dense(128, relu) → softmax, trained
    with rmsprop in batches of 128.

    Parameters
    ----------
    glove : str, path-like, GloveVectors or None, default="glove.6B.50d"
        The GloVe source; must match the vectorizer's. ``None`` learns a
        trainable embedding of ``embedding_dim`` from scratch ("CNN-rand").
    architecture : {"blog"}, default="blog"
        The network; see :mod:`skglove._models`.
    filters : int, default=128
        Filters of each convolution.
    kernel_size : int, default=5
        Width of each convolution.
    pool_size : int, default=5
        Size of the max-pooling windows.
    dense_units : int, default=128
        Width of the hidden dense layer.
    dropout : float, default=0.0
        Dropout rate before the dense layers.
    embedding_dim : int, default=50
        Width of the trainable embedding when ``glove=None``; ignored otherwise.
    optimizer : str or keras.optimizers.Optimizer, default="rmsprop"
        The Keras optimizer.
    learning_rate : float or None, default=None
        The optimizer's learning rate; ``None`` keeps the optimizer's default.
    loss : str, default="sparse_categorical_crossentropy"
        The Keras loss.
    metrics : list or None, default=None
        Keras metrics recorded in ``history_``; ``None`` records accuracy.
    epochs : int, default=10
        Training epochs (the most, with ``early_stopping``).
    batch_size : int, default=128
        Training and prediction batch size.
    validation_split : float, default=0.0
        Fraction of the training data held out, stratified by class and
        shuffled with ``random_state``, to report ``val_*`` scores in
        ``history_`` and drive early stopping.
    early_stopping : bool, default=False
        Stop when the validation loss has not improved for ``patience``
        epochs, and restore the best weights. Needs ``validation_split > 0``.
    patience : int, default=2
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
        "kernel_size": [Interval(Integral, 1, None, closed="left")],
        "pool_size": [Interval(Integral, 1, None, closed="left")],
        "dense_units": [Interval(Integral, 1, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "embedding_dim": [Interval(Integral, 1, None, closed="left")],
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
        architecture="blog",
        filters=128,
        kernel_size=5,
        pool_size=5,
        dense_units=128,
        dropout=0.0,
        embedding_dim=50,
        optimizer="rmsprop",
        learning_rate=None,
        loss="sparse_categorical_crossentropy",
        metrics=None,
        epochs=10,
        batch_size=128,
        validation_split=0.0,
        early_stopping=False,
        patience=2,
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
        if self.early_stopping and not self.validation_split:
            raise ValueError(
                "early_stopping=True needs a validation set: set "
                "validation_split to a fraction such as 0.1"
            )
        with _seeded(self.random_state):
            return super().fit(X, y, sample_weight=sample_weight, **kwargs)

    def partial_fit(self, X, y, classes=None, sample_weight=None, **kwargs):
        """Train for one more epoch, keeping the weights; see scikeras."""
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
        if X is not None:
            X = _check_ids(X, type(self).__name__)
        return super()._validate_data(X, y, reset=reset, y_numeric=y_numeric)

    def _keras_build_fn(self, meta, compile_kwargs):
        if meta["n_classes_"] < 2:
            raise ValueError(
                f"y holds a single class ({meta['classes_'][0]!r}); a classifier "
                "needs at least two"
            )
        seq_len = meta["n_features_in_"]
        n_ids = FIRST_WORD_ID + len(self.feature_encoder_.ids_)
        if self.glove is None:
            embedding = embedding_layer(n_ids, self.embedding_dim)
        else:
            glove = load_glove(self.glove)
            embedding = embedding_layer(
                n_ids, glove.dim, _embedding_matrix(glove, self.feature_encoder_.ids_)
            )
        build = ARCHITECTURES[self.architecture]
        model = build(
            seq_len,
            meta["n_classes_"],
            embedding,
            filters=self.filters,
            kernel_size=self.kernel_size,
            pool_size=self.pool_size,
            dense_units=self.dense_units,
            dropout=self.dropout,
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
        if self.validation_split:
            X, y, sample_weight, validation = self._hold_out(X, y, sample_weight)
            kwargs = {"validation_split": 0.0, "validation_data": validation, **kwargs}
        if self.early_stopping:
            stop = keras.callbacks.EarlyStopping(
                patience=self.patience, restore_best_weights=True
            )
            kwargs["callbacks"] = [*self._fit_callbacks, stop]
        super()._fit_keras_model(
            X, y, sample_weight, warm_start=warm_start, epochs=epochs, **kwargs
        )

    def _hold_out(self, X, y, sample_weight):
        """Split off a stratified validation set, in encoded space."""
        # Ordinal codes of shape (n, 1), or one-hot rows for categorical losses.
        labels = y.argmax(axis=1) if y.ndim == 2 and y.shape[1] > 1 else y.ravel()
        _, counts = np.unique(labels, return_counts=True)
        stratify = labels if counts.min() >= 2 else None
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
    X = np.asarray(X) if not hasattr(X, "dtype") else X
    if X.dtype.kind in "OUS":
        raise TypeError(
            f"{name} expects integer id sequences from GloveSequenceVectorizer, "
            f"got an array of dtype {X.dtype}; use make_glove_pipeline to "
            "vectorize text first"
        )
    if X.ndim != 2:
        raise ValueError(
            f"{name} expects a 2-D array of id sequences, got shape {X.shape}"
        )
    if X.dtype.kind == "f":
        if not np.all(np.isfinite(X)) or np.any(X != np.round(X)):
            raise ValueError(f"{name} expects integer ids, got non-integer values")
        X = X.astype(np.int64)
    elif X.dtype.kind not in "iu":
        raise TypeError(f"{name} expects integer ids, got dtype {X.dtype}")
    if X.size and X.min() < 0:
        raise ValueError(f"{name} expects non-negative ids, got {X.min()}")
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
    try:
        yield
    finally:
        if not was_deterministic:
            tf_config.disable_op_determinism()
        tf.random.set_seed(saved_tf)
        global_state.set_global_attribute(GLOBAL_RANDOM_SEED, saved_keras[0])
        global_state.set_global_attribute(GLOBAL_SEED_GENERATOR, saved_keras[1])
        np.random.set_state(saved_numpy)  # noqa: NPY002
        random.setstate(saved_python)
