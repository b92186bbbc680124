"""One grid search, run serially, on loky processes and on a Dask cluster.

Times the same ``GridSearchCV`` over a skglove pipeline, in one run:

- ``n_jobs=1``: one process, TensorFlow on every core;
- ``loky``: joblib's default process backend, 2 workers, TensorFlow's
  default threads in each (the cores are oversubscribed);
- ``loky, 1 TF thread``: the same with ``TF_NUM_INTRAOP_THREADS=1`` and
  ``TF_NUM_INTEROP_THREADS=1`` in the workers' environment (the advice of
  ``docs/scaling.md``);
- ``dask``: ``joblib.parallel_config(backend="dask")`` on a
  ``LocalCluster`` of 2 worker processes with 1 thread each; skglove limits
  TensorFlow in each worker to that thread by itself. The data is broadcast
  once with ``scatter=[X, y]``.

Checks that every run gives the same ``cv_results_`` scores, measures the
pickled size of each task the Dask scheduler receives, and prints how many
cores the serial search kept busy, which bounds what any backend can gain.
Uses the first posts of the 20 Newsgroups train split when the archive is
found, else synthetic posts.

    python benchmarks/bench_dask_search.py
    python benchmarks/bench_dask_search.py --n-posts 600 --max-len 100 --filters 8,16
"""

import argparse
import contextlib
import os
import pickle
import resource
import statistics

import numpy as np
from _common import DEFAULT_ARCHIVE, Timer, print_table
from distributed import Client, LocalCluster, SchedulerPlugin
from joblib import Parallel, delayed, parallel_config
from joblib.externals.loky import get_reusable_executor
from sklearn.model_selection import GridSearchCV

from skglove import load_glove, make_glove_pipeline
from skglove.datasets import load_20newsgroups

BACKENDS = ("serial", "loky", "dask", "loky_1_thread")


def _data(archive, n_posts, glove):
    if archive is not None and os.path.exists(archive):
        train = load_20newsgroups("train", archive=archive)
        return train.data[:n_posts], np.asarray(train.target[:n_posts]), "20 Newsgroups"
    # Four topics, each drawing from its own overlapping fifth-and-a-half of
    # GloVe's 1,000th to 6,000th words (or of a smaller file's words).
    rng = np.random.default_rng(0)
    words = np.asarray(load_glove(glove).words[:6000][-5000:])
    share = len(words) // 5
    topics = rng.integers(0, 4, n_posts)
    docs = [
        " ".join(rng.choice(words[t * share : t * share + 3 * share // 2], 200))
        for t in topics
    ]
    return docs, topics, "synthetic posts"


class _TaskSizes(SchedulerPlugin):
    """Record the pickled size of each task submitted to the scheduler."""

    name = "bench-task-sizes"

    def __init__(self):
        self.sizes = []

    def update_graph(self, scheduler, *, tasks, **kwargs):
        import cloudpickle

        for key in tasks:
            task = scheduler.tasks.get(key)
            if task is not None and task.run_spec is not None:
                self.sizes.append(len(cloudpickle.dumps(task.run_spec)))


def _import_skglove() -> None:
    import skglove  # noqa: F401 - imports TensorFlow


def _start_loky_workers() -> None:
    """Start loky's 2 workers and import TensorFlow in them, untimed."""
    Parallel(n_jobs=2, backend="loky")(delayed(_import_skglove)() for _ in range(4))


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main(argv=None, *, cluster=None):
    """Run the benchmark; ``cluster``, a running ``LocalCluster`` to use in
    place of a new one (the tests share one)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--archive", default=str(DEFAULT_ARCHIVE))
    parser.add_argument("--n-posts", type=int, default=1500)
    parser.add_argument("--max-len", type=int, default=400)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--cv", type=int, default=3)
    parser.add_argument("--glove", default="glove.6B.50d")
    parser.add_argument("--filters", default="32,64", help="the grid's filter counts")
    parser.add_argument("--dropouts", default="0.3,0.5", help="the grid's dropouts")
    parser.add_argument(
        "--backends",
        default=",".join(BACKENDS),
        help="comma list of " + ", ".join(BACKENDS),
    )
    args = parser.parse_args(argv)
    backends = args.backends.split(",")
    unknown = sorted(set(backends) - set(BACKENDS))
    if unknown or "serial" not in backends:
        parser.error(f"--backends must include serial and name only {BACKENDS}")

    X, y, data_name = _data(args.archive, args.n_posts, args.glove)
    pipe = make_glove_pipeline(
        args.glove,
        max_len=args.max_len,
        epochs=args.epochs,
        validation_split=0.0,
        early_stopping=False,
        random_state=0,
    )
    grid = {
        "glovecnnclassifier__filters": [int(f) for f in args.filters.split(",")],
        "glovecnnclassifier__dropout": [float(d) for d in args.dropouts.split(",")],
    }
    n_fits = (
        args.cv
        * len(grid["glovecnnclassifier__filters"])
        * len(grid["glovecnnclassifier__dropout"])
    )
    print(
        f"GridSearchCV: {n_fits} fits ({args.cv}-fold), {len(X)} {data_name}, "
        f"max_len={args.max_len}, {args.epochs} epochs; "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    rows, results = [], {}

    def run(name, configure):
        with Timer() as timer, configure():
            results[name] = GridSearchCV(pipe, grid, cv=args.cv).fit(X, y)
        rows.append({"backend": name, "seconds": timer.seconds})
        print(f"  {name}: {timer.seconds:.1f} s", flush=True)

    cpu = _cpu_seconds()
    run("n_jobs=1", lambda: parallel_config(n_jobs=1))
    # The cores the serial search kept busy bound what any backend can gain.
    serial_cores = (_cpu_seconds() - cpu) / rows[0]["seconds"]
    if "loky" in backends:
        _start_loky_workers()
        run("loky, 2 processes", lambda: parallel_config(backend="loky", n_jobs=2))
    task_sizes = []
    if "dask" in backends:
        sizes = _TaskSizes()
        with contextlib.ExitStack() as stack:
            if cluster is None:
                cluster = stack.enter_context(
                    LocalCluster(
                        n_workers=2,
                        threads_per_worker=1,
                        processes=True,
                        host="127.0.0.1",
                        dashboard_address=":0",  # 8787 may be taken
                        silence_logs=40,
                    )
                )
            client = stack.enter_context(Client(cluster))
            cluster.scheduler.add_plugin(sizes)
            stack.callback(cluster.scheduler.remove_plugin, name=sizes.name)
            # Every backend's workers import TensorFlow before the clock starts;
            # through a builtin, which workers need not import this script for.
            client.run(exec, "import skglove")
            run(
                "dask, 2 workers x 1 thread",
                lambda: parallel_config(backend="dask", scatter=[X, y]),
            )
        task_sizes = sizes.sizes
    if "loky_1_thread" in backends:
        # Read by TensorFlow in the new loky workers, not in this process.
        os.environ["TF_NUM_INTRAOP_THREADS"] = "1"
        os.environ["TF_NUM_INTEROP_THREADS"] = "1"
        get_reusable_executor(max_workers=2).shutdown(wait=True)
        _start_loky_workers()
        run(
            "loky, 2 processes, 1 TF thread",
            lambda: parallel_config(backend="loky", n_jobs=2),
        )

    serial = rows[0]["seconds"]
    for row in rows:
        row["speed-up"] = f"{serial / row['seconds']:.2f}x"
        row["seconds"] = f"{row['seconds']:.1f}"
        scores = results[row["backend"]].cv_results_["mean_test_score"]
        reference = results["n_jobs=1"].cv_results_["mean_test_score"]
        row["same scores"] = "yes" if np.allclose(scores, reference) else "NO"
    print()
    print_table(
        rows,
        [
            ("backend", "backend"),
            ("seconds", "wall s"),
            ("speed-up", "speed-up vs n_jobs=1"),
            ("same scores", "same cv scores"),
        ],
    )
    n_cores = os.cpu_count()
    print(
        f"\nn_jobs=1 kept {serial_cores:.2f} of {n_cores} cores busy, so no backend "
        f"can run this search more than {n_cores / serial_cores:.2f}x faster here"
    )
    if task_sizes:
        data_mib = len(pickle.dumps((X, y))) / 2**20
        print(
            f"\nDask task payload: {len(task_sizes)} tasks, median "
            f"{statistics.median(task_sizes) / 1024:.1f} KiB, max "
            f"{max(task_sizes) / 1024:.1f} KiB; the data ({data_mib:.1f} MiB "
            "pickled) is broadcast once"
        )
        dask_row = next(r for r in rows if r["backend"].startswith("dask"))
        speedup = serial / float(dask_row["seconds"])
        verdict = "PASS" if speedup >= 1.6 else "FAIL"
        print(f"target: dask {speedup:.2f}x faster than n_jobs=1 (>= 1.6x): {verdict}")
    return rows, task_sizes


if __name__ == "__main__":
    main()
