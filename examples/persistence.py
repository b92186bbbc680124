"""Save a fitted pipeline with joblib and with ``skglove.save``, then load it.

- ``joblib.dump``/``joblib.load`` pickle the whole pipeline. It is the usual
  scikit-learn way, but loading a pickle runs code from the file: load only
  files you trust.
- ``skglove.save``/``skglove.load`` write a zip of JSON and Keras' ``.keras``
  format, with checksums. Loading runs no code from the file.

Both give back a pipeline whose predicted probabilities equal the original's
exactly, and neither needs the GloVe file to predict: the fitted model holds
the vectors of the words it kept.

    python examples/persistence.py --archive ../shared/data/20news-bydate.tar.gz

Without ``--archive`` it trains on a small corpus it makes itself, offline.
"""

import argparse
import tempfile
import time
from pathlib import Path

import joblib
import numpy as np

import skglove
from skglove import make_glove_pipeline
from skglove.datasets import load_20newsgroups

TOPICS = {
    "space": "rocket orbit moon launch nasa planet shuttle mars comet satellite",
    "medicine": "doctor patient disease drug treatment health pain blood nurse cure",
    "cars": "engine car wheel brake drive road speed fuel tire motor",
}
FILLER = "the a of and to is in it that was for on with we".split()


def made_up_corpus(n_per_class: int, seed: int = 0) -> tuple[list[str], np.ndarray]:
    """Short posts mixing one topic's words with common words."""
    rng = np.random.default_rng(seed)
    docs, labels = [], []
    for label, words in TOPICS.items():
        for _ in range(n_per_class):
            tokens = [*rng.choice(words.split(), 8), *rng.choice(FILLER, 12)]
            rng.shuffle(tokens)
            docs.append(" ".join(tokens).capitalize() + ".")
            labels.append(label)
    return docs, np.asarray(labels)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--archive", help="local 20news-bydate.tar.gz or its folder")
    parser.add_argument("--glove", default="glove.6B.50d", help="GloVe name or path")
    parser.add_argument("--max-train", type=int, default=1000)
    parser.add_argument("--max-len", type=int, default=300)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--out", help="folder for the files (default: a temporary one)")
    args = parser.parse_args(argv)

    if args.archive:
        train = load_20newsgroups("train", archive=args.archive)
        test = load_20newsgroups("test", archive=args.archive)
        X_train, y_train = train.data[: args.max_train], train.target[: args.max_train]
        X_test = test.data[:200]
    else:
        X_train, y_train = made_up_corpus(40)
        X_test, _ = made_up_corpus(10, seed=1)

    pipe = make_glove_pipeline(
        glove=args.glove, max_len=args.max_len, epochs=args.epochs, random_state=0
    )
    pipe.fit(X_train, y_train)
    expected = pipe.predict_proba(X_test)

    folder = Path(args.out or tempfile.mkdtemp(prefix="skglove-"))
    folder.mkdir(parents=True, exist_ok=True)
    results = {}
    for name, dump, load, path in (
        ("joblib", joblib.dump, joblib.load, folder / "model.joblib"),
        ("skglove", skglove.save, skglove.load, folder / "model.skglove"),
    ):
        start = time.perf_counter()
        dump(pipe, path)
        restored = load(path)  # joblib: only files you trust
        seconds = time.perf_counter() - start
        identical = bool(np.array_equal(restored.predict_proba(X_test), expected))
        results[name] = identical
        print(
            f"{name:>7}: {path} ({path.stat().st_size / 1e6:.1f} MB), "
            f"save + load {seconds:.1f} s, identical predictions: {identical}"
        )
    return results


if __name__ == "__main__":
    main()
