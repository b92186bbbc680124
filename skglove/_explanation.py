"""What :func:`skglove.explain` returns, and how it shows in text and HTML."""

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import NamedTuple

import numpy as np

__all__ = ["Explanation", "Explanations", "Token", "Tokens", "Window"]

#: Colours of scores toward and against the target class (RGB).
_TOWARD = (214, 39, 40)
_AGAINST = (31, 119, 180)


class Token(NamedTuple):
    """One token of a document, as the vectorizer splits it.

    Attributes
    ----------
    index : int
        Position among the document's tokens, from 0.
    start, end : int
        Where the token is written: ``document[start:end] == text``.
    text : str
        The token as written (before lowercasing).
    score : float
        Its share of the target class's logit, or of a multi-label target's
        log-odds (see :func:`skglove.explain`); 0 for a token the network did
        not read.
    read : bool
        Whether the network read it: False for a word outside the vocabulary
        that the vectorizer drops, and for words cut by ``max_len``.
    """

    index: int
    start: int
    end: int
    text: str
    score: float
    read: bool


class Window(NamedTuple):
    """A window of consecutive read tokens that won a convolution filter.

    Words the vectorizer drops are not read, so a window can span one: its
    ``text`` and ``last - first`` then include the dropped word.

    Attributes
    ----------
    first, last : int
        The token indices (:attr:`Token.index`) of its first and last word.
    text : str
        The document's text from the first word to the last.
    score : float
        Its share of the target class's logit, summed over the filters it
        won. :attr:`Token.score` splits it evenly over its words.
    """

    first: int
    last: int
    text: str
    score: float


class Tokens(Sequence):
    """The tokens of a document: a read-only sequence of :class:`Token`.

    The tokens are kept as arrays, and each :class:`Token` is made when it is
    read, so that a long document costs a few bytes per token.

    Attributes
    ----------
    starts, ends : ndarray of int
        Where each token is written in the document.
    scores : ndarray of float
        Each token's score (0 for tokens not read).
    read : ndarray of bool
        Whether the network read each token.
    """

    def __init__(self, document: str, starts, ends, scores, read) -> None:
        self._document = document
        self._arrays = tuple(np.asarray(a) for a in (starts, ends, scores, read))

    # Read-only views, also after unpickling.
    starts = property(lambda self: _read_only(self._arrays[0]))
    ends = property(lambda self: _read_only(self._arrays[1]))
    scores = property(lambda self: _read_only(self._arrays[2]))
    read = property(lambda self: _read_only(self._arrays[3]))

    def __len__(self) -> int:
        return len(self.starts)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return tuple(self[i] for i in range(*index.indices(len(self))))
        index = range(len(self))[index]  # negative indices; IndexError
        start, end = int(self.starts[index]), int(self.ends[index])
        return Token(
            index,
            start,
            end,
            self._document[start:end],
            float(self.scores[index]),
            bool(self.read[index]),
        )

    def __eq__(self, other) -> bool:
        if isinstance(other, Tokens):
            return self._document == other._document and all(
                np.array_equal(a, b)
                for a, b in zip(self._arrays, other._arrays, strict=True)
            )
        if isinstance(other, tuple | list):
            return tuple(self) == tuple(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self))  # as the tuple of its tokens, which it equals

    def __repr__(self) -> str:
        return f"Tokens({len(self)} tokens, {int(self.read.sum())} read)"


def _read_only(array: np.ndarray) -> np.ndarray:
    view = array.view()
    view.setflags(write=False)
    return view


@dataclass(frozen=True, repr=False)
class Explanation:
    """Why a document got its prediction: a score per token.

    Attributes
    ----------
    document : str
        The document, as given.
    label : object
        The predicted class. For a multi-label classifier, the label the
        scores are toward: its name in ``label_names``, else its column.
    probability : float
        The predicted class's probability (for a multi-label classifier, the
        label's own sigmoid probability).
    target : object
        The class the scores are toward: ``label`` unless another was named
        (always ``label`` for a multi-label classifier).
    target_probability : float
        The target's probability.
    tokens : Tokens
        Every token of the document, in order: a sequence of :class:`Token`,
        with the scores also as an array, ``tokens.scores``.
    top : tuple of Token
        The read tokens with the largest positive scores, largest first.
    windows : tuple of Window
        The winning windows with the largest positive scores, for networks
        that read windows wider than one word; empty otherwise.
    intercept : float or None
        With ``method="exact"``, the part of the target's centred logit (a
        multi-label target's log-odds) that no token has, so that
        ``intercept + sum(token.score)`` is that logit: the output bias's
        share, plus the effect of the floor (1e-12) on the GloVe channel's
        probabilities where a class's falls below it (for a multi-label
        network, also the biases of the lexical scores and of the output, and
        the rounding of a float32 probability near 1). None for occlusion,
        whose scores do not add up.
    method : {"exact", "occlusion"}
        How the scores were computed; see :func:`skglove.explain`.
    document_index : int or None
        The position of ``document`` among the documents given to
        :func:`skglove.explain`, which can explain a document more than once
        (once per predicted label of a multi-label classifier). None for an
        explanation made by hand.
    predicted : bool or None
        For a multi-label classifier, whether the label is predicted (its
        probability exceeds its threshold); None for one class per sample.
    """

    document: str
    label: object
    probability: float
    target: object
    target_probability: float
    tokens: Tokens
    top: tuple
    windows: tuple
    intercept: float | None
    method: str
    document_index: int | None = None
    predicted: bool | None = None

    @property
    def empty(self) -> bool:
        """True when the network read no token of the document."""
        return not self.tokens.read.any()

    def _heading(self) -> str:
        text = f"{_one_line(self.label)} ({self.probability:.3f})"
        if self.predicted is False:
            text = f"{_one_line(self.label)} ({self.probability:.3f}, not predicted)"
        if self.target != self.label:
            text += (
                f", scores toward {_one_line(self.target)} "
                f"({self.target_probability:.3f})"
            )
        return text

    def _reason(self) -> str:
        return (
            "no token was read (none is in the vocabulary), so the "
            "prediction is the same as for an empty document"
        )

    def top_text(self) -> str:
        """The top tokens and their scores on one line, or why there are none."""
        if self.empty:
            return self._reason()
        if not self.top:
            if (self.tokens.scores > 0).any():
                return ""  # top=0
            return "no token scored toward the target"
        # Equal words score equally: show each once, with its count.
        counts = Counter((_one_line(t.text), f"{t.score:+.3f}") for t in self.top)
        return ", ".join(
            f"{text} {score}" + (f" (x{n})" if n > 1 else "")
            for (text, score), n in counts.items()
        )

    def summary(self) -> str:
        """The prediction and its top tokens on one line."""
        top = self.top_text()
        return f"{self._heading()}: {top}" if top else self._heading()

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        top = [(t.text, round(t.score, 3)) for t in self.top[:3]]
        more = ", ..." if len(self.top) > 3 else ""
        return (
            f"Explanation(label={self.label!r}, probability={self.probability:.3f}, "
            f"top={top}{more}, method={self.method!r})"
        )

    def _repr_html_(self) -> str:
        peak = float(np.abs(self.tokens.scores).max(initial=0.0)) or 1.0
        parts, cursor = [], 0
        for token in self.tokens:
            parts.append(escape(self.document[cursor : token.start]))
            parts.append(_shaded(token, peak))
            cursor = token.end
        parts.append(escape(self.document[cursor:]))
        note = f"<p><em>{escape(self._reason())}.</em></p>" if self.empty else ""
        return (
            '<div class="skglove-explanation" style="font-family: sans-serif; '
            'line-height: 1.8">'
            f"<p><strong>{escape(self._heading())}</strong> "
            f'<span style="color: #666">({escape(self.method)} scores)</span></p>'
            f"{note}"
            '<div style="white-space: pre-wrap; font-family: monospace; '
            'border: 1px solid #ddd; padding: 0.5em">'
            f"{''.join(parts)}</div>{_legend(self.target, peak)}</div>"
        )


class Explanations(list):
    """A list of :class:`Explanation`, one per document (for a multi-label
    classifier, one per document and explained label), that shows as HTML."""

    def _repr_html_(self) -> str:
        return "<hr>".join(e._repr_html_() for e in self)

    def __str__(self) -> str:
        return "\n".join(e.summary() for e in self)


def shade(score: float, peak: float) -> tuple[tuple[int, int, int], float]:
    """The colour and opacity (0 to 0.85) that show ``score`` out of ``peak``."""
    colour = _TOWARD if score > 0 else _AGAINST
    return colour, 0.85 * min(abs(score) / peak, 1.0) if peak else 0.0


def _rgba(colour, alpha: float) -> str:
    return f"rgba({colour[0]}, {colour[1]}, {colour[2]}, {alpha:.3f})"


def _shaded(token: Token, peak: float) -> str:
    text = escape(token.text)
    if not token.read:
        return f'<span style="color: #999" title="not read">{text}</span>'
    colour, alpha = shade(token.score, peak)
    return (
        f'<span style="background: {_rgba(colour, alpha)}" '
        f'title="{token.score:+.4f}">{text}</span>'
    )


def _legend(target, peak: float) -> str:
    gradient = ", ".join(
        [_rgba(_AGAINST, 0.85), _rgba(_AGAINST, 0.0), _rgba(_TOWARD, 0.85)]
    )
    return (
        '<p style="font-size: 0.85em; color: #444">'
        f"against {escape(str(target))} &minus;{peak:.3g} "
        '<span style="display: inline-block; width: 8em; height: 0.8em; '
        f'background: linear-gradient(to right, {gradient})"></span> '
        f"+{peak:.3g} toward {escape(str(target))} &nbsp; "
        '<span style="color: #999">grey: not read</span></p>'
    )


def _one_line(value) -> str:
    text = str(value)
    return " ".join(text.split()) or repr(text)
