"""The ``python -m skglove`` command line.

Each subprocess imports TensorFlow, which takes seconds, so two commands run
as real processes (``train``, and ``predict`` reading stdin); the other cases
call ``skglove._cli.main``, which ``python -m skglove`` exits with, in this
process.
"""

import contextlib
import csv
import io
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import COMMON, TINY_NET, TOPICS, make_posts, make_tagged_posts

from skglove._cli import main

#: The tiny network of the other tests, as ``train`` options.
TINY_PARAMS = ["--params", json.dumps(TINY_NET), "--max-len", "30", "--verbose", "0"]


def _run(*args, stdin=""):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run(
        [sys.executable, "-m", "skglove", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


@pytest.fixture(scope="module")
def posts_csv(tmp_path_factory):
    docs, labels = make_posts(n_per_class=20)
    path = tmp_path_factory.mktemp("cli") / "posts.csv"
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["body", "topic"])
        writer.writerows(zip(docs, labels, strict=True))
    return path


@pytest.fixture(scope="module")
def csv_model(posts_csv, tiny_glove):
    """A model trained by ``python -m skglove train`` on the CSV."""
    model = posts_csv.with_name("model.skglove")
    result = _run(
        "train",
        "--data",
        str(posts_csv),
        "--text-column",
        "body",
        "--label-column",
        "topic",
        "--glove",
        tiny_glove,
        "--out",
        str(model),
        *TINY_PARAMS,
    )
    assert result.returncode == 0, result.stderr
    assert f"trained on 60 documents of 3 classes; saved to {model}" in result.stdout
    # Progress is logged to stderr: the GloVe source, vocabulary and fit.
    assert "kept" in result.stderr and "fitted" in result.stderr
    return model


def test_csv_round_trip(csv_model, posts_csv, tiny_glove, capsys):
    docs, _ = make_posts(n_per_class=2, seed=5)
    result = _run("predict", str(csv_model), stdin="\n".join(docs) + "\n\n")
    assert result.returncode == 0, result.stderr
    labels = result.stdout.splitlines()
    # One label per input line, the empty last line included.
    assert len(labels) == len(docs) + 1
    assert set(labels) <= {"cars", "med", "space"}

    status = main(
        [
            "evaluate",
            str(csv_model),
            "--data",
            str(posts_csv),
            "--text-column",
            "body",
            "--label-column",
            "topic",
        ]
    )
    out = capsys.readouterr().out
    assert status == 0
    assert "precision" in out and "accuracy: " in out and "on 60 documents" in out

    assert main(["info", str(csv_model)]) == 0
    out = capsys.readouterr().out
    assert f"GloVe source: {tiny_glove} (dimension 8)" in out
    assert "classes (3): cars, med, space" in out
    assert "glovesequencevectorizer__max_len = 30" in out
    assert "tensorflow:" in out and "scikit-learn:" in out


def test_errors_go_to_stderr_without_traceback(posts_csv, csv_model, capsys):
    cases = [
        (["predict", str(posts_csv)], "skglove predict: error: "),
        (["info", str(posts_csv)], "is not a skglove archive"),
        (["info", str(posts_csv.with_name("missing.skglove"))], "no model file"),
        (["evaluate", str(csv_model), "--data", str(posts_csv)], "no column 'text'"),
        (
            ["train", "--data", str(posts_csv), "--out", "x", "--params", '{"x": 1}'],
            "unexpected keyword argument 'x'",
        ),
        (
            ["train", "--data", str(posts_csv.with_name("no.csv")), "--out", "x"],
            "no data at",
        ),
    ]
    for argv, message in cases:
        assert main(argv) == 1, argv
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err, err
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--data", str(posts_csv), "--out", "x", "--params", "{"])
    assert exit_info.value.code == 2
    assert "not valid JSON" in capsys.readouterr().err


def test_archive_round_trip_in_process(
    synthetic_archive, tiny_glove, tmp_path, capsys, monkeypatch
):
    model = tmp_path / "news.skglove"
    argv = ["--data", str(synthetic_archive), "--glove", tiny_glove]
    assert main(["train", *argv, "--out", str(model), *TINY_PARAMS]) == 0
    assert "trained on 60 documents of 3 classes" in capsys.readouterr().out

    assert main(["evaluate", str(model), "--data", str(synthetic_archive)]) == 0
    assert "on 60 documents" in capsys.readouterr().out  # the test split

    docs, _ = make_posts(n_per_class=1, seed=3)
    stdin = io.TextIOWrapper(io.BytesIO("\n".join(docs).encode()), encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", stdin)
    assert main(["predict", str(model)]) == 0
    assert len(capsys.readouterr().out.splitlines()) == len(docs)


def test_predict_explain_prints_the_top_words(csv_model, tmp_path, capsys):
    from skglove import explain, load

    # CRLF endings, and a separator that str.splitlines would split at.
    docs = [
        "The rocket reached orbit, then the moon.",
        "blorpt fnord",
        "moon\x1crocket",
    ]
    path = tmp_path / "docs.txt"
    path.write_bytes("\r\n".join(docs).encode() + b"\r\n")
    command = ["predict", str(csv_model), "--input", str(path), "--explain"]
    assert main([*command, "--top", "2"]) == 0
    rows = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
    expected = explain(load(csv_model), docs, top=2)
    assert rows == [[e.label, f"{e.probability:.3f}", e.top_text()] for e in expected]
    words = [item.rsplit(" ", 1)[0] for item in rows[0][2].split(", ")]
    assert len(words) == 2 and set(words) <= {t.text for t in expected[0].tokens}
    assert rows[1][2].startswith("no token was read")

    assert main([*command, "--top", "-1"]) == 1
    assert "top must be an int >= 0" in capsys.readouterr().err


def test_real_archive_round_trip(real_archive, tmp_path, capsys, monkeypatch):
    model = tmp_path / "news.skglove"
    train = ["train", "--data", str(real_archive), "--out", str(model)]
    options = ["--max-train", "300", "--epochs", "1", "--max-len", "200"]
    assert main([*train, *options, "--verbose", "0"]) == 0
    assert "trained on 300 documents of 20 classes" in capsys.readouterr().out

    evaluate = ["evaluate", str(model), "--data", str(real_archive)]
    assert main([*evaluate, "--max-test", "200"]) == 0
    out = capsys.readouterr().out
    assert "sci.space" in out and "accuracy: " in out and "on 200 documents" in out

    texts = "The shuttle reached orbit.\nMy hard drive needs a new controller.\n"
    stdin = io.TextIOWrapper(io.BytesIO(texts.encode()), encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", stdin)
    assert main(["predict", str(model)]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 2


# --- Multi-label CSVs: several labels per row, joined by a separator.

#: A network that learns the tags in a few seconds: windows (1, 2), the
#: lexical channel, thresholds tuned on a validation split.
TAGGED_PARAMS = [
    "--params",
    json.dumps({**TINY_NET, "kernel_size": None, "dense_units": 0}),
    "--epochs",
    "8",
    "--validation-split",
    "0.25",
    "--max-len",
    "30",
    "--verbose",
    "0",
]


def _tagged_rows(n_posts, seed, separator=";"):
    """Posts of one or two topics, each tagged with its topics (with stray
    spaces and a doubled separator), and a few posts of common words only,
    with an empty label cell: no label."""
    docs, Y = make_tagged_posts(n_posts, seed=seed)
    names = list(TOPICS)
    rows = []
    for i, (doc, tags) in enumerate(zip(docs, Y, strict=True)):
        labels = [names[j] for j in np.flatnonzero(tags)]
        glue = f" {separator} " if i % 3 else separator * 2
        rows.append((doc, glue.join(labels)))
    rng = np.random.default_rng(seed)
    rows += [(" ".join(rng.choice(COMMON, 12)), "") for _ in range(n_posts // 10)]
    return rows


def _write_csv(path, rows, header=("text", "tags"), delimiter=","):
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture(scope="module")
def tagged_csvs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tagged")
    train = _write_csv(folder / "train.csv", _tagged_rows(240, seed=0))
    test = _write_csv(folder / "test.csv", _tagged_rows(90, seed=1))
    return train, test


@pytest.fixture(scope="module")
def tagged_model(tagged_csvs, tiny_glove):
    """A multi-label model trained in this process by ``train``."""
    train, _ = tagged_csvs
    model = train.with_name("tagged.skglove")
    argv = ["train", "--data", str(train), "--label-column", "tags"]
    argv += ["--glove", tiny_glove, "--out", str(model), "--threshold", "tuned"]
    with contextlib.redirect_stdout(io.StringIO()) as out:
        assert main([*argv, *TAGGED_PARAMS]) == 0
    assert f"trained on 264 documents of 3 labels (multi-label); saved to {model}" in (
        out.getvalue()
    )
    return model


def _stdin(monkeypatch, lines):
    data = ("\n".join(lines) + "\n").encode()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))


def test_multilabel_csv_round_trip(tagged_model, tagged_csvs, capsys, monkeypatch):
    from skglove import load

    pipe = load(tagged_model)
    assert pipe[-1].label_names == ["cars", "med", "space"]
    docs, Y = make_tagged_posts(60, seed=2)
    _stdin(monkeypatch, [*docs, "", "the of and a"])
    assert main(["predict", str(tagged_model)]) == 0
    printed = capsys.readouterr().out.split("\n")
    # One line per input line, the empty document included; the last is the
    # final newline's.
    assert len(printed) == len(docs) + 3 and printed[-1] == ""
    expected = [
        ";".join(np.asarray(["cars", "med", "space"])[np.flatnonzero(row)])
        for row in pipe.predict([*docs, "", "the of and a"])
    ]
    assert printed[:-1] == expected
    # Every predicted label is printed: the two-topic posts get both.
    truth = [";".join(np.asarray(list(TOPICS))[np.flatnonzero(r)]) for r in Y]
    assert np.mean([p == t for p, t in zip(printed, truth, strict=False)]) > 0.8
    assert sum(line.count(";") == 1 for line in printed) > 20
    # Common words only: no label, an empty line.
    assert printed[-2] == ""

    _, test = tagged_csvs
    argv = ["evaluate", str(tagged_model), "--data", str(test)]
    assert main([*argv, "--label-column", "tags"]) == 0
    out = capsys.readouterr().out
    for name in ("cars", "med", "space", "micro avg", "samples avg"):
        assert name in out
    micro = float(out.split("micro F1: ")[1].split()[0])
    assert micro > 0.85 and "macro F1: " in out
    assert "subset accuracy: " in out and "on 99 documents" in out

    assert main(["info", str(tagged_model)]) == 0
    out = capsys.readouterr().out
    assert "labels (3, multi-label): cars, med, space" in out
    thresholds = out.split("thresholds (threshold='tuned'): ")[1].splitlines()[0]
    assert [t.split()[0] for t in thresholds.split(", ")] == ["cars", "med", "space"]
    assert "glovecnnclassifier__label_names = ['cars', 'med', 'space']" in out


def test_multilabel_predict_explain(tagged_model, tmp_path, capsys):
    from skglove import load

    docs = [
        "the rocket and the doctor",
        "the of and a",
        "a car on the road to the moon",
    ]
    path = tmp_path / "docs.txt"
    path.write_text("\n".join(docs) + "\n", encoding="utf-8")
    command = ["predict", str(tagged_model), "--input", str(path)]
    assert main(command) == 0
    labels = [line.split(";") for line in capsys.readouterr().out.splitlines()]
    assert main([*command, "--explain", "--top", "2"]) == 0
    rows = capsys.readouterr().out.split("\n")[:-1]
    assert len(rows) == len(docs)
    explained = [row.split("\t") if row else [] for row in rows]
    # Each predicted label in turn: its name, probability and top words.
    assert [row[::3] for row in explained] == [
        [] if label == [""] else label for label in labels
    ]
    proba = load(tagged_model).predict_proba(docs)
    names = ["cars", "med", "space"]
    for row, p in zip(explained, proba, strict=True):
        for name, probability in zip(row[::3], row[1::3], strict=True):
            assert probability == f"{p[names.index(name)]:.3f}"
    assert sorted(explained[0][::3]) == ["med", "space"]


def test_label_separator_option(tagged_csvs, tiny_glove, tmp_path, capsys):
    rows = _tagged_rows(60, seed=3, separator="|")
    data = _write_csv(tmp_path / "tags.tsv", rows, delimiter="\t")
    model = tmp_path / "bars.skglove"
    argv = ["train", "--data", str(data), "--label-column", "tags"]
    argv += ["--glove", tiny_glove, "--out", str(model), *TINY_PARAMS]
    assert main([*argv, "--label-separator", "|"]) == 0
    assert "documents of 3 labels (multi-label)" in capsys.readouterr().out

    path = tmp_path / "docs.txt"
    path.write_text("rocket moon doctor nurse\n", encoding="utf-8")
    command = ["predict", str(model), "--input", str(path)]
    assert main([*command, "--label-separator", " | "]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    assert set(line.split(" | ")) <= {"", "cars", "med", "space"}

    # Without the option, no cell holds ';': one label per row, the cells
    # whole, so the empty cells of the posts without a label are refused.
    assert main(argv) == 1
    assert "tags.tsv, line 62: empty or missing 'tags'" in capsys.readouterr().err


def test_multilabel_input_errors(
    tagged_model, tagged_csvs, posts_csv, tmp_path, capsys
):
    unknown = _write_csv(
        tmp_path / "unknown.csv",
        [("a rocket", "space"), ("a comet", "space;astro")],
        header=("text", "label"),
    )
    single = _write_csv(
        tmp_path / "single.csv", [("a", "x;"), ("b", "x ; ")], header=("text", "label")
    )
    cases = [
        (
            ["evaluate", str(tagged_model), "--data", str(unknown)],
            "unknown.csv, line 3: 'astro' is not a label of the model; its labels "
            "are: 'cars', 'med', 'space'",
        ),
        (
            [
                *("train", "--data", str(posts_csv), "--label-column", "topic"),
                *("--text-column", "body", "--out", "x", "--threshold", "tuned"),
            ],
            "--threshold applies to multi-label data, but no label cell of",
        ),
        (
            ["train", "--data", str(single), "--out", "x"],
            "multi-label data needs at least two distinct labels",
        ),
    ]
    for argv, message in cases:
        assert main(argv) == 1, argv
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err, err
    for option, value in (("--threshold", "high"), ("--label-separator", "")):
        with pytest.raises(SystemExit) as exit_info:
            main(["train", "--data", str(single), "--out", "x", option, value])
        assert exit_info.value.code == 2
        assert option in capsys.readouterr().err


def test_export_writes_a_savedmodel_that_predicts_as_the_model(
    tagged_model, tagged_csvs, tmp_path
):
    import tensorflow as tf

    from skglove import load

    out = tmp_path / "served"
    with contextlib.redirect_stdout(io.StringIO()) as printed:
        assert main(["export", str(tagged_model), str(out)]) == 0
    assert printed.getvalue().startswith(f"exported {tagged_model} to {out} (")
    docs = [row["text"] for row in csv.DictReader(open(tagged_csvs[1]))][:20]
    serve = tf.saved_model.load(str(out)).signatures["serving_default"]
    decisions = serve(tf.constant(docs))["decisions"].numpy()
    np.testing.assert_array_equal(decisions, load(tagged_model).predict(docs))
    smaller = tmp_path / "int8"
    with contextlib.redirect_stdout(io.StringIO()) as printed:
        assert (
            main(["export", str(tagged_model), str(smaller), "--precision=int8"]) == 0
        )
    assert "(tf_saved_model, int8, " in printed.getvalue()
    loaded = tf.saved_model.load(str(smaller))
    assert "int8" in {v.dtype.name for v in loaded.network_variables}
    onnx = tmp_path / "onnx"
    with contextlib.redirect_stdout(io.StringIO()) as printed:
        assert main(["export", str(tagged_model), str(onnx), "--format=onnx"]) == 0
    assert "(onnx, float32, " in printed.getvalue()
    assert sorted(p.name for p in onnx.iterdir()) == ["model.onnx", "tokenizer.json"]
    # A second export to the same folder is refused, and the folder kept.
    with contextlib.redirect_stderr(io.StringIO()) as errors:
        assert main(["export", str(tagged_model), str(out)]) == 1
    assert "exists; export writes a new folder" in errors.getvalue()
    assert (out / "saved_model.pb").is_file()
    # So is ONNX without tf2onnx, in a line that says what to install.
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(sys.modules, "tf2onnx", None)
        with contextlib.redirect_stderr(io.StringIO()) as errors:
            args = ["export", str(tagged_model), str(tmp_path / "b"), "--format=onnx"]
            assert main(args) == 1
    assert errors.getvalue().splitlines() == [
        "skglove export: error: format='onnx' needs tf2onnx and onnx: "
        "pip install 'skglove[onnx]'"
    ]
    assert not (tmp_path / "b").exists()
