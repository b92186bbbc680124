"""Multi-label accuracy and speed on GoEmotions, skglove against TF-IDF.

Trains on ``train.tsv``, tunes per-label thresholds on ``dev.tsv`` where a
row says so, and scores ``test.tsv`` (Reddit comments, 28 emotions, one or
more per comment). Rows of the table (``--systems`` picks ``tfidf``,
``skglove`` or both):

- ``tfidf, threshold 0``: TF-IDF (sublinear tf, words and word pairs,
  min_df=2) + ``OneVsRestClassifier(LinearSVC(C=0.5))``, a label on where
  its decision value is above 0;
- ``tfidf, dev-tuned``: the same fitted model, with per-label thresholds on
  the decision values tuned for F1 on dev (:func:`tune_thresholds`);
- ``skglove, threshold 0.5``: ``make_glove_pipeline(threshold="tuned")``
  fitted on the indicator matrix, its probabilities cut at 0.5;
- ``skglove, threshold="tuned"``: the same fit's own ``predict``, with the
  thresholds it tuned on its internal validation split;
- ``skglove, dev-tuned``: the same fit's probabilities, with thresholds
  tuned on dev as for TF-IDF;
- ``skglove multiclass (first label)``: the default multiclass pipeline fitted
  on each comment's first label, the reference of the multi-label fit time
  (its F1 scores one predicted label per comment);
- ``skglove, "tuned" on train+dev`` (``--pooled``): a second multi-label
  fit, on train and dev together with a validation split of dev's size, so
  that its own thresholds are tuned on as much data as TF-IDF's;
- ``skglove OvR, threshold 0.5`` (``--ovr``, first seed only):
  ``OneVsRestClassifier`` over 28 default pipelines, one per label.

The skglove rows are mean ± std over ``--seeds``; TF-IDF is deterministic and
fitted once. Then the targets: skglove's macro-F1 with tuned thresholds at
least 0.48 and above the dev-tuned TF-IDF's in the same run, and its
multi-label fit at most 3x the multiclass one's on the same documents.

    python benchmarks/bench_goemotions.py
    python benchmarks/bench_goemotions.py --systems tfidf
    python benchmarks/bench_goemotions.py --systems skglove --limit 2000 --seeds 0
    python benchmarks/bench_goemotions.py --seeds 0 --ovr --params epochs=4
"""

import argparse
import csv
import os
import platform
import statistics
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from _common import (
    ROOT,
    Timer,
    append_jsonl,
    parse_params,
    peak_rss_mb,
    print_table,
    reset_peak_rss,
)
from sklearn.metrics import f1_score
from sklearn.preprocessing import MultiLabelBinarizer

import skglove

DEFAULT_DATA = ROOT.parent / "shared" / "data" / "goemotions"
#: The GloVe source of the skglove systems by default.
DEFAULT_GLOVE = "glove.6B.50d"
SPLITS = ("train", "dev", "test")
SYSTEMS = ("tfidf", "skglove")
#: skglove's test macro-F1 with tuned thresholds must reach this...
MACRO_F1_TARGET = 0.48
#: ... and its multi-label fit take at most this many times the multiclass one.
FIT_RATIO_TARGET = 3
#: The TF-IDF baseline as measured before (macro-F1, micro-F1), to compare.
TFIDF_BEFORE = {"threshold 0": (0.316, 0.471), "dev-tuned": (0.456, 0.534)}


# --------------------------------------------------------------------------
# Data


def find_data(path: str | None) -> Path:
    """The GoEmotions directory to use, or exit with a clear message."""
    data = Path(path) if path else DEFAULT_DATA
    missing = [
        name
        for name in (*(f"{s}.tsv" for s in SPLITS), "labels.txt")
        if not (data / name).is_file()
    ]
    if missing:
        raise SystemExit(
            f"GoEmotions not found at {data} (missing {', '.join(missing)}); "
            "pass --data DIR, a directory of train.tsv, dev.tsv, test.tsv and "
            "labels.txt"
        )
    return data


def read_label_names(path) -> list[str]:
    """The label names of ``labels.txt``, one a line, id 0 first."""
    with open(path, encoding="utf-8") as f:
        return [line.strip() for line in f if line.strip()]


def read_tsv(path, n_labels: int) -> tuple[list[str], list[list[int]]]:
    """``(texts, label ids)`` of a GoEmotions file: tab-separated, no header,
    ``text<TAB>comma-separated label ids<TAB>comment id``.

    Raises ``ValueError``, naming the file and line, for a row without
    exactly three fields, or whose labels are not ids in ``0..n_labels - 1``.
    """
    texts, labels = [], []
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        for line, row in enumerate(reader, start=1):
            if len(row) != 3:
                raise ValueError(
                    f"{path}, line {line}: expected 3 tab-separated fields "
                    f"(text, label ids, comment id), got {len(row)}: {row!r:.200}"
                )
            text, ids, _ = row
            try:
                row_labels = [int(i) for i in ids.split(",")]
            except ValueError:
                row_labels = None
            if not row_labels or not all(0 <= i < n_labels for i in row_labels):
                raise ValueError(
                    f"{path}, line {line}: labels {ids!r} are not comma-separated "
                    f"ids in 0..{n_labels - 1}"
                )
            texts.append(text)
            labels.append(row_labels)
    return texts, labels


def load_goemotions(data_dir, limit: int | None = None) -> dict:
    """Each split of ``data_dir`` as ``{"texts", "labels", "Y"}`` (``Y`` the
    int8 indicator matrix, a column per label of ``labels.txt``), and the
    label names under ``"names"``; ``limit`` keeps the first rows of train."""
    data_dir = Path(data_dir)
    names = read_label_names(data_dir / "labels.txt")
    binarizer = MultiLabelBinarizer(classes=range(len(names)))
    data = {"names": names}
    for split in SPLITS:
        texts, labels = read_tsv(data_dir / f"{split}.tsv", len(names))
        if split == "train" and limit is not None:
            texts, labels = texts[:limit], labels[:limit]
        Y = binarizer.fit_transform(labels).astype(np.int8)
        data[split] = {"texts": texts, "labels": labels, "Y": Y}
    return data


# --------------------------------------------------------------------------
# Thresholds and scores


def tune_thresholds(scores, Y, default: float = 0.5) -> np.ndarray:
    """Per-label thresholds, each maximizing its label's F1 of ``scores > t``
    on ``(scores, Y)``.

    The candidates of a label are the midpoints between its consecutive
    distinct scores, and one just below its lowest score (every row on).
    Among thresholds of equal F1, the highest wins. A label without a positive
    row in ``Y`` keeps ``default`` (0 for decision values, 0.5 for
    probabilities).

    Parameters
    ----------
    scores : array of shape (n_samples, n_labels)
        Decision values or probabilities, higher meaning more likely on.
    Y : array of shape (n_samples, n_labels)
        The 0/1 indicator matrix of the true labels.
    default : float
        The threshold of a label without positives.

    Returns
    -------
    ndarray of shape (n_labels,), float64
    """
    scores = np.asarray(scores, dtype=np.float64)
    Y = np.asarray(Y) != 0
    if scores.ndim != 2 or scores.shape != Y.shape:
        raise ValueError(
            f"scores and Y must be 2-D of the same shape, got {scores.shape} "
            f"and {Y.shape}"
        )
    n, n_labels = scores.shape
    thresholds = np.full(n_labels, float(default))
    if n == 0:
        return thresholds
    order = np.argsort(-scores, axis=0, kind="stable")
    ranked = np.take_along_axis(scores, order, axis=0)  # descending
    true_pos = np.cumsum(np.take_along_axis(Y, order, axis=0), axis=0)
    positives = true_pos[-1]
    # Row k - 1: the k highest scores on; F1 = 2 TP / (predicted + positives).
    predicted = np.arange(1, n + 1)[:, None]
    f1 = 2 * true_pos / (predicted + positives)
    # Only a cut between distinct scores, or below all of them, is a threshold.
    cut = np.ones_like(ranked, dtype=bool)
    cut[:-1] = ranked[:-1] > ranked[1:]
    f1[~cut] = -1.0
    best = np.argmax(f1, axis=0)  # the first: fewest rows on, highest threshold
    labels = np.arange(n_labels)
    below = np.minimum(best + 1, n - 1)
    chosen = np.where(
        best < n - 1,
        (ranked[best, labels] + ranked[below, labels]) / 2,
        np.nextafter(ranked[-1], -np.inf),
    )
    return np.where(positives > 0, chosen, thresholds)


def apply_thresholds(scores, thresholds) -> np.ndarray:
    """The 0/1 indicator matrix of ``scores > thresholds``, per label."""
    return (np.asarray(scores) > np.asarray(thresholds)).astype(np.int8)


def f1_scores(Y_true, Y_pred) -> tuple[float, float]:
    """``(macro-F1, micro-F1)`` of indicator matrices; an undefined F1 is 0."""
    return tuple(
        float(f1_score(Y_true, Y_pred, average=average, zero_division=0))
        for average in ("macro", "micro")
    )


# --------------------------------------------------------------------------
# Systems


def run_tfidf(data) -> list[dict]:
    """TF-IDF + OvR LinearSVC, fitted once: the threshold 0 and dev-tuned rows."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import LinearSVC

    model = make_pipeline(
        TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2), min_df=2),
        OneVsRestClassifier(LinearSVC(C=0.5)),
    )
    reset_peak_rss()
    with Timer() as fit:
        model.fit(data["train"]["texts"], data["train"]["Y"])
    rss = peak_rss_mb()
    dev = model.decision_function(data["dev"]["texts"])
    test = model.decision_function(data["test"]["texts"])
    thresholds = tune_thresholds(dev, data["dev"]["Y"], default=0.0)
    Y_test = data["test"]["Y"]
    rows = []
    for system, predicted in (
        ("tfidf, threshold 0", apply_thresholds(test, 0.0)),
        ("tfidf, dev-tuned", apply_thresholds(test, thresholds)),
    ):
        macro, micro = f1_scores(Y_test, predicted)
        rows.append(
            {
                "system": system,
                "seed": None,
                "macro_f1": macro,
                "micro_f1": micro,
                "fit_s": fit.seconds,
                "peak_rss_mb": rss,
            }
        )
    return rows


def run_skglove(
    data, seed: int, glove=DEFAULT_GLOVE, params=None, pooled: bool = False
) -> list[dict]:
    """One multi-label fit (``threshold="tuned"``) read three ways, and the
    multiclass default's fit on each comment's first label."""
    params = params or {}
    texts, Y_train = data["train"]["texts"], data["train"]["Y"]
    Y_test = data["test"]["Y"]
    pipe = skglove.make_glove_pipeline(
        glove=glove, random_state=seed, threshold="tuned", **params
    )
    reset_peak_rss()
    with Timer() as fit:
        pipe.fit(texts, Y_train)
    rss = peak_rss_mb()
    test = pipe.predict_proba(data["test"]["texts"])
    dev = pipe.predict_proba(data["dev"]["texts"])
    thresholds = tune_thresholds(dev, data["dev"]["Y"], default=0.5)
    systems = {
        "skglove, threshold 0.5": apply_thresholds(test, 0.5),
        'skglove, threshold="tuned"': pipe.predict(data["test"]["texts"]),
        "skglove, dev-tuned": apply_thresholds(test, thresholds),
    }
    dev_channels = channel_scores(pipe, data["dev"]["texts"])
    for name, scores in channel_scores(pipe, data["test"]["texts"]).items():
        thresholds = tune_thresholds(dev_channels[name], data["dev"]["Y"], default=0.0)
        systems[f"skglove, {name} alone, dev-tuned"] = apply_thresholds(
            scores, thresholds
        )
    rows = []
    for system, predicted in systems.items():
        macro, micro = f1_scores(Y_test, np.asarray(predicted))
        rows.append(
            {
                "system": system,
                "seed": seed,
                "macro_f1": macro,
                "micro_f1": micro,
                "fit_s": fit.seconds,
                "peak_rss_mb": rss,
            }
        )
    rows[1]["own_thresholds"] = [float(t) for t in pipe[-1].threshold_]
    rows[1]["lexical_C"] = pipe[-1].lexical_C_
    del pipe

    if not pooled:
        return [*rows, _multiclass_fit(data, seed, glove, params)]
    # Its own tuning on as much data as TF-IDF's: train and dev, with a
    # validation split of dev's size (drawn at random, not dev itself).
    n_dev = len(data["dev"]["texts"])
    share = n_dev / (len(texts) + n_dev)
    train_dev = skglove.make_glove_pipeline(
        glove=glove,
        random_state=seed,
        threshold="tuned",
        **{**params, "validation_split": share},
    )
    with Timer() as fit:
        train_dev.fit(
            texts + data["dev"]["texts"], np.vstack([Y_train, data["dev"]["Y"]])
        )
    macro, micro = f1_scores(Y_test, train_dev.predict(data["test"]["texts"]))
    rows.append(
        {
            "system": f'skglove, "tuned" on train+dev (split {share:.3f})',
            "seed": seed,
            "macro_f1": macro,
            "micro_f1": micro,
            "fit_s": fit.seconds,
            "peak_rss_mb": peak_rss_mb(),
        }
    )
    del train_dev
    return [*rows, _multiclass_fit(data, seed, glove, params)]


def channel_scores(pipe, texts) -> dict:
    """Each channel's label scores on ``texts``, before the mix: the lexical
    channel's, and the GloVe channel's log-odds; empty for a network without
    a lexical channel."""
    from skglove._mix import head_logits
    from skglove._training import predict, training_model

    classifier = pipe[-1]
    heads = training_model(classifier.model_)
    if heads is classifier.model_:
        return {}
    ids = classifier.feature_encoder_.transform(pipe[0].transform(texts))
    outputs = predict(heads, ids, **classifier._predict_args())
    lexical, glove = head_logits(classifier.model_, outputs)
    return {"lexical channel": lexical, "GloVe channel": glove}


def _multiclass_fit(data, seed: int, glove, params: dict) -> dict:
    """The reference fit: the default multiclass pipeline, same documents."""
    texts, Y_test = data["train"]["texts"], data["test"]["Y"]
    first = np.array([labels[0] for labels in data["train"]["labels"]])
    multiclass = skglove.make_glove_pipeline(glove=glove, random_state=seed, **params)
    reset_peak_rss()
    with Timer() as fit:
        multiclass.fit(texts, first)
    rss = peak_rss_mb()
    one_label = [[int(y)] for y in multiclass.predict(data["test"]["texts"])]
    binarizer = MultiLabelBinarizer(classes=range(Y_test.shape[1]))
    macro, micro = f1_scores(Y_test, binarizer.fit_transform(one_label))
    return {
        "system": "skglove multiclass (first label)",
        "seed": seed,
        "macro_f1": macro,
        "micro_f1": micro,
        "fit_s": fit.seconds,
        "peak_rss_mb": rss,
    }


def run_ovr(data, seed: int, glove=DEFAULT_GLOVE, params=None) -> dict:
    """``OneVsRestClassifier`` over default pipelines, a label on at 0.5."""
    from sklearn.multiclass import OneVsRestClassifier

    model = OneVsRestClassifier(
        skglove.make_glove_pipeline(glove=glove, random_state=seed, **(params or {}))
    )
    reset_peak_rss()
    with Timer() as fit:
        model.fit(data["train"]["texts"], data["train"]["Y"])
    rss = peak_rss_mb()
    test = model.predict_proba(data["test"]["texts"])
    macro, micro = f1_scores(data["test"]["Y"], apply_thresholds(test, 0.5))
    return {
        "system": "skglove OvR, threshold 0.5",
        "seed": seed,
        "macro_f1": macro,
        "micro_f1": micro,
        "fit_s": fit.seconds,
        "peak_rss_mb": rss,
    }


# --------------------------------------------------------------------------
# Report


def _mean_std(values, fmt):
    values = [v for v in values if v is not None]
    if not values:
        return "—"
    if len(values) == 1:
        return format(values[0], fmt)
    mean, std = statistics.mean(values), statistics.stdev(values)
    return f"{format(mean, fmt)} ± {format(std, fmt)}"


COLUMNS = [
    ("system", "system"),
    ("macro_f1", "test macro-F1"),
    ("micro_f1", "test micro-F1"),
    ("fit", "fit time"),
    ("rss", "peak RSS MB"),
    ("seeds", "seeds"),
]


def summarize(records: list[dict]) -> list[dict]:
    """A table row per system: mean ± std over its runs."""
    rows = []
    for name in dict.fromkeys(r["system"] for r in records):
        runs = [r for r in records if r["system"] == name]
        seeds = [r["seed"] for r in runs if r["seed"] is not None]
        rows.append(
            {
                "system": name,
                "macro_f1": _mean_std([r["macro_f1"] for r in runs], ".3f"),
                "micro_f1": _mean_std([r["micro_f1"] for r in runs], ".3f"),
                "fit": _mean_std([r["fit_s"] for r in runs], ".1f") + " s",
                "rss": _mean_std([r["peak_rss_mb"] for r in runs], ".0f"),
                "seeds": ",".join(map(str, seeds)) if seeds else "— (deterministic)",
            }
        )
    return rows


def _mean(records, system, key):
    values = [r[key] for r in records if r["system"] == system]
    return statistics.mean(values) if values else None


def verdicts(records: list[dict]) -> list[str]:
    """The targets, and the TF-IDF baseline against its earlier measurement,
    in words."""
    lines = []
    for row, (macro_before, micro_before) in TFIDF_BEFORE.items():
        macro = _mean(records, f"tfidf, {row}", "macro_f1")
        if macro is not None:
            micro = _mean(records, f"tfidf, {row}", "micro_f1")
            lines.append(
                f"tfidf, {row}: macro-F1 {macro:.3f}, micro-F1 {micro:.3f} "
                f"(measured before: {macro_before:.3f}, {micro_before:.3f})"
            )
    baseline = _mean(records, "tfidf, dev-tuned", "macro_f1")
    for system in ('skglove, threshold="tuned"', "skglove, dev-tuned"):
        macro = _mean(records, system, "macro_f1")
        if macro is None:
            continue
        lines.append(
            f"{system}: macro-F1 {macro:.3f}, target >= {MACRO_F1_TARGET}: "
            + ("PASS" if macro >= MACRO_F1_TARGET else "FAIL")
        )
        if baseline is not None:
            lines.append(
                f"{system}: macro-F1 {macro:.3f} vs tfidf, dev-tuned "
                f"{baseline:.3f} in the same run: "
                + ("PASS" if macro > baseline else "FAIL")
            )
    ratios = fit_ratios(records)
    if ratios:
        ratio = statistics.mean(ratios)
        lines.append(
            f"skglove multi-label fit {ratio:.2f}x the multiclass default's on the "
            f"same documents (per seed: {', '.join(f'{r:.2f}' for r in ratios)}), "
            f"target <= {FIT_RATIO_TARGET}x: "
            + ("PASS" if ratio <= FIT_RATIO_TARGET else "FAIL")
        )
    return lines


def fit_ratios(records: list[dict]) -> list[float]:
    """Per seed, the multi-label fit time over the multiclass one's."""
    fits = {}
    for r in records:
        if r["system"] in (
            "skglove, threshold 0.5",
            "skglove multiclass (first label)",
        ):
            fits.setdefault(r["seed"], {})[r["system"]] = r["fit_s"]
    return [
        runs["skglove, threshold 0.5"] / runs["skglove multiclass (first label)"]
        for _, runs in sorted(fits.items())
        if len(runs) == 2
    ]


def _seeds(text: str) -> list[int]:
    try:
        seeds = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        seeds = []
    if not seeds:
        raise argparse.ArgumentTypeError(f"expected seeds as 0,1,2, got {text!r}")
    return seeds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data",
        help="directory of train.tsv, dev.tsv, test.tsv, labels.txt "
        "(default: ../shared/data/goemotions)",
    )
    parser.add_argument(
        "--systems", default=",".join(SYSTEMS), help=f"comma list of {SYSTEMS}"
    )
    parser.add_argument(
        "--seeds", type=_seeds, default=[0, 1, 2], help="skglove seeds (0,1,2)"
    )
    parser.add_argument(
        "--glove", default=DEFAULT_GLOVE, help="GloVe source of the skglove systems"
    )
    parser.add_argument(
        "--params",
        type=parse_params,
        default={},
        help="parameters of every skglove pipeline, as name=value,... (Python "
        "literals)",
    )
    parser.add_argument(
        "--ovr",
        action="store_true",
        help="also OneVsRestClassifier over skglove pipelines (first seed only; "
        "28 fits)",
    )
    parser.add_argument(
        "--pooled",
        action="store_true",
        help='also a multi-label fit on train+dev, "tuned" on a dev-sized split',
    )
    parser.add_argument("--limit", type=int, help="train on the first N rows only")
    parser.add_argument(
        "--out", default=str(ROOT / "benchmarks" / "results" / "goemotions.jsonl")
    )
    args = parser.parse_args(argv)
    names = [n for n in args.systems.split(",") if n]
    unknown = sorted(set(names) - set(SYSTEMS))
    if unknown:
        parser.error(f"unknown systems {unknown}; choose from {list(SYSTEMS)}")
    if "threshold" in args.params:
        parser.error("--params may not set threshold: each row sets its own")
    neural = "skglove" in names or args.ovr

    data = load_goemotions(find_data(args.data), args.limit)
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"command: python benchmarks/bench_goemotions.py {' '.join(sys.argv[1:])}")
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, load average "
        f"{load}; GoEmotions: {len(data['train']['texts'])} train, "
        f"{len(data['dev']['texts'])} dev, {len(data['test']['texts'])} test "
        f"comments, {len(data['names'])} labels",
        flush=True,
    )
    if neural:
        skglove.load_glove(args.glove).index  # noqa: B018 - load outside timings
    context = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "skglove": skglove.__version__,
        "machine": f"{platform.machine()}, {os.cpu_count()} cpus",
        "glove": str(args.glove),
        "params": {k: repr(v) for k, v in args.params.items()},
        "n_train": len(data["train"]["texts"]),
    }
    records = []

    def keep(rows):
        for row in rows:
            record = {**context, **row}
            append_jsonl(args.out, record)
            records.append(record)
            seed = "" if row["seed"] is None else f" seed {row['seed']}"
            print(
                f"  {row['system']}{seed}: macro-F1 {row['macro_f1']:.3f}, "
                f"micro-F1 {row['micro_f1']:.3f}, fit {row['fit_s']:.1f} s"
                + (f", lexical C {row['lexical_C']}" if "lexical_C" in row else ""),
                flush=True,
            )

    if "tfidf" in names:
        keep(run_tfidf(data))
    if "skglove" in names:
        for seed in args.seeds:
            keep(run_skglove(data, seed, args.glove, args.params, args.pooled))
    if args.ovr:
        keep([run_ovr(data, args.seeds[0], args.glove, args.params)])
    print()
    print_table(summarize(records), COLUMNS)
    print()
    print("\n".join(verdicts(records)))
    print(f"\nruns appended to {args.out}")
    return records


if __name__ == "__main__":
    main()
