"""skglove.export: a SavedModel that reads raw strings, loaded in a process
that has TensorFlow but not skglove, must answer as the pipeline does."""

import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import (
    EDGE_DOCS,
    TINY_MAX_LEN,
    make_tagged_posts,
    tiny_pipeline,
)
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

import skglove._export
from skglove import export

#: Serves the artifacts in a fresh process, as Python and TF Serving clients.
CLIENT = Path(__file__).with_name("_serving_client.py")
#: A capital that Unicode 14 added: Python lowercases it, TensorFlow does not.
UNICODE_14_CAPITAL = "\u2c2f"


def _as_rows(pipe, docs, width):
    vectorizer, classifier = pipe[0], pipe[-1]
    return classifier.feature_encoder_.transform(vectorizer.transform(docs)).toarray(
        width
    )


@pytest.fixture(scope="module")
def pipelines(exportable_pipelines):
    return exportable_pipelines


#: ICU lowercases "I" to a dotless i in a Turkish locale; Python does not.
TURKISH = {"LANG": "tr_TR.UTF-8", "LC_ALL": "tr_TR.UTF-8"}


@pytest.fixture(scope="module")
def served(pipelines, posts, tmp_path_factory):
    """Each artifact's outputs on the documents, from a fresh process on a
    host whose locale is Turkish."""
    folder = tmp_path_factory.mktemp("export")
    # More documents of one length than the artifact reads at once, in
    # more branches than one (an empty batch leaves them all empty).
    docs = posts[0] * 3 + EDGE_DOCS
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(skglove._export, "_BRANCH_DOCS", 16)
        for name, pipe in pipelines.items():
            export(pipe, folder / name)
    (folder / "docs.json").write_text(json.dumps(docs))
    done = subprocess.run(
        [sys.executable, str(CLIENT), str(folder), *pipelines],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, **TURKISH},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    imported = json.loads(done.stdout.strip().splitlines()[-1])
    with np.load(folder / "out.npz") as out:
        return docs, dict(out), imported, folder


def test_a_fresh_process_serves_without_skglove(served):
    _, out, imported, _ = served
    assert imported == []
    assert set(out) >= {"kim/probabilities", "kim/label", "multilabel/decisions"}


@pytest.mark.parametrize("name", ["kim", "multilabel", "blog"])
def test_the_artifact_answers_as_the_pipeline(served, pipelines, name):
    docs, out, _, _ = served
    pipe = pipelines[name]
    rows = out[f"{name}/rows"]
    # The network's input: the same rows; a network that ignores padding
    # reads the batch at its longest document, the blog network at max_len.
    np.testing.assert_array_equal(rows, _as_rows(pipe, docs, rows.shape[1]))
    longest = (rows != 0).sum(axis=1).max()
    assert rows.shape[1] == (pipe[0].max_len if name == "blog" else longest)
    np.testing.assert_allclose(
        out[f"{name}/probabilities"], pipe.predict_proba(docs), rtol=0, atol=1e-5
    )
    assert out[f"{name}/none"].shape == (0, out[f"{name}/probabilities"].shape[1])
    if name == "multilabel":
        np.testing.assert_array_equal(out[f"{name}/decisions"], pipe.predict(docs))
    else:
        labels = out[f"{name}/label"].astype(str)
        np.testing.assert_array_equal(labels, pipe.predict(docs).astype(str))


@pytest.mark.parametrize("name", ["kim", "multilabel", "blog"])
def test_tensorflow_serving_rest_answers_as_the_pipeline(served, pipelines, name):
    # The REST body's instances, fed to the tensors the SignatureDef names.
    docs, out, _, _ = served
    pipe = pipelines[name]
    rest = {key.split("/")[-1]: v for key, v in out.items() if f"{name}/rest/" in key}
    assert set(rest) == ({"probabilities", "decisions"} if name == "multilabel"
                         else {"probabilities", "label"})  # fmt: skip
    np.testing.assert_allclose(
        rest["probabilities"], pipe.predict_proba(docs), rtol=0, atol=1e-5
    )
    if name == "multilabel":
        np.testing.assert_array_equal(rest["decisions"], pipe.predict(docs))
    else:
        np.testing.assert_array_equal(rest["label"], pipe.predict(docs).astype(str))


def test_an_int4_artifact_stores_packed_tables_and_answers_nearly_alike(
    fitted_pipeline, posts, tmp_path
):
    # int4 reads its tables through the int8 path's layer, and unpacks them.
    docs = posts[0]
    path = export(fitted_pipeline, tmp_path / "int4", precision="int4")
    loaded = tf.saved_model.load(str(path))
    model = fitted_pipeline[-1].model_
    glove = model.get_layer("embedding").embeddings.shape
    stored = {tuple(v.shape) for v in loaded.network_variables if v.dtype == tf.int8}
    assert (glove[0], -(-glove[1] // 2)) in stored
    out = loaded.signatures["serving_default"](tf.constant(docs))
    full = fitted_pipeline.predict_proba(docs)
    assert 0 < np.abs(out["probabilities"].numpy() - full).max() < 1e-1
    with pytest.raises(ValueError, match="precision must be one of"):
        export(fitted_pipeline, tmp_path / "half", precision="half")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["int4"]


def test_a_threshold_compares_as_in_float64():
    from skglove._export import float32_below

    rng = np.random.default_rng(0)
    probabilities = rng.random(2000).astype(np.float32)
    # Midpoints between neighbouring float32s round up half the time.
    up = np.nextafter(probabilities, np.float32(1)).astype(np.float64)
    thresholds = (probabilities.astype(np.float64) + up) / 2
    cut = float32_below(thresholds)
    assert cut.dtype == np.float32
    np.testing.assert_array_equal(probabilities > cut, probabilities > thresholds)
    np.testing.assert_array_equal(up.astype(np.float32) > cut, up > thresholds)
    assert (thresholds.astype(np.float32) > thresholds).any()


def test_lowercasing_matches_python_but_for_unicode_14_capitals():
    from skglove._export import _lowercase

    docs = [*EDGE_DOCS, UNICODE_14_CAPITAL]
    lowered = [s.decode() for s in _lowercase(tf.constant(docs)).numpy()]
    assert lowered[:-1] == [doc.lower() for doc in EDGE_DOCS]
    assert UNICODE_14_CAPITAL.lower() != UNICODE_14_CAPITAL == lowered[-1]


@pytest.mark.parametrize("locale", ["tr_TR.UTF-8", "lt_LT.UTF-8"])
def test_lowercasing_does_not_follow_the_hosts_locale(locale):
    # ICU reads the locale from the environment, installed or not.
    docs = [*EDGE_DOCS, "DIŞ İÇİN", "Ì Í Ĩ Į́ J́ I\u0301 I\u0307"]
    code = (
        "import json, sys, tensorflow as tf; from skglove._export import _lowercase; "
        "docs = json.loads(sys.argv[1]); "
        "print(json.dumps([s.decode() for s in _lowercase(tf.constant(docs)).numpy()]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, json.dumps(docs)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "LANG": locale, "LC_ALL": locale},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.splitlines()[-1]) == [doc.lower() for doc in docs]


def test_words_that_utf8_cannot_hold_are_warned_of(tiny_glove, posts, tmp_path):
    # Text read with errors="surrogateescape": b"caf\xe9" became "caf\udce9".
    docs, labels = posts
    docs = np.where(labels == "cars", np.char.add(docs, " caf\udce9"), docs)
    pipe = tiny_pipeline(tiny_glove, epochs=1).fit(docs, labels)
    with pytest.warns(UserWarning, match=r"1 word\(s\) .* 'caf\\udce9', hold lone"):
        export(pipe, tmp_path / "model")
    assert (tmp_path / "model" / "saved_model.pb").is_file()


def test_a_failed_export_leaves_no_folder_it_made(
    fitted_pipeline, tmp_path, monkeypatch
):
    (tmp_path / "mine").mkdir()

    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    with monkeypatch.context() as patch:
        patch.setattr(tf.saved_model, "save", fail)
        with pytest.raises(RuntimeError, match="disk full"):
            export(fitted_pipeline, tmp_path / "mine" / "new" / "deeper" / "model")
    assert [p.name for p in tmp_path.rglob("*")] == ["mine"]
    (tmp_path / "link").symlink_to(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="link' exists"):
        export(fitted_pipeline, tmp_path / "link")
    # A name as long as a name may be: the staging folder's is short.
    longest = tmp_path / ("m" * os.pathconf(tmp_path, "PC_NAME_MAX"))
    assert export(fitted_pipeline, longest) == longest


def test_what_cannot_be_exported_is_refused_by_name(fitted_pipeline, tmp_path):
    with pytest.raises(TypeError, match="got GloveCNNClassifier"):
        export(fitted_pipeline[-1], tmp_path / "a")
    lower = FunctionTransformer(lambda docs: [d.lower() for d in docs])
    extra = make_pipeline(lower, *[step for _, step in fitted_pipeline.steps])
    with pytest.raises(TypeError, match="step 0 'functiontransformer'"):
        export(extra, tmp_path / "b")
    with pytest.raises(NotFittedError):
        export(tiny_pipeline(None), tmp_path / "c")
    with pytest.raises(ValueError, match="format must be one of"):
        export(fitted_pipeline, tmp_path / "d", format="tflite")
    (tmp_path / "e").mkdir()
    (tmp_path / "e" / "keep.txt").write_text("mine")
    with pytest.raises(ValueError, match="exists"):
        export(fitted_pipeline, tmp_path / "e")
    assert [p.name for p in (tmp_path / "e").iterdir()] == ["keep.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e"]


def test_a_network_whose_fit_raised_is_not_exported(tiny_glove, tmp_path):
    docs, Y = make_tagged_posts(60, seed=2)

    def interrupt(epoch, logs=None):
        raise RuntimeError("interrupted")

    pipe = tiny_pipeline(tiny_glove, validation_split=0.25, threshold="tuned")
    stop = keras.callbacks.LambdaCallback(on_epoch_end=interrupt)
    with pytest.raises(RuntimeError, match="interrupted"):
        pipe.fit(docs, Y, glovecnnclassifier__callbacks=[stop])
    with pytest.raises(NotFittedError):
        export(pipe, tmp_path / "model")
    assert not list(tmp_path.iterdir())


def test_what_predict_refuses_export_refuses(fitted_copy, tiny_glove, posts, tmp_path):
    fitted_copy.set_params(glovesequencevectorizer__max_len=TINY_MAX_LEN + 5)
    with pytest.raises(ValueError, match=r"X has 35 features, but \w+ is expecting 30"):
        fitted_copy.predict(posts[0][:2])
    with pytest.raises(ValueError, match=r"max_len is 35, but .* length 30"):
        export(fitted_copy, tmp_path / "a")
    docs, labels = posts
    surrogate = tiny_pipeline(tiny_glove, epochs=1).fit(
        docs, np.where(labels == "cars", "car\udcff", labels)
    )
    with pytest.raises(ValueError, match=r"class label 'car\\udcff' is not valid"):
        export(surrogate, tmp_path / "b")
    assert not list(tmp_path.iterdir())
