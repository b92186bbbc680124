"""skglove.save / skglove.load: pickle-free archives that refuse tampering.

joblib keeps working as well (test_pipeline.py::test_joblib_round_trip); here a
model loaded from an archive is also checked to pickle with joblib.
"""

import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import tracemalloc
import zipfile
from pathlib import Path

import joblib
import keras
import numpy as np
import pytest
from conftest import TINY_MAX_LEN, TINY_NET, add_zeros_member
from sklearn.base import clone, is_classifier
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer

import skglove
from skglove import (
    GloveCNNClassifier,
    GloveSequenceVectorizer,
    _keras_file,
    _persistence,
    load_glove,
    make_glove_pipeline,
)

TESTS = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def archive(fitted_pipeline, tmp_path_factory):
    path = tmp_path_factory.mktemp("archive") / "model.skglove"
    skglove.save(fitted_pipeline, path)
    return path


@pytest.fixture(scope="module")
def loaded(archive):
    return skglove.load(archive)


def _members(path) -> dict:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _rewrite(source, target, replace=(), add=(), edit_manifest=None):
    """Copy an archive with members replaced or added, its checksums updated."""
    members = {**_members(source), **dict(replace)}
    manifest = json.loads(members["manifest.json"])
    manifest["sha256"] = {
        name: hashlib.sha256(members[name]).hexdigest() for name in manifest["sha256"]
    }
    if edit_manifest is not None:
        edit_manifest(manifest)
    members["manifest.json"] = json.dumps(manifest).encode()
    with zipfile.ZipFile(target, "w") as archive:
        for name, data in [*members.items(), *add]:
            archive.writestr(name, data)
    return target


def _network_member(model) -> bytes:
    return _keras_file.network_bytes(model)


def test_round_trip_predicts_identically(fitted_pipeline, loaded, posts):
    docs, _ = posts
    assert type(loaded) is Pipeline
    assert list(loaded.named_steps) == list(fitted_pipeline.named_steps)
    np.testing.assert_array_equal(
        loaded.predict_proba(docs), fitted_pipeline.predict_proba(docs)
    )
    predicted = loaded.predict(docs)
    np.testing.assert_array_equal(predicted, fitted_pipeline.predict(docs))
    assert predicted.dtype == fitted_pipeline.predict(docs).dtype
    assert loaded.score(*posts) == fitted_pipeline.score(*posts)


def test_loaded_model_predicts_without_its_glove_file(tiny_glove, posts, tmp_path):
    glove = tmp_path / "moved.8d.txt"
    shutil.copy(tiny_glove, glove)
    pipe = make_glove_pipeline(
        str(glove), max_len=TINY_MAX_LEN, random_state=0, **TINY_NET
    ).fit(*posts)
    # A GloVe word that no training post holds still reaches its vector.
    unseen = next(
        w for w in load_glove(tiny_glove).words if w not in pipe[0].vocabulary_
    )
    docs = [*posts[0][:5], unseen]
    expected = pipe.predict_proba(docs)
    skglove.save(pipe, tmp_path / "model.skglove")
    glove.unlink()
    restored = skglove.load(tmp_path / "model.skglove")
    np.testing.assert_array_equal(restored.predict_proba(docs), expected)
    assert restored[0].inverse_transform(restored[0].transform([unseen])) == [[unseen]]


def test_round_trip_restores_parameters_and_state(fitted_pipeline, loaded):
    for original, restored in zip(fitted_pipeline, loaded, strict=True):
        assert type(restored) is type(original)
        assert restored.get_params() == original.get_params()
    vec, clf = fitted_pipeline
    vec2, clf2 = loaded
    assert list(vec2.vocabulary_.items()) == list(vec.vocabulary_.items())
    assert vec2.missing_words_ == vec.missing_words_
    assert vec2.glove_coverage_ == vec.glove_coverage_
    np.testing.assert_array_equal(clf2.classes_, clf.classes_)
    assert clf2.classes_.dtype == clf.classes_.dtype
    np.testing.assert_array_equal(clf2.feature_encoder_.ids_, clf.feature_encoder_.ids_)
    assert clf2.n_features_in_ == clf.n_features_in_ == TINY_MAX_LEN
    assert dict(clf2.history_) == dict(clf.history_)
    assert is_classifier(clf2)
    assert not hasattr(clone(clf2), "model_")


def test_loaded_model_trains_on(loaded, posts, archive):
    model = skglove.load(archive)  # a fresh copy to change
    vec, clf = model
    epochs = clf.current_epoch
    clf.partial_fit(vec.transform(posts[0]), posts[1])
    assert clf.current_epoch == epochs + 1
    assert not np.array_equal(
        model.predict_proba(posts[0]), loaded.predict_proba(posts[0])
    )


def test_each_estimator_alone_and_integer_labels(fitted_pipeline, tmp_path, posts):
    docs, labels = posts
    vec = fitted_pipeline[0]
    skglove.save(vec, tmp_path / "vec.skglove")
    restored = skglove.load(tmp_path / "vec.skglove")
    assert type(restored) is GloveSequenceVectorizer
    np.testing.assert_array_equal(restored.transform(docs), vec.transform(docs))
    # A classifier alone, with integer labels and no GloVe.
    X = vec.transform(docs)
    y = np.unique(labels, return_inverse=True)[1]
    clf = GloveCNNClassifier(None, embedding_dim=3, random_state=0, **TINY_NET)
    clf.set_params(epochs=1).fit(X, y)
    skglove.save(clf, tmp_path / "clf.skglove")
    restored = skglove.load(tmp_path / "clf.skglove")
    assert type(restored) is GloveCNNClassifier
    assert restored.classes_.dtype == clf.classes_.dtype
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(restored.predict(X), clf.predict(X))


def test_archive_holds_json_and_a_keras_network_only(archive, fitted_pipeline):
    members = _members(archive)
    assert set(members) == {
        "manifest.json",
        "vectorizer.json",
        "classifier.json",
        "model.keras",
    }
    for name in ("manifest.json", "vectorizer.json", "classifier.json"):
        json.loads(members[name])
    with zipfile.ZipFile(io.BytesIO(members["model.keras"])) as network:
        assert "config.json" in network.namelist()
    for data in members.values():
        assert not data.startswith(b"\x80")  # the start of every pickle
    manifest = json.loads(members["manifest.json"])
    assert manifest["format"] == "skglove-model"
    assert manifest["format_version"] == _persistence.FORMAT_VERSION
    assert set(manifest["versions"]) == set(_persistence.RECORDED_VERSIONS)
    assert manifest["versions"]["keras"] == keras.__version__
    assert manifest["glove"] == {
        "source": fitted_pipeline[0].glove,
        "dim": load_glove(fitted_pipeline[0].glove).dim,
    }
    for name, digest in manifest["sha256"].items():
        assert hashlib.sha256(members[name]).hexdigest() == digest


def test_joblib_of_a_loaded_model(loaded, posts):
    buffer = io.BytesIO()
    joblib.dump(loaded, buffer)
    buffer.seek(0)
    np.testing.assert_array_equal(
        joblib.load(buffer).predict_proba(posts[0]), loaded.predict_proba(posts[0])
    )


@pytest.mark.parametrize(
    "param, value, match",
    [
        ("callbacks", [keras.callbacks.EarlyStopping()], "parameter 'callbacks'"),
        ("optimizer", keras.optimizers.Adam(), "parameter 'optimizer'"),
        ("glove", None, None),
    ],
)
def test_refuses_parameters_that_are_not_json(
    fitted_pipeline, tmp_path, monkeypatch, param, value, match
):
    clf = fitted_pipeline[-1]
    if param == "glove":
        value, match = load_glove(clf.glove), "register_glove"
    monkeypatch.setattr(clf, param, value)
    with pytest.raises(TypeError, match=match):
        skglove.save(fitted_pipeline, tmp_path / "model.skglove")
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    "make",
    [
        lambda fitted_pipeline: LogisticRegression(),
        lambda fitted_pipeline: make_pipeline(
            FunctionTransformer(), LogisticRegression()
        ),
        lambda fitted_pipeline: Pipeline(
            [*fitted_pipeline.steps, ("extra", FunctionTransformer())]
        ),
        lambda fitted_pipeline: Pipeline(fitted_pipeline.steps[::-1]),
        lambda fitted_pipeline: type("Sub", (GloveCNNClassifier,), {})(),
    ],
    ids=["other estimator", "other pipeline", "three steps", "reversed", "subclass"],
)
def test_refuses_other_estimators(fitted_pipeline, tmp_path, make):
    with pytest.raises(TypeError, match=r"skglove\.save supports"):
        skglove.save(make(fitted_pipeline), tmp_path / "model.skglove")


def test_refuses_a_pipeline_memory(fitted_pipeline, tmp_path):
    cached = Pipeline(fitted_pipeline.steps, memory=str(tmp_path / "cache"))
    with pytest.raises(ValueError, match="does not store a Pipeline's memory"):
        skglove.save(cached, tmp_path / "model.skglove")
    assert not (tmp_path / "model.skglove").exists()


def test_refuses_unfitted(tmp_path):
    with pytest.raises(NotFittedError):
        skglove.save(make_glove_pipeline(), tmp_path / "model.skglove")


def test_refuses_a_tampered_member(archive, tmp_path):
    members = _members(archive)
    document = json.loads(members["classifier.json"])
    document["state"]["classes"]["values"][0] = "boats"
    path = tmp_path / "tampered.skglove"
    with zipfile.ZipFile(path, "w") as tampered:
        for name, data in members.items():
            if name == "classifier.json":
                data = json.dumps(document).encode()
            tampered.writestr(name, data)
    with pytest.raises(ValueError, match=r"checksum mismatch for 'classifier\.json'"):
        skglove.load(path)


@pytest.mark.parametrize("where", [0.1, 0.3, 0.5, 0.7, 0.9])
def test_refuses_corrupted_bytes(archive, tmp_path, where):
    # A flipped byte may land in compressed data, a header or a checksum.
    data = bytearray(archive.read_bytes())
    data[int(len(data) * where)] ^= 0xFF
    path = tmp_path / "corrupted.skglove"
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError):
        skglove.load(path)


def test_refuses_hdf5_files(fitted_copy, archive, tmp_path):
    h5 = tmp_path / "model.h5"
    # A copy: Keras' HDF5 writer builds the optimizer's variables.
    fitted_copy[-1].model_.save(h5)
    with pytest.raises(ValueError, match=r"HDF5 \(\.h5\) file"):
        skglove.load(h5)
    renamed = tmp_path / "model.skglove"
    renamed.write_bytes(h5.read_bytes())
    with pytest.raises(ValueError, match=r"HDF5 \(\.h5\) file"):
        skglove.load(renamed)
    inside = _rewrite(
        archive, tmp_path / "inner.skglove", [("model.keras", h5.read_bytes())]
    )
    with pytest.raises(ValueError, match=r"HDF5 \(\.h5\) file"):
        skglove.load(inside)


@pytest.fixture(scope="module")
def lambda_archive(archive, tmp_path_factory):
    inputs = keras.Input((TINY_MAX_LEN,), dtype="int32")
    scaled = keras.layers.Lambda(lambda x: keras.ops.cast(x, "float32") * 2)(inputs)
    outputs = keras.layers.Dense(3, activation="softmax")(scaled)
    network = _network_member(keras.Model(inputs, outputs))
    target = tmp_path_factory.mktemp("lambda") / "lambda.skglove"
    return _rewrite(archive, target, [("model.keras", network)])


def test_refuses_a_lambda_layer(lambda_archive):
    with pytest.raises(ValueError, match="contains a Lambda layer"):
        skglove.load(lambda_archive)


def test_keras_safe_mode_refuses_a_lambda_layer_too(lambda_archive, monkeypatch):
    # Defence in depth: without skglove's own check, safe_mode still refuses.
    monkeypatch.setattr(_keras_file, "_check_network_config", lambda config: None)
    with pytest.raises(ValueError, match=r"Keras could not load its network.*Lambda"):
        skglove.load(lambda_archive)


def test_refuses_objects_from_other_modules(archive, tmp_path):
    members = _members(archive)
    with zipfile.ZipFile(io.BytesIO(members["model.keras"])) as network:
        inner = {name: network.read(name) for name in network.namelist()}
    config = (
        inner["config.json"]
        .decode()
        .replace('"module": "keras.layers"', '"module": "os"', 1)
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as network:
        for name, data in {**inner, "config.json": config.encode()}.items():
            network.writestr(name, data)
    path = _rewrite(
        archive, tmp_path / "os.skglove", [("model.keras", buffer.getvalue())]
    )
    with pytest.raises(ValueError, match=r"from module 'os' .*, outside Keras and"):
        skglove.load(path)


@pytest.mark.parametrize(
    "name", ["../evil.json", "/etc/evil.json", "a/../../evil", "..\\evil"]
)
def test_refuses_path_traversal_member_names(archive, tmp_path, name):
    path = _rewrite(archive, tmp_path / "traversal.skglove", add=[(name, b"{}")])
    assert name in zipfile.ZipFile(path).namelist()
    with pytest.raises(ValueError, match="absolute path or a path traversal"):
        skglove.load(path)


def test_refuses_unexpected_members(archive, tmp_path):
    path = _rewrite(archive, tmp_path / "extra.skglove", add=[("extra.py", b"")])
    with pytest.raises(ValueError, match=r"unexpected member 'extra\.py'"):
        skglove.load(path)
    # A member the manifest's kind does not hold.
    vectorizer_only = _rewrite(
        archive,
        tmp_path / "kind.skglove",
        edit_manifest=lambda manifest: manifest.update(kind="vectorizer"),
    )
    with pytest.raises(ValueError, match="holds members"):
        skglove.load(vectorizer_only)


def test_refuses_a_newer_format_version(archive, tmp_path):
    def newer(manifest):
        manifest["format_version"] = _persistence.FORMAT_VERSION + 1

    path = _rewrite(archive, tmp_path / "newer.skglove", edit_manifest=newer)
    newer_version = _persistence.FORMAT_VERSION + 1
    with pytest.raises(
        ValueError, match=f"format version {newer_version}, newer than this skglove"
    ):
        skglove.load(path)


def test_refuses_a_network_of_the_previous_release_by_its_version(archive, tmp_path):
    def previous(manifest):
        manifest["format_version"] = 1
        manifest["versions"]["skglove"] = "0.1.0.dev0"

    path = _rewrite(archive, tmp_path / "previous.skglove", edit_manifest=previous)
    with pytest.raises(
        ValueError,
        match=r"skglove 0\.1\.0\.dev0 \(archive format 1\).*refit the pipeline",
    ):
        skglove.load(path)


def test_refuses_files_that_are_not_archives(tmp_path, archive):
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(ValueError, match="not a skglove archive"):
        skglove.load(text)
    other = tmp_path / "other.zip"
    with zipfile.ZipFile(other, "w") as archive_without_manifest:
        archive_without_manifest.writestr("model.keras", b"")
    with pytest.raises(ValueError, match="not a skglove archive"):
        skglove.load(other)


def test_warns_about_other_library_versions(archive, tmp_path, posts):
    def older(manifest):
        manifest["versions"]["keras"] = "3.0.0"

    path = _rewrite(archive, tmp_path / "older.skglove", edit_manifest=older)
    with pytest.warns(UserWarning, match=r"keras 3\.0\.0 \(now "):
        assert skglove.load(path).predict(posts[0][:2]).shape == (2,)


def test_save_replaces_atomically(fitted_pipeline, archive, tmp_path, monkeypatch):
    path = tmp_path / "model.skglove"
    path.write_bytes(archive.read_bytes())
    before = path.read_bytes()

    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(zipfile.ZipFile, "writestr", fail)
    with pytest.raises(OSError, match="disk full"):
        skglove.save(fitted_pipeline, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.skglove"]  # no temporary file left
    monkeypatch.undo()
    skglove.save(fitted_pipeline, path)
    assert os.listdir(tmp_path) == ["model.skglove"]


# Loads a model, then saves it over ``path`` with a write that stalls halfway
# through the archive (after its vectorizer), so the parent can kill it.
KILLED_WRITER = """
import sys, time, zipfile
import skglove
model = skglove.load(sys.argv[1])
original = zipfile.ZipFile.writestr
def stalling_writestr(self, name, data, *args, **kwargs):
    original(self, name, data, *args, **kwargs)
    if name == "vectorizer.json":
        self.fp.flush()
        print("writing", flush=True)
        time.sleep(600)
zipfile.ZipFile.writestr = stalling_writestr
skglove.save(model, sys.argv[1])
"""


def test_killed_save_leaves_the_old_model(archive, tmp_path, posts):
    path = tmp_path / "model.skglove"
    path.write_bytes(archive.read_bytes())
    before = path.read_bytes()
    writer = subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    try:
        assert writer.stdout.readline() == b"writing\n"
        leftovers = [p for p in tmp_path.iterdir() if p != path]
        assert len(leftovers) == 1 and leftovers[0].stat().st_size > 0
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=60)
    assert path.read_bytes() == before
    np.testing.assert_array_equal(
        skglove.load(path).predict_proba(posts[0]),
        skglove.load(archive).predict_proba(posts[0]),
    )
    # The half-written temporary file is never taken for a model.
    (leftover,) = [p for p in tmp_path.iterdir() if p != path]
    assert leftover.name.startswith(".model.skglove.") and leftover.suffix == ".tmp"
    with pytest.raises(ValueError, match="not a skglove archive"):
        skglove.load(leftover)
    # The next save of the same file removes what the killed one left.
    skglove.save(skglove.load(archive), path)
    assert os.listdir(tmp_path) == ["model.skglove"]


def test_save_writes_through_the_atomic_helper(fitted_pipeline, tmp_path, monkeypatch):
    renamed, synced = [], []
    real_replace, real_fsync = os.replace, os.fsync
    monkeypatch.setattr(
        os, "replace", lambda src, dst: renamed.append(src) or real_replace(src, dst)
    )
    monkeypatch.setattr(os, "fsync", lambda fd: synced.append(fd) or real_fsync(fd))
    skglove.save(fitted_pipeline, tmp_path / "model.skglove")
    (tmp,) = renamed
    assert Path(tmp).name.startswith(".model.skglove.")
    assert f"-{os.getpid()}." in Path(tmp).name
    assert len(synced) == 2  # the file, then its folder


# ---------------------------------------------------------------------------
# Malformed documents: always a ValueError that names the problem


def _with_member(source, target, name: str, data: bytes):
    """Copy an archive with one member's bytes replaced, checksums kept valid."""
    if name == "manifest.json":
        members = {**_members(source), name: data}
        with zipfile.ZipFile(target, "w") as archive:
            for member, content in members.items():
                archive.writestr(member, content)
        return target
    return _rewrite(source, target, [(name, data)])


def _edited(document: bytes, edit) -> bytes:
    parsed = json.loads(document)
    edit(parsed)
    return json.dumps(parsed).encode()


def _set(path, value):
    """An edit that sets ``document[path[0]][path[1]]...`` to ``value``."""

    def edit(document):
        for key in path[:-1]:
            document = document[key]
        document[path[-1]] = value

    return edit


def _drop(key):
    return lambda document: document.pop(key)


MALFORMED_MANIFESTS = {
    "a list": b"[]",
    "a string": b'"skglove-model"',
    "null": b"null",
    "not JSON": b"{format: skglove-model",
    "not UTF-8": b'{"format": "\xff"}',
    "nested too deeply": b"[" * 100_000 + b"]" * 100_000,
    "no format": _drop("format"),
    "format a list": _set(["format"], ["skglove-model"]),
    "no format_version": _drop("format_version"),
    "format_version a str": _set(["format_version"], "1"),
    "format_version a bool": _set(["format_version"], True),
    "format_version 0": _set(["format_version"], 0),
    "no kind": _drop("kind"),
    "kind a list": _set(["kind"], ["pipeline"]),
    "kind unknown": _set(["kind"], "forest"),
    "no sha256": _drop("sha256"),
    "sha256 a list": _set(["sha256"], ["abc"]),
    "sha256 values numbers": _set(["sha256", "model.keras"], 5),
    "no versions": _drop("versions"),
    "versions a list": _set(["versions"], ["keras"]),
    "versions numbers": _set(["versions", "keras"], 3.15),
    "no steps": _drop("steps"),
    "steps a str": _set(["steps"], "vec,clf"),
    "one step": _set(["steps"], ["vec"]),
    "steps not str": _set(["steps"], [1, 2]),
    "steps repeated": _set(["steps"], ["a", "a"]),
    "no pipeline_params": _drop("pipeline_params"),
    "pipeline_params a list": _set(["pipeline_params"], []),
    "pipeline_params unknown": _set(["pipeline_params", "n_jobs"], 2),
    "pipeline_params steps": _set(["pipeline_params", "steps"], []),
    "pipeline_params bad tuple": _set(["pipeline_params", "memory"], {"__tuple__": 5}),
    # A cache folder chosen by the file would be read back with pickle.
    "pipeline_params memory": _set(["pipeline_params", "memory"], "/tmp/cache"),
}


MALFORMED_VECTORIZERS = {
    "a list": b"[]",
    "a number": b"3",
    "not JSON": b"{",
    "empty": b"{}",
    "params a list": _set(["params"], []),
    "params unknown": _set(["params", "max_lenn"], 3),
    "params bad tuple": _set(["params", "filter_chars"], {"__tuple__": "abc"}),
    "params bad path": _set(["params", "glove"], {"__path__": 3}),
    "params bad items": _set(["params", "glove"], {"__items__": 3}),
    "params unhashable key": _set(["params", "glove"], {"__items__": [[[1], 2]]}),
    "params pair of three": _set(["params", "glove"], {"__items__": [[1, 2, 3]]}),
    "params bad value": _set(["params", "max_len"], "long"),
    "no vocabulary": _drop("vocabulary"),
    "vocabulary a list": _set(["vocabulary"], ["moon"]),
    "vocabulary ids str": _set(["vocabulary", "moon"], "2"),
    "vocabulary ids negative": _set(["vocabulary", "moon"], -1),
    "vocabulary ids huge": _set(["vocabulary", "moon"], 10**30),
    "missing_words a dict": _set(["missing_words"], {}),
    "missing_words numbers": _set(["missing_words"], [1]),
    "glove_coverage a list": _set(["glove_coverage"], [1, 2]),
    "glove_coverage str values": _set(["glove_coverage"], {"words": "a", "tokens": 1}),
    "unseen_words a str": _set(["unseen_words"], "moon"),
}


MALFORMED_CLASSIFIERS = {
    "a list": b"[]",
    "not JSON": b"nope",
    "no params": _drop("params"),
    "params a str": _set(["params"], "glove"),
    "no state": _drop("state"),
    "state a list": _set(["state"], []),
    "state empty": _set(["state"], {}),
    "classes a number": _set(["state", "classes"], 5),
    "classes dtype unknown": _set(["state", "classes", "dtype"], "<x9"),
    "ids a dict": _set(["state", "ids"], {"a": 1}),
    "ids huge": _set(["state", "ids", 0], 10**30),
    "ids negative": _set(["state", "ids", 0], -3),
    "n_seen_ids too many": _set(["state", "n_seen_ids"], 10**6),
    "X_shape negative": _set(["state", "X_shape", 0], -1),
    "id_source a number": _set(["state", "id_source"], 7),
    "history a list": _set(["state", "history"], [1]),
}


MALFORMED = {
    "manifest.json": MALFORMED_MANIFESTS,
    "vectorizer.json": MALFORMED_VECTORIZERS,
    "classifier.json": MALFORMED_CLASSIFIERS,
}


@pytest.mark.parametrize(
    "member, case",
    [(member, case) for member, cases in MALFORMED.items() for case in cases],
    ids=lambda value: value,
)
def test_malformed_document_is_a_value_error(archive, tmp_path, member, case):
    change = MALFORMED[member][case]
    original = _members(archive)[member]
    data = change if isinstance(change, bytes) else _edited(original, change)
    path = _with_member(archive, tmp_path / "bad.skglove", member, data)
    with pytest.raises(ValueError) as error:
        skglove.load(path)
    assert str(path) in str(error.value)  # and the message names the problem


# ---------------------------------------------------------------------------
# Zip bombs


def _load_bounded(path):
    """skglove.load's ValueError, and the time and peak Python memory it took."""
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(ValueError) as error:
            skglove.load(path)
    finally:
        seconds = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return str(error.value), seconds, peak


def test_refuses_a_zip_bomb_member_before_inflating_it(archive, tmp_path):
    path = tmp_path / "bomb.skglove"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as bomb:
        for name, data in _members(archive).items():
            if name != "model.keras":
                bomb.writestr(name, data)
        add_zeros_member(bomb, "model.keras", 1 << 30)
    message, seconds, peak = _load_bounded(path)
    assert "'model.keras' would inflate" in message and "zip bomb" in message
    assert seconds < 2 and peak < 8 << 20


def test_refuses_a_zip_bomb_inside_the_network(archive, tmp_path):
    with zipfile.ZipFile(io.BytesIO(_members(archive)["model.keras"])) as network:
        inner = {name: network.read(name) for name in network.namelist()}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as network:
        for name, data in inner.items():
            if name != "model.weights.h5":
                network.writestr(name, data)
        add_zeros_member(network, "model.weights.h5", 1 << 30)
    path = _rewrite(
        archive, tmp_path / "inner.skglove", [("model.keras", buffer.getvalue())]
    )
    message, seconds, peak = _load_bounded(path)
    assert "'model.weights.h5' would inflate" in message
    assert seconds < 5 and peak < 64 << 20


def test_refuses_a_manifest_over_its_cap(archive, tmp_path):
    manifest = json.loads(_members(archive)["manifest.json"])
    manifest["padding"] = os.urandom(1 << 20).hex()
    path = _with_member(
        archive,
        tmp_path / "big.skglove",
        "manifest.json",
        json.dumps(manifest).encode(),
    )
    message, _, peak = _load_bounded(path)
    assert "'manifest.json' declares" in message and "more than the 1048576" in message
    assert peak < 1 << 20


# ---------------------------------------------------------------------------
# Keras objects: Keras' own, and exactly the layers skglove registers


def test_allow_list_is_what_skglove_registers():
    import skglove._layers  # noqa: F401 - registers the layers

    registered = {
        (type_.__module__, type_.__name__, name)
        for name, type_ in keras.saving.get_custom_objects().items()
        if name.startswith("skglove>")
    }
    assert registered == set(_keras_file.SKGLOVE_OBJECTS)


def _with_network_config(archive, target, edit):
    members = _members(archive)
    with zipfile.ZipFile(io.BytesIO(members["model.keras"])) as network:
        inner = {name: network.read(name) for name in network.namelist()}
    config = json.loads(inner["config.json"])
    edit(config)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as network:
        for name, data in {**inner, "config.json": json.dumps(config).encode()}.items():
            network.writestr(name, data)
    return _rewrite(archive, target, [("model.keras", buffer.getvalue())])


def _skglove_layer(config) -> dict:
    stack = [config]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node.get("module") == "skglove._layers":
                return node
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    raise AssertionError("no skglove layer in the network")


@pytest.mark.parametrize(
    "module, class_name, registered",
    [
        ("skglove._persistence", "ChannelMix", "skglove>ChannelMix"),
        ("skglove._layers", "GloveCNNClassifier", "skglove>GloveCNNClassifier"),
        ("skglove", "ChannelMix", "skglove>ChannelMix"),
        ("skglove._layers", "ChannelMix", "skglove>Evil"),
        ("skglove._layers.evil", "ChannelMix", "skglove>ChannelMix"),
        ("keras.layers", "Dense", "skglove>Evil"),
    ],
)
def test_refuses_other_skglove_objects(
    archive, tmp_path, module, class_name, registered
):
    def edit(config):
        node = _skglove_layer(config)
        node.update(module=module, class_name=class_name, registered_name=registered)

    path = _with_network_config(archive, tmp_path / "other.skglove", edit)
    with pytest.raises(ValueError, match="refusing to load") as error:
        skglove.load(path)
    assert "skglove registers" in str(error.value)


def test_refuses_a_registered_function(archive, tmp_path):
    def edit(config):
        config["compile_config"]["loss"]["config"] = "custom>evil"

    path = _with_network_config(archive, tmp_path / "fn.skglove", edit)
    with pytest.raises(ValueError, match="registered object 'custom>evil'"):
        skglove.load(path)
