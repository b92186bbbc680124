"""Every example runs, on small settings, offline."""

import importlib.util
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _load(name):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_twenty_newsgroups_on_synthetic_archive(synthetic_archive, tiny_glove, capsys):
    example = _load("twenty_newsgroups")
    accuracy = example.main(
        [
            "--archive",
            str(synthetic_archive),
            "--glove",
            tiny_glove,
            "--max-len",
            "149",
            "--epochs",
            "8",
            "--verbose",
            "0",
        ]
    )
    out = capsys.readouterr().out
    assert "60 train and 60 test posts, 3 classes" in out
    assert f"test accuracy: {accuracy:.3f}" in out
    assert "[fit]" in out and "[predict]" in out
    assert accuracy > 0.5


def test_twenty_newsgroups_on_real_archive(real_archive, capsys):
    example = _load("twenty_newsgroups")
    accuracy = example.main(
        [
            "--archive",
            str(real_archive),
            "--max-train",
            "400",
            "--max-test",
            "200",
            "--epochs",
            "1",
            "--verbose",
            "0",
        ]
    )
    out = capsys.readouterr().out
    assert "400 train and 200 test posts, 20 classes" in out
    assert 0 <= accuracy <= 1


def test_grid_search_on_synthetic_archive(synthetic_archive, tiny_glove, capsys):
    example = _load("grid_search")
    search = example.main(
        [
            "--archive",
            str(synthetic_archive),
            "--glove",
            tiny_glove,
            "--max-len",
            "30",
            "--filters",
            "4",
            "8",
            "--epochs",
            "2",
            "--cv",
            "2",
        ]
    )
    out = capsys.readouterr().out
    # Both steps' parameters are searched, and every candidate is listed.
    assert set(search.best_params_) == {
        "glovesequencevectorizer__max_len",
        "glovecnnclassifier__filters",
    }
    assert "clf.filters=4, vectorizer.max_len=30" in out
    assert "clf.filters=8, vectorizer.max_len=30" in out
    assert "test accuracy of the refitted best pipeline" in out


def test_persistence_on_made_up_data(tiny_glove, tmp_path, capsys):
    example = _load("persistence")
    results = example.main(
        [
            "--glove",
            tiny_glove,
            "--max-len",
            "30",
            "--epochs",
            "1",
            "--out",
            str(tmp_path),
        ]
    )
    assert results == {"joblib": True, "skglove": True}
    assert (tmp_path / "model.joblib").is_file()
    assert (tmp_path / "model.skglove").is_file()
    assert "identical predictions: True" in capsys.readouterr().out


def test_plot_training_writes_pngs(synthetic_archive, tiny_glove, tmp_path, capsys):
    example = _load("plot_training")
    paths = example.main(
        [
            "--archive",
            str(synthetic_archive),
            "--glove",
            tiny_glove,
            "--out",
            str(tmp_path),
            "--epochs",
            "2",
            "--max-len",
            "30",
            "--filters",
            "4",
            "--verbose",
            "0",
        ]
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "confusion_matrix.png",
        "per_class_f1.png",
        "training_curves.png",
    ]
    for path in paths.values():
        assert path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert "test accuracy:" in capsys.readouterr().out


def test_explain_prediction_on_synthetic_archive(
    synthetic_archive, tiny_glove, tmp_path, capsys
):
    example = _load("explain_prediction")
    chosen = example.main(
        [
            "--archive",
            str(synthetic_archive),
            "--glove",
            tiny_glove,
            "--epochs",
            "3",
            "--min-tokens",
            "10",
            "--out",
            str(tmp_path),
        ]
    )
    out = capsys.readouterr().out
    assert chosen.summary() in out
    png = (tmp_path / "explanation.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 5000
    html = (tmp_path / "explanation.html").read_text(encoding="utf-8")
    assert html == chosen._repr_html_()
    # Every word of the post is placed once, inside the picture's width.
    placed = example.layout(chosen)
    assert [index for *_, index in placed] == [t.index for t in chosen.tokens]
    assert all(column + length <= example.WIDTH for _, column, length, _ in placed)


def test_multi_label_tags_made_up_tickets(tiny_glove, capsys):
    example = _load("multi_label")
    results = example.main(
        ["--glove", tiny_glove, "--n-tickets", "200", "--epochs", "6"]
    )
    out = capsys.readouterr().out
    assert results["micro_f1"] > 0.8
    assert "tag thresholds: account " in out
    why = results["explained"]
    assert why.target in example.TOPICS and why.predicted is not None
    # The top word of the explained tag is one of that tag's words.
    assert why.top[0].text in example.TOPICS[why.target]
    assert f"why {why.target!r}" in out
