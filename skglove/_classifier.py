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
from scikeras._utils import route_params
from scikeras.utils import metric_name
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
from ._ids import FIRST_WORD_ID, OOV_ID
from ._models import (
    ARCHITECTURES,
    OUTPUT,
    PADDING_INVARIANT,
    build_network,
    fit_mix,
    head_logits,
    head_losses,
    set_mix,
    training_model,
)
from ._tf_threads import match_dask_worker
from .glove import DEFAULT_GLOVE, GloveVectors, load_glove

__all__ = ["GloveCNNClassifier"]

_log = logging.getLogger(__name__)

#: ``train_missing`` learns vectors only for words in this many documents.
# Words seen in one training document only would learn a row from a single
# example; they cost an epoch-time share and rarely generalise.
_MIN_DF_TO_LEARN = 2


class GloveCNNClassifier(KerasClassifier):
    """A 1D convnet over frozen GloVe embeddings, as a scikit-learn classifier.

    It reads the id sequences of :class:`GloveSequenceVectorizer`. At fit it
    gathers into a frozen embedding table the GloVe rows of the ids it sees
    and of the ``unseen_glove_words`` most frequent GloVe words, so that words
    first met at predict time still have their vectors; other ids read as
    out-of-vocabulary. A fitted model holds these rows, not the whole source.

    The default network has two channels, each with its own output and loss:

    - a GloVe channel: the frozen vectors, 256 width-1 convolutions
      max-pooled over the document's words, and the document's
      TF-IDF-weighted mean vector, then dropout;
    - a lexical channel: a trainable class score per kept word, summed with
      the document's sublinear, L2-normalized TF-IDF weights (a linear model
      on TF-IDF, as in scikit-learn's ``TfidfVectorizer``, trained with
      LinearSVC's squared hinge loss), which knows each word by its identity,
      where the frozen vectors know its meaning.

    Each channel is trained against its own loss, with adam in batches of
    128, until their summed loss on a stratified 5% validation split stops
    improving. The output is the softmax of a weighted sum of the lexical
    scores and the GloVe channel's log-probabilities, with the non-negative
    weights that give the lowest log-loss on the validation split. Every
    document with at least one kept word is read by both channels, whatever
    its length. ``BLOG_PARAMS`` reproduces the Keras
    blog's network instead (see the benchmarks page).

    Parameters
    ----------
    glove : str, path-like, GloveVectors or None, default="glove.6B.50d"
        The GloVe source; must match the vectorizer's. ``None`` learns a
        trainable embedding of ``embedding_dim`` from scratch ("CNN-rand").
    architecture : {"kim", "blog"}, default="kim"
        The network over the GloVe vectors. ``"blog"`` is the Keras blog's
        three stacked convolutions. ``"kim"`` is Kim (2014)'s parallel
        convolutions of several widths, each max-pooled over the windows that
        hold at least one word (so a document shorter than a kernel is still
        read); its output ignores padding, so training and prediction crop
        each batch to its longest document.
    lexical : bool, default=True
        Put the lexical channel beside the network (see above). ``False``
        leaves the network alone, as in the Keras blog.
    filters : int, default=256
        Filters of each convolution.
    kernel_size : int or tuple of int, default=1
        Width of each convolution: for ``"kim"``, one parallel convolution per
        width; ``"blog"`` takes a single int (5 in the blog).
    pool_size : int, default=5
        Size of the max-pooling windows of ``"blog"``; ``"kim"`` ignores it.
    dense_units : int, default=0
        Width of a hidden dense layer before the softmax; 0 for none (the blog
        has 128).
    dropout : float, default=0.5
        Dropout rate before the dense layers.
    mean_pooling : bool, default=True
        ``"kim"`` only: pool each document's mean word vector, weighted by
        sublinear TF-IDF, beside the max-pooled convolutions.
    unseen_glove_words : int, default=50000
        How many of the GloVe source's first (most frequent) words the
        frozen table holds beyond the words seen at fit. The vectorizer's
        parameter of the same name must let such words through;
        :func:`make_glove_pipeline` sets both. 0 keeps only the words seen at
        fit. Each such word costs one row of ``dim`` floats in the model.
    embedding_dim : int, default=50
        Width of the trainable embedding when ``glove=None``; ignored otherwise.
    train_missing : bool, default=True
        Learn vectors for the kept words that GloVe lacks and that occur in
        at least two training documents (they start at zero); every GloVe row
        stays frozen. ``False`` keeps them at zero, as the Keras blog does.
    trainable_dim : int, default=0
        Append this many trainable features, learned from scratch, to every
        word's frozen GloVe vector; 0 for none. The GloVe rows stay frozen.
    optimizer : str or keras.optimizers.Optimizer, default="adam"
        The Keras optimizer.
    learning_rate : float or None, default=0.005
        The optimizer's learning rate; ``None`` keeps the optimizer's default.
    loss : str, default="sparse_categorical_crossentropy"
        The Keras loss.
    metrics : list or None, default=None
        Keras metrics recorded in ``history_``; ``None`` records accuracy.
    epochs : int, default=15
        Training epochs (the most, with ``early_stopping``).
    batch_size : int, default=128
        Training and prediction batch size.
    validation_split : float, default=0.05
        Fraction of the training data held out, stratified by class and
        shuffled with ``random_state``, to report ``val_*`` scores in
        ``history_`` and drive early stopping.
    early_stopping : bool, default=True
        Stop when the validation loss has not improved for ``patience``
        epochs, and restore the weights of the best epoch (Keras'
        ``EarlyStopping(restore_best_weights=True)``, given to
        ``keras.Model.fit`` with the user's ``callbacks``). Needs
        ``validation_split > 0``.
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
        Loss and metrics per epoch (``val_*`` with a validation split), as
        ``keras.Model.fit`` reported them. With the lexical channel, ``loss``
        is the training objective, the sum of the channels' losses
        (``lexical_scores_loss``, a squared hinge, and
        ``glove_probabilities_loss``; Keras averages each over the epoch's
        batches on its own, so the epoch means add up only when all batches
        have the same size), and the metrics (``accuracy``) are those of the
        combined output with equal weights.
    feature_encoder_ : object
        Maps vectorizer ids to rows of the embedding table.
    mix_ : ndarray of shape (2,) or None
        The weights of the lexical and the GloVe channel in the output, fitted
        on the validation split (kept as they were, 1 and 1 on a first fit,
        without one or with fewer than two validation samples per class);
        None without the lexical channel.
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
        "lexical": ["boolean"],
        "filters": [Interval(Integral, 1, None, closed="left")],
        "kernel_size": [Interval(Integral, 1, None, closed="left"), tuple, list],
        "pool_size": [Interval(Integral, 1, None, closed="left")],
        "dense_units": [Interval(Integral, 0, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "mean_pooling": ["boolean"],
        "unseen_glove_words": [Interval(Integral, 0, None, closed="left")],
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
        lexical=True,
        filters=256,
        kernel_size=1,
        pool_size=5,
        dense_units=0,
        dropout=0.5,
        mean_pooling=True,
        unseen_glove_words=50_000,
        embedding_dim=50,
        train_missing=True,
        trainable_dim=0,
        optimizer="adam",
        learning_rate=0.005,
        loss="sparse_categorical_crossentropy",
        metrics=None,
        epochs=15,
        batch_size=128,
        validation_split=0.05,
        early_stopping=True,
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
        self.lexical = lexical
        self.filters = filters
        self.kernel_size = kernel_size
        self.pool_size = pool_size
        self.dense_units = dense_units
        self.dropout = dropout
        self.mean_pooling = mean_pooling
        self.unseen_glove_words = unseen_glove_words
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
        if self.glove is None or not self.unseen_glove_words:
            return _DenseIdEncoder()
        n_rows = min(self.unseen_glove_words, len(load_glove(self.glove)))
        return _DenseIdEncoder(extra_ids=np.arange(n_rows) + FIRST_WORD_ID)

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
        encoder = self.feature_encoder_
        ids = encoder.ids_
        if self.glove is None:
            embedding = {"embedding_dim": self.embedding_dim}
        else:
            glove = load_glove(self.glove)
            # Rows past GloVe's are kept words that GloVe lacks. A vector
            # learned from one document would only memorize it: the lexical
            # channel knows such a word already.
            missing = np.concatenate(
                [[False] * FIRST_WORD_ID, ids - FIRST_WORD_ID >= len(glove)]
            )
            learnable = missing & (encoder.df_ >= _MIN_DF_TO_LEARN)
            embedding = {
                "embedding_dim": glove.dim,
                "weights": _embedding_matrix(glove, ids),
                "trainable_rows": learnable if self.train_missing else None,
            }
        idf = encoder.idf()
        if self.architecture == "kim":
            embedding["mean_idf"] = idf if self.mean_pooling else None
        lexical = None
        if self.lexical:
            seen = FIRST_WORD_ID + encoder.n_seen_
            # Words not seen at fit carry no lexical evidence, as in TfidfVectorizer.
            lexical = {
                "n_words": seen,
                "idf": np.where(np.arange(len(idf)) < seen, idf, 0),
            }
        model = build_network(
            self.architecture,
            meta["n_features_in_"],
            meta["n_classes_"],
            lexical=lexical,
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
            metrics=self._metrics(compile_kwargs),
        )
        return model

    def _metrics(self, compile_kwargs):
        # "accuracy" lets Keras pick the sparse or the one-hot kind by the loss.
        return ["accuracy"] if self.metrics is None else compile_kwargs["metrics"]

    def _fit_keras_model(
        self, X, y, sample_weight, warm_start, epochs, initial_epoch, **kwargs
    ):
        # scikeras' own version drops every callback but the user's, and
        # reseeds the process-global generators; this one gives Keras both.
        self._check_embedding_width()
        fit_args = route_params(
            self.get_params(), destination="fit", pass_filter=self._fit_kwargs
        )
        fit_args = {k: v for k, v in fit_args.items() if not k.startswith("callbacks")}
        extra_callbacks = kwargs.pop("callbacks", None) or []
        if "validation_data" in kwargs:
            raise ValueError(
                "validation_data is not supported: the classifier holds out "
                "its own validation data; set validation_split instead"
            )
        fit_args.update(kwargs)
        fit_args.update(epochs=initial_epoch + epochs, initial_epoch=initial_epoch)
        # The renaming runs first, so later callbacks and history_ see the
        # plain names (val_accuracy, not val_probabilities_accuracy).
        callbacks = [_PlainLogNames(), *self._fit_callbacks, *extra_callbacks]
        validation = None
        if self.validation_split:
            X, y, sample_weight, validation = self._hold_out(X, y, sample_weight)
            fit_args["validation_split"] = 0.0
        if self.early_stopping:
            callbacks.append(
                keras.callbacks.EarlyStopping(
                    patience=self.patience, restore_best_weights=True
                )
            )
        model = self._training_model()
        x, y_fit, fit_args = self._training_data(
            model, X, y, sample_weight, validation, fit_args
        )
        history = model.fit(x=x, y=y_fit, callbacks=callbacks, **fit_args)
        if not warm_start or not hasattr(self, "history_") or initial_epoch == 0:
            self.history_ = defaultdict(list)
        for key, values in history.history.items():
            self.history_[key] += values
        self.mix_ = None
        if len(model.outputs) > 1:
            self._fit_mix(validation)

    def _training_model(self) -> keras.Model:
        """``model_``, or its layers with one output per trained head."""
        model = training_model(self.model_)
        if model is self.model_:
            return model
        compile_kwargs = self._get_compile_kwargs()
        # The combined output is monitored, not trained (loss weight 0).
        model = keras.Model(
            model.inputs, [self.model_.output, *model.outputs], name=model.name
        )
        n_heads = len(model.outputs) - 1
        model.compile(
            optimizer=self.model_.optimizer,
            loss=[self.model_.loss, *head_losses(self.model_, self.model_.loss)],
            loss_weights=[0.0] + [1.0] * n_heads,
            metrics=[self._metrics(compile_kwargs)] + [None] * n_heads,
        )
        return model

    def _training_data(self, model, X, y, sample_weight, validation, fit_args):
        """The arrays or datasets for ``model.fit``, and its other arguments."""
        n_outputs = len(model.outputs)
        if self.architecture not in PADDING_INVARIANT:
            if validation is not None:
                fit_args["validation_data"] = _repeat_targets(validation, n_outputs)
            X, y = _repeat_targets((X, y), n_outputs)
            return X, y, {**fit_args, "sample_weight": sample_weight}
        batches = {
            "batch_size": self.batch_size,
            "seed": None if self.random_state is None else self._random_state,
            "n_outputs": n_outputs,
        }
        train = training_dataset(X, y, sample_weight, shuffle=self.shuffle, **batches)
        if validation is not None:
            fit_args["validation_data"] = training_dataset(
                *validation, *[None] * (3 - len(validation)), shuffle=False, **batches
            )
        # The dataset holds the weights and does the batching and shuffling.
        for key in ("batch_size", "sample_weight"):
            fit_args.pop(key, None)
        return train, None, {**fit_args, "shuffle": False}

    def _fit_mix(self, validation) -> None:
        """Weigh the channels to minimize the log-loss on the validation split.

        Without one, or with fewer than two samples per class in it (too few
        to weigh anything), the weights stay as they are (initially 1 and 1).
        """
        too_small = validation is not None and len(validation[1]) < 2 * len(
            self.classes_
        )
        if validation is None or too_small:
            if too_small:
                _log.info(
                    "kept the channel weights: the validation split holds %d "
                    "samples for %d classes",
                    len(validation[1]),
                    len(self.classes_),
                )
            self.mix_ = self.model_.get_layer(OUTPUT).mix.numpy()
            return
        X, y = validation[0], validation[1]
        weights = validation[2] if len(validation) > 2 else None
        labels = _class_codes(y)
        outputs = self._predict_model(training_model(self.model_), X)
        logits = head_logits(self.model_, outputs)
        self.mix_ = fit_mix(logits, labels, sample_weight=weights)
        set_mix(self.model_, self.mix_)

    def _predict_model(self, model, X, **kwargs):
        """``model.predict`` on encoded ids, by length where the network allows."""
        if self.architecture not in PADDING_INVARIANT:
            return model.predict(X, batch_size=self.batch_size, verbose=self.verbose)
        return predict_by_length(
            model, X, batch_size=self.batch_size, verbose=self.verbose
        )

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
        return self._predict_model(self.model_, self.feature_encoder_.transform(X))

    def _hold_out(self, X, y, sample_weight):
        """Split off a stratified validation set, in encoded space."""
        # Ordinal codes of shape (n, 1), or one-hot rows for categorical losses.
        labels = _class_codes(y)
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
            "n_seen_ids": int(self.feature_encoder_.n_seen_),
            "mix": None if self.mix_ is None else [float(w) for w in self.mix_],
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
        clf.feature_encoder_.n_seen_ = int(state.get("n_seen_ids", len(state["ids"])))
        mix = state.get("mix")
        clf.mix_ = None if mix is None else np.asarray(mix, dtype=np.float32)
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

    The ids seen at fit, in ascending order, get rows 2, 3, ...; then come
    ``extra_ids`` that were not seen. Padding stays 0, and every other id
    becomes 1 (out-of-vocabulary). ``df_`` counts the fit sequences in which
    each row occurs.
    """

    def __init__(self, extra_ids=None):
        self.extra_ids = extra_ids

    def fit(self, X, y=None):
        X = np.asarray(X)
        seen = np.unique(X)
        seen = seen[seen >= FIRST_WORD_ID]
        extra = np.empty(0, dtype=np.int64)
        if self.extra_ids is not None:
            extra = np.setdiff1d(self.extra_ids, seen)
        self.ids_ = np.concatenate([seen, extra]).astype(np.int64)
        self.n_seen_ = len(seen)
        self.n_documents_ = len(X)
        self.df_ = _document_frequency(
            self.transform(X), FIRST_WORD_ID + len(self.ids_)
        )
        return self

    def transform(self, X):
        X = np.asarray(X)
        if not len(self.ids_):
            return np.where(X < FIRST_WORD_ID, X, OOV_ID).astype(np.int32)
        order = np.argsort(self.ids_, kind="stable")
        ordered = self.ids_[order]
        pos = np.minimum(np.searchsorted(ordered, X), len(ordered) - 1)
        rows = np.where(ordered[pos] == X, order[pos] + FIRST_WORD_ID, OOV_ID)
        return np.where(X < FIRST_WORD_ID, X, rows).astype(np.int32)

    def idf(self) -> np.ndarray:
        """Smoothed idf per row, as ``TfidfVectorizer``'s; 0 for padding and OOV.

        Rows never seen at fit get the idf of a word in no document.
        """
        n = self.n_documents_
        idf = np.log((1 + n) / (1 + self.df_)) + 1
        idf[:FIRST_WORD_ID] = 0
        return idf.astype(np.float32)


def _document_frequency(rows: np.ndarray, n_rows: int) -> np.ndarray:
    """In how many sequences (rows of ``rows``) each table row occurs."""
    ordered = np.sort(rows, axis=1)
    first = np.ones(ordered.shape, dtype=bool)
    first[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    return np.bincount(ordered[first], minlength=n_rows)


def _class_codes(y: np.ndarray) -> np.ndarray:
    """Class codes from encoded targets: ordinal (n, 1) or one-hot rows."""
    codes = y.argmax(axis=1) if y.ndim == 2 and y.shape[1] > 1 else y.ravel()
    return codes.astype(np.int64)


def _repeat_targets(data: tuple, n_outputs: int) -> tuple:
    """``(X, y[, w])`` with ``y`` given to each of ``n_outputs`` outputs."""
    if n_outputs == 1:
        return data
    return (data[0], [data[1]] * n_outputs, *data[2:])


class _PlainLogNames(keras.callbacks.Callback):
    """Rename the Keras log entries in place to their :func:`_history_key`."""

    def _rename(self, logs):
        if logs:
            for key in list(logs):
                plain = _history_key(key)
                if plain != key:
                    logs[plain] = logs.pop(key)

    def on_train_batch_end(self, batch, logs=None):
        self._rename(logs)

    def on_epoch_end(self, epoch, logs=None):
        self._rename(logs)


def _history_key(key: str) -> str:
    """scikeras' name for a Keras history key; the combined output's metrics
    go by their plain names (``accuracy``), its monitored loss by
    ``combined_loss``."""
    prefix = "val_" if key.startswith("val_") else ""
    name = key[len(prefix) :]
    if name.startswith(f"{OUTPUT}_"):
        name = name[len(OUTPUT) + 1 :]
        name = "combined_loss" if name == "loss" else name
    if name != "loss" and not name.endswith("_loss"):
        try:
            name = metric_name(name)
        except ValueError:  # a custom metric
            pass
    return prefix + name


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
