"""TensorFlow's thread pools on Dask workers (skglove/_tf_threads.py)."""

import warnings

import pytest
import tensorflow as tf

from skglove import _tf_threads


@pytest.fixture
def not_limited(monkeypatch):
    """Forget any earlier limit; make sure TensorFlow has started."""
    tf.constant(1.0) + 1.0  # fixes the pools, as any earlier test would
    monkeypatch.setattr(_tf_threads, "_limited_to", None)
    monkeypatch.delenv("TF_NUM_INTRAOP_THREADS", raising=False)
    monkeypatch.delenv("TF_NUM_INTEROP_THREADS", raising=False)


def test_outside_dask_nothing_is_limited(not_limited):
    _tf_threads.match_dask_worker()
    assert _tf_threads._limited_to is None


def test_too_late_to_limit_warns_once(not_limited):
    current = tf.config.threading.get_intra_op_parallelism_threads()
    with pytest.warns(RuntimeWarning, match="TF_NUM_INTRAOP_THREADS"):
        _tf_threads.limit_tensorflow_threads(current + 1)
    assert tf.config.threading.get_intra_op_parallelism_threads() == current
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _tf_threads.limit_tensorflow_threads(current + 1)  # no second warning


def test_environment_variables_win(not_limited, monkeypatch, recwarn):
    monkeypatch.setenv("TF_NUM_INTRAOP_THREADS", "3")
    monkeypatch.setenv("TF_NUM_INTEROP_THREADS", "3")
    current = tf.config.threading.get_intra_op_parallelism_threads()
    _tf_threads.limit_tensorflow_threads(current + 1)
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]
    assert tf.config.threading.get_intra_op_parallelism_threads() == current
