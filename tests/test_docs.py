"""The documentation site builds without a single warning."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

import skglove
import skglove.datasets
import skglove.glove

ROOT = Path(__file__).resolve().parents[1]
TOOLS = ("mkdocs", "material", "mkdocstrings_handlers.python")


@pytest.mark.skipif(
    any(importlib.util.find_spec(tool.split(".")[0]) is None for tool in TOOLS),
    reason="the docs tools are not installed (pip install -e '.[docs]')",
)
def test_mkdocs_build_is_strict_and_clean(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" not in result.stderr, result.stderr
    api = (tmp_path / "api" / "index.html").read_text(encoding="utf-8")
    # Every public name has a section, and no Sphinx role leaks through.
    names = [name for name in skglove.__all__ if name != "__version__"]
    names += [f"datasets.{name}" for name in skglove.datasets.__all__]
    names += [
        f"glove.{name}" for name in skglove.glove.__all__ if name not in skglove.__all__
    ]
    for name in names:
        assert f'id="skglove.{name}"' in api, name
    assert ":class:" not in api and ":func:" not in api
    assert (tmp_path / "images" / "confusion_matrix.png").is_file()
