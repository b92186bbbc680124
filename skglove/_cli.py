"""The ``python -m skglove`` command line: train, evaluate, predict and info.

Models are written and read with :func:`skglove.save` and :func:`skglove.load`,
so no command ever unpickles a file. Mistakes in the input (a missing file, an
unknown column, a file that is not a model, an invalid parameter) end with a
one-line message on stderr and exit status 1; ``--traceback`` shows the full
traceback instead.
"""

import argparse
import csv
import io
import json
import logging
import os
import sys
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from . import __version__

# The commands import what they use, so that --help answers without loading
# TensorFlow or scikit-learn's metrics.

__all__ = ["main"]

#: Exit status for mistakes in the input, as opposed to argparse's 2 for usage.
USER_ERROR = 1
#: Errors that mean "the input is wrong", reported without a traceback.
_USER_ERRORS = (OSError, ValueError, TypeError, UnicodeError)
_CSV_SUFFIXES = {".csv": ",", ".tsv": "\t"}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit status.

    Parameters
    ----------
    argv : sequence of str, default=None
        The arguments, without the program name; ``None`` reads ``sys.argv``.

    Returns
    -------
    status : int
        0 on success, 1 for a mistake in the input, 130 when interrupted.
        Wrong usage, such as an unknown option, exits through argparse's
        ``SystemExit`` with status 2.

    Examples
    --------
    >>> from skglove._cli import main
    >>> main(["info", "no-such-model.skglove"])  # the message goes to stderr
    1
    """
    parser = _parser()
    args = parser.parse_args(argv)
    logger = logging.getLogger("skglove")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("skglove: %(message)s"))
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.WARNING if args.quiet else logging.INFO)
    try:
        args.run(args)
    except KeyboardInterrupt:
        print("skglove: interrupted", file=sys.stderr)
        return 130
    except _USER_ERRORS as exc:
        if args.traceback:
            raise
        print(f"skglove {args.command}: error: {exc}", file=sys.stderr)
        return USER_ERROR
    finally:  # leave logging as it was, for callers of main() in-process
        logger.removeHandler(handler)
        logger.setLevel(level)
    return 0


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "-q", "--quiet", action="store_true", help="log warnings only, not progress"
    )
    common.add_argument(
        "--traceback", action="store_true", help="show tracebacks of input errors"
    )
    data = argparse.ArgumentParser(add_help=False)
    data.add_argument(
        "--data",
        required=True,
        help="a 20news-bydate archive (or its folder), or a .csv/.tsv file",
    )
    data.add_argument("--text-column", default="text", help="CSV column of texts")
    data.add_argument("--label-column", default="label", help="CSV column of labels")

    parser = argparse.ArgumentParser(
        prog="python -m skglove",
        description="Train, evaluate and apply skglove text classifiers.",
        epilog="Run 'python -m skglove COMMAND --help' for a command's options.",
    )
    parser.add_argument("--version", action="version", version=__version__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train = commands.add_parser(
        "train",
        parents=[common, data],
        help="fit a pipeline and save it",
        description="Fit make_glove_pipeline() on the data and save it with "
        "skglove.save. An archive is read as its bydate train split.",
    )
    train.add_argument("--out", required=True, help="where to write the model")
    train.add_argument(
        "--glove", default="glove.6B.50d", help="GloVe name or vector file"
    )
    train.add_argument(
        "--blog",
        action="store_true",
        help="start from BLOG_PARAMS, the Keras blog's network and training",
    )
    train.add_argument(
        "--params",
        type=_json_object,
        default={},
        metavar="JSON",
        help="more parameters of either step, e.g. '{\"filters\": 64}'",
    )
    for option, kind in (
        ("--architecture", str),
        ("--epochs", int),
        ("--max-len", int),
        ("--max-words", int),
        ("--batch-size", int),
        ("--validation-split", float),
    ):
        train.add_argument(option, type=kind, help="the parameter of that name")
    train.add_argument("--random-state", type=int, default=0, help="seed")
    train.add_argument(
        "--max-train", type=int, help="use only the first N training documents"
    )
    train.add_argument(
        "--verbose",
        type=int,
        default=1 if sys.stdout.isatty() else 2,
        help="Keras verbosity: 0 silent, 1 progress bar, 2 one line per epoch",
    )
    train.set_defaults(run=_train)

    evaluate = commands.add_parser(
        "evaluate",
        parents=[common, data],
        help="print accuracy and a classification report",
        description="Score a saved model. An archive is read as its bydate test split.",
    )
    evaluate.add_argument("model", help="a model written by 'train'")
    evaluate.add_argument(
        "--max-test", type=int, help="use only the first N test documents"
    )
    evaluate.set_defaults(run=_evaluate)

    predict = commands.add_parser(
        "predict",
        parents=[common],
        help="print one label per input line",
        description="Read one document per line from stdin (or --input) and "
        "print one predicted label per line. With --explain, each label is "
        "followed by a tab, its probability, a tab and the words that scored "
        "highest toward it (see skglove.explain).",
    )
    predict.add_argument("model", help="a model written by 'train'")
    predict.add_argument("--input", help="a text file to read instead of stdin")
    predict.add_argument("--encoding", default="utf-8", help="of the input")
    predict.add_argument(
        "--explain", action="store_true", help="print the top words beside each label"
    )
    predict.add_argument(
        "--top", type=int, default=5, help="words shown by --explain (default 5)"
    )
    predict.set_defaults(run=_predict)

    info = commands.add_parser(
        "info",
        parents=[common],
        help="describe a saved model",
        description="Print a saved model's parameters, GloVe source, classes "
        "and the library versions it was saved with.",
    )
    info.add_argument("model", help="a model written by 'train'")
    info.set_defaults(run=_info)
    return parser


def _json_object(text: str) -> dict:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"not valid JSON ({exc})") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("expected a JSON object such as '{}'")
    return value


def _train(args) -> None:
    from . import BLOG_PARAMS, make_glove_pipeline, save

    params = {**(BLOG_PARAMS if args.blog else {}), **args.params}
    for name in (
        "architecture",
        "epochs",
        "max_len",
        "max_words",
        "batch_size",
        "validation_split",
    ):
        if getattr(args, name) is not None:
            params[name] = getattr(args, name)
    params.update(random_state=args.random_state, verbose=args.verbose)
    # An existing file is recorded by its absolute path, for `info`.
    glove = os.path.abspath(args.glove) if os.path.isfile(args.glove) else args.glove
    pipe = make_glove_pipeline(glove=glove, **params)
    texts, labels = _read_data(args, "train")
    texts, labels = texts[: args.max_train], labels[: args.max_train]
    pipe.fit(texts, labels)
    save(pipe, args.out)
    print(
        f"trained on {len(texts)} documents of {len(pipe.classes_)} classes; "
        f"saved to {args.out}"
    )


def _evaluate(args) -> None:
    from sklearn.metrics import accuracy_score, classification_report

    model = _load_model(args.model)
    texts, labels = _read_data(args, "test")
    texts, labels = texts[: args.max_test], labels[: args.max_test]
    predicted = model.predict(texts)
    print(classification_report(labels, predicted, digits=3, zero_division=0))
    print(
        f"accuracy: {accuracy_score(labels, predicted):.4f} on {len(texts)} documents"
    )


def _predict(args) -> None:
    model = _load_model(args.model)
    if args.input is None:
        # newline="": no universal newlines, so that a lone "\r" is text.
        stream = io.TextIOWrapper(
            sys.stdin.buffer, encoding=args.encoding, errors="replace", newline=""
        )
        text = stream.read()
    else:
        with open(
            args.input, encoding=args.encoding, errors="replace", newline=""
        ) as f:
            text = f.read()
    lines = _lines(text)
    if not lines:
        return
    if args.explain:
        from ._explain import explain

        rows = [
            f"{_one_line(e.label)}\t{e.probability:.3f}\t{e.top_text()}"
            for e in explain(model, lines, top=args.top)
        ]
    else:
        rows = [_one_line(label) for label in model.predict(lines)]
    sys.stdout.write("\n".join(rows) + "\n")


def _lines(text: str) -> list[str]:
    """The lines of ``text`` as ``wc -l`` counts them: split at newlines only
    (``str.splitlines`` would also split at form feeds and other separators),
    and without the carriage return of a CRLF ending."""
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return [line.removesuffix("\r") for line in lines]


#: What ``str.splitlines`` splits at, and tab, the column separator.
_BREAKS = dict.fromkeys(map(ord, "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029\t"), " ")


def _one_line(value) -> str:
    # One output line per input line: a line break in a label would shift them.
    return str(value).translate(_BREAKS)


def _info(args) -> None:
    from ._persistence import MANIFEST, RECORDED_VERSIONS, _versions

    model = _load_model(args.model)
    # load() has checked the archive, so its manifest is trusted here.
    with zipfile.ZipFile(args.model) as archive:
        manifest = json.loads(archive.read(MANIFEST))
    steps = dict(getattr(model, "steps", []))
    vectorizer = steps.get("glovesequencevectorizer", model)
    classifier = steps.get("glovecnnclassifier", model)
    size = os.path.getsize(args.model)
    print(f"model: {args.model} ({manifest['kind']}, {size:,} bytes)")
    glove = manifest["glove"]
    print(f"GloVe source: {glove['source']} (dimension {glove['dim']})")
    if hasattr(vectorizer, "vocabulary_"):
        coverage = vectorizer.glove_coverage_
        found = (
            ""
            if coverage is None
            else f"; {coverage['words']:.1%} of them in GloVe, "
            f"{coverage['tokens']:.1%} of their training tokens"
        )
        print(f"vocabulary: {len(vectorizer.vocabulary_)} words{found}")
    if hasattr(classifier, "classes_"):
        classes = [str(c) for c in classifier.classes_]
        print(f"classes ({len(classes)}): {', '.join(classes)}")
        history = classifier.history_
        scores = ", ".join(f"{k} {v[-1]:.4f}" for k, v in history.items() if v)
        print(f"training: {len(history.get('loss', []))} epoch(s); last: {scores}")
    print("parameters:")
    for name, value in sorted(model.get_params(deep=True).items()):
        if "__" in name or not hasattr(model, "steps"):
            print(f"  {name} = {value!r}")
    print("versions (saved with, running now):")
    now = _versions()
    for name in RECORDED_VERSIONS:
        print(f"  {name}: {manifest['versions'].get(name)}, {now[name]}")


def _load_model(path: str):
    """A saved model, with Keras' progress output off: stdout is for results."""
    from . import load

    if not os.path.isfile(path):
        raise FileNotFoundError(f"no model file at {path!r}")
    model = load(path)
    verbose = [k for k in model.get_params() if k.split("__")[-1] == "verbose"]
    return model.set_params(**dict.fromkeys(verbose, 0))


def _read_data(args, subset: str) -> tuple[list[str], np.ndarray]:
    """Texts and string labels from a CSV/TSV file or a 20news-bydate archive."""
    from .datasets import load_20newsgroups

    path = Path(args.data)
    if not path.exists():
        raise FileNotFoundError(f"no data at {args.data!r}")
    delimiter = _CSV_SUFFIXES.get(path.suffix.lower())
    if delimiter is None:
        news = load_20newsgroups(subset, archive=path)
        return news.data, np.asarray(news.target_names)[news.target]
    csv.field_size_limit(2**31 - 1)  # posts can be long
    with open(path, newline="", encoding="utf-8") as file:
        rows = csv.DictReader(file, delimiter=delimiter)
        columns = rows.fieldnames or []
        for column in (args.text_column, args.label_column):
            if column not in columns:
                raise ValueError(
                    f"{args.data} has no column {column!r}; its columns are: "
                    f"{', '.join(map(repr, columns)) or 'none (empty file)'}"
                )
        texts, labels = [], []
        for row in rows:
            texts.append(row[args.text_column] or "")
            label = row[args.label_column]
            if not label:
                raise ValueError(
                    f"{args.data}, line {rows.line_num}: empty or missing "
                    f"{args.label_column!r}"
                )
            labels.append(label)
    if not texts:
        raise ValueError(f"{args.data} holds no rows")
    return texts, np.asarray(labels)
