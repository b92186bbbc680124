"""Write a fitted network as ONNX, read from each document's embedding rows.

ONNX has no faithful form of the tokenization: onnxruntime-extensions' string
operators end a string at its first NUL and lowercase otherwise than Python,
and ONNX's own ``StringNormalizer`` lowercases by the host's locale. So the
ONNX artifact starts where the tokenization ends. It takes each document's
rows of the embedding table, padded to ``max_len`` (what the SavedModel's
``rows`` signature returns), and ``tokenizer.json`` beside it holds the rules
and the word table that give them; ``docs/export.md`` spells them out.
tf2onnx converts the network, at ONNX opset :data:`OPSET`.
"""

import json
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

__all__ = ["MODEL_FILE", "OPSET", "TOKENIZER_FILE", "rows_from_tokenizer", "write_onnx"]

#: The ONNX model's file in the artifact's folder.
MODEL_FILE = "model.onnx"
#: The tokenization's rules and word table, beside it.
TOKENIZER_FILE = "tokenizer.json"
#: The ONNX opset written (onnxruntime 1.14 or later runs it).
OPSET = 18


def import_tf2onnx():
    """``tf2onnx``, or an ImportError that says how to install it."""
    try:
        import tf2onnx
    except ImportError as error:
        raise ImportError(
            "format='onnx' needs tf2onnx and onnx: pip install 'skglove[onnx]'"
        ) from error
    return tf2onnx


def write_onnx(
    model: keras.Model,
    folder: Path,
    *,
    tokenizer: dict,
    word_row: int,
    threshold: np.ndarray | None = None,
    class_names: list[str] | None = None,
) -> None:
    """Write ``model`` as :data:`MODEL_FILE` and ``tokenizer`` as
    :data:`TOKENIZER_FILE` into ``folder``.

    The ONNX model's input is ``rows``, ``int32`` ``(batch, max_len)``. Its
    outputs are ``probabilities``, ``float32`` ``(batch, n_outputs)``, and
    ``decisions`` (``int32``, 1 where a probability exceeds ``threshold``)
    for a multi-label network, else ``label`` (the most probable of
    ``class_names``). ``word_row`` is a row the network reads as a word.
    """
    tf2onnx = import_tf2onnx()
    max_len = int(tokenizer["max_len"])
    spec = tf.TensorSpec([None, max_len], tf.int32, name="rows")
    # tf2onnx cannot express a segment reduction over no segments, which a
    # batch of empty documents would need: one more document, of one word,
    # is appended and its row dropped (no row depends on the others).
    one_word = np.zeros((1, max_len), dtype=np.int32)
    one_word[0, -1 if tokenizer["padding"] == "pre" else 0] = word_row

    def network(rows):
        probabilities = model(tf.concat([rows, one_word], axis=0), training=False)
        probabilities = tf.identity(probabilities[:-1], name="probabilities")
        if threshold is not None:
            decisions = tf.cast(probabilities > threshold, tf.int32)
            return {"probabilities": probabilities, "decisions": decisions}
        names = tf.constant(class_names, tf.string)
        label = tf.gather(names, tf.argmax(probabilities, axis=1))
        return {"probabilities": probabilities, "label": label}

    function = tf.function(network, input_signature=[spec])
    tf2onnx.convert.from_function(
        function,
        input_signature=[spec],
        opset=OPSET,
        output_path=str(folder / MODEL_FILE),
    )
    # ASCII escapes: a word may hold a lone surrogate, which UTF-8 cannot.
    (folder / TOKENIZER_FILE).write_text(json.dumps(tokenizer), encoding="ascii")


def rows_from_tokenizer(tokenizer: dict, docs) -> np.ndarray:
    """Each document's rows, ``int32`` ``(len(docs), max_len)``, by the rules
    of ``tokenizer.json`` alone: the code that ``docs/export.md`` gives a
    caller without skglove, and that the tests hold to the vectorizer's."""
    filters = tokenizer["filter_chars"]
    spaces = str.maketrans(filters, " " * len(filters))
    n = tokenizer["max_len"]
    out = np.full((len(docs), n), tokenizer["pad_row"], dtype=np.int32)
    for i, doc in enumerate(docs):
        if tokenizer["lowercase"]:
            doc = doc.lower()
        words = [word for word in doc.translate(spaces).split(" ") if word]
        rows = [tokenizer["rows"].get(word, tokenizer["unknown_row"]) for word in words]
        rows = [row for row in rows if row is not None]
        rows = rows[-n:] if tokenizer["truncating"] == "pre" else rows[:n]
        if rows:
            at = n - len(rows) if tokenizer["padding"] == "pre" else 0
            out[i, at : at + len(rows)] = rows
    return out
