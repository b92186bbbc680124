"""skglove on a real dask.distributed cluster of two worker processes."""

import os
import pickle
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import (
    TINY_MAX_LEN,
    TINY_NET,
    TOPICS,
    make_posts,
    make_tagged_posts,
    tiny_pipeline,
)

distributed = pytest.importorskip("distributed")
import dask.bag as db  # noqa: E402
import dask.dataframe as dd  # noqa: E402
import pandas as pd  # noqa: E402
from joblib import parallel_config  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_val_score  # noqa: E402

from skglove import make_glove_pipeline  # noqa: E402
from skglove.dask import predict  # noqa: E402

#: Two candidates: enough to compare a search's choice, and few fits.
GRID = {"glovecnnclassifier__filters": [2, 4]}


@pytest.fixture(scope="module")
def client(dask_cluster):
    # Not the default client: tests without it must see no cluster.
    with distributed.Client(dask_cluster, set_as_default=False) as client:
        yield client


@pytest.fixture(scope="module")
def pipe(tiny_glove):
    net = {**TINY_NET, "epochs": 5}
    pipe = make_glove_pipeline(tiny_glove, **net, max_len=TINY_MAX_LEN, random_state=0)
    # A network that learns, so that the scores compare candidates, not noise
    # around chance level.
    return pipe.set_params(glovecnnclassifier__learning_rate=0.05)


@pytest.fixture(scope="module")
def local_search(pipe, posts):
    return GridSearchCV(pipe, GRID, cv=2, n_jobs=1).fit(*posts)


def _search_on_dask(pipe, posts, **config) -> GridSearchCV:
    with parallel_config(backend="dask", **config):
        return GridSearchCV(pipe, GRID, cv=2).fit(*posts)


def _assert_same_search(search, reference):
    assert search.best_params_ == reference.best_params_
    for key in ("mean_test_score", "split0_test_score", "split1_test_score"):
        np.testing.assert_allclose(search.cv_results_[key], reference.cv_results_[key])
    docs = make_posts(5, seed=7)[0]
    np.testing.assert_array_equal(search.predict(docs), reference.predict(docs))


def test_grid_search_on_dask_matches_a_local_search(
    client, pipe, posts, local_search, tiny_glove
):
    with client.as_current():
        search = _search_on_dask(pipe, posts)
    _assert_same_search(search, local_search)
    # The fits ran in the workers, each limiting TensorFlow to its one thread.
    limits = client.run(lambda: __import__("skglove")._tf_threads._limited_to)
    assert list(limits.values()) == [1, 1]
    # Each worker loaded the GloVe file once, into its process cache.
    cached = client.run(
        lambda: [k[1] for k in __import__("skglove.glove").glove._registry._CACHE]
    )
    assert all(
        sources == [str(Path(tiny_glove).resolve())] for sources in cached.values()
    )
    threads = client.run(
        lambda: __import__(
            "tensorflow"
        ).config.threading.get_intra_op_parallelism_threads()
    )
    assert list(threads.values()) == [1, 1]


def test_cross_val_score_on_dask_matches_local(client, pipe, posts, local_search):
    # The local search already cross-validated this very pipeline (its own
    # filters are a candidate) on the same two stratified folds with the same
    # scorer: its split scores are the local cross_val_score, without 2 fits.
    own = {key: pipe.get_params()[key] for key in GRID}
    results = local_search.cv_results_
    (at,) = [i for i, params in enumerate(results["params"]) if params == own]
    local = [results[f"split{k}_test_score"][at] for k in (0, 1)]
    with client.as_current(), parallel_config(backend="dask"):
        remote = cross_val_score(pipe, *posts, cv=2)
    np.testing.assert_allclose(remote, local)


def test_search_survives_a_killed_worker(client, pipe, posts, local_search):
    result = {}

    def search():
        # Broadcast the data to every worker: data that joblib scatters on
        # its own lives on one worker only and dies with it.
        with client.as_current():
            result["search"] = _search_on_dask(pipe, posts, scatter=list(posts))

    thread = threading.Thread(target=search)
    thread.start()
    deadline = time.monotonic() + 120
    busy = []
    while not busy and time.monotonic() < deadline:
        busy = [w for w, tasks in client.processing().items() if tasks]
        time.sleep(0.05)
    assert busy, "the search never started a task"
    pid = client.run(os.getpid, workers=busy[:1])[busy[0]]
    os.kill(pid, signal.SIGKILL)
    assert thread.is_alive()  # killed mid-search
    thread.join(timeout=300)
    assert not thread.is_alive()
    # The nanny restarted the worker; Dask ran its lost tasks again.
    client.wait_for_workers(2, timeout=60)
    assert busy[0] not in client.scheduler_info()["workers"]
    _assert_same_search(result["search"], local_search)


def test_predict_a_bag_matches_local_predict(client, local_search):
    model = local_search.best_estimator_
    docs = make_posts(3334, seed=3, length=12)[0][:10_000]
    bag = db.from_sequence(docs, npartitions=8)
    with client.as_current():
        labels = predict(model, bag).compute()
    assert labels == model.predict(docs).tolist()


def test_predict_a_series_keeps_its_index(client, local_search):
    model = local_search.best_estimator_
    docs = make_posts(10, seed=4)[0]
    series = pd.Series(docs, index=np.arange(100, 100 + len(docs)), name="text")
    ddf = dd.from_pandas(series, npartitions=3)
    # The client given explicitly, not as the current one.
    labels = predict(model, ddf, client=client).compute(scheduler=client)
    pd.testing.assert_series_equal(
        labels, pd.Series(model.predict(docs), index=series.index, name="text")
    )
    proba = predict(model, ddf, method="predict_proba", client=client)
    proba = proba.compute(scheduler=client)
    assert proba.columns.tolist() == model.classes_.tolist()
    # Each partition batches its own documents: a row's bits do not depend on
    # the other rows of its call.
    np.testing.assert_array_equal(proba.to_numpy(), model.predict_proba(docs))


def test_predict_without_a_cluster_uses_the_local_scheduler(local_search):
    model = local_search.best_estimator_
    docs = make_posts(4, seed=5)[0]
    bag = db.from_sequence(docs, npartitions=3)
    with pytest.raises(ValueError, match="No clients found"):
        distributed.default_client()
    labels = predict(model, bag).compute(scheduler="sync")
    assert labels == model.predict(docs).tolist()


def test_predict_handles_empty_partitions(local_search):
    model = local_search.best_estimator_
    bag = db.from_sequence(["the cat", "a rocket"], npartitions=2).filter(
        lambda doc: "rocket" in doc
    )
    labels = predict(model, bag).compute(scheduler="sync")
    assert labels == model.predict(["a rocket"]).tolist()
    proba = predict(model, bag, method="predict_proba").compute(scheduler="sync")
    assert len(proba) == 1 and proba[0].shape == (len(model.classes_),)


def test_predict_rejects_bad_arguments(local_search, pipe):
    model = local_search.best_estimator_
    with pytest.raises(TypeError, match=r"dask\.bag\.Bag or a dask\.dataframe\.Series"):
        predict(model, ["a list", "of documents"])
    with pytest.raises(ValueError, match="method must be one of"):
        predict(model, db.from_sequence(["doc"]), method="transform")
    with pytest.raises(Exception, match="not fitted"):
        predict(pipe, db.from_sequence(["doc"]))


@pytest.fixture(scope="module")
def tagged_pipe(tiny_glove):
    """A multi-label pipeline with named labels."""
    docs, Y = make_tagged_posts(120, seed=0)
    net = {**TINY_NET, "kernel_size": None, "dense_units": 0, "epochs": 4}
    pipe = tiny_pipeline(tiny_glove, **net, label_names=list(TOPICS))
    return pipe.fit(docs, Y)


def test_predict_a_multilabel_bag(tagged_pipe):
    docs = [*make_tagged_posts(9, seed=1)[0], "the of and"]
    bag = db.from_sequence(docs, npartitions=3).filter(lambda doc: doc != "x")
    labels = predict(tagged_pipe, bag).compute(scheduler="sync")
    # A list of 0/1 per document, one per label.
    assert labels == tagged_pipe.predict(docs).tolist()
    proba = predict(tagged_pipe, bag, method="predict_proba").compute(scheduler="sync")
    np.testing.assert_array_equal(np.stack(proba), tagged_pipe.predict_proba(docs))
    empty = db.from_sequence(docs[:2], npartitions=2).filter(lambda d: d == docs[0])
    assert predict(tagged_pipe, empty).compute(scheduler="sync") == [labels[0]]


def test_predict_a_multilabel_series(client, tagged_pipe):
    docs = make_tagged_posts(10, seed=2)[0]
    series = pd.Series(docs, index=np.arange(50, 60), name="text")
    ddf = dd.from_pandas(series, npartitions=3)
    labels = predict(tagged_pipe, ddf, client=client)
    # One 0/1 column per label, named by label_names; the meta agrees.
    assert labels.columns.tolist() == ["cars", "med", "space"]
    expected = pd.DataFrame(
        tagged_pipe.predict(docs), index=series.index, columns=list(TOPICS)
    )
    pd.testing.assert_frame_equal(labels.compute(scheduler=client), expected)
    proba = predict(tagged_pipe, ddf, method="predict_proba", client=client)
    proba = proba.compute(scheduler=client)
    assert proba.columns.tolist() == list(TOPICS)
    np.testing.assert_array_equal(proba.to_numpy(), tagged_pipe.predict_proba(docs))

    # Without label_names, the columns are the label columns' numbers.
    unnamed = pickle.loads(pickle.dumps(tagged_pipe))
    unnamed.set_params(glovecnnclassifier__label_names=None)
    halves = dd.from_pandas(series, npartitions=2)
    empty = halves[halves.index < 52]  # the second partition empty
    labels = predict(unnamed, empty).compute(scheduler="sync")
    assert labels.columns.tolist() == [0, 1, 2] and len(labels) == 2
    assert labels.dtypes.tolist() == [tagged_pipe.predict(docs[:1]).dtype] * 3
