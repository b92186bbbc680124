"""Scoring Dask collections, and TensorFlow threads on Dask workers.

Grid searches and cross-validation need nothing from this module: run them
inside ``joblib.parallel_config(backend="dask")`` with a
``distributed.Client`` connected, and each fit runs on a worker. The
classifier sizes TensorFlow's thread pools to the worker's threads by itself.

This module needs ``dask[distributed]`` (``pip install "skglove[dask]"``).
Read more in ``docs/scaling.md``.
"""

from typing import Any

import numpy as np
from sklearn.utils.validation import check_is_fitted

try:
    import dask.bag as db
    from distributed import WorkerPlugin, default_client
except ImportError as exc:  # pragma: no cover - the dask extra is missing
    raise ImportError(
        'skglove.dask needs Dask: pip install "skglove[dask]" '
        '(or pip install "dask[distributed]")'
    ) from exc

from ._tf_threads import limit_tensorflow_threads

__all__ = ["TensorFlowThreads", "predict"]

_METHODS = ("predict", "predict_proba")


class TensorFlowThreads(WorkerPlugin):
    """Limit TensorFlow on every worker to the worker's number of threads.

    TensorFlow sizes its thread pools to all the machine's cores, so several
    workers on one machine oversubscribe it. Fits and predictions on a worker
    apply this limit themselves; register the plugin when a worker may start
    TensorFlow another way first, for instance by unpickling a fitted model.
    :func:`predict` registers it.

    ``TF_NUM_INTRAOP_THREADS`` and ``TF_NUM_INTEROP_THREADS``, when set in a
    worker's environment, take precedence.

    Examples
    --------
    >>> from distributed import Client  # doctest: +SKIP
    >>> from skglove.dask import TensorFlowThreads
    >>> client = Client("tcp://scheduler:8786")  # doctest: +SKIP
    >>> client.register_plugin(TensorFlowThreads())  # doctest: +SKIP
    """

    name = "skglove-tensorflow-threads"

    def setup(self, worker) -> None:
        limit_tensorflow_threads(worker.state.nthreads)


def predict(estimator: Any, X: Any, *, method: str = "predict", client=None):
    """Score a Dask collection of documents, partition by partition.

    Nothing is computed here: the result is a lazy collection of the same
    kind, so a corpus larger than memory can be scored and written out (for
    instance with ``to_textfiles`` or ``to_parquet``) one partition at a time.
    On a distributed cluster the fitted estimator is sent to each worker once,
    not with every partition.

    Parameters
    ----------
    estimator : fitted estimator
        Usually a fitted :func:`~skglove.make_glove_pipeline` pipeline.
    X : dask.bag.Bag or dask.dataframe.Series
        The documents, one str per item.
    method : {"predict", "predict_proba"}, default="predict"
        The estimator method to apply.
    client : distributed.Client, default=None
        The cluster to broadcast the estimator to. Defaults to the current
        client, if there is one; without a client, Dask's local schedulers
        share the estimator in memory.

    Returns
    -------
    dask.bag.Bag, dask.dataframe.Series or dask.dataframe.DataFrame
        For a Bag, a Bag with one label (``predict``) or one array of class
        probabilities (``predict_proba``) per document. For a Series, a Series
        of labels or a DataFrame with one column per class, on the index of
        ``X``. Order follows ``X``. For a multi-label classifier, ``predict``
        gives a list of 0/1, one per label, per document of a Bag, and for a
        Series a DataFrame with one 0/1 column per label; the columns of its
        DataFrames are named by the classifier's ``label_names`` (its column
        numbers, ``classes_``, when it has none).

    Raises
    ------
    TypeError
        If ``X`` is not a Dask Bag or Series, for example a list (call the
        estimator's own method instead).
    ValueError
        If ``method`` is not one of the supported methods.
    sklearn.exceptions.NotFittedError
        If ``estimator`` is not fitted.

    Examples
    --------
    >>> import dask.bag as db
    >>> from skglove import make_glove_pipeline
    >>> from skglove.dask import predict
    >>> pipe = make_glove_pipeline(
    ...     filters=4,
    ...     epochs=1,
    ...     validation_split=0.0,
    ...     early_stopping=False,
    ...     random_state=0,
    ... )
    >>> pipe = pipe.fit(["good game", "bad game"] * 5, ["pos", "neg"] * 5)
    >>> docs = db.from_sequence(["a good game", "a bad one"], npartitions=2)
    >>> labels = predict(pipe, docs).compute(scheduler="sync")
    >>> len(labels), set(labels) <= {"pos", "neg"}
    (2, True)
    """
    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}, got {method!r}")
    check_is_fitted(estimator)
    kind = _collection_kind(X)
    model = _broadcast(estimator, client)
    columns = _columns(estimator)
    if kind == "bag":
        return X.map_partitions(_score_bag_partition, model, method, columns)
    if method == "predict" and not _is_multilabel(estimator):
        dtype = np.asarray(estimator.classes_).dtype
        meta = X._meta.__class__([], dtype=dtype, name=X.name)
    else:
        empty = np.empty((0, len(columns)), dtype=_dtype(estimator, method))
        meta = _frame(empty, columns, X._meta.index)
    return X.map_partitions(_score_series_partition, model, method, columns, meta=meta)


def _classifier(estimator):
    """The estimator that makes the predictions: a pipeline's last step, a
    search's best estimator."""
    while True:
        if hasattr(estimator, "steps"):
            estimator = estimator.steps[-1][1]
        elif hasattr(estimator, "best_estimator_"):
            estimator = estimator.best_estimator_
        else:
            return estimator


def _is_multilabel(estimator) -> bool:
    """Whether ``estimator`` predicts an indicator matrix, one 0/1 column per
    label, rather than one class per document."""
    classifier = _classifier(estimator)
    if getattr(classifier, "target_type_", None) == "multilabel-indicator":
        return True
    return bool(getattr(classifier, "multilabel_", False))  # OneVsRestClassifier


def _columns(estimator) -> list:
    """The names of the score columns: the classes, or a multi-label
    classifier's ``label_names`` (its column numbers when it has none)."""
    classes = np.asarray(estimator.classes_).tolist()
    if not _is_multilabel(estimator):
        return classes
    names = getattr(_classifier(estimator), "label_names", None)
    return classes if names is None else list(names)


def _dtype(estimator, method: str):
    if method == "predict_proba":
        return np.float32
    # A multi-label prediction has the dtype of the indicator seen at fit.
    return getattr(_classifier(estimator), "y_dtype_", np.int64)


def _collection_kind(X) -> str:
    if isinstance(X, db.Bag):
        return "bag"
    is_dask_frame = type(X).__module__.startswith("dask.dataframe")
    if is_dask_frame and getattr(getattr(X, "_meta", None), "ndim", None) == 1:
        return "series"
    raise TypeError(
        "X must be a dask.bag.Bag or a dask.dataframe.Series of documents, got "
        f"{type(X).__module__}.{type(X).__qualname__}; for data in memory, call "
        "the estimator's own method"
    )


def _broadcast(estimator, client):
    """A handle on ``estimator`` that tasks can take as an argument."""
    if client is None:
        try:
            client = default_client()
        except ValueError:  # no client: a local scheduler shares the object
            return estimator
    client.register_plugin(TensorFlowThreads())
    return client.scatter(estimator, broadcast=True, hash=False)


def _score(estimator, docs: list, method: str, columns: list) -> np.ndarray:
    if docs:
        return getattr(estimator, method)(docs)
    # Estimators refuse an empty corpus; an empty partition is fine.
    if method == "predict" and not _is_multilabel(estimator):
        return np.asarray(estimator.classes_)[:0]
    return np.empty((0, len(columns)), dtype=_dtype(estimator, method))


def _score_bag_partition(docs, estimator, method: str, columns: list) -> list:
    scores = _score(estimator, list(docs), method, columns)
    return scores.tolist() if method == "predict" else list(scores)


def _score_series_partition(docs, estimator, method: str, columns: list):
    scores = _score(estimator, docs.tolist(), method, columns)
    if scores.ndim == 1:
        return docs.__class__(scores, index=docs.index, name=docs.name)
    return _frame(scores, columns, docs.index)


def _frame(scores, columns, index):
    import pandas as pd  # dask.dataframe depends on pandas

    return pd.DataFrame(scores, index=index, columns=columns)
