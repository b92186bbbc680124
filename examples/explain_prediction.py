"""Show which words decided a prediction on 20 Newsgroups.

Trains skglove's default pipeline on the bydate train split (without
headers, footers and quotes, so that the words come from the posts' bodies),
explains a test post with :func:`skglove.explain` and writes:

- ``explanation.png``: the post with each word shaded by its score toward
  the predicted class (red toward, blue against, grey: not read);
- ``explanation.html``: the same, as a notebook shows it (``_repr_html_``).

The post is the first correctly predicted test post of at most
``--max-chars`` characters with at least ``--min-tokens`` read tokens.

    python examples/explain_prediction.py --archive ../shared/data/20news-bydate.tar.gz

Without ``--archive`` scikit-learn downloads the corpus. The picture in
docs/explain.md was made with ``--out docs/images``.
"""

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # write files; never open a window

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import LinearSegmentedColormap, Normalize
from matplotlib.patches import Rectangle

from skglove import explain, make_glove_pipeline
from skglove.datasets import load_20newsgroups

#: Characters per line of the picture, and its character cell in inches.
WIDTH = 80
CELL = (0.1, 0.28)
COLOURS = LinearSegmentedColormap.from_list(
    "against_toward", [(0.12, 0.47, 0.71), (1, 1, 1), (0.84, 0.15, 0.16)]
)


def layout(explanation) -> list[tuple[int, int, int, int]]:
    """Each token's (line, column, length, index), wrapping at WIDTH."""
    placed, line, column, cursor = [], 0, 0, 0
    for token in explanation.tokens:
        gap = explanation.document[cursor : token.start]
        if "\n" in gap:
            line += gap.count("\n")
            column = 0
        elif gap:
            column += 1
        if column and column + len(token.text) > WIDTH:
            line, column = line + 1, 0
        placed.append((line, column, len(token.text), token.index))
        column += len(token.text)
        cursor = token.end
    return placed


def plot_explanation(explanation, path: Path) -> None:
    """The document's words shaded by score, a title and a colour bar."""
    placed = layout(explanation)
    n_lines = (placed[-1][0] + 1) if placed else 1
    peak = max((abs(t.score) for t in explanation.tokens), default=0) or 1.0
    norm = Normalize(-peak, peak)
    # Inches: 0.5 for the title, the text, 1.0 for the colour bar and its label.
    height = 0.5 + n_lines * CELL[1] + 1.0
    fig = plt.figure(figsize=(WIDTH * CELL[0] + 0.4, height))
    ax = fig.add_axes((0.02, 1.0 / height, 0.96, n_lines * CELL[1] / height))
    ax.set(xlim=(-0.5, WIDTH + 0.5), ylim=(n_lines, -0.2))
    ax.axis("off")
    fontsize = CELL[0] * 72 / 0.602  # DejaVu Sans Mono: 0.602 em per character
    for line, column, length, index in placed:
        token = explanation.tokens[index]
        if token.read:
            colour = COLOURS(norm(token.score))
            ax.add_patch(Rectangle((column, line), length, 0.9, color=colour, lw=0))
        ax.text(
            column,
            line + 0.45,
            token.text,
            family="DejaVu Sans Mono",
            fontsize=fontsize,
            va="center",
            color="black" if token.read else "0.6",
        )
    ax.set_title(
        f"predicted {explanation.label} (p = {explanation.probability:.2f}); "
        f"top: {', '.join(t.text for t in explanation.top[:5])}",
        fontsize=11,
        loc="left",
    )
    bar = fig.add_axes((0.25, 0.5 / height, 0.5, 0.18 / height))
    fig.colorbar(
        plt.cm.ScalarMappable(norm=norm, cmap=COLOURS),
        cax=bar,
        orientation="horizontal",
        label=f"score toward {explanation.label} (grey words: not read)",
    )
    fig.savefig(path, dpi=110)
    plt.close(fig)


def pick(explanations, labels, max_chars: int, min_tokens: int):
    """The first right prediction of a short post with enough read tokens."""
    for explanation, label in zip(explanations, labels, strict=True):
        n_read = sum(t.read for t in explanation.tokens)
        short = len(explanation.document) <= max_chars
        if explanation.label == label and short and n_read >= min_tokens:
            return explanation
    return explanations[0]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--archive", help="a local 20news-bydate.tar.gz")
    parser.add_argument("--glove", default="glove.6B.50d", help="GloVe source")
    parser.add_argument("--max-train", type=int, help="train on the first N posts")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--max-chars", type=int, default=700)
    parser.add_argument("--min-tokens", type=int, default=40)
    parser.add_argument("--out", default=".", help="folder of the two files")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    remove = ("headers", "footers", "quotes")
    train = load_20newsgroups("train", archive=args.archive, remove=remove)
    test = load_20newsgroups("test", archive=args.archive, remove=remove)
    names = np.asarray(train.target_names)
    pipe = make_glove_pipeline(args.glove, epochs=args.epochs, random_state=args.seed)
    pipe.fit(train.data[: args.max_train], names[train.target[: args.max_train]])

    candidates = test.data[:300]
    explanations = explain(pipe, candidates)
    chosen = pick(
        explanations,
        names[test.target[: len(candidates)]],
        args.max_chars,
        args.min_tokens,
    )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    plot_explanation(chosen, out / "explanation.png")
    (out / "explanation.html").write_text(chosen._repr_html_(), encoding="utf-8")
    print(chosen.summary())
    print(f"wrote {out / 'explanation.png'} and {out / 'explanation.html'}")
    return chosen


if __name__ == "__main__":
    main()
