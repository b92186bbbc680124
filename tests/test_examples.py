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
