"""What skglove tells its user: progress, logging, TensorFlow noise, version."""

import logging

import tqdm
from conftest import TINY_MAX_LEN, TINY_NET, write_glove_txt

import skglove
from skglove import load_glove, make_glove_pipeline


def test_logging_is_silent_by_default_and_informative_when_enabled(
    posts, glove_rows, tmp_path, caplog, capsys
):
    handlers = logging.getLogger("skglove").handlers
    assert any(isinstance(h, logging.NullHandler) for h in handlers)

    # A fresh file, so that the per-process GloVe cache cannot skip the load.
    glove = str(write_glove_txt(tmp_path / "fresh.8d.txt", glove_rows))
    pipe = make_glove_pipeline(
        **{**TINY_NET, "glove": glove, "max_len": TINY_MAX_LEN, "verbose": 1}
    )
    with caplog.at_level(logging.INFO, logger="skglove"):
        pipe.fit(*posts)
    messages = [r.getMessage() for r in caplog.records if r.name.startswith("skglove")]
    assert any(m.startswith(f"loaded GloVe {glove}: 43 words") for m in messages)
    assert any(m.startswith("kept 44 words; GloVe") for m in messages)
    assert any(m.startswith("fitted a ") and "2 epoch(s)" in m for m in messages)
    # verbose=1 reaches Keras through the pipeline: its progress bar.
    assert "Epoch 2/2" in capsys.readouterr().out
    # A warm start fits without classes_ until it ends: the line still comes.
    pipe[-1].set_params(warm_start=True, verbose=0)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="skglove"):
        pipe.fit(*posts)
    assert any(r.getMessage().startswith("fitted a ") for r in caplog.records)


def test_glove_parsing_reports_progress_after_a_second(
    glove_rows, tmp_path, monkeypatch
):
    bars = []

    class RecordingBar:
        def __init__(self, **kwargs):
            self.kwargs, self.n = kwargs, 0
            bars.append(self)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def update(self, n):
            self.n += n

    monkeypatch.setattr(tqdm, "tqdm", RecordingBar)
    path = write_glove_txt(tmp_path / "bar.8d.txt", glove_rows)
    load_glove(path, cache=False)
    (bar,) = bars
    assert bar.kwargs["delay"] == 1.0  # shown only if parsing takes longer
    assert bar.n == len(glove_rows)


def test_retracing_warnings_are_dropped_only_beneath_skglove():
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger = logging.getLogger("tensorflow")
    logger.addHandler(handler)
    message = "5 out of the last 5 calls to %s triggered tf.function retracing."
    # A function whose module is skglove's, as Keras code called by fit sees it.
    inside = {"__name__": "skglove._fake", "logger": logger, "message": message}
    exec("def warn():\n    logger.warning(message, 'f')", inside)
    try:
        inside["warn"]()
        logger.warning(message, "user code")
        logger.warning("another warning")
    finally:
        logger.removeHandler(handler)
    assert [r.getMessage() for r in records] == [
        message % "user code",
        "another warning",
    ]


def test_version_is_the_installed_distributions():
    from importlib.metadata import version

    assert skglove.__version__ == version("skglove")
