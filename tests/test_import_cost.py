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
import skglove.glove, skglove.datasets, skglove._persistence
glove_file, archive = sys.argv[1], sys.argv[2]
glove = skglove.glove.load_glove(glove_file)
assert skglove.glove.load_glove(glove_file, words=["moon"]).words == ("moon",)
assert len(glove.fingerprint) == 32
vectorizer = skglove._vectorizer.GloveSequenceVectorizer(glove_file, max_len=4)
vectorizer.fit(["the moon and the car"])
skglove._persistence.save(vectorizer, archive)
skglove._persistence.load(archive)
print(sorted({m.split(".")[0] for m in sys.modules} & {HEAVY}))
""".replace("{HEAVY}", repr(set(HEAVY)))

# Makes skglove a bare package, so that skglove/__init__.py does not run: this
# checks skglove.glove, skglove.datasets and skglove._persistence themselves.
BARE_PACKAGE = f"""
import sys, types
package = types.ModuleType("skglove")
package.__path__ = [{str(ROOT / "skglove")!r}]
sys.modules["skglove"] = package
"""


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


def test_glove_datasets_and_load_checks_import_no_tensorflow(tiny_glove, tmp_path):
    assert _heavy_modules_imported(BARE_PACKAGE + USE, tiny_glove, tmp_path) == "[]"


@pytest.mark.xfail(
    strict=False, reason="skglove/__init__ imports TF until the lazy __init__ lands"
)
def test_importing_through_skglove_imports_no_tensorflow(tiny_glove, tmp_path):
    assert _heavy_modules_imported(USE, tiny_glove, tmp_path) == "[]"
