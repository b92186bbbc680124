"""What the first lines of a text source say, and how its lines are split.

:class:`_Format` sniffs the head of a source: a word2vec ``count dim`` header
or not, the dimension (the most common field count, so that a spaced token on
the first line does not set it), and fastText's trailing spaces.
:func:`_split_line` splits one line from the right, so a token with spaces
(as in glove.840B) stays whole; every parser falls back on it.
"""

import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

__all__: list[str] = []

#: Bytes read at a time by the Python parsers, and sniffed for the format.
_BLOCK_BYTES = 1 << 18
#: A trailing piece like this in a spaced token means an extra value.
_NUMBER = re.compile(rb"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


class _Format:
    """What the first lines of a source say about the rest."""

    def __init__(self, raw: BinaryIO, label: str, size: int) -> None:
        head = raw.read(_BLOCK_BYTES)
        while b"\n" not in head and (more := raw.read(_BLOCK_BYTES)):
            head += more
        lines = head.splitlines(keepends=True)
        if not head.endswith((b"\n", b"\r")):
            lines = lines[:-1] or lines  # the last line may be cut short
        fields = lines[0].split() if lines else []
        self.first_line = 1
        if len(fields) == 2 and all(f.isdigit() for f in fields):
            # word2vec's "count dim", unless it is a 1-d GloVe row like "1990 5".
            dim = int(fields[1])
            second = lines[1].rstrip(b"\r\n ").split(b" ") if len(lines) > 1 else []
            if dim > 0 and (not second or len(second) > dim):
                head = head[len(lines[0]) :]
                lines = lines[1:]
                self.first_line = 2
            else:
                dim = None
        else:
            dim = None
        sample = [line.rstrip(b"\r\n") for line in lines[:100]]
        sample = [line for line in sample if line.strip()]
        if not sample:
            raise ValueError(f"{label} holds no word vectors (empty file)")
        if dim is None:
            # The most common field count, so that a first line with a
            # spaced token (glove.840B) does not set the dimension.
            counts = Counter(len(line.rstrip(b" ").split(b" ")) for line in sample)
            dim = counts.most_common(1)[0][0] - 1
        if dim < 1:
            raise ValueError(
                f"{label}, line {self.first_line}: expected a word followed by "
                "its vector values"
            )
        self.dim = dim
        self.head = head
        #: About how many lines the source has; a generous guess is harmless.
        self.n_lines = int(1.05 * size * len(lines) / max(1, len(head))) + 1024
        # fastText's .vec files end every line with a space.
        self.trailing_space = all(line.endswith(b" ") for line in sample)


class _Retry(Exception):
    """The current parser cannot handle this source; try the next one."""


def _line_blocks(
    raw: BinaryIO, head: bytes, size: int = _BLOCK_BYTES
) -> Iterator[bytes]:
    """``head`` and the rest of ``raw`` in blocks of about ``size`` bytes that
    end at a line end."""
    rest = head
    while chunk := raw.read(size):
        data = rest + chunk
        cut = data.rfind(b"\n") + 1
        # Cutting after "\n" never separates the two bytes of "\r\n".
        rest = data[cut:]
        if cut:
            yield data[:cut]
    if rest:
        yield rest


def _split_line(line: bytes, dim: int, label: str, lineno: int):
    """``(word, values)`` of one line split from the right; None if blank.

    ``values`` is the text of the ``dim`` values, separated by single spaces.
    """
    line = line.rstrip(b" \r\n")
    word, _, values = line.partition(b" ")
    if values.count(b" ") == dim - 1 and word:
        return word, values  # the common case, without splitting every value
    if not line.strip():
        return None
    parts = line.rsplit(b" ", dim)
    word = parts[0]
    if len(parts) == dim + 1 and not word:
        raise ValueError(f"{label}, line {lineno}: the line has no word")
    # A spaced word ending in a number is more likely an extra value.
    if len(parts) != dim + 1 or (
        b" " in word and _NUMBER.fullmatch(word.rsplit(b" ", 1)[1])
    ):
        raise ValueError(
            f"{label}, line {lineno}: expected a word and {dim} values "
            f"(the dimension of the first lines), found "
            f"{len(line.split(b' ')) - 1} values"
        )
    return word, line[len(word) + 1 :]


def _progress(items: Iterable, fmt: _Format, label: str, n_lines: Callable):
    """Yield ``items``; a tqdm bar counts their lines once a second has passed."""
    from tqdm import tqdm  # lazily: most loads end before a bar would show

    with tqdm(
        total=fmt.n_lines,  # an estimate, so the bar is removed when done
        desc=f"parsing {Path(label).name}",
        unit=" lines",
        unit_scale=True,
        delay=1.0,
        leave=False,
    ) as bar:
        for item in items:
            yield item
            bar.update(n_lines(item))
