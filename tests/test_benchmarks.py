"""The benchmark scripts run end to end on the synthetic archive."""

import json
import statistics
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import make_posts

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
        "bench_scaling",
        "bench_export",
        "profile_fit",
    ):
        sys.modules.pop(name, None)


#: Small networks on the tiny GloVe: the smoke runs take seconds. The blog's
#: three convolutions and poolings of 5 need sequences of 149 ids or more.
_SMOKE_EPOCHS = 2
_SMOKE_PARAMS = f"epochs={_SMOKE_EPOCHS},filters=4,max_len=150"


def test_bench_20newsgroups_smoke(
    benchmarks_on_path, synthetic_archive, tiny_glove, tmp_path, capsys
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
            "--glove",
            tiny_glove,
            "--params",
            _SMOKE_PARAMS,
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
    # --params reach the skglove systems, and the blog's code takes epochs.
    blog_rows = [r for r in records if r["system"] in ("seed_recipe", "skglove_blog")]
    assert all(r["n_epochs"] == _SMOKE_EPOCHS and r["epoch_s"] > 0 for r in blog_rows)
    assert all(
        line["params"] == {"epochs": "2", "filters": "4", "max_len": "150"}
        for line in lines
    )
    for record in records:
        if record["system"] == "skglove":
            # Early stopping can end the run before the last epoch.
            assert 1 <= record["n_epochs"] <= _SMOKE_EPOCHS
            assert 0 <= record["lexical_accuracy"] <= 1
            assert 0 <= record["glove_accuracy"] <= 1
            assert record["lexical_weight"] >= 0
    printed = capsys.readouterr().out
    for task in ("subjects", "full"):
        assert f"{task}: skglove" in printed
        assert (
            f"{task}: skglove {{:.3f}} vs tfidf_svc".format(
                statistics.mean(
                    r["accuracy"]
                    for r in records
                    if r["task"] == task and r["system"] == "skglove"
                )
            )
            in printed
        )
    assert "full: fit" in printed and "full: predict" in printed
    assert "x TF-IDF + LinearSVC's in the same run, target <= 8x" in printed
    assert "subjects: fit" not in printed  # no fit-time target for subjects
    assert "epoch time, skglove_blog / seed_recipe" in printed


def _write_clinc150(path: Path) -> Path:
    """A tiny data_full.json as CLINC150 lays it out: [text, intent] pairs,
    intent by intent, and out-of-scope queries the benchmark leaves out."""
    data = {}
    for subset, seed in (("train", 0), ("val", 1), ("test", 2)):
        docs, labels = make_posts(n_per_class=8, seed=seed, length=8)
        order = sorted(range(len(docs)), key=lambda i: labels[i])
        data[subset] = [[docs[i], str(labels[i])] for i in order]
        data[f"oos_{subset}"] = [["play some music", "oos"]] * 3
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_bench_20newsgroups_clinc150_smoke(
    benchmarks_on_path, tiny_glove, tmp_path, capsys
):
    import bench_20newsgroups

    clinc = _write_clinc150(tmp_path / "data_full.json")
    (X_train, y_train), (X_test, y_test) = bench_20newsgroups._clinc150(clinc)
    assert len(X_train) == len(y_train) == 24 and len(X_test) == 24
    assert "oos" not in set(y_train) | set(y_test)
    # A subsample holds every intent, though the file lists them in order.
    (_, y_few), _ = bench_20newsgroups._clinc150(clinc, max_train=9)
    assert len(y_few) == 9 and set(y_few) == set(y_train)

    systems = ["tfidf_svc", "tfidf12_svc", "skglove"]
    records = bench_20newsgroups.main(
        [
            "--archive",
            str(tmp_path / "absent.tar.gz"),  # not needed for CLINC150 alone
            "--clinc",
            str(clinc),
            "--tasks",
            "clinc150",
            "--systems",
            ",".join(systems),
            "--glove",
            tiny_glove,
            "--params",
            "epochs=2,filters=4,kernel_size=(1, 2)",
            "--out",
            str(tmp_path / "runs.jsonl"),
        ]
    )
    assert [(r["task"], r["system"]) for r in records] == [
        ("clinc150", name) for name in systems
    ]
    assert all(r["n_train"] == 24 and r["n_test"] == 24 for r in records)
    assert all(0 <= r["accuracy"] <= 1 for r in records)
    printed = capsys.readouterr().out
    assert "CLINC150, task clinc150: 24 train, 24 test documents" in printed
    assert "clinc150: skglove" in printed and "target >= 0.95" in printed
    assert all(0 <= r["oos_rejected"] <= 1 for r in records)
    assert "out-of-scope queries rejected, keeping 95% of in-scope val: " in printed
    assert "vs tfidf12_svc" in printed
    assert "clinc150: fit" in printed and "target <= 8 s" in printed
    assert "target <= 8x" in printed
    assert "clinc150: predict" not in printed


def test_out_of_scope_rejection_keeps_95_percent_of_in_scope(benchmarks_on_path):
    import bench_20newsgroups

    class Scores:
        """Top scores of 0.00, 0.01, ... 0.99 for in-scope queries."""

        def decision_function(self, texts):
            return np.array([[float(t), 0.0] for t in texts])

    in_scope = [str(i / 100) for i in range(100)]
    # The threshold keeps 95 of the 100 in-scope queries: 0.05 and above;
    # with 10 of them, it keeps all 10 (not 9: at least 95%).
    out_of_scope = ["0.01", "0.04", "0.05", "0.5", "-1"]
    rejected = bench_20newsgroups.out_of_scope_rejected(
        Scores(), in_scope, out_of_scope
    )
    assert rejected == 3 / 5
    ten = in_scope[::10]
    assert bench_20newsgroups.out_of_scope_rejected(Scores(), ten, ["0.0"]) == 0
    with pytest.raises(ValueError, match="queries of both kinds"):
        bench_20newsgroups.out_of_scope_rejected(Scores(), [], ["0.1"])
    # Probabilities, where a model has them, rather than decision values.
    Scores.predict_proba = lambda self, texts: np.array(
        [[1 - float(t), 0.0] for t in texts]
    )
    assert (
        bench_20newsgroups.out_of_scope_rejected(Scores(), in_scope, ["0.97", "0.9"])
        == 1 / 2
    )


def test_bench_params_parse_python_literals(benchmarks_on_path):
    import argparse

    from _common import parse_params

    assert parse_params("") == {}
    assert parse_params("epochs=2, kernel_size=(1, 2),architecture=blog") == {
        "epochs": 2,
        "kernel_size": (1, 2),
        "architecture": "blog",
    }
    assert parse_params("learning_rate=None,dropout=0.25") == {
        "learning_rate": None,
        "dropout": 0.25,
    }
    with pytest.raises(argparse.ArgumentTypeError, match="name=value"):
        parse_params("epochs")


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
            # One candidate: the smoke test checks that the Dask run gives
            # the serial run's scores in one task per fit, whatever the grid.
            "--filters",
            "2",
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
    # One task per fit (2 folds x 1 candidate), each far smaller than the data
    # it would otherwise carry.
    assert 1 <= len(task_sizes) <= 2
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


_SCALING_COLUMNS = {
    "fit_s",
    "epoch_s",
    "other_s",
    "rss_before_mb",
    "peak_rss_mb",
    "vec_peak_rss_mb",
    "x_mb",
    "x_bytes_per_post",
}


def test_bench_scaling_smoke(benchmarks_on_path, synthetic_archive, tiny_glove, capsys):
    import bench_scaling

    rows = bench_scaling.main(
        [
            "--archive",
            str(synthetic_archive),
            "--in-process",
            "--factors",
            "1,2",
            "--synthetic",
            "200",
            "--epochs",
            "1",
            "--params",
            "filters=4,max_len=40",
            "--glove",
            tiny_glove,
        ]
    )
    # The synthetic archive holds 60 train posts.
    assert [(r["name"], r["posts"]) for r in rows] == [
        ("20news 1x", 60),
        ("20news 2x", 120),
        ("synthetic 20w", 200),
    ]
    for row in rows:
        assert "error" not in row
        assert row["epochs"] == 1
        assert all(row[key] > 0 for key in _SCALING_COLUMNS), row
        assert row["peak_rss_mb"] >= row["rss_before_mb"] - 1
    # Ragged ids: at most max_len ids of 4 bytes, plus an 8-byte offset.
    assert all(r["x_bytes_per_post"] <= 40 * 4 + 8 for r in rows)
    assert rows[2]["x_bytes_per_post"] == pytest.approx(20 * 4 + 8, abs=1)
    assert "kb_per_post" not in rows[0]
    assert rows[1]["kb_per_post_from"] == "20news 1x"
    printed = capsys.readouterr().out
    assert printed.startswith("command: python benchmarks/bench_scaling.py --archive")
    assert "cores, load average" in printed
    assert "| corpus" in printed and "KB/added post" in printed
    assert "KB per added post, target <= 3 KB (set for 1x to 8x)" in printed
    assert "synthetic: 200 documents, 1 epoch(s)" in printed


def test_bench_scaling_synthetic_corpus(benchmarks_on_path, tiny_glove):
    import bench_scaling

    docs, labels = bench_scaling.synthetic_corpus(tiny_glove, 50, chunk=16)
    assert bench_scaling.synthetic_corpus(tiny_glove, 50, chunk=16)[0] == docs
    assert len(docs) == len(labels) == 50
    assert all(len(doc.split()) == 20 for doc in docs)
    assert set(labels) <= set(range(20))


def test_bench_scaling_vectorizer_in_children(
    benchmarks_on_path, synthetic_archive, tiny_glove, capsys
):
    import bench_scaling

    rows = bench_scaling.main(
        [
            "--archive",
            str(synthetic_archive),
            "--no-fit",
            "--factors",
            "1,3",
            "--synthetic",
            "0",
            "--params",
            "max_len=40",
            "--glove",
            tiny_glove,
        ]
    )
    assert [(r["name"], r["posts"]) for r in rows] == [
        ("20news 1x", 60),
        ("20news 3x", 180),
    ]
    for row in rows:
        assert "error" not in row and "fit_s" not in row
        assert row["vec_peak_rss_mb"] >= row["vec_rss_before_mb"] > 0
        assert row["x_mb"] > 0
    assert rows[1]["x_mb"] == pytest.approx(3 * rows[0]["x_mb"], rel=0.01)
    printed = capsys.readouterr().out
    assert "each in a fresh process" in printed
    assert "failed" not in printed


def test_profile_fit_smoke(benchmarks_on_path, synthetic_archive, tiny_glove, capsys):
    import profile_fit

    result = profile_fit.main(
        [
            "--archive",
            str(synthetic_archive),
            "--glove",
            tiny_glove,
            "--params",
            "filters=4,max_len=40,epochs=2,early_stopping=False",
            "--steps",
        ]
    )
    # The epoch timer ran once per epoch, and the step's parts were timed.
    assert len(result["epoch_s"]) == 2 and all(s > 0 for s in result["epoch_s"])
    assert result["fit_s"] > sum(result["epoch_s"]) > 0
    assert result["mix_s"] > 0
    assert set(result["step_ms"]) == {
        "forward",
        "forward and backward",
        "train_on_batch",
    }
    assert all(ms > 0 for ms in result["step_ms"].values())
    printed = capsys.readouterr().out
    assert "epochs: " in printed and "train_on_batch:" in printed


@pytest.fixture
def bench_goemotions(benchmarks_on_path):
    """The GoEmotions benchmark's module, imported afresh."""
    sys.modules.pop("bench_goemotions", None)
    import bench_goemotions

    yield bench_goemotions
    sys.modules.pop("bench_goemotions", None)


def _f1(on, truth):
    tp = np.sum(on & truth)
    return 2 * tp / (on.sum() + truth.sum()) if on.sum() + truth.sum() else 0.0


def test_goemotions_tune_thresholds_by_hand(bench_goemotions):
    scores = np.array(
        [
            # separable, tied scores, an F1 tie, no positive, all equal x 2
            [0.9, 0.9, 0.9, 0.9, 0.3, 0.3],
            [0.8, 0.7, 0.6, 0.8, 0.3, 0.3],
            [0.3, 0.7, 0.4, 0.3, 0.3, 0.3],
            [0.1, 0.2, 0.1, 0.1, 0.3, 0.3],
        ]
    )
    Y = np.array(
        [
            [1, 1, 1, 0, 1, 0],
            [1, 1, 0, 0, 0, 0],
            [0, 0, 0, 0, 1, 0],
            [0, 0, 1, 0, 0, 0],
        ]
    )
    t = bench_goemotions.tune_thresholds(scores, Y, default=0.5)
    assert t.shape == (6,) and t.dtype == np.float64
    # Label 0: the midpoint between 0.8 and 0.3 separates the classes.
    assert t[0] == pytest.approx(0.55)
    # Label 1: no cut between the two 0.7s (one on, one off); the best is
    # all three above 0.2 on, F1 4/5, over 0.9 alone (2/3) or all (2/3).
    assert t[1] == pytest.approx(0.45)
    # Label 2: 0.9 alone and all four both reach F1 2/3; the higher wins.
    assert t[2] == pytest.approx(0.75)
    # Label 3: no positive keeps the default.
    assert t[3] == 0.5
    # Label 4: every score equal, with positives: all on (F1 2/3, not 0).
    assert t[4] < 0.3 and (scores[:, 4] > t[4]).all()
    # Label 5: every score equal, without positives: the default.
    assert t[5] == 0.5
    assert bench_goemotions.tune_thresholds(scores, Y, default=0.0)[3] == 0.0
    on = bench_goemotions.apply_thresholds(scores, t)
    assert on.tolist() == [
        [1, 1, 1, 1, 1, 0],
        [1, 1, 0, 1, 1, 0],
        [0, 1, 0, 0, 1, 0],
        [0, 0, 0, 0, 1, 0],
    ]
    with pytest.raises(ValueError, match="same shape"):
        bench_goemotions.tune_thresholds(scores, Y[:, :3])


def test_goemotions_tune_thresholds_matches_brute_force(bench_goemotions):
    rng = np.random.default_rng(0)
    # Few distinct scores: many ties. Decision values, negative ones too.
    scores = rng.integers(-4, 5, size=(60, 12)) / 2
    Y = (rng.random((60, 12)) < 0.2).astype(np.int8)
    Y[:, 0] = 0
    t = bench_goemotions.tune_thresholds(scores, Y, default=0.0)
    assert t[0] == 0.0
    for label in range(1, 12):
        s, truth = scores[:, label], Y[:, label] == 1
        values = np.unique(s)
        candidates = [values[0] - 1, *((values[:-1] + values[1:]) / 2)]
        best = max(_f1(s > c, truth) for c in candidates)
        assert _f1(s > t[label], truth) == pytest.approx(best)
        # The highest of the best thresholds: the same rows on.
        highest = max(c for c in candidates if _f1(s > c, truth) == best)
        assert ((s > t[label]) == (s > highest)).all()


def test_goemotions_f1_scores(bench_goemotions):
    Y_true = np.array([[1, 0, 0], [1, 1, 0]])
    Y_pred = np.array([[1, 0, 0], [0, 1, 0]])
    macro, micro = bench_goemotions.f1_scores(Y_true, Y_pred)
    # Label 0: F1 2/3; label 1: 1; label 2: no positive, none predicted, 0.
    assert macro == pytest.approx((2 / 3 + 1 + 0) / 3)
    assert micro == pytest.approx(2 * 2 / (2 + 3))


def _write_goemotions(path: Path, train: str) -> Path:
    path.mkdir()
    (path / "labels.txt").write_text("joy\nanger\nneutral", encoding="utf-8")
    (path / "train.tsv").write_text(train, encoding="utf-8")
    for split in ("dev", "test"):
        (path / f"{split}.tsv").write_text("so happy\t0\tc9\n", encoding="utf-8")
    return path


def test_goemotions_loader(bench_goemotions, tmp_path):
    data_dir = _write_goemotions(
        tmp_path / "goemotions",
        'He said "great"\t0,2\ta1\nugh, what\t1\ta2\n"quoted\t2,1,0\ta3\n',
    )
    data = bench_goemotions.load_goemotions(bench_goemotions.find_data(data_dir))
    assert data["names"] == ["joy", "anger", "neutral"]
    train = data["train"]
    # Quotes are text, not CSV quoting; a comma inside the text stays.
    assert train["texts"] == ['He said "great"', "ugh, what", '"quoted']
    assert train["labels"] == [[0, 2], [1], [2, 1, 0]]
    assert train["Y"].tolist() == [[1, 0, 1], [0, 1, 0], [1, 1, 1]]
    assert data["test"]["Y"].tolist() == [[1, 0, 0]]
    first = bench_goemotions.load_goemotions(data_dir, limit=2)["train"]
    assert first["texts"] == train["texts"][:2] and first["Y"].shape == (2, 3)


def test_goemotions_loader_refuses_malformed_rows(bench_goemotions, tmp_path):
    bad = _write_goemotions(tmp_path / "bad", "fine\t0\ta1\ntab\tin text\t1\ta2\n")
    with pytest.raises(ValueError, match=r"train\.tsv, line 2: expected 3"):
        bench_goemotions.load_goemotions(bad)
    short = _write_goemotions(tmp_path / "short", "fine\t0\ta1\nno labels\n")
    with pytest.raises(ValueError, match=r"line 2: expected 3 .* got 1"):
        bench_goemotions.load_goemotions(short)
    unknown = _write_goemotions(tmp_path / "unknown", "fine\t0,3\ta1\n")
    with pytest.raises(ValueError, match=r"line 1: labels '0,3' .* ids in 0\.\.2"):
        bench_goemotions.load_goemotions(unknown)
    with pytest.raises(SystemExit, match="--data DIR"):
        bench_goemotions.find_data(tmp_path / "absent")


def test_goemotions_verdicts(bench_goemotions):
    def row(system, macro, fit, seed=0):
        return {
            "system": system,
            "seed": seed,
            "macro_f1": macro,
            "micro_f1": 0.5,
            "fit_s": fit,
            "peak_rss_mb": 100,
        }

    records = [
        row("tfidf, dev-tuned", 0.456, 8, seed=None),
        *(
            row(name, macro, fit, seed)
            for seed in (0, 1)
            for name, macro, fit in (
                ("skglove, threshold 0.5", 0.40, 20 + seed * 10),
                ('skglove, threshold="tuned"', 0.49, 20 + seed * 10),
                ("skglove, dev-tuned", 0.45, 20 + seed * 10),
                ("skglove multiclass (first label)", 0.30, 10),
            )
        ),
    ]
    assert bench_goemotions.fit_ratios(records) == [2.0, 3.0]
    lines = bench_goemotions.verdicts(records)
    assert "tfidf, dev-tuned: macro-F1 0.456" in lines[0]
    assert 'skglove, threshold="tuned": macro-F1 0.490, target >= 0.48: PASS' in lines
    assert "skglove, dev-tuned: macro-F1 0.450, target >= 0.48: FAIL" in lines
    assert (
        "skglove, dev-tuned: macro-F1 0.450 vs tfidf, dev-tuned 0.456 in the "
        "same run: FAIL"
    ) in lines
    assert lines[-1].endswith("(per seed: 2.00, 3.00), target <= 3x: PASS")
    assert len(bench_goemotions.summarize(records)) == 5


def test_bench_export_smoke(
    benchmarks_on_path, synthetic_archive, tiny_glove, tmp_path
):
    import bench_export

    out = tmp_path / "export.jsonl"
    argv = ["--archive", str(synthetic_archive), "--tasks", "full", "--glove"]
    argv += [tiny_glove, "--epochs", "1", "--repeats", "1", "--out", str(out)]
    full, small, onnx = bench_export.main([*argv, "--precisions", "float32,int8"])
    for record in (full, onnx):
        assert record["same_ids"] == record["same_labels"] == record["n_test"] > 0
        assert record["max_diff"] <= 1e-5
    assert full["accuracy"] == full["pipeline_accuracy"] == small["pipeline_accuracy"]
    assert onnx["accuracy"] == full["accuracy"]
    kinds = [(r["format"], r["precision"]) for r in (full, small, onnx)]
    assert kinds == [("tf_saved_model", "float32"), ("tf_saved_model", "int8"),
                     ("onnx", "float32")]  # fmt: skip
    assert small["same_ids"] == full["n_test"] and 0 < small["max_diff"] < 1e-2
    assert full["size_mb"] > 0 and full["served"] > 0 and full["pipeline"] > 0
    assert full["pipeline_per_batch"] > 0 and full["ids"] > 0
    assert full["pipeline_ids"] > 0
    assert onnx["size_mb"] > 0 and onnx["served"] > 0 and onnx["served_one_call"] > 0
    assert full["served_one_call"] > 0
    lines = out.read_text().splitlines()
    written = [(r["format"], r["precision"]) for r in map(json.loads, lines)]
    assert written == kinds


def test_goemotions_channel_scores_are_each_heads_before_the_mix(
    bench_goemotions, tiny_glove
):
    from conftest import make_tagged_posts, tiny_pipeline

    docs, Y = make_tagged_posts(60)
    pipe = tiny_pipeline(tiny_glove, epochs=1).fit(docs, Y)
    channels = bench_goemotions.channel_scores(pipe, docs[:7])
    assert list(channels) == ["lexical channel", "GloVe channel"]
    lexical, glove = channels.values()
    assert lexical.shape == glove.shape == (7, Y.shape[1])
    # The mix of the two is the pipeline's output, label by label.
    mix = pipe[-1].mix_
    logits = mix[0] * lexical + mix[1] * glove + mix[2]
    np.testing.assert_allclose(
        1 / (1 + np.exp(-logits)), pipe.predict_proba(docs[:7]), atol=1e-5
    )
    blog = tiny_pipeline(tiny_glove, epochs=1, lexical=False).fit(docs, Y)
    assert bench_goemotions.channel_scores(blog, docs[:7]) == {}
