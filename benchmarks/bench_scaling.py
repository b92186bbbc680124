"""Fit time, epoch time and peak memory as the corpus grows.

Fits the default pipeline (``make_glove_pipeline(random_state=0)``) on:

- the 20 Newsgroups bydate train posts replicated 1x, 2x, 4x and 8x
  (``--factors``; 11,314 to 90,512 posts). The replicas share the posts'
  strings, so memory that grows with the factor is skglove's, not the text's;
- a synthetic corpus of ``--synthetic`` 20-word documents (one million by
  default, 0 to skip), labelled with 20 classes. Each document's words are
  drawn, with a seeded generator, half from its class's twentieth of the
  50,000 most frequent alphabetic GloVe words and half from all of them,
  so the documents are cheap to build and the labels can be learnt.

Each measurement runs in a fresh child process (this script with
``--child``, answering in JSON on its last line of stdout), so that each
peak RSS is its own. The child loads the corpus and GloVe, notes its RSS,
resets the kernel's peak-RSS counter, then fits, timing each epoch with a
Keras callback passed as ``glovecnnclassifier__callbacks``. A second child
per corpus runs only ``GloveSequenceVectorizer().fit_transform`` and reports
its peak RSS and the ``nbytes`` of its output.

For each corpus the table gives the fit time, the epochs run, the mean time
of an epoch (validation pass included), the rest of the fit (building,
tracing, the channel mix), the RSS before the fit and its peak, the peak's
growth per post added since the first 20 Newsgroups row, and the
vectorizer's peak RSS and output size. Then the targets of issue 20: at most
3 KB of peak RSS per added post from 1x to 8x, and one epoch on a million
synthetic documents within 6 GB.

    python benchmarks/bench_scaling.py --archive ../shared/data/20news-bydate.tar.gz
    python benchmarks/bench_scaling.py --factors 1,2 --synthetic 0 --epochs 1 \
        --no-early-stopping
    python benchmarks/bench_scaling.py --factors 1,8 --synthetic 0 --epochs 2 \
        --no-early-stopping --params max_len=500
    python benchmarks/bench_scaling.py --no-fit --factors 1,2,4,8,16
    python benchmarks/bench_scaling.py --factors "" --synthetic 1000000 --epochs 1
"""

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys

import numpy as np
from _common import (
    DEFAULT_ARCHIVE,
    Timer,
    find_archive,
    parse_params,
    peak_rss_mb,
    print_table,
    reset_peak_rss,
    rss_mb,
)

#: The issue-20 targets: peak RSS growth per added post from 1x to 8x, and
#: the peak RSS of one epoch on a million synthetic documents.
KB_PER_POST_TARGET = 3
SYNTHETIC_GB_TARGET = 6
SYNTHETIC_TARGET_DOCS = 1_000_000
#: The synthetic corpus: words per document, classes, and how many of the
#: most frequent GloVe words it draws from (the alphabetic ones among them).
SYNTHETIC_WORDS = 20
SYNTHETIC_CLASSES = 20
SYNTHETIC_VOCABULARY = 50_000
DEFAULT_GLOVE = "glove.6B.50d"

# ---------------------------------------------------------------------------
# Corpora


def news_corpus(archive, factor: int, max_train=None):
    """The 20 Newsgroups train posts (the first ``max_train``) repeated
    ``factor`` times, and their labels; the replicas share the strings."""
    from skglove.datasets import load_20newsgroups

    bunch = load_20newsgroups("train", archive=archive)
    docs, labels = bunch.data[:max_train], np.asarray(bunch.target[:max_train])
    return docs * factor, np.tile(labels, factor)


def synthetic_corpus(glove, n_docs: int, seed: int = 0, chunk: int = 100_000):
    """``n_docs`` documents of ``SYNTHETIC_WORDS`` GloVe words and their
    labels, one of ``SYNTHETIC_CLASSES``: half of each document's words come
    from its class's share of the vocabulary, half from all of it."""
    from skglove import load_glove

    head = load_glove(glove).words[:SYNTHETIC_VOCABULARY]
    words = np.asarray([w for w in head if w.isalpha()], dtype=object)
    share = max(1, len(words) // SYNTHETIC_CLASSES)
    topical = SYNTHETIC_WORDS // 2
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, SYNTHETIC_CLASSES, n_docs)
    docs = []
    for start in range(0, n_docs, chunk):  # bounded temporaries
        y = labels[start : start + chunk]
        own = y[:, None] * share + rng.integers(0, share, (len(y), topical))
        any_ = rng.integers(0, len(words), (len(y), SYNTHETIC_WORDS - topical))
        rows = words[np.concatenate([own, any_], axis=1)]
        docs += [" ".join(row) for row in rows.tolist()]
    return docs, labels


def _corpus(args, corpus: str, size: int):
    if corpus == "news":
        return news_corpus(find_archive(args.archive), size, args.max_train)
    return synthetic_corpus(args.glove, size)


def _overrides(args) -> dict:
    """The pipeline's parameters: ``--params``, then the flags over them."""
    overrides = dict(args.params)
    if args.epochs is not None:
        overrides["epochs"] = args.epochs
    if args.no_early_stopping:
        overrides["early_stopping"] = False
    return overrides


# ---------------------------------------------------------------------------
# One measurement (in a child process, or in this one with --in-process)


def measure_fit(args, corpus: str, size: int) -> dict:
    """Fit the default pipeline on a corpus; time it and its epochs, and
    measure RSS before the fit and at its peak."""
    from bench_20newsgroups import _EpochTimer

    from skglove import load_glove, make_glove_pipeline

    docs, y = _corpus(args, corpus, size)
    pipe = make_glove_pipeline(args.glove, random_state=0, **_overrides(args))
    load_glove(args.glove).index  # noqa: B018 - load once, outside the fit
    epochs = _EpochTimer()
    before = rss_mb()
    reset_peak_rss()
    with Timer() as fit:
        pipe.fit(docs, y, glovecnnclassifier__callbacks=[epochs])
    history = pipe[-1].history_
    return {
        "posts": len(docs),
        "fit_s": fit.seconds,
        "epochs": len(history["loss"]),
        "epoch_s": statistics.mean(epochs.seconds) if epochs.seconds else None,
        "other_s": fit.seconds - sum(epochs.seconds),
        "rss_before_mb": before,
        "peak_rss_mb": peak_rss_mb(),
    }


def measure_vectorizer(args, corpus: str, size: int) -> dict:
    """Only ``GloveSequenceVectorizer(...).fit_transform``: its peak RSS and
    the size of its output. TensorFlow is never imported."""
    from skglove import GloveSequenceVectorizer, load_glove

    docs, _ = _corpus(args, corpus, size)
    vectorizer = GloveSequenceVectorizer(glove=args.glove)
    own = vectorizer.get_params(deep=False)
    vectorizer.set_params(**{k: v for k, v in _overrides(args).items() if k in own})
    load_glove(args.glove).index  # noqa: B018 - load once, outside the timing
    before = rss_mb()
    reset_peak_rss()
    with Timer() as timer:
        X = vectorizer.fit_transform(docs)
    return {
        "posts": len(docs),
        "vec_s": timer.seconds,
        "vec_rss_before_mb": before,
        "vec_peak_rss_mb": peak_rss_mb(),
        "x_mb": X.nbytes / 2**20,
        "x_bytes_per_post": X.nbytes / len(docs),
    }


MEASURES = {"fit": measure_fit, "vectorize": measure_vectorizer}


def _measure(args, argv, kind: str, corpus: str, size: int) -> dict:
    """One measurement, in a child process unless ``--in-process``; a failed
    child gives ``{"error": ...}``, and the other measurements go on."""
    if args.in_process:
        return MEASURES[kind](args, corpus, size)
    command = [sys.executable, __file__, *argv, "--child", kind, corpus, str(size)]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    if result.returncode:
        reason = f"exit {result.returncode}"
        if result.returncode == -9:
            reason += ", killed (out of memory?)"
        lines = result.stderr.strip().splitlines()
        return {"error": reason + (f": {lines[-1]}" if lines else "")}
    return json.loads(result.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------
# The parent: every corpus, the table, the targets


def _factors(text: str) -> list[int]:
    try:
        factors = [int(f) for f in text.split(",") if f.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected 1,2,4,..., got {text!r}") from None
    if any(f < 1 for f in factors):
        raise argparse.ArgumentTypeError(f"factors must be 1 or more, got {text!r}")
    return factors


def _growth(rows: list[dict]) -> None:
    """Set each row's peak-RSS growth per post added since the first
    20 Newsgroups row that has a peak."""
    reference = next(
        (r for r in rows if r["corpus"] == "news" and r.get("peak_rss_mb")), None
    )
    for row in rows:
        if reference is None or row is reference or not row.get("peak_rss_mb"):
            continue
        added = row["posts"] - reference["posts"]
        if added > 0:
            growth = row["peak_rss_mb"] - reference["peak_rss_mb"]
            row["kb_per_post"] = growth * 1024 / added
            row["kb_per_post_from"] = reference["name"]


def _fmt(value, spec: str) -> str:
    return "—" if value is None else format(value, spec)


COLUMNS = [
    ("name", "corpus"),
    ("posts", "posts"),
    ("fit_s", "fit s"),
    ("epochs", "epochs"),
    ("epoch_s", "s/epoch"),
    ("other_s", "rest of fit s"),
    ("rss_before_mb", "RSS before fit MB"),
    ("peak_rss_mb", "peak RSS MB"),
    ("kb_per_post", "KB/added post"),
    ("vec_rss_before_mb", "vectorizer RSS before MB"),
    ("vec_peak_rss_mb", "vectorizer peak RSS MB"),
    ("x_mb", "X MB"),
    ("x_bytes_per_post", "X bytes/post"),
]
_FORMATS = {
    "posts": ",",
    "fit_s": ".1f",
    "epochs": "d",
    "epoch_s": ".2f",
    "other_s": ".1f",
    "rss_before_mb": ".0f",
    "peak_rss_mb": ".0f",
    "kb_per_post": ".1f",
    "vec_rss_before_mb": ".0f",
    "vec_peak_rss_mb": ".0f",
    "x_mb": ".1f",
    "x_bytes_per_post": ".0f",
}


def _cells(row: dict) -> dict:
    return {
        key: row.get(key) if key not in _FORMATS else _fmt(row.get(key), _FORMATS[key])
        for key, _ in COLUMNS
    }


def verdicts(rows: list[dict], factors: list[int]) -> list[str]:
    """The issue-20 memory targets, against the rows measured."""
    verdict = {True: "PASS", False: "FAIL"}
    lines = []
    news = [r for r in rows if r["corpus"] == "news" and r.get("kb_per_post")]
    if news:
        last = news[-1]
        note = "" if (min(factors), max(factors)) == (1, 8) else " (set for 1x to 8x)"
        lines.append(
            f"peak RSS growth from {last['kb_per_post_from']} to {last['name']}: "
            f"{last['kb_per_post']:.1f} KB per added post, target <= "
            f"{KB_PER_POST_TARGET} KB{note}: "
            f"{verdict[last['kb_per_post'] <= KB_PER_POST_TARGET]}"
        )
    for row in rows:
        if row["corpus"] == "synthetic" and row.get("peak_rss_mb"):
            gb = row["peak_rss_mb"] / 1024
            setting = (row["posts"], row["epochs"]) == (SYNTHETIC_TARGET_DOCS, 1)
            note = "" if setting else " (set for 1,000,000 documents, one epoch)"
            lines.append(
                f"synthetic: {row['posts']:,} documents, {row['epochs']} epoch(s), "
                f"peak RSS {gb:.2f} GB, target <= {SYNTHETIC_GB_TARGET} GB{note}: "
                f"{verdict[gb <= SYNTHETIC_GB_TARGET]}"
            )
    return lines


def _header(argv: list[str], args) -> None:
    import skglove

    command = shlex.join(["python", "benchmarks/bench_scaling.py", *argv])
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    where = "in this process" if args.in_process else "each in a fresh process"
    print(f"command: {command}")
    print(
        f"machine: {os.cpu_count()} cores, load average {load}; "
        f"skglove {skglove.__version__}, GloVe {args.glove}"
    )
    print(
        f"pipeline: make_glove_pipeline(random_state=0, **{_overrides(args)!r}); "
        f"measurements {where}",
        flush=True,
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--archive", help=f"20news-bydate.tar.gz (default: {DEFAULT_ARCHIVE})"
    )
    parser.add_argument(
        "--factors",
        type=_factors,
        default=[1, 2, 4, 8],
        help='replications of the 20 Newsgroups train posts, as 1,2,4,8 ("" for none)',
    )
    parser.add_argument(
        "--synthetic",
        type=int,
        default=SYNTHETIC_TARGET_DOCS,
        help="synthetic 20-word documents (0: none)",
    )
    parser.add_argument("--glove", default=DEFAULT_GLOVE, help="GloVe source")
    parser.add_argument("--epochs", type=int, help="override the pipeline's epochs")
    parser.add_argument(
        "--no-early-stopping", action="store_true", help="run every epoch"
    )
    parser.add_argument(
        "--no-fit", action="store_true", help="only the vectorizer's measurements"
    )
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="measure in this process, not in children (for tests; peaks then "
        "depend on what ran before)",
    )
    parser.add_argument(
        "--params",
        type=parse_params,
        default={},
        help="pipeline parameters as name=value,... (Python literals)",
    )
    parser.add_argument(
        "--max-train", type=int, help="use only the first N train posts (quick runs)"
    )
    parser.add_argument(
        "--child",
        nargs=3,
        metavar=("KIND", "CORPUS", "SIZE"),
        help=argparse.SUPPRESS,
    )
    return parser


def main(argv=None):
    """Run the benchmark; returns one dict per corpus (or, with ``--child``,
    the one measurement, also printed as JSON)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = _parser()
    args = parser.parse_args(argv)
    if args.child:
        kind, corpus, size = args.child
        result = MEASURES[kind](args, corpus, int(size))
        print(json.dumps(result))
        return [result]
    if args.synthetic < 0:
        parser.error("--synthetic must be 0 or more")
    if args.factors:
        find_archive(args.archive)  # exits early with a clear message

    _header(argv, args)
    corpora = [("news", f, f"20news {f}x") for f in args.factors]
    if args.synthetic:
        corpora.append(("synthetic", args.synthetic, f"synthetic {SYNTHETIC_WORDS}w"))
    kinds = ["vectorize"] if args.no_fit else ["vectorize", "fit"]
    rows, errors = [], []
    for corpus, size, name in corpora:
        row = {"name": name, "corpus": corpus}
        for kind in kinds:
            with Timer() as timer:
                result = _measure(args, argv, kind, corpus, size)
            if "error" in result:
                errors.append(f"{name}, {kind}: {result['error']}")
            row.update(result)
            print(f"  {name}: {kind} measured in {timer.seconds:.0f} s", flush=True)
        rows.append(row)
    _growth(rows)

    print()
    print_table([_cells(row) for row in rows], COLUMNS)
    print()
    for line in errors:
        print(f"failed: {line}")
    for line in verdicts(rows, args.factors):
        print(line)
    return rows


if __name__ == "__main__":
    main()
