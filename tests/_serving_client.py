"""Serve exported artifacts in a process without skglove (test_export.py).

Run as ``python _serving_client.py FOLDER NAME...``: for each artifact
``FOLDER/NAME``, reads ``FOLDER/docs.json`` and writes to ``FOLDER/out.npz``
what two clients get:

- ``tf.saved_model.load``'s ``serving_default`` and ``rows`` signatures, as a
  Python client calls them;
- TensorFlow Serving's REST ``:predict`` call, answered as the server answers
  it: the JSON body's instances fed to the tensors that the SavedModel's
  ``SignatureDef`` names, in a session of the loaded graph, and each row's
  outputs written back as JSON.

It prints the skglove and scikeras modules it imported: there must be none.
"""

import json
import sys

import numpy as np
import tensorflow as tf


def rest_predict(folder: str, body: str) -> str:
    """A TensorFlow Serving REST ``:predict`` response to ``body`` (the row
    format: ``{"instances": [...]}``) for the SavedModel in ``folder``."""
    request = json.loads(body)
    name = request.get("signature_name", "serving_default")
    with tf.Graph().as_default(), tf.compat.v1.Session() as session:
        meta = tf.compat.v1.saved_model.loader.load(session, ["serve"], folder)
        signature = meta.signature_def[name]
        ((_, text),) = signature.inputs.items()
        if text.dtype != tf.string.as_datatype_enum:
            raise TypeError(f"the signature's input is not a string: {text}")
        instances = [doc.encode("utf-8") for doc in request["instances"]]
        outputs = sorted(signature.outputs)
        values = session.run(
            [signature.outputs[key].name for key in outputs],
            {text.name: np.array(instances, dtype=object)},
        )
    rows = [
        {key: _as_json(value[i]) for key, value in zip(outputs, values, strict=True)}
        for i in range(len(instances))
    ]
    return json.dumps({"predictions": rows})


def _as_json(value):
    if isinstance(value, bytes):
        return value.decode("utf-8")
    return np.asarray(value).tolist()


def main(folder: str, names: list[str]) -> None:
    with open(f"{folder}/docs.json", encoding="utf-8") as f:
        docs = json.load(f)
    out = {}
    for name in names:
        path = f"{folder}/{name}"
        loaded = tf.saved_model.load(path)
        serve = loaded.signatures["serving_default"]
        for key, value in serve(tf.constant(docs)).items():
            value = value.numpy()
            out[f"{name}/{key}"] = value.astype("S") if value.dtype == object else value
        out[f"{name}/rows"] = loaded.signatures["rows"](tf.constant(docs))["output_0"]
        out[f"{name}/none"] = serve(tf.zeros([0], tf.string))["probabilities"]
        response = json.loads(rest_predict(path, json.dumps({"instances": docs})))
        for key in response["predictions"][0]:
            column = [row[key] for row in response["predictions"]]
            out[f"{name}/rest/{key}"] = np.asarray(column)
    np.savez(f"{folder}/out.npz", **{k: np.asarray(v) for k, v in out.items()})
    imported = [m for m in sys.modules if m.split(".")[0] in ("skglove", "scikeras")]
    print(json.dumps(sorted(imported)))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
