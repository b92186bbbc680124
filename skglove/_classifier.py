"""The frozen-GloVe convnet classifier, a scikeras ``KerasClassifier``.

Every scikeras-specific line of skglove lives in this module, so that a move to
``keras.wrappers.SKLearnClassifier`` touches one file.
"""

import inspect
import logging
import time
from collections import defaultdict
from contextlib import contextmanager

import keras
import numpy as np
from scikeras._utils import route_params
from scikeras.utils import metric_name
from scikeras.wrappers import KerasClassifier
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError
from sklearn.utils import ClassifierTags
from sklearn.utils.validation import check_is_fitted

from ._ids import glove_id
from ._mix import fitted_mix
from ._models import OUTPUT, PADDING_INVARIANT, build_network
from ._multilabel import (
    MULTILABEL,
    NEVER,
    IndicatorEncoder,
    check_indicator,
    check_label_names,
    check_saved_state,
    is_indicator,
    warn_absent_labels,
)
from ._params import (
    PARAMETER_CONSTRAINTS,
    check_combinations,
    check_embedding_width,
    check_keras_args,
    check_routes,
    check_same_glove,
    check_same_source,
    check_table_covers,
    check_target_params,
    network_arguments,
    resolved_loss,
)
from ._sequences import id_source
from ._table import IdTable
from ._tf_logging import hide_retracing_warnings
from ._tf_threads import match_dask_worker
from ._training import (
    Seeds,
    build_training_state,
    copied_optimizer,
    fit_callbacks,
    fit_data,
    fitted_thresholds,
    hold_out,
    log_fit,
    own_weights,
    predict,
    seed_source,
    trained_heads,
)
from ._validation import check_ids, check_sequence_length, check_targets
from .glove import DEFAULT_GLOVE, load_glove

__all__ = ["GloveCNNClassifier"]

_log = logging.getLogger(__name__)


# Each fit traces a new model; TensorFlow's warning about that is noise here.
hide_retracing_warnings()


class GloveCNNClassifier(KerasClassifier):
    """A 1D convnet over frozen GloVe embeddings, as a scikit-learn classifier.

    It reads the id sequences of :class:`GloveSequenceVectorizer`. At fit it
    gathers into a frozen embedding table the GloVe rows of the ids it sees
    and of the ``unseen_glove_words`` most frequent GloVe words, so that words
    first met at predict time still have their vectors; other ids read as
    out-of-vocabulary. A fitted model holds these rows, not the whole source.

    The default network has two channels, each with its own output and loss:

    - a GloVe channel: the frozen vectors, 128 convolutions over each word
      and 128 over each pair of neighbouring words (so word order counts:
      "how many" is not "many how"), each max-pooled over the document, and
      the document's TF-IDF-weighted mean vector, then dropout;
    - a lexical channel: a trainable class score per kept word, summed with
      the document's sublinear, L2-normalized TF-IDF weights (a linear model
      on TF-IDF, as in scikit-learn's ``TfidfVectorizer``, trained with
      LinearSVC's squared hinge loss), which knows each word by its identity,
      where the frozen vectors know its meaning.

    Each channel is trained against its own loss, with adam in batches of
    128 and a learning rate that decays along a half cosine over the epochs,
    until their summed loss on a stratified 5% validation split stops
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
    filters : int, default=128
        Filters of each convolution.
    kernel_size : int, tuple of int or None, default=None
        Width of each convolution: for ``"kim"``, one parallel convolution per
        width; ``"blog"`` takes a single int. None means ``(1, 2)`` for
        ``"kim"``, each word and each pair of neighbouring words, and 5 for
        ``"blog"``, the blog's. With width 1 alone, ``"kim"`` reads a bag of
        words: the order of a document's words changes nothing. On long
        documents, each wider width costs about as much as the rest of the
        network (see the benchmarks page).
    pool_size : int or None, default=None
        Size of the max-pooling windows of ``"blog"``; None means 5, the
        blog's. ``"kim"`` has no such pooling and refuses a value.
    dense_units : int, default=0
        Width of a hidden dense layer before the softmax; 0 for none (the blog
        has 128).
    dropout : float, default=0.5
        Dropout rate before the dense layers.
    mean_pooling : bool or None, default=None
        ``"kim"`` only: pool each document's mean word vector, weighted by
        sublinear TF-IDF, beside the max-pooled convolutions. None means True
        for ``"kim"``; ``"blog"`` refuses True.
    unseen_glove_words : int, default=50000
        How many of the GloVe source's first (most frequent) words the
        frozen table holds beyond the words seen at fit. The vectorizer's
        parameter of the same name must let such words through;
        :func:`make_glove_pipeline` sets both. 0 keeps only the words seen at
        fit. Each such word costs one row of ``dim`` floats in the model.
        Has no effect with ``glove=None``, whose table is learned.
    embedding_dim : int or None, default=None
        Width of the trainable embedding when ``glove=None`` (None means 50).
        With a GloVe source, the width is the source's: another value is
        refused.
    train_missing : bool, default=True
        Learn vectors for the kept words that GloVe lacks and that occur in
        at least two training documents (they start at zero); every GloVe row
        stays frozen. ``False`` keeps them at zero, as the Keras blog does.
        Has no effect with ``glove=None``, where every row is learned.
    trainable_dim : int, default=0
        Append this many trainable features, learned from scratch, to every
        word's frozen GloVe vector; 0 for none. The GloVe rows stay frozen.
    optimizer : str, class or keras.optimizers.Optimizer, default="adam"
        The Keras optimizer.
    learning_rate : float or None, default=0.005
        The optimizer's learning rate; ``None`` keeps the optimizer's default.
    learning_rate_schedule : {"cosine", "constant"}, default="cosine"
        How the learning rate changes over the epochs of a ``fit``.
        ``"cosine"`` starts each ``fit`` at the full rate and decays it to
        near 0 along a half cosine over ``epochs`` (epoch ``i`` trains at
        ``rate * (1 + cos(pi * i / epochs)) / 2``); the rate is restored when
        ``fit`` ends, so a warm start decays again from the full rate.
        ``partial_fit`` always trains at the full rate. ``"constant"`` keeps
        the rate, and must be set for an optimizer built on its own
        ``keras.optimizers.schedules.LearningRateSchedule``.
    loss : str, class, callable or None, default=None
        The Keras loss (of the GloVe channel; the lexical channel's is a
        squared hinge, one-vs-rest). None means
        ``"sparse_categorical_crossentropy"`` for one label per sample and
        ``"binary_crossentropy"`` (one per label) for a multi-label
        indicator ``y``. Give a class, such as
        ``keras.losses.SparseCategoricalCrossentropy``, to route arguments to
        it with ``loss__``.
    metrics : list or None, default=None
        Keras metrics recorded in ``history_``; ``None`` records accuracy.
    epochs : int, default=8
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
        Weights of the classes in the loss, as in scikit-learn. Refused for a
        multi-label ``y``: a sample with several labels has no one class to
        weigh it by (give ``sample_weight`` instead).
    threshold : float in [0, 1] or "tuned", default=0.5
        Multi-label ``y`` only: a label is predicted where its probability
        exceeds its threshold. ``"tuned"`` fits each label's threshold for
        the best F1 on the validation split (a label without a positive
        sample there keeps 0.5). Fitted as ``threshold_``.
    label_names : list of str or None, default=None
        Multi-label ``y`` only: a name for each label column, in order (such
        as ``list(MultiLabelBinarizer().classes_)``), which
        :func:`skglove.explain` and the command line show and take.
        ``classes_`` stays the column numbers.
    random_state : int, RandomState instance or None, default=None
        Where the seeds of the weight initializers, the dropout layers, the
        shuffling and the validation split come from, as in scikit-learn:
        an int gives the same predictions on the same machine, in any thread
        or process; a ``RandomState`` is drawn from (so two different ones
        give different splits); None draws fresh seeds. Every seed is
        passed explicitly, so no process-global generator (Python's,
        NumPy's, TensorFlow's or Keras') is read or changed. Bitwise
        reproducibility on a GPU also needs the application to call
        ``tf.config.experimental.enable_op_determinism()``.
    verbose : int, default=0
        Keras' verbosity: 1 shows a progress bar.
    callbacks : list of keras.callbacks.Callback or None, default=None
        Given to ``keras.Model.fit`` with the classifier's own.
    shuffle : bool, default=True
        Reshuffle the training data each epoch.
    warm_start : bool, default=False
        Keep training the fitted network on the next ``fit``.
    **kwargs
        Routed parameters, by the prefixes ``optimizer__`` and ``loss__``
        (arguments of the optimizer or the loss, such as
        ``optimizer__momentum=0.9``), ``callbacks__`` (of the callbacks
        given by class), and ``fit__`` and ``predict__`` (arguments of
        ``keras.Model.fit`` and ``keras.Model.predict``, such as
        ``predict__verbose=1``; not those the classifier sets itself, such
        as ``batch_size`` or ``epochs``). ``loss__`` needs ``loss`` given
        as a class, and ``optimizer__learning_rate`` needs
        ``learning_rate=None``. Any other keyword is stored, as scikit-learn
        asks of ``__init__``, and ``fit`` raises a ``TypeError`` that names
        it and the closest valid names; ``set_params`` refuses it at once.

    Attributes
    ----------
    model_ : keras.Model
        The fitted network.
    classes_ : ndarray of shape (n_classes,)
        The class labels; for a multi-label ``y``, the label columns
        ``0 .. n_labels - 1``, as in ``MLPClassifier``.
    history_ : dict of str to list of float
        Loss and metrics per epoch (``val_*`` with a validation split), as
        ``keras.Model.fit`` reported them. With the lexical channel, ``loss``
        is the training objective, the sum of the channels' losses
        (``lexical_scores_loss``, a squared hinge, and
        ``glove_probabilities_loss``; Keras averages each over the epoch's
        batches on its own, so the epoch means add up only when all batches
        have the same size), and the metrics (``accuracy``) are those of the
        combined output with equal weights.
    feature_encoder_ : IdTable
        Maps vectorizer ids to rows of the embedding table.
    mix_ : ndarray of shape (2,) or (3, n_labels), or None
        The weights of the lexical and the GloVe channel in the output, fitted
        on the validation split (kept as they were, 1 and 1 on a first fit,
        without one or with fewer than two validation samples per class);
        for a multi-label ``y``, one pair per label and a third row, each
        label's intercept (a label with fewer than two positive or negative
        validation samples gets the pair fitted on all labels at once, and
        no intercept); None without the lexical channel.
    threshold_ : ndarray of shape (n_labels,) or None
        Each label's decision threshold (see ``threshold``); 2, which no
        probability exceeds, for a label absent at fit. None for one label
        per sample.
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

    _parameter_constraints: dict = dict(PARAMETER_CONSTRAINTS)

    def __init__(
        self,
        glove=DEFAULT_GLOVE,
        *,
        architecture="kim",
        lexical=True,
        filters=128,
        kernel_size=None,
        pool_size=None,
        dense_units=0,
        dropout=0.5,
        mean_pooling=None,
        unseen_glove_words=50_000,
        embedding_dim=None,
        train_missing=True,
        trainable_dim=0,
        optimizer="adam",
        learning_rate=0.005,
        learning_rate_schedule="cosine",
        loss=None,
        metrics=None,
        epochs=8,
        batch_size=128,
        validation_split=0.05,
        early_stopping=True,
        patience=2,
        class_weight=None,
        threshold=0.5,
        label_names=None,
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
        self.learning_rate_schedule = learning_rate_schedule
        self.loss = loss
        self.metrics = metrics
        self.epochs = epochs
        self.batch_size = batch_size
        self.validation_split = validation_split
        self.early_stopping = early_stopping
        self.patience = patience
        self.class_weight = class_weight
        self.threshold = threshold
        self.label_names = label_names
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks
        self.shuffle = shuffle
        self.warm_start = warm_start
        # Stored unchecked, as scikit-learn asks of __init__; fit refuses
        # the names that are neither parameters nor documented routes.
        vars(self).update(kwargs)
        if kwargs:
            self._user_params = set(kwargs)

    def __sklearn_tags__(self):
        # scikeras predates __sklearn_tags__: without this, is_classifier() is
        # False and GridSearchCV(cv=5) silently skips stratification.
        tags = BaseEstimator.__sklearn_tags__(self)
        tags.estimator_type = "classifier"
        tags.classifier_tags = ClassifierTags(multi_label=True)
        tags.target_tags.required = True
        tags.non_deterministic = self.random_state is None
        # X holds ids: categorical codes, never negative.
        tags.input_tags.categorical = True
        tags.input_tags.positive_only = True
        # Columns are positions over one shared vocabulary, not features: the
        # net cannot reach the generic checks' 0.83 accuracy on make_blobs.
        tags.classifier_tags.poor_score = True
        return tags

    # scikit-learn's repr, with the changed parameters only.
    __repr__ = BaseEstimator.__repr__

    def set_params(self, **params) -> "GloveCNNClassifier":
        """Set parameters, by name or by a documented route; see ``__init__``."""
        routed = {
            k: v for k, v in params.items() if k not in self.get_params(deep=False)
        }
        try:
            check_routes(type(self).__name__ + "()", routed, _init_params())
        except TypeError as exc:  # set_params reports names as scikit-learn does
            raise ValueError(str(exc)) from None
        # scikeras' own set_params would take callbacks__* for nested params.
        super().set_params(**{k: v for k, v in params.items() if k not in routed})
        vars(self).update(routed)
        if routed:
            self._user_params = getattr(self, "_user_params", set()) | set(routed)
        return self

    @property
    def target_encoder(self):
        if getattr(self, "target_type_", None) == MULTILABEL:
            return IndicatorEncoder()
        return super().target_encoder

    @property
    def _multilabel(self) -> bool:
        return getattr(self, "target_type_", None) == MULTILABEL

    @property
    def feature_encoder(self):
        if self.glove is None or not self.unseen_glove_words:
            return IdTable()
        n_rows = min(self.unseen_glove_words, len(self._vectors))
        return IdTable(extra_ids=glove_id(np.arange(n_rows)))

    def fit(self, X, y, sample_weight=None, **kwargs) -> "GloveCNNClassifier":
        """Fit the network to id sequences and labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, max_len)
            Id sequences from :class:`GloveSequenceVectorizer`.
        y : array-like of shape (n_samples,), or (n_samples, n_labels)
            Class labels, numbers or strings, at least two classes; or a
            multi-label indicator matrix, 0 or 1 per label (dense or sparse,
            at least two columns).
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples in the loss.
        **kwargs
            Passed to ``keras.Model.fit`` (``callbacks``, ``verbose``, ...),
            except the arguments the classifier sets itself.

        Returns
        -------
        self : GloveCNNClassifier
            The fitted classifier.
        """
        continuing = self.warm_start and getattr(self, "initialized_", False)
        classes = getattr(self, "classes_", None)
        with self._glove_resolved():
            source, y = self._check_training_input(X, y, kwargs, continuing)
            try:
                self._train(super().fit, X, y, sample_weight=sample_weight, **kwargs)
            finally:
                # scikeras clears classes_ before it fits, and sets it again
                # only when it builds a new network: a warm start, or a refit
                # that fails early, keeps the classes of the network it has.
                if getattr(self, "classes_", None) is None and classes is not None:
                    self.classes_ = classes
        self._id_source = source
        return self

    def partial_fit(
        self, X, y, classes=None, sample_weight=None, **kwargs
    ) -> "GloveCNNClassifier":
        """Train for one more epoch, keeping the weights.

        The first call builds the network as ``fit`` does. Its embedding
        table holds the GloVe rows of the ids in that first batch and of the
        ``unseen_glove_words`` most frequent GloVe words, and cannot grow: a
        later batch holding another GloVe word raises a ``ValueError``
        rather than train on it as an unknown word. To stream a corpus, set
        ``unseen_glove_words`` to the size of the GloVe source (every row),
        or make the first batch hold the vocabulary.

        Parameters
        ----------
        X : array-like of shape (n_samples, max_len)
            Id sequences.
        y : array-like of shape (n_samples,), or (n_samples, n_labels)
            Class labels, or a multi-label indicator matrix with the same
            columns at every call.
        classes : array-like of shape (n_classes,), default=None
            Every class, on the first call; the labels of ``y`` otherwise.
            For a multi-label ``y``, None or its column numbers.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples in the loss.
        **kwargs
            Passed to ``keras.Model.fit``, as in :meth:`fit`.

        Returns
        -------
        self : GloveCNNClassifier
            The classifier.
        """
        continuing = getattr(self, "initialized_", False)
        with self._glove_resolved():
            source, y = self._check_training_input(X, y, kwargs, continuing)
            if is_indicator(y):
                classes = self._check_label_columns(classes, y)
            self._train(
                super().partial_fit,
                X,
                y,
                classes=classes,
                sample_weight=sample_weight,
                **kwargs,
            )
        self._id_source = source
        return self

    def predict_proba(self, X, **kwargs) -> np.ndarray:
        """Class probabilities, one row per sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, max_len)
            Id sequences.
        **kwargs
            Passed to ``keras.Model.predict``: ``batch_size``, ``verbose``
            or ``callbacks``.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probabilities, columns in the order of ``classes_``.
        """
        proba = super().predict_proba(X, **kwargs)
        # scikeras squeezes a single sample down to 1-D.
        return proba.reshape(-1, len(self.classes_))

    def predict(self, X, **kwargs) -> np.ndarray:
        """Predicted classes, or for a multi-label ``y`` the indicator matrix
        of the labels whose probability exceeds ``threshold_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, max_len)
            Id sequences.
        **kwargs
            Passed to ``keras.Model.predict``, as in :meth:`predict_proba`.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_labels)
            Class labels; or 0/1 per label, in the dtype of the ``y`` seen at
            fit (dense, even where that ``y`` was sparse).
        """
        if not getattr(self, "initialized_", False) or not self._multilabel:
            return super().predict(X, **kwargs)
        proba = self.predict_proba(X, **kwargs)
        return (proba > self.threshold_).astype(self.y_dtype_)

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

    def _train(self, fit, X, y, *, sample_weight, **kwargs) -> None:
        match_dask_worker()
        start = time.perf_counter()
        fit(X, y, sample_weight=own_weights(sample_weight), **kwargs)
        # n_classes_, not classes_: a warm start leaves classes_ None until
        # fit puts it back.
        log_fit(
            time.perf_counter() - start,
            architecture=self.architecture,
            n_sequences=self.X_shape_[0],
            n_ids=self.n_features_in_,
            n_classes=self.n_classes_,
            history=self.history_,
        )

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
            _init_params(),
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
        that some probability can exceed."""
        if not continuing:
            return False
        return np.asarray(self.threshold_) < NEVER

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

    def _initialize(self, X, y=None):
        if not hasattr(self, "_vectors"):  # scikeras' initialize(), outside fit
            with self._glove_resolved():
                return self._initialize(X, y)
        # As scikeras', but the seeds come from random_state explicitly:
        # scikeras' _random_state would reseed the process-global generators.
        self._seeds = seed_source(self.random_state)
        # A new network's fit uses the seeds it is built with; a fit that
        # goes on training it draws new ones (_fit_keras_model).
        self._new_network_seeds = Seeds.draw(self._seeds)
        self._random_state = None
        X, y = self._validate_data(X, y, reset=True)
        self.target_encoder_ = self.target_encoder.fit(y)
        vars(self).update(self.target_encoder_.get_metadata())
        self.feature_encoder_ = self.feature_encoder.fit(X)
        self.model_ = self._build_keras_model()
        self._initialize_callbacks()
        return X, y

    def _validate_data(self, X=None, y=None, reset=False, y_numeric=False):
        # As scikeras', but X stays IdSequences, not a padded array.
        name = type(self).__name__
        if X is not None:
            X = check_ids(X, name)
            if not reset:
                check_sequence_length(X, getattr(self, "n_features_in_", None), name)
        if y is not None:
            y = check_targets(y, X)
        _, y = super()._validate_data(None, y, reset=reset, y_numeric=y_numeric)
        if X is not None and reset:
            self.X_dtype_, self.X_shape_ = X.dtype, X.shape
            self.n_features_in_ = X.shape[1]
        return X, y

    def _keras_build_fn(self, meta, compile_kwargs):
        if meta["n_classes_"] < 2:
            raise ValueError(
                f"y holds a single class ({meta['classes_'].tolist()[0]!r}); a "
                "classifier needs more than one class"
            )
        model = build_network(
            self.architecture,
            meta["n_features_in_"],
            meta["n_classes_"],
            multilabel=self._multilabel,
            seed=self._new_network_seeds.network,
            **network_arguments(
                self.get_params(),
                self.feature_encoder_,
                self._vectors,
            ),
        )
        optimizer = compile_kwargs["optimizer"]
        if optimizer is self.optimizer:  # the user's instance
            optimizer = copied_optimizer(optimizer)
        if self.learning_rate is not None:
            optimizer.learning_rate = self.learning_rate
        model.compile(
            optimizer=optimizer,
            loss=resolved_loss(compile_kwargs["loss"], self._multilabel),
            metrics=self._metrics(compile_kwargs),
        )
        return model

    def _metrics(self, compile_kwargs):
        if self.metrics is not None:
            return compile_kwargs["metrics"]
        # "accuracy" lets Keras pick the sparse or the one-hot kind by the
        # loss; for sigmoid outputs it would pick the one-hot kind.
        return ["binary_accuracy" if self._multilabel else "accuracy"]

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
        fit_args.update(kwargs)
        fit_args.update(epochs=initial_epoch + epochs, initial_epoch=initial_epoch)
        callbacks, decay = fit_callbacks(
            _history_key,
            [*self._fit_callbacks, *extra_callbacks],
            schedule=self.learning_rate_schedule,
            epochs=epochs,
            initial_epoch=initial_epoch,
            early_stopping=self.early_stopping,
            patience=self.patience,
            monitor=self._monitored_loss(),
        )
        seeds = vars(self).pop("_new_network_seeds", None) or Seeds.draw(self._seeds)
        rows, valid_rows = hold_out(
            y, self.validation_split, seeds.split, multilabel=self._multilabel
        )
        model = trained_heads(self.model_, self._metrics(self._get_compile_kwargs()))
        fit_args.update(
            fit_data(
                X,
                y,
                sample_weight,
                rows,
                valid_rows,
                batch_size=self.batch_size,
                n_outputs=len(model.outputs),
                by_length=self.architecture in PADDING_INVARIANT,
                shuffle=self.shuffle,
                seed=seeds.shuffle,
            )
        )
        # The datasets batch, weigh and shuffle; Keras must not do it again.
        for key in ("batch_size", "sample_weight", "validation_split", "shuffle"):
            fit_args.pop(key, None)
        build_training_state(model, fit_args["x"])
        try:
            history = model.fit(callbacks=callbacks, shuffle=False, **fit_args)
        finally:
            if decay is not None:  # Keras skips on_train_end when fit raises
                decay.restore()
        if not warm_start or not hasattr(self, "history_") or initial_epoch == 0:
            self.history_ = defaultdict(list)
        for key, values in history.history.items():
            self.history_[key] += values
        self.mix_ = None
        if len(model.outputs) > 1:
            self.mix_ = fitted_mix(
                self.model_,
                X,
                y,
                sample_weight,
                valid_rows,
                self.n_classes_,
                **self._predict_args(),
            )
        previous, self.threshold_ = vars(self).get("threshold_"), None
        if self._multilabel:
            self.threshold_ = fitted_thresholds(
                self.model_,
                X,
                y,
                valid_rows,
                self.threshold,
                vars(self).pop("_labels_present"),
                previous if warm_start and initial_epoch else None,
                **self._predict_args(),
            )

    def _monitored_loss(self) -> str:
        """The validation loss that early stopping watches: the channels'
        summed losses, or for a multi-label network with a lexical channel
        the combined output's. Each label's one-vs-rest lexical scores start
        to overfit within a few epochs on rare labels, long before the
        output they feed stops improving."""
        if self._multilabel and self.lexical:
            return "val_combined_loss"
        return "val_loss"

    def _predict_args(self, **predict_args) -> dict:
        """Keyword arguments of :func:`skglove._training.predict`."""
        return {
            "by_length": self.architecture in PADDING_INVARIANT,
            "batch_size": self.batch_size,
            "verbose": self.verbose,
            **predict_args,
        }

    def _predict_raw(self, X, **kwargs):
        match_dask_worker()
        if not self.initialized_:
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet; call "
                "'fit' before 'predict'"
            )
        check_keras_args(kwargs, "predict", "predict() argument ")
        self._check_id_source(X)
        X, _ = self._validate_data(X=X)
        predict_args = route_params(
            self.get_params(),
            destination="predict",
            pass_filter=self._predict_kwargs,
            strict=True,
        )
        predict_args = {
            k: v for k, v in predict_args.items() if not k.startswith("callbacks")
        }
        predict_args["callbacks"] = [
            *self._predict_callbacks,
            *kwargs.pop("callbacks", []),
        ]
        predict_args.update(kwargs)
        return predict(
            self.model_,
            self.feature_encoder_.transform(X),
            **self._predict_args(**predict_args),
        )

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
            "id_source": getattr(self, "_id_source", None),
            "history": self.history_,
        }

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
    ) -> "GloveCNNClassifier":
        """A fitted classifier from its parameters, network and fitted values.

        ``fitted`` holds ``target_type_``, ``y_ndim_``, ``X_shape_``,
        ``n_features_in_``, ``mix_``, ``threshold_``, ``history_`` and
        ``_id_source``, as
        :mod:`skglove._persistence` stores them; this is the only code that
        knows which scikeras attributes make a classifier fitted.
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


def _init_params() -> list[str]:
    signature = inspect.signature(GloveCNNClassifier.__init__)
    return [p for p in signature.parameters if p not in ("self", "kwargs")]


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
