"""How long skglove takes to import, and what each entry point imports.

Each command runs in a fresh interpreter ``--runs`` times; the table gives the
median wall time and whether TensorFlow or scikit-learn ended up imported::

    python benchmarks/bench_import.py --runs 5

Target (issue 12): ``python -m skglove --help`` well under a second, and
``import skglove`` without TensorFlow.
"""

import argparse
import statistics
import subprocess
import sys
import time

from _common import print_table

# Each snippet ends by printing which heavy packages it imported.
_REPORT = (
    "import sys; print('imported:', "
    "*[m for m in ('tensorflow', 'sklearn') if m in sys.modules])"
)
COMMANDS = {
    "python -m skglove --help": [
        "-c",
        "import runpy, sys; sys.argv = ['skglove', '--help']\n"
        "try:\n    runpy.run_module('skglove', run_name='__main__')\n"
        "except SystemExit:\n    pass\n" + _REPORT,
    ],
    "import skglove": ["-c", "import skglove; " + _REPORT],
    "import skglove; GloveSequenceVectorizer": [
        "-c",
        "import skglove; skglove.GloveSequenceVectorizer; " + _REPORT,
    ],
    "import skglove; GloveCNNClassifier": [
        "-c",
        "import skglove; skglove.GloveCNNClassifier; " + _REPORT,
    ],
}


def _run(args: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, check=True
    )
    seconds = time.perf_counter() - start
    (report,) = [x for x in done.stdout.splitlines() if x.startswith("imported:")]
    return seconds, report.removeprefix("imported:").strip()


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    rows = []
    for name, command in COMMANDS.items():
        runs = [_run(command) for _ in range(args.runs)]
        rows.append(
            {
                "command": name,
                "median s": f"{statistics.median(s for s, _ in runs):.2f}",
                "imports": runs[0][1] or "-",
            }
        )
    print_table(
        rows,
        [
            ("command", "command"),
            ("median s", "median wall s"),
            ("imports", "heavy imports"),
        ],
    )
    return rows


if __name__ == "__main__":
    main()
