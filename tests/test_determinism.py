"""Seeds without process-global state: the same ``random_state`` gives the
same probabilities in one thread, in concurrent threads and in two processes,
and ``fit``, ``partial_fit`` and ``predict`` leave every global generator,
op determinism and ``os.environ`` as they found them.
"""

import os
import random
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import TINY_BLOG, TINY_MAX_LEN, TINY_NET, tiny_pipeline
from keras.src.backend.common import global_state
from keras.src.random.seed_generator import GLOBAL_SEED_GENERATOR
from keras.src.utils.rng_utils import GLOBAL_RANDOM_SEED
from tensorflow.python.eager import context as tf_context
from tensorflow.python.framework import config as tf_config

from skglove import GloveCNNClassifier

TESTS = Path(__file__).resolve().parent

# Dropout and a validation split, so every seed is used.
_RANDOM_NET = {**TINY_NET, "dropout": 0.5, "validation_split": 0.2}

# Fits the tiny pipeline and writes the exact bytes of its probabilities.
SCRIPT = f"""
import sys
sys.path.insert(0, sys.argv[1])
from conftest import make_posts, tiny_pipeline
docs, labels = make_posts()
pipe = tiny_pipeline(sys.argv[2], **{_RANDOM_NET!r}).fit(docs, labels)
sys.stdout.write(pipe.predict_proba(docs).tobytes().hex())
"""


@pytest.fixture(scope="module")
def proba(tiny_glove, posts):
    return tiny_pipeline(tiny_glove, **_RANDOM_NET).fit(*posts).predict_proba(posts[0])


def test_same_seed_same_pipeline_in_one_process(tiny_glove, posts, proba):
    again = tiny_pipeline(tiny_glove, **_RANDOM_NET).fit(*posts)
    np.testing.assert_array_equal(again.predict_proba(posts[0]), proba)


def test_same_seed_same_bits_in_two_fresh_processes(tiny_glove, proba):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    command = [sys.executable, "-c", SCRIPT, str(TESTS), tiny_glove]
    runs = [
        subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
        )
        for _ in range(2)
    ]
    outputs = []
    for run in runs:
        out, err = run.communicate(timeout=300)
        assert run.returncode == 0, err.decode()[-2000:]
        outputs.append(out.decode())
    assert outputs[0] == outputs[1]
    assert outputs[0] == proba.tobytes().hex()  # and as in this process


@pytest.mark.parametrize("architecture", ["kim", "blog"])
def test_same_seed_same_bits_in_concurrent_threads(
    tiny_glove, posts, proba, architecture
):
    params = {**_RANDOM_NET, **(TINY_BLOG if architecture == "blog" else {})}
    serial = (
        proba
        if architecture == "kim"
        else tiny_pipeline(tiny_glove, **params).fit(*posts).predict_proba(posts[0])
    )
    start = threading.Barrier(2)

    def fit(seed):
        pipe = tiny_pipeline(tiny_glove, random_state=seed, **params)
        start.wait()  # both fits run at the same time
        return pipe.fit(*posts).predict_proba(posts[0])

    with ThreadPoolExecutor(2) as pool:
        first, second = pool.map(fit, [0, 0])
    np.testing.assert_array_equal(first, serial)
    np.testing.assert_array_equal(second, serial)


def test_tensorflow_global_seed_does_not_matter(tiny_glove, posts):
    def fit(global_seed):
        tf.random.set_seed(global_seed)
        try:
            pipe = tiny_pipeline(tiny_glove, **_RANDOM_NET).fit(*posts)
        finally:
            tf.random.set_seed(None)
        return pipe.predict_proba(posts[0])

    np.testing.assert_array_equal(fit(1), fit(2))


def test_no_seed_is_not_deterministic(tiny_glove, posts):
    first, second = (
        tiny_pipeline(tiny_glove, random_state=None).fit(*posts).predict_proba(posts[0])
        for _ in range(2)
    )
    assert not np.array_equal(first, second)


class _Seen(Exception):
    """Raised by the spy once keras.Model.fit has shown its arguments."""


def _validation_rows(clf, X, y, monkeypatch):
    """Which rows of X the classifier held out, as keras.Model.fit got them."""

    def spy(model, *args, **kwargs):
        rows = [x.numpy() for x, *_ in kwargs["validation_data"]]
        raise _Seen(np.sort(np.concatenate([r[:, -1] for r in rows])))

    with monkeypatch.context() as patch:
        patch.setattr(keras.Model, "fit", spy)
        with pytest.raises(_Seen) as seen:
            clf.fit(X, y)
    return seen.value.args[0]


@pytest.fixture(scope="module")
def marked_ids():
    # The last id of each row tells the rows apart, whatever the table order.
    X = np.zeros((40, 4), dtype=np.int32)
    X[:, -1] = np.arange(2, 42)
    X[:, 0] = 2
    return X, np.array(["a", "b"] * 20)


def test_random_state_instances_follow_scikit_learn(
    tiny_glove, marked_ids, monkeypatch
):
    X, y = marked_ids

    def split(random_state):
        clf = GloveCNNClassifier(tiny_glove, random_state=random_state, **_RANDOM_NET)
        return _validation_rows(clf, X, y, monkeypatch)

    same = [split(np.random.RandomState(0)) for _ in range(2)]
    np.testing.assert_array_equal(same[0], same[1])
    assert not np.array_equal(same[0], split(np.random.RandomState(1)))
    # One instance is drawn from, so its next fit splits another way.
    shared = np.random.RandomState(0)
    assert not np.array_equal(split(shared), split(shared))
    # An int gives every fit the same split.
    np.testing.assert_array_equal(split(3), split(3))


def _global_state():
    """Every piece of process-global state that seeding could touch."""
    return {
        "python random": random.getstate(),
        "numpy legacy global": np.random.get_state(legacy=False),  # noqa: NPY002
        "tensorflow global seed": tf_context.global_seed(),
        "keras global seed": global_state.get_global_attribute(GLOBAL_RANDOM_SEED),
        "keras seed generator": global_state.get_global_attribute(
            GLOBAL_SEED_GENERATOR
        ),
        "op determinism": tf_config.is_op_determinism_enabled(),
        "os.environ": dict(os.environ),
    }


def _same(a, b):
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, np.ndarray):
        return np.array_equal(a, b)
    return a == b


@pytest.fixture(scope="module")
def states_around_calls(tiny_glove):
    """Global state before and after each call, with a global TensorFlow seed
    set, so that a seedless random op inside would advance its counter."""
    clf_params = {**_RANDOM_NET, "random_state": 7}
    X = np.arange(2, 2 + 4 * TINY_MAX_LEN, dtype=np.int32).reshape(4, TINY_MAX_LEN)
    random.seed(11)
    np.random.seed(12)  # noqa: NPY002
    pairs = {}
    clf = GloveCNNClassifier(tiny_glove, **clf_params)
    calls = {
        "fit": lambda: clf.fit(X, ["a", "b", "a", "b"]),
        "partial_fit": lambda: clf.partial_fit(X, ["a", "b", "a", "b"]),
        "predict": lambda: clf.predict(X),
        "blog fit": lambda: GloveCNNClassifier(
            tiny_glove, **clf_params, **TINY_BLOG
        ).fit(X, ["a", "b", "a", "b"]),
    }
    for name, call in calls.items():
        tf.random.set_seed(13)
        expected_next = tf.random.uniform([4]).numpy()
        tf.random.set_seed(13)
        before = _global_state()
        call()
        after = _global_state()
        after["next seedless tensorflow draw"] = tf.random.uniform([4]).numpy()
        before["next seedless tensorflow draw"] = expected_next
        pairs[name] = (before, after)
    tf.random.set_seed(None)
    return pairs


@pytest.mark.parametrize("piece", [*_global_state(), "next seedless tensorflow draw"])
def test_fit_and_predict_leave_global_state_alone(states_around_calls, piece):
    for call, (before, after) in states_around_calls.items():
        assert _same(before[piece], after[piece]), call
