"""Tests of skglove._archive: zip members checked before they are inflated."""

import io
import struct
import time
import tracemalloc
import zipfile
from contextlib import nullcontext

import pytest
from conftest import add_zeros_member

from skglove._archive import MAX_RATIO, RATIO_FREE_BYTES, read_archive, write_archive

GIB = 1 << 30


def _zip(path, members: dict, zeros: dict = ()) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        for name, size in dict(zeros).items():
            add_zeros_member(archive, name, size)


def _read_bounded(path, limits):
    """read_archive's error, with the time and peak Python memory it took."""
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(ValueError) as error:
            read_archive(path, limits)
    finally:
        seconds = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return str(error.value), seconds, peak


def test_round_trip(tmp_path):
    path = tmp_path / "a.zip"
    write_archive(path, {"a.json": b"{}", "b.bin": bytes(range(256)) * 100})
    members = read_archive(path, {"a.json": 10, "b.bin": 1 << 20})
    assert members == {"a.json": b"{}", "b.bin": bytes(range(256)) * 100}


def test_a_gigabyte_of_zeros_is_refused_before_it_is_inflated(tmp_path):
    path = tmp_path / "bomb.zip"
    _zip(path, {"a.json": b"{}"}, zeros={"b.bin": GIB})
    message, seconds, peak = _read_bounded(path, {"a.json": 10, "b.bin": 4 * GIB})
    assert f"more than {MAX_RATIO} times" in message and "'b.bin'" in message
    assert seconds < 1 and peak < 8 << 20


def test_a_member_over_its_cap_is_refused(tmp_path):
    path = tmp_path / "big.zip"
    _zip(path, {"a.json": b"[" + b"0," * 5000 + b"0]"})
    message, _, peak = _read_bounded(path, {"a.json": 1000})
    assert "declares 10003 bytes, more than the 1000" in message
    assert peak < 1 << 20


def test_small_regular_members_are_not_refused_for_their_ratio(tmp_path):
    path = tmp_path / "zeros.zip"
    _zip(path, {}, zeros={"config.json": RATIO_FREE_BYTES})
    assert len(read_archive(path, {"config.json": GIB})["config.json"]) == (
        RATIO_FREE_BYTES
    )


def test_a_header_that_lies_about_the_size_cannot_inflate_more(tmp_path):
    buffer = io.BytesIO()
    _zip(buffer, {}, zeros={"a.json": 64 << 20})
    data = bytearray(buffer.getvalue())
    # Declare 1000 bytes in the local header and in the central directory.
    struct.pack_into("<L", data, 22, 1000)
    central = data.rfind(b"PK\x01\x02")
    struct.pack_into("<L", data, central + 24, 1000)
    path = tmp_path / "liar.zip"
    path.write_bytes(bytes(data))
    with zipfile.ZipFile(path) as archive:
        assert archive.getinfo("a.json").file_size == 1000
    message, _, peak = _read_bounded(path, {"a.json": GIB})
    assert "damaged" in message or "another size" in message
    assert peak < 8 << 20


@pytest.mark.parametrize(
    "names, match",
    [
        (["a.json", "evil.py"], "unexpected member 'evil.py'"),
        (["a.json", "a.json"], "repeated member names"),
        (["../a.json"], "path traversal"),
        (["/etc/a.json"], "path traversal"),
    ],
)
def test_names_are_checked_before_anything_is_read(tmp_path, names, match):
    path = tmp_path / "names.zip"
    with pytest.warns(UserWarning) if len(set(names)) < len(names) else nullcontext():
        with zipfile.ZipFile(path, "w") as archive:
            for name in names:
                archive.writestr(name, b"{}")
    with pytest.raises(ValueError, match=match):
        read_archive(path, {"a.json": 10, "../a.json": 10, "/etc/a.json": 10})


def test_not_a_zip(tmp_path):
    path = tmp_path / "text.zip"
    path.write_text("hello")
    with pytest.raises(ValueError, match="not a skglove archive, or it is damaged"):
        read_archive(path, {})
