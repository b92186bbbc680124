"""Plot how a model trains and where it errs on 20 Newsgroups.

Trains skglove's default pipeline on the bydate train split, holding out a
validation split, scores it on the test split and saves three PNG figures:

- ``training_curves.png``: loss and accuracy per epoch, on the training data
  and on the held-out validation data (``history_``);
- ``confusion_matrix.png``: the test confusion matrix, normalized per true
  class (scikit-learn's ``ConfusionMatrixDisplay``);
- ``per_class_f1.png``: the test F1 score of each newsgroup.

    python examples/plot_training.py --archive ../shared/data/20news-bydate.tar.gz

Without ``--archive`` scikit-learn downloads the corpus. The defaults train on
5,000 posts for at most 8 epochs, a few minutes on two CPU cores;
``--max-train 0`` uses the whole train split.
"""

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # write files; never open a window

import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import ConfusionMatrixDisplay, accuracy_score, f1_score

from skglove import make_glove_pipeline
from skglove.datasets import load_20newsgroups


def plot_history(history: dict, path: Path) -> None:
    """Training and validation loss and accuracy, one panel each."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
    epochs = np.arange(1, len(history["loss"]) + 1)
    for ax, metric in zip(axes, ("loss", "accuracy"), strict=True):
        ax.plot(epochs, history[metric], "o-", label="training")
        if f"val_{metric}" in history:
            ax.plot(epochs, history[f"val_{metric}"], "s--", label="validation")
        ax.set(xlabel="epoch", ylabel=metric, title=metric.capitalize())
        ax.set_xticks(epochs)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_confusion(y_true, y_pred, labels, path: Path) -> None:
    """The confusion matrix, each row divided by the number of its posts."""
    fig, ax = plt.subplots(figsize=(11, 10), layout="constrained")
    ConfusionMatrixDisplay.from_predictions(
        y_true,
        y_pred,
        labels=labels,
        normalize="true",
        values_format=".2f",
        xticks_rotation="vertical",
        cmap="Blues",
        ax=ax,
        text_kw={"fontsize": 6},
    )
    accuracy = accuracy_score(y_true, y_pred)
    ax.set_title(
        f"Test confusion matrix, normalized by true class (acc. {accuracy:.3f})"
    )
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_f1(y_true, y_pred, labels, path: Path) -> None:
    """Per-class F1, worst class at the top, with the macro average."""
    scores = f1_score(y_true, y_pred, labels=labels, average=None, zero_division=0)
    order = np.argsort(scores)[::-1]
    fig, ax = plt.subplots(figsize=(8, 0.3 * len(labels) + 1.5), layout="constrained")
    ax.barh(np.asarray(labels)[order], scores[order], color="tab:blue")
    ax.axvline(scores.mean(), color="tab:red", ls="--", label="macro-F1")
    ax.set(xlim=(0, 1), xlabel="F1 on the test split", title="Per-class F1")
    ax.legend(loc="lower right")
    ax.grid(axis="x", alpha=0.3)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--archive", help="local 20news-bydate.tar.gz or its folder")
    parser.add_argument("--out", default="plots", help="folder for the PNG files")
    parser.add_argument("--glove", default="glove.6B.50d", help="GloVe name or path")
    parser.add_argument("--epochs", type=int, default=8, help="most epochs")
    parser.add_argument(
        "--max-train", type=int, default=5000, help="train posts to use; 0 for all"
    )
    parser.add_argument("--max-len", type=int, default=1000)
    parser.add_argument("--filters", type=int, help="default: the classifier's")
    parser.add_argument(
        "--validation-split", type=float, help="default: the classifier's"
    )
    parser.add_argument("--random-state", type=int, default=0)
    parser.add_argument("--verbose", type=int, default=2, help="Keras verbosity")
    args = parser.parse_args(argv)

    train = load_20newsgroups("train", archive=args.archive)
    test = load_20newsgroups("test", archive=args.archive)
    names = np.asarray(train.target_names)
    n_train = args.max_train or None
    X_train, y_train = train.data[:n_train], names[train.target[:n_train]]
    print(f"{len(X_train)} train and {len(test.data)} test posts")

    options = {"filters": args.filters, "validation_split": args.validation_split}
    pipe = make_glove_pipeline(
        glove=args.glove,
        max_len=args.max_len,
        epochs=args.epochs,
        random_state=args.random_state,
        verbose=args.verbose,
        **{name: value for name, value in options.items() if value is not None},
    )
    pipe.fit(X_train, y_train)
    y_test = names[test.target]
    predicted = pipe.predict(test.data)
    print(f"test accuracy: {accuracy_score(y_test, predicted):.3f}")

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "curves": out / "training_curves.png",
        "confusion": out / "confusion_matrix.png",
        "f1": out / "per_class_f1.png",
    }
    plot_history(pipe[-1].history_, paths["curves"])
    plot_confusion(y_test, predicted, names, paths["confusion"])
    plot_f1(y_test, predicted, names, paths["f1"])
    for path in paths.values():
        print(f"wrote {path}")
    return paths


if __name__ == "__main__":
    main()
