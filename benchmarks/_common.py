"""Helpers shared by the benchmark scripts: the archive, parameters, peak
memory, tables."""

import argparse
import ast
import json
import os
import re
import resource
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_ARCHIVE = ROOT.parent / "shared" / "data" / "20news-bydate.tar.gz"


def find_archive(path: str | None) -> Path:
    """The 20 Newsgroups archive to use, or exit with a clear message."""
    archive = Path(path) if path else DEFAULT_ARCHIVE
    if not archive.exists():
        raise SystemExit(
            f"20news-bydate.tar.gz not found at {archive}; pass --archive PATH"
        )
    return archive


#: A comma that starts the next ``name=value``: commas inside a tuple value,
#: such as ``kernel_size=(1, 2)``, are not followed by a name and ``=``.
_NEXT_PARAM = re.compile(r",(?=\s*\w+=)")


def parse_params(text: str) -> dict:
    """Pipeline parameters from ``name=value,...``, for ``--params``.

    Each value is a Python literal (``8``, ``0.5``, ``(1, 2)``, ``None``),
    else the text as a string (``architecture=blog``). An argparse ``type``:
    a malformed item is an ``ArgumentTypeError``.
    """
    params = {}
    for item in _NEXT_PARAM.split(text.strip()) if text.strip() else []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip().isidentifier():
            raise argparse.ArgumentTypeError(
                f"expected name=value,..., got {item!r} in {text!r}"
            )
        try:
            params[name.strip()] = ast.literal_eval(value.strip())
        except (ValueError, SyntaxError):
            params[name.strip()] = value.strip()
    return params


def reset_peak_rss() -> None:
    """Reset the kernel's peak-RSS counter of this process (Linux only)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def _status_mb(field: str) -> float | None:
    """A memory field of /proc/self/status (Linux), in MB; None elsewhere."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def rss_mb() -> float:
    """Resident memory of this process now, in MB (Linux; else the peak)."""
    now = _status_mb("VmRSS")
    return peak_rss_mb() if now is None else now


def peak_rss_mb() -> float:
    """Peak resident memory of this process since the last reset, in MB."""
    peak = _status_mb("VmHWM")
    if peak is not None:
        return peak
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Timer:
    """Wall time of a block, as ``with Timer() as t: ...; t.seconds``."""

    def __enter__(self):
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self._start


def print_table(rows: list[dict], columns: list[tuple[str, str]]) -> None:
    """Print rows as a Markdown table; ``columns`` is [(key, header), ...]."""
    cells = [[str(row.get(key, "")) for key, _ in columns] for row in rows]
    headers = [header for _, header in columns]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(headers)]
    print(
        "| "
        + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
        + " |"
    )
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in cells:
        print(
            "| "
            + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True))
            + " |"
        )


def append_jsonl(path: str | os.PathLike, record: dict) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(record) + "\n")
