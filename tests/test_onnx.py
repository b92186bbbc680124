"""skglove.export(format="onnx"): the network as ONNX, read from embedding
rows, and the tokenization that gives them in tokenizer.json, checked with
onnxruntime against the pipeline."""

import json
import sys

import numpy as np
import pytest
from conftest import EDGE_DOCS

from skglove import export
from skglove._export import float32_below
from skglove._onnx import rows_from_tokenizer

ort = pytest.importorskip("onnxruntime")


@pytest.fixture(scope="module")
def onnx_artifacts(exportable_pipelines, tmp_path_factory):
    folder = tmp_path_factory.mktemp("onnx")
    return {
        name: (pipe, export(pipe, folder / name, format="onnx"))
        for name, pipe in exportable_pipelines.items()
    }


@pytest.mark.parametrize("name", ["kim", "multilabel", "blog"])
def test_onnxruntime_answers_as_the_pipeline_from_the_documented_rows(
    onnx_artifacts, posts, name
):
    pipe, folder = onnx_artifacts[name]
    assert sorted(p.name for p in folder.iterdir()) == ["model.onnx", "tokenizer.json"]
    tokenizer = json.loads((folder / "tokenizer.json").read_text(encoding="ascii"))
    docs = posts[0] + EDGE_DOCS
    rows = rows_from_tokenizer(tokenizer, docs)
    vectorizer, classifier = pipe[0], pipe[-1]
    pipeline_rows = classifier.feature_encoder_.transform(vectorizer.transform(docs))
    # Two implementations: the rules in plain Python, and the vectorizer's.
    np.testing.assert_array_equal(rows, pipeline_rows.toarray(vectorizer.max_len))

    session = ort.InferenceSession(str(folder / "model.onnx"))
    (rows_input,) = session.get_inputs()
    assert (rows_input.name, rows_input.shape[1]) == ("rows", vectorizer.max_len)
    names = [output.name for output in session.get_outputs()]
    out = dict(zip(names, session.run(None, {"rows": rows}), strict=True))
    probabilities = pipe.predict_proba(docs)
    np.testing.assert_allclose(out["probabilities"], probabilities, atol=1e-5)
    if name == "multilabel":
        assert "label" not in out
        np.testing.assert_array_equal(out["decisions"], pipe.predict(docs))
        cut = np.asarray(tokenizer["threshold"])
        np.testing.assert_array_equal(cut, float32_below(classifier.threshold_))
        np.testing.assert_allclose(cut, classifier.threshold_, rtol=1e-7)
    else:
        assert "decisions" not in out
        np.testing.assert_array_equal(out["label"], pipe.predict(docs).astype(str))
        assert tokenizer["class_names"] == [str(c) for c in classifier.classes_]
    # Only empty documents, and no documents at all.
    empty = rows_from_tokenizer(tokenizer, ["", " "])
    (probabilities,) = session.run(["probabilities"], {"rows": empty})
    np.testing.assert_allclose(probabilities, pipe.predict_proba(["", " "]), atol=1e-5)
    (probabilities,) = session.run(["probabilities"], {"rows": empty[:0]})
    assert probabilities.shape == (0, pipe.predict_proba(["x"]).shape[1])


def test_onnx_is_float32_and_leaves_nothing_when_refused(
    fitted_pipeline, tmp_path, monkeypatch
):
    with pytest.raises(ValueError, match="precision='int8' is for format='tf_saved"):
        export(fitted_pipeline, tmp_path / "a", format="onnx", precision="int8")
    monkeypatch.setitem(sys.modules, "tf2onnx", None)  # not installed
    with pytest.raises(ImportError, match=r"pip install 'skglove\[onnx\]'"):
        export(fitted_pipeline, tmp_path / "b" / "c", format="onnx")
    assert not list(tmp_path.iterdir())
