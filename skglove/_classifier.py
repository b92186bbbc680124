"""The frozen-GloVe convnet classifier, a scikeras ``KerasClassifier``.

Its parameters and public methods are here; its mixins hold the rest: the
checks before training (:mod:`._fit_checks`), scikeras' hooks
(:mod:`._keras_hooks`) and the fitted state that persistence stores
(:mod:`._classifier_state`). Only this module and those two hold scikeras-
specific code, so that a move to ``keras.wrappers.SKLearnClassifier`` touches
those three files.
"""

import numpy as np
from scikeras.wrappers import KerasClassifier
from sklearn.base import BaseEstimator
from sklearn.utils import ClassifierTags

from ._classifier_state import FittedState
from ._fit_checks import TrainingChecks, init_params
from ._ids import glove_id
from ._keras_hooks import KerasHooks
from ._multilabel import MULTILABEL, IndicatorEncoder, is_indicator
from ._params import PARAMETER_CONSTRAINTS, check_routes
from ._table import IdTable
from ._tf_logging import hide_retracing_warnings
from .glove import DEFAULT_GLOVE

__all__ = ["GloveCNNClassifier"]

# Each fit traces a new model; TensorFlow's warning about that is noise here.
hide_retracing_warnings()


class GloveCNNClassifier(TrainingChecks, KerasHooks, FittedState, KerasClassifier):
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

    For a multi-label ``y``, ``fit`` solves the lexical channel instead of
    training it: each label's scores are a LinearSVC on the documents'
    TF-IDF vectors, with the ``C`` (``lexical_C_``) whose scores rank the
    labels best on the validation split. The GloVe channel then trains
    beside it, frozen, and early stopping watches the GloVe channel's own
    validation loss; the lexical channel is solved again on every sample
    once the channel weights and thresholds are fitted. ``partial_fit``
    trains both channels with adam, the lexical one under LinearSVC's
    penalty for ``C=0.5``.

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
        on the validation split (1 and 1, and no intercept, without one,
        with fewer than two validation samples per class, with no label in
        it, or where the channels' outputs on it are not finite);
        for a multi-label ``y``, one pair per label and a third row, each
        label's intercept (a label with fewer than two positive or negative
        validation samples gets the pair fitted on all labels at once, and
        no intercept); None without the lexical channel.
    threshold_ : ndarray of shape (n_labels,) or None
        Each label's decision threshold (see ``threshold``); 2, which no
        probability exceeds, for a label absent at fit. None for one label
        per sample.
    lexical_C_ : float or None
        LinearSVC's ``C`` of the multi-label lexical channel that ``fit``
        solved, chosen from 0.03, 0.1, 0.3 and 1 for the mean of the labels'
        best F1 on the validation split (0.5 without one, or without a
        positive sample in it); None for one label per sample, without the
        lexical channel, or after ``partial_fit``.
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
            check_routes(type(self).__name__ + "()", routed, init_params(type(self)))
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

        Notes
        -----
        A fit that raises after it has built its network (a callback that
        raises, Ctrl-C, a network that diverged) leaves the classifier
        unfitted; one refused before (a ``y`` of one class) leaves it as it
        was. A warm start keeps the network it trained, as the failure left
        it, unless it diverged.
        """
        continuing = self.warm_start and getattr(self, "initialized_", False)
        classes = getattr(self, "classes_", None)
        with self._glove_resolved():
            source, y = self._check_training_input(X, y, kwargs, continuing)
            # fit solves a multi-label lexical channel; partial_fit descends.
            self._solve_lexical = True
            try:
                self._train(
                    super().fit,
                    X,
                    y,
                    continuing=continuing,
                    sample_weight=sample_weight,
                    **kwargs,
                )
            finally:
                vars(self).pop("_solve_lexical", None)
                # scikeras clears classes_ before it fits, and sets it again
                # only when it builds a new network: a warm start keeps the
                # classes of the network it has, whether or not it raised.
                if continuing and self.initialized_ and self.classes_ is None:
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
            Every class, on the first call; later, None or the same
            classes (a ``ValueError`` otherwise).
            For a multi-label ``y``, None or its column numbers.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples in the loss.
        **kwargs
            Passed to ``keras.Model.fit``, as in :meth:`fit`.

        Returns
        -------
        self : GloveCNNClassifier
            The classifier.

        Notes
        -----
        A call that raises keeps the network, as the failure left it; if the
        call built the network, or the network diverged, the classifier is
        left unfitted.
        """
        continuing = getattr(self, "initialized_", False)
        with self._glove_resolved():
            source, y = self._check_training_input(X, y, kwargs, continuing)
            if is_indicator(y):
                classes = self._check_label_columns(classes, y)
            elif continuing and classes is not None:
                self._check_same_classes(classes)
            self._train(
                super().partial_fit,
                X,
                y,
                continuing=continuing,
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
