"""Importing and using the GloVe loader, the datasets and skglove.load's checks
does not import TensorFlow, Keras or scikeras (issue 12, item 10)."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("tensorflow", "keras", "scikeras")

# Uses the modules, then prints the heavy top-level modules it imported.
USE = """
import sys
import skglove, skglove.glove, skglove.datasets, skglove._persistence
glove_file, archive = sys.argv[1], sys.argv[2]
glove = skglove.glove.load_glove(glove_file)
assert skglove.glove.load_glove(glove_file, words=["moon"]).words == ("moon",)
assert len(glove.fingerprint) == 32
vectorizer = skglove.GloveSequenceVectorizer(glove_file, max_len=4)
vectorizer.fit(["the moon and the car"])
skglove.save(vectorizer, archive)
skglove.load(archive)
print(sorted({m.split(".")[0] for m in sys.modules} & {HEAVY}))
""".replace("{HEAVY}", repr(set(HEAVY)))


def _heavy_modules_imported(script: str, tiny_glove, tmp_path) -> str:
    result = subprocess.run(
        [sys.executable, "-c", script, tiny_glove, str(tmp_path / "vec.skglove")],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_using_skglove_without_the_classifier_imports_no_tensorflow(
    tiny_glove, tmp_path
):
    assert _heavy_modules_imported(USE, tiny_glove, tmp_path) == "[]"


@pytest.mark.parametrize(
    "command",
    [["-c", "import skglove"], ["-m", "skglove", "--help"]],
    ids=["import skglove", "python -m skglove --help"],
)
def test_importtime_shows_no_tensorflow(command):
    result = subprocess.run(
        [sys.executable, "-X", "importtime", *command],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    imported = {
        line.split("|")[-1].strip().split(".")[0]
        for line in result.stderr.splitlines()
        if "|" in line
    }
    assert "skglove" in imported
    assert not imported & set(HEAVY)
    # --help does not even import scikit-learn.
    if "--help" in command:
        assert "sklearn" not in imported


def test_the_classifier_loads_tensorflow_on_first_use():
    script = (
        "import sys, skglove; before = 'tensorflow' in sys.modules; "
        "skglove.GloveCNNClassifier; print(before, 'tensorflow' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300
    )
    assert result.stdout.split() == ["False", "True"], result.stderr
