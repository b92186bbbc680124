"""``predict`` from many threads at once, as a web service calls it.

Prediction reads fitted state only; Keras builds its predict function on the
first call, which is the racy moment, so the pipelines here have never
predicted before the threads start. Fits in threads: test_determinism.py.
"""

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from conftest import TINY_BLOG, TINY_MAX_LEN, TINY_NET

from skglove import make_glove_pipeline
from skglove._models import ARCHITECTURES

N_THREADS = 8


def _never_predicted(request, architecture, tiny_glove, posts):
    """A pipeline of ``architecture`` fitted on ``posts`` that has not predicted."""
    if architecture == "kim":
        # The session's tiny pipeline is this very one (kim, TINY_NET); its
        # unpickled copy holds a new Keras model, whose predict function is not
        # built yet: no fit of its own needed.
        return request.getfixturevalue("fitted_copy")
    return make_glove_pipeline(
        tiny_glove,
        max_len=TINY_MAX_LEN,
        random_state=0,
        **TINY_NET,
        **(TINY_BLOG if architecture == "blog" else {}),
    ).fit(*posts)


@pytest.mark.parametrize("architecture", sorted(ARCHITECTURES))
def test_concurrent_predict_matches_serial(request, tiny_glove, posts, architecture):
    docs, _ = posts
    pipe = _never_predicted(request, architecture, tiny_glove, posts)
    assert pipe[-1].architecture == architecture
    assert pipe[-1].model_.predict_function is None  # the first call is racy
    chunks = [docs[i::N_THREADS] for i in range(N_THREADS)]
    for method in ("predict_proba", "predict"):
        start = threading.Barrier(N_THREADS)

        def call(chunk, method=method, start=start):
            start.wait()  # all threads call at the same moment
            return getattr(pipe, method)(chunk)

        with ThreadPoolExecutor(N_THREADS) as pool:
            concurrent = list(pool.map(call, chunks))
        for chunk, result in zip(chunks, concurrent, strict=True):
            np.testing.assert_array_equal(result, getattr(pipe, method)(chunk))
