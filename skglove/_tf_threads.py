"""TensorFlow's thread pools, sized to a Dask worker's share of the cores.

TensorFlow sizes its pools to every core of the machine, and threadpoolctl
cannot reach them. Two Dask workers on two cores would each start pools of
two threads and fight over the cores, so the classifier calls
:func:`match_dask_worker` before it runs TensorFlow.
"""

import logging
import os
import sys
import threading
import warnings

_log = logging.getLogger(__name__)
_LOCK = threading.Lock()
#: The thread count this process's pools were limited to, once done.
_limited_to: int | None = None


def limit_tensorflow_threads(n_threads: int) -> None:
    """Size TensorFlow's intra- and inter-op pools to ``n_threads``.

    Pools that ``TF_NUM_INTRAOP_THREADS`` or ``TF_NUM_INTEROP_THREADS`` sizes
    are left as the user set them. TensorFlow fixes its pools when it first
    runs an operation; if that has happened, this warns instead.
    """
    global _limited_to
    with _LOCK:
        if _limited_to is not None:
            return
        _limited_to = n_threads
        import tensorflow as tf

        threading_config = tf.config.threading
        pools = {
            "TF_NUM_INTRAOP_THREADS": threading_config.set_intra_op_parallelism_threads,
            "TF_NUM_INTEROP_THREADS": threading_config.set_inter_op_parallelism_threads,
        }
        for variable, set_threads in pools.items():
            if variable in os.environ:
                continue
            try:
                set_threads(n_threads)
            except RuntimeError:
                warnings.warn(
                    f"TensorFlow already runs in this process, so skglove could "
                    f"not limit its thread pools to the {n_threads} thread(s) of "
                    f"this Dask worker; set {variable} in the workers' environment",
                    RuntimeWarning,
                    stacklevel=3,
                )
                return
        _log.debug("TensorFlow thread pools limited to %d thread(s)", n_threads)


def match_dask_worker() -> None:
    """Inside a Dask worker's task, limit TensorFlow to the worker's threads.

    A no-op outside Dask, and cheap: a worker process has imported
    ``distributed`` already, so nothing is imported here.
    """
    if _limited_to is not None or "distributed" not in sys.modules:
        return
    try:
        worker = sys.modules["distributed"].get_worker()
    except ValueError:  # not running a Dask task
        return
    limit_tensorflow_threads(worker.state.nthreads)
