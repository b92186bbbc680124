"""How faithful and how fast ``skglove.explain`` is, on 20 Newsgroups.

Trains the default pipeline (``make_glove_pipeline()``) on the bydate train
split, explains every test post toward its predicted class, and measures:

- the deletion curve: for k = 1, 3, 5, 10, the predicted class's probability
  after removing from the post's text the k read tokens with the highest
  scores, against removing k read tokens drawn at random (the same k; a post
  with fewer read tokens loses all of them either way). The table gives the
  mean fall in that probability and the share of posts whose predicted
  class changes;
- speed: the best of ``--repeats`` timings of ``explain`` and of
  ``predict_proba`` on the same 100 test posts, and their ratio: the first
  100 posts, and the 100 longest.

For each task of ``--tasks``: ``full`` (the posts as they are) and
``stripped`` (without headers, footers and quotes).

    python benchmarks/bench_explain.py --archive ../shared/data/20news-bydate.tar.gz
    python benchmarks/bench_explain.py --tasks stripped --max-train 2000 --max-test 500
"""

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Timer, find_archive, parse_params, print_table

from skglove import explain, make_glove_pipeline
from skglove.datasets import load_20newsgroups

TASKS = {"full": (), "stripped": ("headers", "footers", "quotes")}
KS = (1, 3, 5, 10)
#: Posts timed for the speed ratio, as the issue sets it.
N_TIMED = 100


def _split(archive, subset: str, remove, limit):
    bunch = load_20newsgroups(subset, archive=archive, remove=remove)
    names = np.asarray(bunch.target_names)
    return bunch.data[:limit], names[bunch.target[:limit]]


def without_tokens(explanation, indices) -> str:
    """The explained text with the tokens of ``indices`` cut out."""
    tokens = explanation.tokens
    text, cursor = [], 0
    for i in sorted(indices):
        text.append(explanation.document[cursor : tokens.starts[i]])
        text.append(" ")
        cursor = tokens.ends[i]
    text.append(explanation.document[cursor:])
    return "".join(text)


def chosen_tokens(explanation, k: int, rng) -> dict[str, list[int]]:
    """The k best-scoring read tokens, and k read tokens at random."""
    scores = explanation.tokens.scores
    read = np.flatnonzero(explanation.tokens.read)
    best = read[np.argsort(-scores[read], kind="stable")][:k]
    drawn = rng.choice(read, size=min(k, len(read)), replace=False)
    return {"top-k": best.tolist(), "random": drawn.tolist()}


def deletion_curve(pipe, explanations, seed: int) -> list[dict]:
    classes = list(pipe.classes_)
    codes = np.array([classes.index(e.label) for e in explanations])
    before = np.array([e.probability for e in explanations])
    rows = []
    for k in KS:
        rng = np.random.default_rng(seed + k)
        chosen = [chosen_tokens(e, k, rng) for e in explanations]
        row = {"k": k}
        for method in ("top-k", "random"):
            texts = [
                without_tokens(e, c[method])
                for e, c in zip(explanations, chosen, strict=True)
            ]
            proba = pipe.predict_proba(texts)
            after = proba[np.arange(len(texts)), codes]
            row[f"{method} fall"] = f"{np.mean(before - after):.3f}"
            row[f"{method} flips"] = f"{np.mean(proba.argmax(1) != codes):.1%}"
        rows.append(row)
    return rows


def speed(pipe, texts, repeats: int) -> list[dict]:
    """Timings on the first N_TIMED posts, and on the N_TIMED longest."""
    longest = sorted(texts, key=len, reverse=True)[:N_TIMED]
    explain(pipe, texts[:2])  # build the functions once
    rows = []
    for name, sample in (("first", texts[:N_TIMED]), ("longest", longest)):
        times = {}
        for method, call in (
            ("predict_proba", lambda s=sample: pipe.predict_proba(s)),
            ("explain", lambda s=sample: explain(pipe, s)),
        ):
            best = np.inf
            for _ in range(repeats):
                with Timer() as t:
                    call()
                best = min(best, t.seconds)
            times[method] = best
        rows.append(
            {
                "posts": f"{len(sample)} {name}",
                "mean words": f"{np.mean([len(t.split()) for t in sample]):.0f}",
                "predict_proba s": f"{times['predict_proba']:.3f}",
                "explain s": f"{times['explain']:.3f}",
                "ratio": f"{times['explain'] / times['predict_proba']:.2f}",
            }
        )
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--archive", help="20news-bydate.tar.gz")
    parser.add_argument("--tasks", default="full,stripped", help="comma-separated")
    parser.add_argument("--glove", default="glove.6B.50d")
    parser.add_argument("--max-train", type=int, help="subsample train")
    parser.add_argument("--max-test", type=int, help="subsample test")
    parser.add_argument("--repeats", type=int, default=3, help="timings of speed")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--params",
        type=parse_params,
        default={},
        help="pipeline parameters, as name=value,... (Python literals)",
    )
    args = parser.parse_args(argv)
    archive = find_archive(args.archive)
    params = args.params
    results = {}
    for task in args.tasks.split(","):
        train = _split(archive, "train", TASKS[task], args.max_train)
        test_texts, _ = _split(archive, "test", TASKS[task], args.max_test)
        pipe = make_glove_pipeline(args.glove, random_state=args.seed, **params)
        with Timer() as fit:
            pipe.fit(*train)
        with Timer() as t:
            explanations = explain(pipe, test_texts)
        print(
            f"\n## {task}: {len(train[0])} train posts (fit {fit.seconds:.0f} s), "
            f"{len(test_texts)} test posts explained in {t.seconds:.1f} s\n"
        )
        curve = deletion_curve(pipe, explanations, args.seed)
        columns = [("k", "k")] + [
            (f"{m} {s}", f"{m} {s}")
            for s in ("fall", "flips")
            for m in ("top-k", "random")
        ]
        print_table(curve, columns)
        timing = speed(pipe, test_texts, args.repeats)
        print()
        print_table(timing, [(key, key) for key in timing[0]])
        beaten = all(
            float(row["top-k fall"]) > float(row["random fall"]) for row in curve
        )
        print(f"\ntop-k removal beats random removal at every k: {beaten}")
        results[task] = {"curve": curve, "speed": timing, "beaten": beaten}
    return results


if __name__ == "__main__":
    main()
