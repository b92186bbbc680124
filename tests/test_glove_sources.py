"""Tests of skglove.glove._sources: paths, zip members, unreadable files."""

import zipfile

import pytest

from skglove.glove import load_glove

pytestmark = pytest.mark.usefixtures("glove_data_home")


def test_zip_without_the_member(tmp_path):
    archive = tmp_path / "glove.6B.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("glove.6B.50d.txt", "a 1 2\n")
        zipped.writestr("glove.6B.100d.txt", "a 1 2\n")
    with pytest.raises(ValueError, match=r"has no member 'glove\.6B\.300d\.txt'"):
        load_glove(f"{archive}/glove.6B.300d.txt")
    with pytest.raises(ValueError, match=r"holds 2 \.txt members; name one"):
        load_glove(archive)
    assert load_glove(f"{archive}/glove.6B.100d.txt").words == ("a",)


def test_missing_or_unreadable_source(tmp_path):
    with pytest.raises(ValueError, match=r"'nowhere\.txt' is neither a registered"):
        load_glove("nowhere.txt")
    broken = tmp_path / "broken.txt.gz"
    broken.write_bytes(b"not gzip at all")
    with pytest.raises(ValueError, match=r"cannot read .*broken\.txt\.gz"):
        load_glove(broken)
    bad_zip = tmp_path / "bad.zip"
    bad_zip.write_bytes(b"not a zip")
    with pytest.raises(ValueError, match=r"cannot read .*bad\.zip"):
        load_glove(f"{bad_zip}/member.txt")
