"""The benchmark scripts run end to end on the synthetic archive."""

import json
import statistics
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
        "bench_explain",
    ):
        sys.modules.pop(name, None)


def test_bench_20newsgroups_smoke(
    benchmarks_on_path, synthetic_archive, tmp_path, capsys
):
    import bench_20newsgroups

    out = tmp_path / "runs.jsonl"
    systems = ["tfidf_svc", "skglove", "seed_recipe", "skglove_blog"]
    records = bench_20newsgroups.main(
        [
            "--archive",
            str(synthetic_archive),
            "--tasks",
            "subjects,full",
            "--systems",
            ",".join(systems),
            "--seeds",
            "1",
            "--out",
            str(out),
        ]
    )
    assert [(r["task"], r["system"]) for r in records] == [
        (task, name) for task in ("subjects", "full") for name in systems
    ]
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [line["system"] for line in lines] == [r["system"] for r in records]
    for record in records:
        assert 0 <= record["accuracy"] <= 1
        assert record["fit_s"] > 0 and record["peak_rss_mb"] > 0
    blog_rows = [r for r in records if r["system"] in ("seed_recipe", "skglove_blog")]
    assert all(r["n_epochs"] == 10 and r["epoch_s"] > 0 for r in blog_rows)
    for record in records:
        if record["system"] == "skglove":
            # Early stopping can end the run before the 15 epochs.
            assert 1 <= record["n_epochs"] <= 15
            assert 0 <= record["lexical_accuracy"] <= 1
            assert 0 <= record["glove_accuracy"] <= 1
            assert record["lexical_weight"] >= 0
    printed = capsys.readouterr().out
    for task in ("subjects", "full"):
        assert f"{task}: skglove" in printed
        assert (
            f"{task}: skglove {{:.3f}} vs TF-IDF".format(
                statistics.mean(
                    r["accuracy"]
                    for r in records
                    if r["task"] == task and r["system"] == "skglove"
                )
            )
            in printed
        )
    assert "full: fit" in printed and "full: predict" in printed
    assert "epoch time, skglove_blog / seed_recipe" in printed


def test_bench_vectorizer_smoke(benchmarks_on_path, synthetic_archive):
    pytest.importorskip("tf_keras")
    import bench_vectorizer

    ratio, identical = bench_vectorizer.main(
        ["--archive", str(synthetic_archive), "--repeats", "1", "--max-len", "50"]
    )
    assert identical
    assert ratio > 0


def test_bench_import_smoke(benchmarks_on_path):
    import bench_import

    rows = {
        row["command"]: row["imports"] for row in bench_import.main(["--runs", "1"])
    }
    assert rows["python -m skglove --help"] == "-"
    assert rows["import skglove"] == "-"
    assert "tensorflow" in rows["import skglove; GloveCNNClassifier"]


def test_bench_dask_search_smoke(
    benchmarks_on_path, tmp_path, tiny_glove, dask_cluster
):
    import bench_dask_search

    rows, task_sizes = bench_dask_search.main(
        [
            "--archive",
            str(tmp_path / "absent.tar.gz"),  # synthetic posts
            "--glove",
            tiny_glove,
            "--n-posts",
            "40",
            "--max-len",
            "30",
            "--epochs",
            "1",
            "--cv",
            "2",
            "--filters",
            "2,4",
            "--dropouts",
            "0.5",
            "--backends",
            "serial,dask",
        ],
        cluster=dask_cluster,
    )
    assert [row["backend"] for row in rows] == [
        "n_jobs=1",
        "dask, 2 workers x 1 thread",
    ]
    assert all(row["same scores"] == "yes" for row in rows)
    # One task per fit, each far smaller than the data it would otherwise carry.
    assert 1 <= len(task_sizes) <= 4
    assert max(task_sizes) < 64 * 1024


def test_bench_explain_smoke(benchmarks_on_path, synthetic_archive, tiny_glove, capsys):
    import bench_explain

    results = bench_explain.main(
        [
            "--archive",
            str(synthetic_archive),
            "--glove",
            tiny_glove,
            "--tasks",
            "stripped",
            "--repeats",
            "1",
            "--params",
            "epochs=3,filters=8,max_len=40",
        ]
    )
    out = capsys.readouterr().out
    curve = results["stripped"]["curve"]
    assert [row["k"] for row in curve] == [1, 3, 5, 10]
    assert "| k  | top-k fall |" in out and "ratio" in out
    assert [row["posts"] for row in results["stripped"]["speed"]] == [
        "60 first",
        "60 longest",
    ]
