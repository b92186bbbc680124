"""Export a fitted pipeline as a TensorFlow SavedModel that reads raw text
(or, through :mod:`skglove._onnx`, its network as ONNX).

The artifact holds the whole pipeline in one graph: the vectorizer's
lowercasing, filter characters and split as TensorFlow string ops, a
``tf.lookup`` table from each known word straight to its row of the
classifier's embedding table (the vectorizer's id and the classifier's row
composed), truncation and padding, and the network with its fitted channel
mix. Serving it needs TensorFlow alone: no skglove, scikit-learn or Keras
code runs.
"""

import os
import shutil
import tempfile
import warnings
from contextlib import suppress
from functools import partial
from pathlib import Path

import numpy as np
import tensorflow as tf
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from ._artifact import FORMATS, PRECISIONS
from ._batching import bucket_widths
from ._classifier import GloveCNNClassifier
from ._ids import OOV, PAD
from ._layers import ROW_BLOCK, pad_rows
from ._models import PADDING_INVARIANT
from ._onnx import import_tf2onnx, write_onnx
from ._quantize import quantized_network
from ._vectorizer import GloveSequenceVectorizer, _as_binary, unseen_words

__all__ = ["export"]

#: The serving signature's name, as TensorFlow Serving calls it by default.
SIGNATURE = "serving_default"
#: A second signature: each document's padded rows of the embedding table,
#: to check the tokenization against the pipeline's.
ROWS_SIGNATURE = "rows"
#: A word the vectorizer drops (no ``oov_token``) looks up to this row.
_DROPPED = -1
#: The network reads at most this many documents of one width at once.
_CHUNK = 4 * ROW_BLOCK
#: The serving signature reads a batch in up to this many branches of at
#: least ``_BRANCH_DOCS`` documents: independent chains of string ops and
#: network, which TensorFlow's executor runs side by side, so that one
#: branch's string ops overlap another's network. A batch of a request's
#: usual size stays whole: smaller branches cost more in set-up than they
#: overlap.
_BRANCHES = 8
_BRANCH_DOCS = 256


def export(
    pipeline: Pipeline,
    path: "str | os.PathLike[str]",
    *,
    format: str = "tf_saved_model",
    precision: str = "float32",
) -> Path:
    """Write a fitted pipeline as one artifact that classifies raw strings.

    The SavedModel's ``serving_default`` signature takes a batch of UTF-8
    strings, ``tf.string`` of shape ``(None,)``, and returns per row:

    - ``probabilities``, ``float32`` ``(None, n_classes)``: as
      ``pipeline.predict_proba``;
    - for one label per sample, ``label``, ``tf.string`` ``(None,)``: the
      most probable class, as ``str(c)`` of ``classes_``;
    - for a multi-label model, ``decisions``, ``int32`` ``(None, n_labels)``:
      1 where the probability exceeds the label's fitted ``threshold_``, as
      ``pipeline.predict``.

    A second signature, ``rows``, returns each document's rows of the
    embedding table, padded, ``int32``, to check the tokenization.

    Lowercasing is TensorFlow's (ICU's), which agrees with Python's
    ``str.lower`` on every character but 40 capital letters that Unicode 14
    added (such as U+2C2F, Glagolitic capital letter caudate chrivi), which
    it leaves as they are. See ``docs/export.md``.

    With ``format="onnx"``, the folder holds ``model.onnx``, whose input is
    what ``rows`` returns, at ``max_len`` (``rows``, ``int32``
    ``(None, max_len)``), with the same outputs, and ``tokenizer.json``, the
    rules and the word table that turn text into those rows; the caller
    tokenizes. ONNX has no string operators that follow Python's.

    Parameters
    ----------
    pipeline : sklearn.pipeline.Pipeline
        A fitted pipeline of exactly two steps: a
        :class:`GloveSequenceVectorizer`, then a :class:`GloveCNNClassifier`,
        as :func:`make_glove_pipeline` makes it.
    path : str or path-like
        The folder to write. It must not exist; the artifact appears there
        complete or not at all.
    format : {"tf_saved_model", "onnx"}, default="tf_saved_model"
        The artifact's format. ``"onnx"`` needs ``tf2onnx`` (``pip install
        'skglove[onnx]'``) and stores the network as fitted.
    precision : {"float32", "float16", "int8", "int4"}, default="float32"
        How the network's embedding tables are stored: as fitted, as
        float16, as int8 with a float32 scale per row, or as int4 (two
        entries a byte) with a float32 scale per row. They are read back
        as float32; every other weight stays float32. A smaller artifact
        whose probabilities differ slightly from the pipeline's (see
        ``docs/export.md`` for the size and accuracy of each).

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    TypeError
        If ``pipeline`` is not such a pipeline; the message names the step.
    ValueError
        If ``format`` or ``precision`` is unknown (or not float32 for
        ``"onnx"``), or ``path`` exists; if the
        vectorizer's ``max_len`` changed since fit, or a class label is not
        valid Unicode; if ``precision="float16"`` cannot hold a table entry.
    sklearn.exceptions.NotFittedError
        If the pipeline is not fitted.

    Examples
    --------
    >>> import tempfile, tensorflow as tf
    >>> from skglove import export, make_glove_pipeline
    >>> docs = ["the engine and the wheels", "the doctor and the patient"] * 20
    >>> labels = ["cars", "med"] * 20
    >>> pipe = make_glove_pipeline(
    ...     glove=None, embedding_dim=4, filters=2, epochs=1, random_state=0
    ... ).fit(docs, labels)
    >>> folder = export(pipe, tempfile.mkdtemp() + "/model")
    >>> serve = tf.saved_model.load(str(folder)).signatures["serving_default"]
    >>> out = serve(tf.constant(["The engine!"]))
    >>> out["probabilities"].shape, out["label"].dtype
    (TensorShape([1, 2]), tf.string)
    """
    if format not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {format!r}")
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    vectorizer, classifier = _steps(pipeline)
    path = Path(path)
    if path.exists() or path.is_symlink():
        raise ValueError(f"{str(path)!r} exists; export writes a new folder")
    if format == "onnx":
        if precision != "float32":
            raise ValueError(
                f"precision={precision!r} is for format='tf_saved_model'; "
                "format='onnx' stores the network as fitted (float32)"
            )
        import_tf2onnx()
        write = partial(
            write_onnx,
            classifier.model_,
            tokenizer=onnx_tokenizer(vectorizer, classifier),
            word_row=OOV,
            **_outputs(classifier),
        )
    else:
        module = _ServingModule(vectorizer, classifier, precision)
        signatures = module.signatures()

        def write(folder):
            tf.saved_model.save(module, str(folder), signatures=signatures)

    created = [folder for folder in path.parents if not folder.exists()]
    staging = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # A short name: path's own may be as long as a name can be.
        staging = Path(tempfile.mkdtemp(prefix=".skglove-export-", dir=path.parent))
        write(staging)
        os.replace(staging, path)
    except BaseException:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        for folder in created:  # the innermost first; left if not empty
            with suppress(OSError):
                folder.rmdir()
        raise
    return path


def _steps(pipeline) -> tuple[GloveSequenceVectorizer, GloveCNNClassifier]:
    if not isinstance(pipeline, Pipeline):
        raise TypeError(
            "export needs a Pipeline of a GloveSequenceVectorizer and a "
            f"GloveCNNClassifier (make_glove_pipeline), got {type(pipeline).__name__}"
        )
    kinds = (GloveSequenceVectorizer, GloveCNNClassifier)
    for position, ((name, step), kind) in enumerate(
        zip(pipeline.steps, (*kinds, None), strict=False)
    ):
        if kind is None or type(step) is not kind:
            what = "an extra step" if kind is None else f"step {position}"
            expected = "" if kind is None else f"; export expects a {kind.__name__}"
            raise TypeError(
                f"cannot export {what} {name!r} ({type(step).__name__}): only "
                "a GloveSequenceVectorizer followed by a GloveCNNClassifier "
                f"translates to TensorFlow ops{expected}"
            )
    if len(pipeline.steps) < 2:
        raise TypeError(
            "export needs a GloveCNNClassifier after the GloveSequenceVectorizer"
        )
    vectorizer, classifier = (step for _, step in pipeline.steps)
    check_is_fitted(vectorizer, "vocabulary_")
    check_is_fitted(classifier, "model_")
    # What predict would refuse, export refuses too.
    if vectorizer.max_len != classifier.n_features_in_:
        raise ValueError(
            f"the vectorizer's max_len is {vectorizer.max_len}, but the "
            f"classifier was fitted on id sequences of length "
            f"{classifier.n_features_in_}; predict refuses this pipeline, so "
            "export does too: set max_len back or fit again"
        )
    for label in classifier.classes_:
        try:
            str(label).encode("utf-8")
        except UnicodeEncodeError as error:
            raise ValueError(
                f"class label {str(label)!r} is not valid Unicode ({error.reason}), "
                "so the artifact cannot return it as a UTF-8 string"
            ) from None
    return vectorizer, classifier


def word_rows(vectorizer, classifier) -> tuple[list[str], np.ndarray, int]:
    """Each word the vectorizer gives an id (its vocabulary, then the unseen
    GloVe words it lets through), with the classifier's row for that id, and
    the row of every other word (``OOV``, or ``_DROPPED``)."""
    words = list(dict.fromkeys([*vectorizer.vocabulary_, *unseen_words(vectorizer)]))
    ids = vectorizer._word_ids(_as_binary(words))
    rows = classifier.feature_encoder_.transform(ids)
    default = OOV if vectorizer.oov_token is not None else _DROPPED
    return words, np.asarray(rows, dtype=np.int32), default


def onnx_tokenizer(vectorizer, classifier) -> dict:
    """The vectorizer's rules, and each word's row of the classifier's
    embedding table (``unknown_row``: the row of any other word, or None
    where such words are dropped), as ``tokenizer.json`` of an ONNX artifact
    holds them."""
    words, rows, default = word_rows(vectorizer, classifier)
    return {
        "lowercase": bool(vectorizer.lowercase),
        "filter_chars": vectorizer.filter_chars,
        "max_len": int(vectorizer.max_len),
        "truncating": vectorizer.truncating,
        "padding": vectorizer.padding,
        "pad_row": PAD,
        "unknown_row": None if default == _DROPPED else int(default),
        "rows": dict(zip(words, rows.tolist(), strict=True)),
        # A multi-label model's cuts, as it applies them: float32_below.
        **{k: np.asarray(v).tolist() for k, v in _outputs(classifier).items()},
    }


def _outputs(classifier) -> dict:
    """What turns probabilities into the answer: the fitted ``threshold`` of
    a multi-label classifier, else the ``class_names``."""
    if getattr(classifier, "threshold_", None) is not None:
        return {"threshold": float32_below(classifier.threshold_)}
    return {"class_names": [str(c) for c in classifier.classes_]}


def float32_below(threshold) -> np.ndarray:
    """The largest float32 at or below each threshold: a float32 probability
    exceeds it exactly when it exceeds the float64 threshold, as in
    ``predict``, where rounding to nearest could round up onto the probability."""
    threshold = np.asarray(threshold, dtype=np.float64)
    rounded = threshold.astype(np.float32)
    above = rounded.astype(np.float64) > threshold
    return np.where(above, np.nextafter(rounded, np.float32(-np.inf)), rounded)


def _filter_pattern(chars: str) -> str | None:
    """An RE2 character class of ``chars``, each as a code-point escape."""
    if not chars:
        return None
    return "[" + "".join(f"\\x{{{ord(c):x}}}" for c in sorted(set(chars))) + "]"


def _warn_unreadable_words(words: list[str], lowercase: bool) -> None:
    """Warn of the words with lone surrogates (text decoded with
    ``errors="surrogateescape"``), which no UTF-8 document holds."""
    unreadable = [w for w in words if not w.isascii() and not _is_utf8(w)]
    if unreadable:
        how = (
            "no document matches them (TensorFlow's lowercasing replaces "
            "invalid UTF-8 with U+FFFD)"
            if lowercase
            else "only a document encoded with errors='surrogatepass' matches them"
        )
        warnings.warn(
            f"{len(unreadable)} word(s) of the vocabulary, such as "
            f"{unreadable[0]!r}, hold lone surrogates, which UTF-8 text cannot: "
            f"in the artifact {how}, and a document with them gets other rows "
            "than in the pipeline",
            UserWarning,
            stacklevel=4,
        )


def _is_utf8(word: str) -> bool:
    try:
        word.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


#: The capitals that ICU lowercases by the host's locale (Turkish, Azeri,
#: Lithuanian), besides ASCII's I and J.
_LOCALE_CAPITALS = "\u0130\u012e\u00cc\u00cd\u0128"


def _lowercase(text):
    """Python's ``str.lower`` on a batch of UTF-8 strings, as near as
    TensorFlow's ICU gets it. ICU lowercases a few capitals by the locale of
    the host that serves the model: those, and ASCII, are lowercased first,
    as Python does. ICU's lowercasing ends a string at the first NUL, so the
    pieces between NULs are lowercased apart and joined again."""
    text = tf.strings.lower(text)  # ASCII alone, byte by byte
    for capital in _LOCALE_CAPITALS:
        text = tf.strings.regex_replace(text, capital, capital.lower())
    pieces = tf.strings.split(text, sep="\x00")
    lowered = pieces.flat_values
    # Only pieces beyond ASCII are left to ICU, which is slower.
    wide = tf.where(~tf.strings.regex_full_match(lowered, "[\\x01-\\x7f]*"))
    lowered = tf.tensor_scatter_nd_update(
        lowered, wide, tf.strings.lower(tf.gather_nd(lowered, wide), encoding="utf-8")
    )
    # The separator goes in as a tensor: an op attribute would end at the NUL.
    last = tf.gather(pieces.row_limits() - 1, pieces.value_rowids())
    is_last = tf.range(tf.size(last, out_type=last.dtype)) == last
    nul = tf.fill(tf.shape(lowered), tf.constant(b"\x00"))
    lowered = tf.strings.join([lowered, tf.where(is_last, "", nul)])
    return tf.strings.reduce_join(pieces.with_flat_values(lowered), axis=1)


class _ServingModule(tf.Module):
    """The vectorizer and the network of a pipeline, as TensorFlow ops: the
    functions of the artifact's two signatures (:meth:`signatures`)."""

    def __init__(self, vectorizer, classifier, precision="float32"):
        super().__init__()
        words, rows, default = word_rows(vectorizer, classifier)
        keys = [w.encode("utf-8", "surrogatepass") for w in words]
        _warn_unreadable_words(words, bool(vectorizer.lowercase))
        # The empty token between two spaces is dropped with the words that
        # are, in one mask.
        keys = tf.constant([*keys, b""], dtype=tf.string)
        rows = tf.constant([*rows, _DROPPED], dtype=tf.int32)
        self.table = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(keys, rows),
            default_value=tf.constant(default, tf.int32),
        )
        model = quantized_network(classifier.model_, precision)
        # A bound method, so that the module does not track the Keras model.
        self._model = model.__call__
        self._n_outputs = int(model.outputs[0].shape[-1])
        self._lowercase = bool(vectorizer.lowercase)
        self._filters = _filter_pattern(vectorizer.filter_chars)
        self._max_len = int(vectorizer.max_len)
        self._pre_truncating = vectorizer.truncating == "pre"
        self._pre_padding = vectorizer.padding == "pre"
        # Networks that ignore padding read the batch at its longest document.
        self._crop = classifier.architecture in PADDING_INVARIANT
        self._widths = bucket_widths(self._max_len)
        outputs = _outputs(classifier)
        self._multilabel = "threshold" in outputs
        if self._multilabel:
            self.threshold = tf.constant(outputs["threshold"])
        else:
            self.class_names = tf.constant(outputs["class_names"], tf.string)

    def signatures(self) -> dict:
        """The traced signatures, by name. They are the artifact's only
        functions, so that each graph is stored once. The module then holds
        the variables they read, as they read them, not the Keras model's:
        TensorFlow Serving runs the graph in a TF1 session, which looks a Keras
        model's variables up under names that nothing restores."""
        text = tf.TensorSpec([None], tf.string, name="text")
        signatures = {
            name: tf.function(method, input_signature=[text]).get_concrete_function()
            for name, method in ((SIGNATURE, self.serve), (ROWS_SIGNATURE, self.rows))
        }
        variables = {id(v): v for f in signatures.values() for v in f.variables}
        self.network_variables = list(variables.values())
        return signatures

    def serve(self, text):
        n = tf.size(text)
        size = tf.maximum((n + _BRANCHES - 1) // _BRANCHES, _BRANCH_DOCS)
        bounds = tf.minimum(tf.range(_BRANCHES + 1) * size, n)
        # Functions, so that the artifact stores each graph once, not per branch.
        rows_of, network = tf.function(self._ragged_rows), tf.function(self._network)
        branches = [
            network(rows_of(text[bounds[k] : bounds[k + 1]])) for k in range(_BRANCHES)
        ]
        probabilities = tf.concat(branches, axis=0)
        if self._multilabel:
            decisions = tf.cast(probabilities > self.threshold, tf.int32)
            return {"probabilities": probabilities, "decisions": decisions}
        label = tf.gather(self.class_names, tf.argmax(probabilities, axis=1))
        return {"probabilities": probabilities, "label": label}

    def rows(self, text):
        """The padded table rows of each document, ``(batch, length)``: at the
        batch's longest document for a network that ignores padding, else at
        ``max_len``."""
        rows = self._ragged_rows(text)
        width = tf.reduce_max(rows.row_lengths()) if self._crop else self._max_len
        return self._padded(rows, tf.maximum(tf.cast(width, tf.int64), 1))

    def _ragged_rows(self, text):
        """Each document's table rows, truncated, as a ragged ``int32`` tensor."""
        if self._lowercase:
            text = _lowercase(text)
        if self._filters is not None:
            text = tf.strings.regex_replace(text, self._filters, " ")
        tokens = tf.strings.split(text, sep=" ")
        rows = self.table.lookup(tokens.flat_values)
        kept = rows != _DROPPED
        # As tf.ragged.boolean_mask, on the flat values: many times faster.
        rows = tf.RaggedTensor.from_value_rowids(
            tf.boolean_mask(rows, kept),
            tf.boolean_mask(tokens.value_rowids(), kept),
            nrows=tokens.nrows(),
        )
        rows = (
            rows[:, -self._max_len :]
            if self._pre_truncating
            else rows[:, : self._max_len]
        )
        return rows

    def _network(self, rows):
        """The network's outputs for each document, computed as
        ``pipeline.predict`` computes them: each document padded to its
        length bucket (or ``max_len``), in chunks of one width, each chunk
        completed with empty rows to whole blocks of ``ROW_BLOCK``."""
        n = rows.nrows()
        if self._crop:
            edges = tf.constant(self._widths, tf.int64)
            widths = tf.gather(edges, tf.searchsorted(edges, rows.row_lengths()))
        else:
            widths = tf.fill([n], tf.constant(self._max_len, tf.int64))
        order = tf.argsort(widths, stable=True)
        widths = tf.gather(widths, order)
        position = tf.range(n)
        first_of_width = widths != tf.concat([[-1], widths[:-1]], axis=0)
        width_start = tf.gather(
            tf.boolean_mask(position, first_of_width),
            tf.cumsum(tf.cast(first_of_width, tf.int64)) - 1,
        )
        # A chunk starts at each new width, and every _CHUNK rows within one.
        starts = tf.boolean_mask(
            position, first_of_width | ((position - width_start) % _CHUNK == 0)
        )
        stops = tf.concat([starts[1:], [n]], axis=0)

        def chunk(k, outputs):
            members = order[starts[k] : stops[k]]
            x = pad_rows(self._padded(tf.gather(rows, members), widths[starts[k]]))
            predicted = self._model(x, training=False)
            return k + 1, outputs.write(k, predicted[: stops[k] - starts[k]])

        outputs = tf.TensorArray(
            tf.float32, size=tf.size(starts), infer_shape=False,
            element_shape=tf.TensorShape([None, self._n_outputs]),
        )  # fmt: skip
        _, outputs = tf.while_loop(
            lambda k, _: k < tf.size(starts), chunk, (tf.constant(0), outputs)
        )
        ordered = tf.reshape(outputs.concat(), [-1, self._n_outputs])
        return tf.gather(ordered, tf.math.invert_permutation(order))

    def _padded(self, rows, width):
        """``rows`` (ragged) padded to ``width``, with the vectorizer's
        ``padding``."""
        lengths = rows.row_lengths()
        start = width - lengths if self._pre_padding else tf.zeros_like(lengths)
        which = rows.value_rowids()
        column = tf.range(tf.size(which, out_type=tf.int64)) - tf.gather(
            rows.row_starts(), which
        )
        column += tf.gather(start, which)
        shape = tf.stack([rows.nrows(), width])
        return tf.scatter_nd(tf.stack([which, column], axis=1), rows.flat_values, shape)
