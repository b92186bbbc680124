"""Accuracy and speed on 20 Newsgroups and CLINC150, side by side in one process.

Trains each system on the bydate train split and scores it on the test split,
for each task of ``--tasks``:

- ``full``: the posts as they are;
- ``stripped``: the posts without headers, footers and quotes (scikit-learn's
  ``remove=("headers", "footers", "quotes")``);
- ``subjects``: each post's Subject line without "Re:", a short-text task
  (:func:`skglove.datasets.load_20newsgroups_subjects`);
- ``clinc150``: CLINC150's short assistant queries, 150 intents, trained on
  the in-scope ``train`` queries and scored on the in-scope ``test`` ones
  (``--clinc``, the "full" variant's ``data_full.json``).

Systems (see ``SYSTEMS``):

- ``tfidf_svc``: TF-IDF (sublinear tf, min_df=2) + LinearSVC(C=0.5), the
  strong linear baseline;
- ``tfidf12_svc``: the same on words and word pairs (``ngram_range=(1, 2)``);
- ``seed_recipe``: the Keras blog's code as written (Keras 2 ``Tokenizer``
  from ``tf_keras``, ``pad_sequences``, the blog's convnet, rmsprop, batch 128,
  10 epochs), in plain Keras;
- ``skglove``: ``make_glove_pipeline()`` with skglove's defaults;
- variants that each change one choice of the defaults.

For systems with a lexical channel, the fitted model is also scored with each
channel alone (``lexical only`` and ``glove only``: the same trained weights,
with the other channel's weight in the output set to zero).

``--params name=value,...`` changes parameters of every skglove system (the
values are Python literals: ``--params "filters=64,kernel_size=(1, 2)"``);
``seed_recipe`` takes those that are arguments of its own (``epochs``,
``max_words``, ``max_len``), so that it stays comparable with
``skglove_blog``. ``--glove`` sets the GloVe source of both.

Prints one table per task (test accuracy, macro-F1, fit time, epochs run,
predict throughput, peak RSS), mean ± std over ``--seeds`` seeds, then the
defaults against the targets, and appends every run to a JSON-lines file.

    python benchmarks/bench_20newsgroups.py --seeds 3 \
        --archive ../shared/data/20news-bydate.tar.gz
    python benchmarks/bench_20newsgroups.py --tasks subjects --systems tfidf_svc,skglove
    python benchmarks/bench_20newsgroups.py --systems tfidf_svc,skglove --max-train 500
    python benchmarks/bench_20newsgroups.py --tasks clinc150 \
        --systems tfidf_svc,tfidf12_svc,skglove --params epochs=4
"""

import argparse
import json
import platform
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

import keras
import numpy as np
from _common import (
    ROOT,
    Timer,
    append_jsonl,
    find_archive,
    parse_params,
    peak_rss_mb,
    print_table,
    reset_peak_rss,
)
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import accuracy_score, f1_score
from sklearn.pipeline import make_pipeline
from sklearn.svm import LinearSVC

import skglove
from skglove import BLOG_PARAMS, load_glove, make_glove_pipeline
from skglove._mix import set_mix
from skglove.datasets import load_20newsgroups, load_20newsgroups_subjects

#: name -> (how to load the split, accuracy the defaults must reach)
TASKS = {
    "full": ({"remove": ()}, 0.875),
    "stripped": ({"remove": ("headers", "footers", "quotes")}, 0.73),
    "subjects": ({"subjects": True}, 0.75),
    "clinc150": ({"clinc150": True}, 0.95),
}
#: The baselines the defaults must lead in the same run, when they ran.
BASELINES = ("tfidf_svc", "tfidf12_svc")
#: Out-of-scope rejection keeps this share of in-scope validation queries.
IN_SCOPE_KEPT = 0.95
#: The default CLINC150 file, beside the 20 Newsgroups archive.
DEFAULT_CLINC = ROOT.parent / "shared" / "data" / "clinc150" / "data_full.json"
#: The defaults must fit each of these tasks within this many seconds...
FIT_SECONDS_TARGET = {"full": 30, "clinc150": 8}
#: ... and within this many times the TF-IDF baseline's fit in the same run...
FIT_RATIO_TARGET = 8
#: ... and predict at least this many full posts a second.
PREDICT_RATE_TARGET = 5000
#: The GloVe source of the skglove systems and of seed_recipe by default.
DEFAULT_GLOVE = "glove.6B.50d"


class SeedRecipe:
    """The blog post's code, as written, behind fit/predict."""

    def __init__(
        self, seed, epochs=10, max_words=20000, max_len=1000, glove=DEFAULT_GLOVE
    ):
        self.seed, self.epochs = seed, epochs
        self.max_words, self.max_len = max_words, max_len
        self.glove = glove

    def _sequences(self, texts):
        from tf_keras.preprocessing.sequence import pad_sequences

        sequences = self.tokenizer.texts_to_sequences(texts)
        return pad_sequences(sequences, maxlen=self.max_len)

    def fit(self, texts, y):
        from tf_keras.preprocessing.text import Tokenizer

        keras.utils.set_random_seed(self.seed)
        self.tokenizer = Tokenizer(num_words=self.max_words)
        self.tokenizer.fit_on_texts(texts)
        glove = load_glove(self.glove)
        n_words = min(self.max_words, len(self.tokenizer.word_index) + 1)
        matrix = np.zeros((n_words, glove.dim), dtype=np.float32)
        for word, i in self.tokenizer.word_index.items():
            if i < n_words and word in glove:
                matrix[i] = glove[word]
        self.classes_ = np.unique(y)
        layers = keras.layers
        ids = keras.Input((self.max_len,), dtype="int32")
        x = layers.Embedding(n_words, glove.dim, weights=[matrix], trainable=False)(ids)
        for _ in range(2):
            x = layers.Conv1D(128, 5, activation="relu")(x)
            x = layers.MaxPooling1D(5)(x)
        x = layers.Conv1D(128, 5, activation="relu")(x)
        x = layers.GlobalMaxPooling1D()(x)
        x = layers.Dense(128, activation="relu")(x)
        out = layers.Dense(len(self.classes_), activation="softmax")(x)
        self.model = keras.Model(ids, out)
        self.model.compile(
            optimizer="rmsprop", loss="sparse_categorical_crossentropy", metrics=["acc"]
        )
        y_codes = np.searchsorted(self.classes_, y)
        self.epoch_seconds = _EpochTimer()
        self.model.fit(
            self._sequences(texts),
            y_codes,
            batch_size=128,
            epochs=self.epochs,
            verbose=0,
            callbacks=[self.epoch_seconds],
        )
        return self

    def predict(self, texts):
        proba = self.model.predict(self._sequences(texts), batch_size=128, verbose=0)
        return self.classes_[proba.argmax(axis=1)]


class _EpochTimer(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._start)


def _skglove(**params):
    """A factory of the default pipeline with ``params``, then the run's
    ``--params`` on top."""
    return lambda seed, glove, overrides: make_glove_pipeline(
        glove,
        random_state=seed,
        callbacks=[_EpochTimer()],
        **{**params, **overrides},
    )


def _recipe_args(overrides: dict) -> dict:
    """The ``--params`` that :class:`SeedRecipe` takes too."""
    return {
        k: v for k, v in overrides.items() if k in ("epochs", "max_words", "max_len")
    }


def _tfidf_svc(**tfidf):
    """A factory of the TF-IDF + LinearSVC baseline, with ``tfidf`` set."""
    return lambda seed, glove, overrides: make_pipeline(
        TfidfVectorizer(sublinear_tf=True, min_df=2, **tfidf), LinearSVC(C=0.5)
    )


#: skglove 0.1's defaults: a Kim CNN over frozen GloVe, no lexical channel.
DEFAULTS_0_1 = {
    "max_words": 20000,
    "unseen_glove_words": 0,
    "lexical": False,
    "filters": 128,
    "kernel_size": (3, 4, 5),
    "mean_pooling": False,
    "learning_rate": None,
    "batch_size": 64,
    "epochs": 30,
    "validation_split": 0.1,
    "patience": 3,
}

#: name -> (factory(seed, glove, params) -> estimator, description); only the
#: skglove systems take the ``--params`` overrides.
SYSTEMS = {
    "tfidf_svc": (
        _tfidf_svc(),
        "TF-IDF (sublinear, min_df=2) + LinearSVC(C=0.5)",
    ),
    "tfidf12_svc": (
        _tfidf_svc(ngram_range=(1, 2)),
        "TF-IDF on words and word pairs (ngram_range=(1, 2)) + LinearSVC(C=0.5)",
    ),
    "seed_recipe": (
        lambda seed, glove, overrides: SeedRecipe(
            seed, glove=glove, **_recipe_args(overrides)
        ),
        "the blog's code as written (tf_keras Tokenizer)",
    ),
    "skglove": (_skglove(), "skglove defaults"),
    "skglove_blog": (
        _skglove(**BLOG_PARAMS),
        "skglove running the blog's network and training (BLOG_PARAMS)",
    ),
    "defaults_0_1": (
        _skglove(**DEFAULTS_0_1),
        "skglove 0.1's defaults (Kim 3/4/5 x 128, no lexical channel), "
        "with short documents read and early stopping working",
    ),
    # Each variant changes one choice of the defaults.
    "no_lexical": (_skglove(lexical=False), "without the lexical channel"),
    "no_unseen_glove": (
        _skglove(unseen_glove_words=0),
        "without GloVe rows for words unseen at fit",
    ),
    "no_mean_pooling": (_skglove(mean_pooling=False), "without the TF-IDF mean"),
    "no_train_missing": (
        _skglove(train_missing=False),
        "without trainable vectors for words GloVe lacks",
    ),
    "kim_345": (_skglove(kernel_size=(3, 4, 5)), "kernel widths 3, 4, 5"),
    "kim_12": (_skglove(kernel_size=(1, 2)), "kernel widths 1 and 2"),
    "filters_128": (_skglove(filters=128), "128 filters"),
    "validation_10": (
        _skglove(validation_split=0.1),
        "a 10% validation split for early stopping and the mix",
    ),
    "max_words_20000": (_skglove(max_words=20000), "max_words=20000"),
    "no_early_stopping": (
        _skglove(early_stopping=False),
        "all epochs, without early stopping",
    ),
}
DEFAULT_SYSTEMS = "tfidf_svc,skglove"


def _epoch_times(estimator) -> list[float]:
    if isinstance(estimator, SeedRecipe):
        return estimator.epoch_seconds.seconds
    if hasattr(estimator, "steps"):
        callbacks = getattr(estimator[-1], "callbacks", None) or []
        return [
            s for cb in callbacks if isinstance(cb, _EpochTimer) for s in cb.seconds
        ]
    return []


def run_one(name, seed, data, glove=DEFAULT_GLOVE, params=None, scope=None) -> dict:
    """Fit and score system ``name``; ``params`` override the parameters of
    a skglove system. ``scope``, ``(in-scope, out-of-scope)`` queries, adds
    the share of out-of-scope ones rejected (:func:`out_of_scope_rejected`)."""
    (X_train, y_train), (X_test, y_test) = data
    estimator = SYSTEMS[name][0](seed, glove, params or {})
    reset_peak_rss()
    with Timer() as fit:
        estimator.fit(X_train, y_train)
    with Timer() as predict:
        predicted = estimator.predict(X_test)
    epochs = _epoch_times(estimator)
    return {
        "system": name,
        "seed": seed,
        "accuracy": accuracy_score(y_test, predicted),
        "macro_f1": f1_score(y_test, predicted, average="macro"),
        "fit_s": fit.seconds,
        "epoch_s": statistics.mean(epochs) if epochs else None,
        "n_epochs": len(epochs) or None,
        "predict_docs_per_s": len(X_test) / predict.seconds,
        "peak_rss_mb": peak_rss_mb(),
        **_channel_accuracies(estimator, X_test, y_test),
        **(
            {"oos_rejected": out_of_scope_rejected(estimator, *scope)}
            if scope is not None
            else {}
        ),
    }


def _channel_accuracies(estimator, X_test, y_test) -> dict:
    """Accuracy of each channel alone, and the fitted weight of the lexical one."""
    clf = estimator[-1] if hasattr(estimator, "steps") else None
    if getattr(clf, "mix_", None) is None:
        return {}
    mix = clf.mix_.copy()
    scores = {"lexical_weight": float(mix[0])}
    try:
        for key, alone in (("lexical_accuracy", [1, 0]), ("glove_accuracy", [0, 1])):
            set_mix(clf.model_, alone)
            scores[key] = accuracy_score(y_test, estimator.predict(X_test))
    finally:
        set_mix(clf.model_, mix)
    return scores


def _mean_std(values, fmt):
    values = [v for v in values if v is not None]
    if not values:
        return "—"
    if len(values) == 1:
        return format(values[0], fmt)
    mean, std = statistics.mean(values), statistics.stdev(values)
    return f"{format(mean, fmt)} ± {format(std, fmt)}"


def summarize(records: list[dict]) -> list[dict]:
    rows = []
    for name in dict.fromkeys(r["system"] for r in records):
        runs = [r for r in records if r["system"] == name]
        rows.append(
            {
                "system": name,
                "accuracy": _mean_std([r["accuracy"] for r in runs], ".3f"),
                "macro_f1": _mean_std([r["macro_f1"] for r in runs], ".3f"),
                "fit": _mean_std([r["fit_s"] for r in runs], ".0f") + " s",
                "epoch": _mean_std([r["epoch_s"] for r in runs], ".1f"),
                "epochs": _mean_std([r["n_epochs"] for r in runs], ".0f"),
                "lexical": _mean_std([r.get("lexical_accuracy") for r in runs], ".3f"),
                "glove": _mean_std([r.get("glove_accuracy") for r in runs], ".3f"),
                "weight": _mean_std([r.get("lexical_weight") for r in runs], ".2f"),
                "predict": _mean_std([r["predict_docs_per_s"] for r in runs], ".0f"),
                "rss": _mean_std([r["peak_rss_mb"] for r in runs], ".0f"),
                "oos": _mean_std([r.get("oos_rejected") for r in runs], ".3f"),
            }
        )
    return rows


def _clinc150(path, max_train=None, max_test=None):
    """CLINC150's in-scope ``train`` and ``test`` queries, as
    ``((X_train, y_train), (X_test, y_test))`` with intents as labels.

    The file lists the queries intent by intent, so a subsample (``max_train``,
    ``max_test``) is drawn at random, with a fixed seed, to hold every intent.
    """
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    splits = []
    for subset, limit in (("train", max_train), ("test", max_test)):
        pairs = data[subset]
        if limit is not None:
            rows = np.random.default_rng(0).permutation(len(pairs))[:limit]
            pairs = [pairs[i] for i in np.sort(rows)]
        splits.append(
            ([text for text, _ in pairs], np.asarray([intent for _, intent in pairs]))
        )
    return tuple(splits)


def _clinc150_scope(path, max_test=None):
    """CLINC150's in-scope ``val`` queries and its out-of-scope ``oos_test``
    queries, to measure out-of-scope rejection; subsampled as in
    :func:`_clinc150`."""
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    texts = []
    for subset in ("val", "oos_test"):
        pairs = data[subset]
        if max_test is not None:
            rows = np.random.default_rng(0).permutation(len(pairs))[:max_test]
            pairs = [pairs[i] for i in np.sort(rows)]
        texts.append([text for text, _ in pairs])
    return tuple(texts)


def out_of_scope_rejected(estimator, in_scope, out_of_scope) -> float:
    """The share of ``out_of_scope`` queries whose top score falls below the
    threshold that keeps at least :data:`IN_SCOPE_KEPT` of the ``in_scope``
    ones.

    The score is the top class probability, or the top decision value of a
    multiclass model without probabilities (LinearSVC).
    """
    if not len(in_scope) or not len(out_of_scope):
        raise ValueError("out-of-scope rejection needs queries of both kinds")
    score = getattr(estimator, "predict_proba", None) or estimator.decision_function
    top = np.sort(score(in_scope).max(axis=1))
    # The lowest score kept: the in-scope scores below it are at most 5%.
    threshold = top[int(len(top) * (1 - IN_SCOPE_KEPT) + 1e-9)]
    return float(np.mean(score(out_of_scope).max(axis=1) < threshold))


def _find_clinc(path) -> Path:
    """The CLINC150 file to use, or exit with a clear message."""
    clinc = Path(path) if path else DEFAULT_CLINC
    if not clinc.is_file():
        raise SystemExit(
            f"CLINC150's data_full.json not found at {clinc}; pass --clinc PATH, "
            "or leave clinc150 out of --tasks"
        )
    return clinc


def load_task(task: str, archive, max_train=None, max_test=None, clinc=None):
    """``((X_train, y_train), (X_test, y_test))`` of a task, labels as names;
    ``clinc`` is CLINC150's file, ``archive`` 20 Newsgroups'."""
    options, _ = TASKS[task]
    if options.get("clinc150"):
        return _clinc150(clinc, max_train, max_test)
    splits = []
    for subset, limit in (("train", max_train), ("test", max_test)):
        if options.get("subjects"):
            bunch = load_20newsgroups_subjects(subset, archive=archive)
        else:
            bunch = load_20newsgroups(subset, archive=archive, remove=options["remove"])
        names = np.asarray(bunch.target_names)
        splits.append((bunch.data[:limit], names[bunch.target[:limit]]))
    return tuple(splits)


COLUMNS = [
    ("system", "system"),
    ("accuracy", "test accuracy"),
    ("macro_f1", "macro-F1"),
    ("lexical", "lexical only"),
    ("glove", "glove only"),
    ("weight", "lexical weight"),
    ("fit", "fit time"),
    ("epochs", "epochs"),
    ("predict", "predict docs/s"),
    ("rss", "peak RSS MB"),
    ("oos", "out-of-scope rejected"),
]


def verdicts(task: str, records: list[dict]) -> list[str]:
    """The defaults against the task's targets and the baseline, in words."""
    ours = [r for r in records if r["system"] == "skglove"]
    if not ours:
        return []
    accuracy = statistics.mean(r["accuracy"] for r in ours)
    target = TASKS[task][1]
    lines = [
        f"{task}: skglove {accuracy:.3f}, target >= {target}: "
        + ("PASS" if accuracy >= target else "FAIL")
    ]
    for name in BASELINES:
        base = [r["accuracy"] for r in records if r["system"] == name]
        if base:
            baseline = statistics.mean(base)
            lines.append(
                f"{task}: skglove {accuracy:.3f} vs {name} {baseline:.3f} in the "
                "same run: " + ("PASS" if accuracy > baseline else "FAIL")
            )
    base = [r for r in records if r["system"] == "tfidf_svc"]
    fit = statistics.mean(r["fit_s"] for r in ours)
    if task in FIT_SECONDS_TARGET:
        target = FIT_SECONDS_TARGET[task]
        lines.append(
            f"{task}: fit {fit:.1f} s, target <= {target} s: "
            + ("PASS" if fit <= target else "FAIL")
        )
        if base:
            ratio = fit / statistics.mean(r["fit_s"] for r in base)
            lines.append(
                f"{task}: fit {ratio:.1f}x TF-IDF + LinearSVC's in the same run, "
                f"target <= {FIT_RATIO_TARGET}x: "
                + ("PASS" if ratio <= FIT_RATIO_TARGET else "FAIL")
            )
    rejected = {
        name: statistics.mean(r["oos_rejected"] for r in runs)
        for name in dict.fromkeys(r["system"] for r in records)
        if (runs := [r for r in records if r["system"] == name and "oos_rejected" in r])
    }
    if rejected:
        lines.append(
            f"{task}: out-of-scope queries rejected, keeping {IN_SCOPE_KEPT:.0%} "
            "of in-scope val: "
            + ", ".join(f"{name} {share:.3f}" for name, share in rejected.items())
        )
    if task == "full":
        rate = statistics.mean(r["predict_docs_per_s"] for r in ours)
        lines.append(
            f"{task}: predict {rate:.0f} posts/s, target >= {PREDICT_RATE_TARGET}: "
            + ("PASS" if rate >= PREDICT_RATE_TARGET else "FAIL")
        )
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--archive", help="20news-bydate.tar.gz (default: ../shared/data)"
    )
    parser.add_argument(
        "--clinc", help="CLINC150's data_full.json (default: ../shared/data/clinc150)"
    )
    parser.add_argument(
        "--glove", default=DEFAULT_GLOVE, help="GloVe source of the neural systems"
    )
    parser.add_argument(
        "--params",
        type=parse_params,
        default={},
        help="parameters of the skglove systems, as name=value,... (Python "
        "literals), over each system's own",
    )
    parser.add_argument(
        "--tasks", default=",".join(TASKS), help=f"comma list of {', '.join(TASKS)}"
    )
    parser.add_argument("--seeds", type=int, default=1, help="seeds 0..N-1")
    parser.add_argument(
        "--systems", default=DEFAULT_SYSTEMS, help="comma list; see SYSTEMS"
    )
    parser.add_argument("--max-train", type=int, help="subsample train (smoke runs)")
    parser.add_argument("--max-test", type=int, help="subsample test (smoke runs)")
    parser.add_argument(
        "--out", default=str(ROOT / "benchmarks" / "results" / "20newsgroups.jsonl")
    )
    args = parser.parse_args(argv)
    names = [n for n in args.systems.split(",") if n]
    unknown = sorted(set(names) - set(SYSTEMS))
    if unknown:
        parser.error(f"unknown systems {unknown}; choose from {sorted(SYSTEMS)}")
    tasks = [t for t in args.tasks.split(",") if t]
    unknown = sorted(set(tasks) - set(TASKS))
    if unknown:
        parser.error(f"unknown tasks {unknown}; choose from {list(TASKS)}")

    # Each data set is needed only by its tasks.
    archive = None
    if any(not TASKS[t][0].get("clinc150") for t in tasks):
        archive = find_archive(args.archive)
    clinc = _find_clinc(args.clinc) if "clinc150" in tasks else None
    load_glove(args.glove).index  # noqa: B018 - load once, outside the timings
    context = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "skglove": skglove.__version__,
        "machine": f"{platform.machine()}, {__import__('os').cpu_count()} cpus",
        "glove": str(args.glove),
        "params": {k: repr(v) for k, v in args.params.items()},
    }
    records, summary = [], []
    for task in tasks:
        data = load_task(task, archive, args.max_train, args.max_test, clinc)
        scope = _clinc150_scope(clinc, args.max_test) if task == "clinc150" else None
        corpus = "CLINC150" if task == "clinc150" else "20 Newsgroups bydate"
        print(
            f"{corpus}, task {task}: {len(data[0][0])} train, "
            f"{len(data[1][0])} test documents; seeds 0..{args.seeds - 1}",
            flush=True,
        )
        task_records = []
        for seed in range(args.seeds):
            for name in names:
                record = {
                    **context,
                    "task": task,
                    "n_train": len(data[0][0]),
                    "n_test": len(data[1][0]),
                    **run_one(name, seed, data, args.glove, args.params, scope),
                }
                append_jsonl(args.out, record)
                task_records.append(record)
                print(
                    f"  {name} seed {seed}: accuracy {record['accuracy']:.3f}, "
                    f"fit {record['fit_s']:.0f} s",
                    flush=True,
                )
        print()
        print_table(summarize(task_records), COLUMNS)
        print()
        records += task_records
        summary += verdicts(task, task_records)
    if summary:
        print("\n".join(summary))
    by_name = {r["system"] for r in records}
    if {"seed_recipe", "skglove_blog"} <= by_name:
        ours = [r["epoch_s"] for r in records if r["system"] == "skglove_blog"]
        seed = [r["epoch_s"] for r in records if r["system"] == "seed_recipe"]
        ratio = statistics.mean(ours) / statistics.mean(seed)
        verdict = "PASS" if ratio <= 1.05 else "FAIL"
        print(
            f"\nepoch time, skglove_blog / seed_recipe: {ratio:.3f} "
            f"(target <= 1.05: {verdict})"
        )
    print(f"\nruns appended to {args.out}")
    return records


if __name__ == "__main__":
    main()
