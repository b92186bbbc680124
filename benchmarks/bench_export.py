"""Agreement, size and throughput of skglove.export's artifacts.

For each task, fits the default pipeline (``random_state=0``), exports it in
each of ``--formats``: a SavedModel at each of ``--precisions`` (how the
embedding tables are stored), loaded with ``tf.saved_model.load``, and ONNX
(float32), run by onnxruntime on the rows that ``tokenizer.json`` gives in
plain Python. It scores every test document both ways:

- ids: documents whose network input (the ``rows`` signature, or the
  tokenizer's rows) equals the pipeline's, row for row;
- labels: documents with the same label (multi-class tasks);
- the largest difference between the probabilities;
- the accuracy of the artifact's labels and of the pipeline's;
- the artifact's size on disk;
- documents a second through the artifact (``serving_default``; for ONNX the
  Python tokenization and onnxruntime) in batches of ``--batch-size``, and
  through ``pipeline.predict`` with the same ``batch_size``: once on the whole
  test set (which overlaps the vectorizer with the network), and once per
  batch, as a server answering requests of that size would;
- documents a second turned into the network's input alone, batch by batch:
  through the artifact (the ``rows`` signature; for ONNX the Python
  tokenizer) and through the vectorizer and the classifier's id encoder.

Each rate is the best of ``--repeats`` runs.

Run from the repository's root::

    python benchmarks/bench_export.py --tasks full,clinc150
"""

import argparse
import json
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import tensorflow as tf
from _common import ROOT, append_jsonl, find_archive, print_table
from bench_20newsgroups import DEFAULT_CLINC, DEFAULT_GLOVE, load_task

from skglove import export, make_glove_pipeline
from skglove._onnx import MODEL_FILE, TOKENIZER_FILE, rows_from_tokenizer

COLUMNS = [
    ("task", "task"),
    ("format", "format"),
    ("precision", "precision"),
    ("n_test", "test docs"),
    ("same_ids", "same ids"),
    ("same_labels", "same labels"),
    ("max_diff", "max |Δ probability|"),
    ("accuracy", "artifact accuracy"),
    ("pipeline_accuracy", "pipeline accuracy"),
    ("size_mb", "artifact MB"),
    ("served", "artifact docs/s, a call per batch"),
    ("served_one_call", "artifact docs/s, one call"),
    ("pipeline", "pipeline.predict docs/s, one call"),
    ("pipeline_per_batch", "pipeline.predict docs/s, a call per batch"),
    ("ids", "artifact strings to ids docs/s"),
    ("pipeline_ids", "pipeline strings to ids docs/s"),
]


def _best_rate(run, n_docs: int, repeats: int) -> float:
    best = min(_seconds(run) for _ in range(repeats))
    return n_docs / best


def _seconds(run) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def _batches(docs, size):
    return [docs[i : i + size] for i in range(0, len(docs), size)]


def run_task(task, data, glove, batch_size, repeats, params, artifacts) -> list:
    """One record per ``(format, precision)`` of ``artifacts``."""
    (X_train, y_train), (X_test, y_test) = data
    pipe = make_glove_pipeline(glove=glove, random_state=0, **params)
    pipe.fit(X_train, y_train)
    proba = pipe.predict_proba(X_test, batch_size=batch_size)
    predicted = pipe.classes_[proba.argmax(axis=1)].astype(str)
    pipeline_rate = _best_rate(
        lambda: pipe.predict(X_test, batch_size=batch_size), len(X_test), repeats
    )
    batches = _batches(list(X_test), batch_size)
    # As a Python server would call it: one request of batch_size documents
    # at a time, like the artifact below.
    per_batch_rate = _best_rate(
        lambda: [pipe.predict(b, batch_size=batch_size) for b in batches],
        len(X_test),
        repeats,
    )
    # The string work alone: documents to the network's input, batch by batch.
    vectorizer, classifier = pipe[0], pipe[-1]
    pipeline_ids_rate = _best_rate(
        lambda: [
            classifier.feature_encoder_.transform(vectorizer.transform(b))
            for b in batches
        ],
        len(X_test),
        repeats,
    )
    records = []
    for format, precision in artifacts:
        with tempfile.TemporaryDirectory() as folder:
            path = export(
                pipe, Path(folder) / "model", format=format, precision=precision
            )
            size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
            serve, rows_of = _LOADERS[format](path)
            outputs = [serve(batch) for batch in batches]
            served = np.concatenate([probabilities for probabilities, _ in outputs])
            labels = np.concatenate([labels for _, labels in outputs])
            records.append(
                {
                    "task": task,
                    "format": format,
                    "precision": precision,
                    "n_test": len(X_test),
                    "same_ids": sum(_same_rows(pipe, rows_of, b) for b in batches),
                    "same_labels": int((labels == predicted).sum()),
                    "max_diff": float(np.abs(served - proba).max()),
                    "accuracy": float(
                        (labels == np.asarray(y_test).astype(str)).mean()
                    ),
                    "pipeline_accuracy": float(
                        (predicted == np.asarray(y_test).astype(str)).mean()
                    ),
                    "size_mb": size / 1e6,
                    "served": _best_rate(
                        lambda f=serve: [f(b) for b in batches], len(X_test), repeats
                    ),
                    "served_one_call": _best_rate(
                        lambda f=serve: f(list(X_test)), len(X_test), repeats
                    ),
                    "pipeline": pipeline_rate,
                    "pipeline_per_batch": per_batch_rate,
                    "ids": _best_rate(
                        lambda f=rows_of: [f(b) for b in batches],
                        len(X_test),
                        repeats,
                    ),
                    "pipeline_ids": pipeline_ids_rate,
                }
            )
    return records


def _same_rows(pipe, rows_of, docs) -> int:
    """Documents whose network input from the artifact's side equals the
    pipeline's, row for row."""
    got = rows_of(docs)
    table = pipe[-1].feature_encoder_.transform(pipe[0].transform(list(docs)))
    return int((got == table.toarray(got.shape[1])).all(axis=1).sum())


def _saved_model(path):
    """``serve`` (a batch to probabilities and labels) and ``rows_of`` (a
    batch to its network input) of a SavedModel, through its signatures."""
    loaded = tf.saved_model.load(str(path))
    signatures = loaded.signatures

    def serve(batch):
        out = signatures["serving_default"](tf.constant(batch))
        return out["probabilities"].numpy(), out["label"].numpy().astype(str)

    return serve, lambda batch: signatures["rows"](tf.constant(batch))[
        "output_0"
    ].numpy()


def _onnx(path):
    """The same for an ONNX artifact, run by onnxruntime on the rows that
    ``tokenizer.json``'s rules give, in Python (timed with the network)."""
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path / MODEL_FILE))
    tokenizer = json.loads((path / TOKENIZER_FILE).read_text(encoding="ascii"))

    def serve(batch):
        probabilities, label = session.run(
            ["probabilities", "label"], {"rows": rows_from_tokenizer(tokenizer, batch)}
        )
        return probabilities, label.astype(str)

    return serve, lambda batch: rows_from_tokenizer(tokenizer, batch)


_LOADERS = {"tf_saved_model": _saved_model, "onnx": _onnx}


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", default="full,clinc150")
    parser.add_argument("--archive", help="20news-bydate.tar.gz")
    parser.add_argument("--clinc", default=str(DEFAULT_CLINC))
    parser.add_argument("--glove", default=DEFAULT_GLOVE)
    parser.add_argument("--precisions", default="float32,float16,int8,int4")
    parser.add_argument(
        "--formats",
        default="tf_saved_model,onnx",
        help="onnx is written at float32 only, whatever --precisions says",
    )
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--max-train", type=int)
    parser.add_argument("--max-test", type=int)
    parser.add_argument("--epochs", type=int, help="the default's if not given")
    parser.add_argument("--out", default=str(ROOT / "benchmarks/results/export.jsonl"))
    args = parser.parse_args(argv)
    params = {} if args.epochs is None else {"epochs": args.epochs}
    records = []
    for task in args.tasks.split(","):
        archive = None if task == "clinc150" else find_archive(args.archive)
        data = load_task(task, archive, args.max_train, args.max_test, args.clinc)
        for record in run_task(
            task,
            data,
            args.glove,
            args.batch_size,
            args.repeats,
            params,
            _artifacts(args.formats.split(","), args.precisions.split(",")),
        ):
            record["when"] = datetime.now(UTC).isoformat(timespec="seconds")
            append_jsonl(args.out, record)
            records.append(record)
    rows = [
        {
            **r,
            "same_ids": f"{r['same_ids']} / {r['n_test']}",
            "same_labels": f"{r['same_labels']} / {r['n_test']}",
            "max_diff": f"{r['max_diff']:.1e}",
            "accuracy": f"{r['accuracy']:.4f}",
            "pipeline_accuracy": f"{r['pipeline_accuracy']:.4f}",
            "size_mb": f"{r['size_mb']:.1f}",
            "served": f"{r['served']:.0f}",
            "served_one_call": f"{r['served_one_call']:.0f}",
            "pipeline": f"{r['pipeline']:.0f}",
            "pipeline_per_batch": f"{r['pipeline_per_batch']:.0f}",
            "ids": f"{r['ids']:.0f}",
            "pipeline_ids": f"{r['pipeline_ids']:.0f}",
        }
        for r in records
    ]
    print_table(rows, COLUMNS)
    return records


def _artifacts(formats, precisions) -> list[tuple[str, str]]:
    """Each format at each precision, but ONNX at float32 alone."""
    return [
        (format, precision)
        for format in formats
        for precision in (precisions if format != "onnx" else ["float32"])
    ]


if __name__ == "__main__":
    main()
