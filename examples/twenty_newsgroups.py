"""Classify 20 Newsgroups with frozen GloVe vectors and a 1D convnet.

The Keras blog recipe ("Using pre-trained word embeddings in a Keras model") as
a scikit-learn pipeline: tokenize and pad each post to 1,000 word ids, look the
ids up in a frozen GloVe embedding, and train a convnet on the bydate train
split (skglove's default network; ``--blog`` trains the blog's own network and
schedule). Prints the test accuracy, a classification report and the wall time
of each stage.

    python examples/twenty_newsgroups.py --archive ../shared/data/20news-bydate.tar.gz

Without ``--archive`` scikit-learn downloads the corpus. ``--max-train`` and
``--epochs`` shrink the run for a quick check.
"""

import argparse
import time
from contextlib import contextmanager

import numpy as np
from sklearn.metrics import accuracy_score, classification_report

from skglove import BLOG_PARAMS, make_glove_pipeline
from skglove.datasets import load_20newsgroups


@contextmanager
def stage(name: str, timings: dict):
    start = time.perf_counter()
    yield
    timings[name] = time.perf_counter() - start
    print(f"[{name}] {timings[name]:.1f} s", flush=True)


def main(argv=None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--archive", help="local 20news-bydate.tar.gz or its folder")
    parser.add_argument("--glove", default="glove.6B.50d", help="GloVe name or path")
    parser.add_argument("--epochs", type=int, help="default: the classifier's")
    parser.add_argument("--max-len", type=int, default=1000)
    parser.add_argument("--max-train", type=int, default=None, help="subsample train")
    parser.add_argument("--max-test", type=int, default=None, help="subsample test")
    parser.add_argument("--random-state", type=int, default=1337)
    parser.add_argument("--verbose", type=int, default=2, help="Keras verbosity")
    parser.add_argument(
        "--blog", action="store_true", help="the blog's network (BLOG_PARAMS)"
    )
    args = parser.parse_args(argv)

    timings: dict[str, float] = {}
    with stage("load data", timings):
        train = load_20newsgroups("train", archive=args.archive)
        test = load_20newsgroups("test", archive=args.archive)
    X_train, y_train = train.data[: args.max_train], train.target[: args.max_train]
    X_test, y_test = test.data[: args.max_test], test.target[: args.max_test]
    names = np.asarray(train.target_names)
    print(f"{len(X_train)} train and {len(X_test)} test posts, {len(names)} classes")

    params = dict(BLOG_PARAMS) if args.blog else {}
    if args.epochs is not None:
        params["epochs"] = args.epochs
    pipe = make_glove_pipeline(
        glove=args.glove,
        max_len=args.max_len,
        random_state=args.random_state,
        verbose=args.verbose,
        **params,
    )
    with stage("fit", timings):
        pipe.fit(X_train, names[y_train])
    coverage = pipe[0].glove_coverage_
    print(
        f"GloVe covers {coverage['words']:.1%} of the {len(pipe[0].vocabulary_)} "
        f"kept words and {coverage['tokens']:.1%} of their training tokens"
    )
    table = pipe[-1].model_.get_layer("embedding").get_weights()[0]
    print(f"the model's frozen table holds {table.shape[0]} x {table.shape[1]} floats")
    with stage("predict", timings):
        predicted = pipe.predict(X_test)

    accuracy = accuracy_score(names[y_test], predicted)
    print(classification_report(names[y_test], predicted, digits=3, zero_division=0))
    print(f"test accuracy: {accuracy:.3f}")
    print("wall time: " + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items()))
    return accuracy


if __name__ == "__main__":
    main()
