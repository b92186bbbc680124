"""The ``python -m skglove`` command line.

Each subprocess imports TensorFlow, which takes seconds, so two commands run
as real processes (``train``, and ``predict`` reading stdin); the other cases
call ``skglove._cli.main``, which ``python -m skglove`` exits with, in this
process.
"""

import csv
import io
import json
import os
import subprocess
import sys

import pytest
from conftest import TINY_NET, make_posts

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
