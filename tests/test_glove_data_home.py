"""Tests of skglove.glove.get_data_home."""

import os

import pytest

from skglove.glove import get_data_home

pytestmark = pytest.mark.usefixtures("glove_data_home")


def test_get_data_home(tmp_path, monkeypatch):
    assert get_data_home() == str(tmp_path / "skglove_data")
    assert os.path.isdir(tmp_path / "skglove_data")
    assert get_data_home(tmp_path / "other") == str(tmp_path / "other")
    monkeypatch.delenv("SKGLOVE_DATA")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert get_data_home() == str(tmp_path / "home" / "skglove_data")
