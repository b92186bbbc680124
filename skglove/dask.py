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
        ``X``. Order follows ``X``.

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
    if kind == "bag":
        return X.map_partitions(_score_bag_partition, model, method)
    classes = np.asarray(estimator.classes_)
    if method == "predict":
        meta = X._meta.__class__([], dtype=classes.dtype, name=X.name)
    else:
        empty = np.empty((0, len(classes)), dtype=np.float32)
        meta = _proba_frame(empty, classes, X._meta.index)
    return X.map_partitions(_score_series_partition, model, method, meta=meta)


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


def _score(estimator, docs: list, method: str) -> np.ndarray:
    if docs:
        return getattr(estimator, method)(docs)
    # Estimators refuse an empty corpus; an empty partition is fine.
    classes = np.asarray(estimator.classes_)
    if method == "predict":
        return classes[:0]
    return np.empty((0, len(classes)), dtype=np.float32)


def _score_bag_partition(docs, estimator, method: str) -> list:
    scores = _score(estimator, list(docs), method)
    return scores.tolist() if method == "predict" else list(scores)


def _score_series_partition(docs, estimator, method: str):
    scores = _score(estimator, docs.tolist(), method)
    if method == "predict":
        return docs.__class__(scores, index=docs.index, name=docs.name)
    return _proba_frame(scores, estimator.classes_, docs.index)


def _proba_frame(proba, classes, index):
    import pandas as pd  # dask.dataframe depends on pandas

    return pd.DataFrame(proba, index=index, columns=np.asarray(classes).tolist())
