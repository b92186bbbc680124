"""Reproducibility: the same seed gives the same model, in one process or two.

Seeding is process-global (see ``_seeded`` in skglove/_classifier.py), so each
piece of global random state it touches is checked to be restored after fit.
test_classifier.py already compares two classifier fits in one process.
"""

import os
import random
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import TINY_MAX_LEN, TINY_NET
from keras.src.backend.common import global_state
from keras.src.random.seed_generator import (
    GLOBAL_SEED_GENERATOR,
    global_seed_generator,
)
from keras.src.utils.rng_utils import GLOBAL_RANDOM_SEED
from tensorflow.python.eager import context as tf_context
from tensorflow.python.framework import config as tf_config

from skglove import GloveCNNClassifier, make_glove_pipeline

TESTS = Path(__file__).resolve().parent

# Fits the tiny pipeline and writes the exact bytes of its probabilities.
SCRIPT = """
import sys
sys.path.insert(0, sys.argv[1])
from conftest import TINY_MAX_LEN, TINY_NET, make_posts
from skglove import make_glove_pipeline
docs, labels = make_posts()
pipe = make_glove_pipeline(
    sys.argv[2], max_len=TINY_MAX_LEN, random_state=0, **TINY_NET
).fit(docs, labels)
sys.stdout.write(pipe.predict_proba(docs).tobytes().hex())
"""


def _pipeline(glove, random_state=0):
    return make_glove_pipeline(
        glove, max_len=TINY_MAX_LEN, random_state=random_state, **TINY_NET
    )


@pytest.fixture(scope="module")
def proba(tiny_glove, posts):
    return _pipeline(tiny_glove).fit(*posts).predict_proba(posts[0])


def test_same_seed_same_pipeline_in_one_process(tiny_glove, posts, proba):
    again = _pipeline(tiny_glove).fit(*posts)
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


def test_no_seed_is_not_deterministic(tiny_glove, posts):
    first, second = (
        _pipeline(tiny_glove, random_state=None).fit(*posts).predict_proba(posts[0])
        for _ in range(2)
    )
    assert not np.array_equal(first, second)


def _global_state():
    """Every piece of process-global random state that seeding touches."""
    return {
        "python random": random.getstate(),
        "numpy legacy global": np.random.get_state(legacy=False),  # noqa: NPY002
        "tensorflow global seed": tf_context.global_seed(),
        "keras global seed": global_state.get_global_attribute(GLOBAL_RANDOM_SEED),
        "keras seed generator": global_state.get_global_attribute(
            GLOBAL_SEED_GENERATOR
        ),
        "op determinism": tf_config.is_op_determinism_enabled(),
    }


def _same(a, b):
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, np.ndarray):
        return np.array_equal(a, b)
    if isinstance(a, keras.random.SeedGenerator):
        # The same generator object, in the same state.
        return a is b and np.array_equal(a.state.numpy(), b.state.numpy())
    return a == b


@pytest.fixture(scope="module")
def states_around_fits(tiny_glove, posts):
    """Global state before and after a seeded fit, a failing seeded fit, and a
    seeded fit with op determinism already on; the caller's state is restored
    at the end."""
    original = _global_state()
    X = np.arange(2, 2 + 4 * TINY_MAX_LEN, dtype=np.int32).reshape(4, TINY_MAX_LEN)
    # Distinctive values for everything seeding changes.
    random.seed(11)
    np.random.seed(12)  # noqa: NPY002
    tf.random.set_seed(13)
    global_state.set_global_attribute(GLOBAL_RANDOM_SEED, 14)
    global_seed_generator()  # creates the global seed generator
    pairs = {}
    for name, enable in [("fit", False), ("failing fit", False), ("fit", True)]:
        if enable:
            tf.config.experimental.enable_op_determinism()
        before = _global_state()
        clf = GloveCNNClassifier(tiny_glove, random_state=7, **TINY_NET)
        if name == "fit":
            clf.fit(X, ["a", "b", "a", "b"])
        else:
            with pytest.raises(ValueError, match="single class"):
                clf.fit(X, ["a"] * 4)
        pairs[f"{name}, op determinism {'on' if enable else 'off'}"] = (
            before,
            _global_state(),
        )
    # Put the session's state back.
    if not original["op determinism"]:
        tf_config.disable_op_determinism()
    random.setstate(original["python random"])
    np.random.set_state(original["numpy legacy global"])  # noqa: NPY002
    tf.random.set_seed(original["tensorflow global seed"])
    global_state.set_global_attribute(GLOBAL_RANDOM_SEED, original["keras global seed"])
    global_state.set_global_attribute(
        GLOBAL_SEED_GENERATOR, original["keras seed generator"]
    )
    return pairs


@pytest.mark.parametrize("piece", list(_global_state()))
def test_seeding_restores_global_state(states_around_fits, piece):
    for scenario, (before, after) in states_around_fits.items():
        assert _same(before[piece], after[piece]), scenario
