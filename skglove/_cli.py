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
from ._artifact import FORMATS, PRECISIONS

# The commands import what they use, so that --help answers without loading
# TensorFlow or scikit-learn's metrics.

__all__ = ["main"]

#: Exit status for mistakes in the input, as opposed to argparse's 2 for usage.
USER_ERROR = 1
#: Errors that mean "the input is wrong" (or an optional dependency is
#: missing), reported without a traceback.
_USER_ERRORS = (OSError, ValueError, TypeError, UnicodeError, ImportError)
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
    data.add_argument(
        "--label-separator",
        type=_separator,
        default=";",
        metavar="SEP",
        help="what separates the labels of a row in a multi-label CSV "
        "(default ';'); a CSV none of whose label cells holds it has one label "
        "per row",
    )

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
    train.add_argument(
        "--threshold",
        type=_threshold,
        metavar="T",
        help="multi-label data only: a label is predicted where its probability "
        "exceeds T (default 0.5), or 'tuned' for each label's best F1 on the "
        "validation split",
    )
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
        description="Score a saved model. An archive is read as its bydate test "
        "split. A multi-label model reads every label cell as labels joined by "
        "--label-separator, and prints a report per label, micro and macro F1 "
        "and the subset accuracy.",
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
        "print one predicted label per line; for a multi-label model, every "
        "predicted label, joined by --label-separator (an empty line when "
        "none is). With --explain, each label is followed by a tab, its "
        "probability, a tab and the words that scored highest toward it (see "
        "skglove.explain); a multi-label model's labels are tab-separated too.",
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
    predict.add_argument(
        "--label-separator",
        type=_separator,
        default=";",
        metavar="SEP",
        help="joins a multi-label model's predicted labels (default ';')",
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

    export = commands.add_parser(
        "export",
        parents=[common],
        help="write a saved model as a TensorFlow SavedModel that reads text",
        description="Write a saved pipeline as one artifact for serving "
        "without skglove: a TensorFlow SavedModel that takes raw strings, or "
        "an ONNX model of the network with its tokenizer.json "
        "(see docs/export.md).",
    )
    export.add_argument("model", help="a model written by 'train'")
    export.add_argument("out_dir", help="the folder to write; it must not exist")
    export.add_argument("--format", default=FORMATS[0], choices=FORMATS)
    export.add_argument(
        "--precision",
        default=PRECISIONS[0],
        choices=PRECISIONS,
        help="how the embedding tables are stored (default: float32)",
    )
    export.set_defaults(run=_export)
    return parser


def _json_object(text: str) -> dict:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"not valid JSON ({exc})") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("expected a JSON object such as '{}'")
    return value


def _separator(text: str) -> str:
    if not text or any(c in text for c in "\n\r"):
        raise argparse.ArgumentTypeError("must be a string without line breaks")
    return text


def _threshold(text: str) -> float | str:
    if text == "tuned":
        return text
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a number between 0 and 1 or 'tuned', got {text!r}"
        ) from None


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
        "threshold",
    ):
        if getattr(args, name) is not None:
            params[name] = getattr(args, name)
    params.update(random_state=args.random_state, verbose=args.verbose)
    # An existing file is recorded by its absolute path, for `info`.
    glove = os.path.abspath(args.glove) if os.path.isfile(args.glove) else args.glove
    pipe = make_glove_pipeline(glove=glove, **params)
    data = _read_data(args, "train").head(args.max_train)
    if data.is_multilabel(args.label_separator):
        from sklearn.preprocessing import MultiLabelBinarizer

        binarizer = MultiLabelBinarizer()
        y = binarizer.fit_transform(data.label_sets(args.label_separator))
        names = [str(name) for name in binarizer.classes_]
        if len(names) < 2:
            raise ValueError(
                f"{args.data}: multi-label data needs at least two distinct "
                f"labels, but every row's labels are among {names!r}"
            )
        pipe.set_params(glovecnnclassifier__label_names=names)
        kind = f"{len(names)} labels (multi-label)"
    else:
        if args.threshold is not None:
            raise ValueError(
                f"--threshold applies to multi-label data, but no label cell of "
                f"{args.data} holds the separator {args.label_separator!r} "
                "(--label-separator)"
            )
        y = data.single_labels()
        kind = None
    pipe.fit(data.texts, y)
    save(pipe, args.out)
    kind = kind or f"{len(pipe.classes_)} classes"
    print(f"trained on {len(data.texts)} documents of {kind}; saved to {args.out}")


def _evaluate(args) -> None:
    model = _load_model(args.model)
    data = _read_data(args, "test").head(args.max_test)
    names = _label_names(model)
    if names is None:
        _evaluate_classes(model, data.texts, data.single_labels())
    else:
        Y = data.indicator(args.label_separator, names)
        _evaluate_labels(model, data.texts, Y, names)


def _evaluate_classes(model, texts: list[str], labels: np.ndarray) -> None:
    from sklearn.metrics import accuracy_score, classification_report

    predicted = model.predict(texts)
    print(classification_report(labels, predicted, digits=3, zero_division=0))
    print(
        f"accuracy: {accuracy_score(labels, predicted):.4f} on {len(texts)} documents"
    )


def _evaluate_labels(model, texts: list[str], Y: np.ndarray, names) -> None:
    from sklearn.metrics import accuracy_score, classification_report, f1_score

    predicted = model.predict(texts)
    report = classification_report(
        Y, predicted, target_names=names, digits=3, zero_division=0
    )
    print(report)
    for average in ("micro", "macro"):
        f1 = f1_score(Y, predicted, average=average, zero_division=0)
        print(f"{average} F1: {f1:.4f}")
    # accuracy_score of indicator matrices: every label of a row right.
    print(
        f"subset accuracy: {accuracy_score(Y, predicted):.4f} on {len(texts)} documents"
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
    names = _label_names(model)
    if args.explain:
        rows = _explained_rows(model, lines, args.top, names is not None)
    elif names is None:
        rows = [_one_line(label) for label in model.predict(lines)]
    else:
        rows = [
            args.label_separator.join(_one_line(names[i]) for i in np.flatnonzero(row))
            for row in model.predict(lines)
        ]
    sys.stdout.write("\n".join(rows) + "\n")


def _explained_rows(model, lines: list[str], top: int, multilabel: bool) -> list:
    """One row per line: each explained label, its probability and top words,
    tab-separated; for a multi-label model, every predicted label in turn."""
    from ._explain import explain

    explanations = explain(model, lines, top=top)
    if not multilabel:
        return [_explained(e) for e in explanations]
    groups = [[] for _ in lines]
    for e in explanations:
        index = getattr(e, "document_index", None)
        if index is None:  # pragma: no cover - an explain() without it
            raise ValueError(
                "--explain cannot line up a multi-label model's explanations "
                "with the input lines in this version of skglove; predict "
                "without --explain"
            )
        # A line without a predicted label is explained toward its most
        # probable one, which is not predicted: the line stays empty.
        if getattr(e, "predicted", True):
            groups[index].append(_explained(e))
    return ["\t".join(group) for group in groups]


def _explained(e) -> str:
    return f"{_one_line(e.label)}\t{e.probability:.3f}\t{e.top_text()}"


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


def _export(args) -> None:
    from ._export import export

    path = export(
        _load_model(args.model),
        args.out_dir,
        format=args.format,
        precision=args.precision,
    )
    size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    print(
        f"exported {args.model} to {path} "
        f"({args.format}, {args.precision}, {size:,} bytes)"
    )


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
        names = _label_names(model)
        if names is None:
            classes = [str(c) for c in classifier.classes_]
            print(f"classes ({len(classes)}): {', '.join(classes)}")
        else:
            print(f"labels ({len(names)}, multi-label): {', '.join(names)}")
            thresholds = ", ".join(
                f"{name} {t:.3f}" + (" (never predicted)" if t > 1 else "")
                for name, t in zip(names, classifier.threshold_, strict=True)
            )
            print(f"thresholds (threshold={classifier.threshold!r}): {thresholds}")
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


def _label_names(model) -> list[str] | None:
    """The names of a multi-label model's label columns (their numbers when
    it has no ``label_names``), or None for a model of one class per sample."""
    classifier = model.steps[-1][1] if hasattr(model, "steps") else model
    if getattr(classifier, "target_type_", None) != "multilabel-indicator":
        return None
    names = classifier.label_names
    if names is None:
        names = classifier.classes_
    return [str(name) for name in names]


class _Data:
    """Texts and their label cells, as read; ``lines`` are the cells' line
    numbers in a CSV file (None for an archive, whose labels are never
    split)."""

    def __init__(self, source: str, column: str, texts, cells, lines) -> None:
        self.source, self.column = source, column
        self.texts, self.cells, self.lines = texts, cells, lines

    def head(self, n: int | None) -> "_Data":
        lines = None if self.lines is None else self.lines[:n]
        return _Data(self.source, self.column, self.texts[:n], self.cells[:n], lines)

    def is_multilabel(self, separator: str) -> bool:
        """Whether some label cell holds ``separator``."""
        return self.lines is not None and any(separator in c for c in self.cells)

    def single_labels(self) -> np.ndarray:
        """One label per row: the cells as they are, none empty."""
        for i, cell in enumerate(self.cells):
            if not cell:
                raise ValueError(f"{self._where(i)}: empty or missing {self.column!r}")
        return np.asarray(self.cells)

    def label_sets(self, separator: str) -> list[list[str]]:
        """Each row's labels: its cell split at ``separator``, each part
        stripped, empty parts dropped. An empty cell is a row without label."""
        if self.lines is None:
            return [[cell] for cell in self.cells]
        return [
            [part for part in map(str.strip, cell.split(separator)) if part]
            for cell in self.cells
        ]

    def indicator(self, separator: str, names: list[str]) -> np.ndarray:
        """The label sets as an indicator matrix over ``names``, in order."""
        sets = self.label_sets(separator)
        known = set(names)
        for i, labels in enumerate(sets):
            unknown = [label for label in labels if label not in known]
            if unknown:
                raise ValueError(
                    f"{self._where(i)}: {unknown[0]!r} is not a label of the "
                    f"model; its labels are: {', '.join(map(repr, names))}"
                )
        Y = np.zeros((len(sets), len(names)), dtype=np.int64)
        column = {name: j for j, name in enumerate(names)}
        for i, labels in enumerate(sets):
            Y[i, [column[label] for label in labels]] = 1
        return Y

    def _where(self, i: int) -> str:
        if self.lines is None:
            return f"{self.source}, document {i + 1}"
        return f"{self.source}, line {self.lines[i]}"


def _read_data(args, subset: str) -> _Data:
    """Texts and label cells from a CSV/TSV file or a 20news-bydate archive."""
    from .datasets import load_20newsgroups

    path = Path(args.data)
    if not path.exists():
        raise FileNotFoundError(f"no data at {args.data!r}")
    delimiter = _CSV_SUFFIXES.get(path.suffix.lower())
    if delimiter is None:
        news = load_20newsgroups(subset, archive=path)
        labels = np.asarray(news.target_names)[news.target].tolist()
        return _Data(args.data, "label", list(news.data), labels, None)
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
        texts, cells, lines = [], [], []
        for row in rows:
            texts.append(row[args.text_column] or "")
            label = row[args.label_column]
            if label is None:  # a short row
                raise ValueError(
                    f"{args.data}, line {rows.line_num}: empty or missing "
                    f"{args.label_column!r}"
                )
            cells.append(label)
            lines.append(rows.line_num)
    if not texts:
        raise ValueError(f"{args.data} holds no rows")
    return _Data(args.data, args.label_column, texts, cells, lines)
