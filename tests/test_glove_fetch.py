"""Tests of skglove.glove.fetch_glove, against a server on 127.0.0.1 only."""

import hashlib
import http.server
import io
import re
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import pytest

from skglove import _atomic
from skglove.glove import _fetch as _fetch_module
from skglove.glove import fetch_glove, load_glove
from skglove.glove._fetch import _GLOVE_ARCHIVES, _GLOVE_SHA256, _GLOVE_URL

MEMBERS = {
    "glove.6B.50d.txt": "the 0.1 0.2\ncat 0.3 0.4\n",
    "glove.6B.100d.txt": "the 1 2 3\ncat 4 5 6\n",
}


def _zip(members: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zipped:
        for name, text in members.items():
            zipped.writestr(name, text)
    return buffer.getvalue()


ARCHIVE = _zip(MEMBERS)
SHA256 = hashlib.sha256(ARCHIVE).hexdigest()


class _Handler(http.server.BaseHTTPRequestHandler):
    """Serves ``server.payload``; ``server.plan`` says how each request goes."""

    def do_GET(self):
        server = self.server
        server.requests += 1
        how = server.plan.pop(0) if server.plan else "ok"
        if how == "missing":
            self.send_error(404)
            return
        body = server.payload
        self.send_response(200)
        self.send_header("Content-Type", "application/zip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if how == "stall":
            # Half the body, then nothing until the test ends: the client can
            # only be killed mid-download, however slowly the machine runs.
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            server.ended.wait(timeout=300)
            return
        if how == "cut":
            # Half the promised body, then the connection drops.
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)

    def log_message(self, *args):  # keep test output clean
        pass


@pytest.fixture
def server():
    """An HTTP server on 127.0.0.1, in a thread, shut down after the test."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.payload = ARCHIVE
    httpd.plan = []
    httpd.requests = 0
    httpd.ended = threading.Event()
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}/glove.6B.zip"
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.05}
    )
    thread.start()
    yield httpd
    httpd.ended.set()
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=10)


@pytest.fixture(autouse=True)
def data_home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "skglove_data"
    monkeypatch.setenv("SKGLOVE_DATA", str(home))
    # pooch waits a second or more between attempts; not here.
    monkeypatch.setattr("pooch.core.time.sleep", lambda seconds: None)
    return home


def _fetch(server, name="glove.6B.50d", **kwargs):
    kwargs = {"url": server.url, "known_hash": SHA256, "progressbar": False, **kwargs}
    return fetch_glove(name, timeout=10, **kwargs)


def _leftovers(folder: Path) -> list[str]:
    """The files in ``folder``, but the lock file that downloads share."""
    if not folder.exists():
        return []
    return sorted(p.name for p in folder.iterdir() if p.name != _fetch_module._LOCK)


def test_download_verify_unpack_and_reuse(server, data_home, capsys):
    path = _fetch(server, progressbar=True)
    assert path == str(data_home / "glove" / "glove.6B.50d.txt")
    assert Path(path).read_text() == MEMBERS["glove.6B.50d.txt"]
    assert load_glove(path).words == ("the", "cat")
    assert "B/s" in capsys.readouterr().err  # tqdm's progress bar
    assert server.requests == 1
    # Later calls, and other members of the same archive, need no download.
    assert _fetch(server) == path
    assert load_glove(_fetch(server, "glove.6B.100d")).dim == 3
    assert server.requests == 1
    assert _leftovers(data_home / "glove") == [
        "glove.6B.100d.txt",
        "glove.6B.50d.txt",
        "glove.6B.zip",
    ]


def test_wrong_checksum_leaves_nothing_behind(server, data_home):
    server.payload = _zip({"glove.6B.50d.txt": "the 6 6\n"})  # not ARCHIVE
    with pytest.raises(ValueError, match="does not match its known SHA-256"):
        _fetch(server, retries=1)
    assert server.requests == 2  # a corrupt download is tried again, once
    assert _leftovers(data_home / "glove") == []


def test_interrupted_download_is_retried(server, data_home):
    server.plan = ["cut"]
    path = _fetch(server, retries=1)
    assert server.requests == 2
    assert Path(path).read_text() == MEMBERS["glove.6B.50d.txt"]


def test_interrupted_download_without_retries_leaves_nothing(server, data_home):
    server.plan = ["cut"]
    with pytest.raises(ConnectionError, match=r"in 1 attempt\(s\)"):
        _fetch(server, retries=0)
    assert _leftovers(data_home / "glove") == []
    # The next call starts afresh and succeeds.
    assert Path(_fetch(server, retries=0)).is_file()


def test_http_error_is_a_connection_error(server, data_home):
    server.plan = ["missing", "missing"]
    with pytest.raises(ConnectionError, match=re.escape(server.url)):
        _fetch(server, retries=1)
    assert server.requests == 2
    assert _leftovers(data_home / "glove") == []


def test_unchecked_download_warns(server):
    with pytest.warns(UserWarning, match="without checking its SHA-256"):
        path = _fetch(server, known_hash=None)
    assert Path(path).is_file()


def test_archive_without_the_member(server, data_home):
    with pytest.raises(ValueError, match=r"has no member 'glove\.6B\.300d\.txt'"):
        _fetch(server, "glove.6B.300d")
    assert _leftovers(data_home / "glove") == ["glove.6B.zip"]


def test_data_home_argument(server, tmp_path, data_home):
    path = _fetch(server, data_home=tmp_path / "elsewhere")
    assert path == str(tmp_path / "elsewhere" / "glove" / "glove.6B.50d.txt")
    assert not data_home.exists()


def test_argument_errors():
    with pytest.raises(ValueError, match=r"unknown GloVe vectors 'glove\.7B'; known:"):
        fetch_glove("glove.7B")
    with pytest.raises(ValueError, match="retries must be"):
        fetch_glove(retries=-1)


def test_official_names_urls_and_checksums():
    assert sorted(_GLOVE_ARCHIVES) == sorted(
        [f"glove.6B.{d}d" for d in (50, 100, 200, 300)]
        + ["glove.42B.300d", "glove.840B.300d"]
        + [f"glove.twitter.27B.{d}d" for d in (25, 50, 100, 200)]
    )
    assert set(_GLOVE_ARCHIVES.values()) == set(_GLOVE_SHA256)
    assert all(re.fullmatch("[0-9a-f]{64}", h) for h in _GLOVE_SHA256.values())
    assert _GLOVE_URL == "https://nlp.stanford.edu/data/"


def _dead_pid() -> int:
    """The id of a process that has exited (and been reaped)."""
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        check=True,
        text=True,
    )
    return int(child.stdout)


def test_next_fetch_removes_what_a_killed_unpacking_left(server, data_home):
    folder = data_home / "glove"
    folder.mkdir(parents=True)
    # As atomic_write names the unpacked member's temporary file.
    orphan = folder / f".glove.6B.50d.txt.{_atomic._HOST}-{_dead_pid()}.0123abcd.tmp"
    orphan.write_bytes(b"the 0.1 0.2\n" * 1000)
    path = _fetch(server)
    assert _leftovers(folder) == ["glove.6B.50d.txt", "glove.6B.zip"]
    # A later call, with the file there, still cleans up.
    orphan.write_bytes(b"")
    assert _fetch(server) == path
    assert _leftovers(folder) == ["glove.6B.50d.txt", "glove.6B.zip"]


# Fetches from sys.argv[1] into the data home sys.argv[2]; the parent kills it.
KILLED_FETCH = """
import os, sys
os.environ["SKGLOVE_DATA"] = sys.argv[2]
from skglove.glove import fetch_glove
fetch_glove(url=sys.argv[1], known_hash=None, progressbar=False, retries=0)
"""


def test_next_fetch_removes_what_a_killed_download_left(server, data_home):
    folder = data_home / "glove"
    server.plan = ["stall"]
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_FETCH, server.url, str(data_home)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        # pooch also makes and deletes a temporary file to test the folder
        # first: wait for the download's, once the server is sending.
        while not (
            server.requests and any(n.startswith("tmp") for n in _leftovers(folder))
        ):
            assert child.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        child.kill()
        child.wait()
    assert [n for n in _leftovers(folder) if n.startswith("tmp")]  # pooch's
    _fetch(server)
    assert _leftovers(folder) == ["glove.6B.50d.txt", "glove.6B.zip"]
