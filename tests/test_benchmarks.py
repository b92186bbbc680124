"""The benchmark scripts run end to end on the synthetic archive."""

import json
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture
def benchmarks_on_path(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    for name in (
        "_common",
        "bench_20newsgroups",
        "bench_vectorizer",
        "bench_dask_search",
    ):
        sys.modules.pop(name, None)


def test_bench_20newsgroups_smoke(benchmarks_on_path, synthetic_archive, tmp_path):
    import bench_20newsgroups

    out = tmp_path / "runs.jsonl"
    records = bench_20newsgroups.main(
        [
            "--archive",
            str(synthetic_archive),
            "--systems",
            "tfidf_svc,seed_recipe,skglove_blog",
            "--seeds",
            "2",
            "--out",
            str(out),
        ]
    )
    assert [r["system"] for r in records] == [
        "tfidf_svc",
        "seed_recipe",
        "skglove_blog",
    ] * 2
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [line["system"] for line in lines] == [r["system"] for r in records]
    for record in records:
        assert 0 <= record["accuracy"] <= 1
        assert record["fit_s"] > 0 and record["peak_rss_mb"] > 0
    keras_rows = [r for r in records if r["system"] != "tfidf_svc"]
    assert all(r["n_epochs"] == 10 and r["epoch_s"] > 0 for r in keras_rows)


def test_bench_vectorizer_smoke(benchmarks_on_path, synthetic_archive):
    pytest.importorskip("tf_keras")
    import bench_vectorizer

    ratio, identical = bench_vectorizer.main(
        ["--archive", str(synthetic_archive), "--repeats", "1", "--max-len", "50"]
    )
    assert identical
    assert ratio > 0


def test_bench_dask_search_smoke(benchmarks_on_path, tmp_path):
    pytest.importorskip("distributed")
    import bench_dask_search

    rows, task_sizes = bench_dask_search.main(
        [
            "--archive",
            str(tmp_path / "absent.tar.gz"),  # synthetic posts
            "--n-posts",
            "40",
            "--max-len",
            "30",
            "--epochs",
            "1",
            "--cv",
            "2",
            "--backends",
            "serial,dask",
        ]
    )
    assert [row["backend"] for row in rows] == [
        "n_jobs=1",
        "dask, 2 workers x 1 thread",
    ]
    assert all(row["same scores"] == "yes" for row in rows)
    # One task per fit, each far smaller than the data it would otherwise carry.
    assert 1 <= len(task_sizes) <= 8
    assert max(task_sizes) < 64 * 1024
