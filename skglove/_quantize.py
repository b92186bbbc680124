"""A copy of a fitted network whose per-word tables take less space.

:func:`skglove.export` writes it for ``precision="float16"``, ``"int8"`` or
``"int4"``.
Every embedding table of the network (the frozen GloVe table, the lexical
channel's class scores per word, trainable corrections) is stored as float16,
as int8 with one float32 scale per row (the row's largest magnitude over
127), or as int4, two entries a byte, with a scale per row (over 7). A
table one entry wide stays float32 at int8 and int4: its row's scale alone
would take as many bytes. A table's rows are read back as float32, and the
rest of the network, its other weights and all of its arithmetic, stay
float32.
"""

import keras
import numpy as np
import tensorflow as tf
from keras import layers, ops

from ._layers import SubsetEmbedding

__all__ = ["quantized_network"]


def quantized_network(model: keras.Model, precision: str) -> keras.Model:
    """``model``, or for a lower ``precision`` (one of ``_artifact.PRECISIONS``) a
    copy of it with its tables stored at that precision; ``model`` itself is
    left alone."""
    if precision == "float32":
        return model

    def clone(layer):
        if isinstance(layer, layers.Embedding | SubsetEmbedding):
            _check_fits(layer, precision)
        if isinstance(layer, layers.Embedding):
            table = ops.convert_to_numpy(layer.embeddings)
            return _StoredTable(table, precision, name=layer.name)
        if isinstance(layer, SubsetEmbedding):
            table = ops.convert_to_numpy(layer.embeddings)
            # The ids that have a row, ascending, with their rows in that order.
            rows = ops.convert_to_numpy(layer.rows)
            ids = np.flatnonzero(rows >= 0)
            return _StoredTable(table[rows[ids]], precision, ids=ids, name=layer.name)
        return layer.__class__.from_config(layer.get_config())

    copy = keras.models.clone_model(model, clone_function=clone)
    for layer in copy.layers:
        if not isinstance(layer, _StoredTable):
            layer.set_weights(model.get_layer(layer.name).get_weights())
    return copy


def _check_fits(layer, precision: str) -> None:
    """Refuse a table that ``precision`` cannot hold: one with a NaN or
    infinite entry (no finite scale for its row; a document with that word
    would be answered NaN), and for float16 an entry above 65504, which
    overflows to infinity."""
    table = ops.convert_to_numpy(layer.embeddings)
    if not np.isfinite(table).all():
        raise ValueError(
            f"precision={precision!r} cannot store table {layer.name!r}: it "
            "holds NaN or infinite entries; the network was trained into "
            "them or given them, and answers NaN at float32 as well"
        )
    if precision != "float16":
        return
    largest = float(np.abs(table).max(initial=0.0))
    if largest > float(np.finfo(np.float16).max):
        raise ValueError(
            f"precision='float16' cannot store table {layer.name!r}: an entry "
            f"of magnitude {largest:.6g} is above float16's largest, 65504; "
            "use precision='int8', which scales each row, or 'float32'"
        )


#: The largest magnitude of an integer entry, by precision.
_LEVELS = {"int8": 127, "int4": 7}


def stored_precision(width: int, precision: str) -> str:
    """The precision a table ``width`` entries wide is stored at for
    ``precision``: itself, or float32 where a row's entries and its float32
    scale would take no fewer bytes than the row at float32."""
    if precision not in _LEVELS:
        return precision
    entry_bytes = -(-width // 2) if precision == "int4" else width
    return precision if entry_bytes + 4 < 4 * width else "float32"


def quantize_rows(
    table: np.ndarray, precision: str = "int8"
) -> tuple[np.ndarray, np.ndarray]:
    """``table`` as integer rows in ``[-L, L]`` (L is 127 for ``"int8"``, 7
    for ``"int4"``), int8, and a float32 scale per row, such that
    ``values * scale[:, None]`` is within half a step of each entry."""
    levels = _LEVELS[precision]
    table = np.asarray(table, dtype=np.float32)
    scale = np.abs(table).max(axis=1, initial=0.0) / levels
    safe = np.where(scale > 0, scale, 1.0)
    values = np.clip(np.rint(table / safe[:, None]), -levels, levels).astype(np.int8)
    return values, scale.astype(np.float32)


def pack_nibbles(values: np.ndarray) -> np.ndarray:
    """Rows of int4 entries (int8 in ``[-8, 7]``), two a byte: entry ``2k``
    in the low four bits of byte ``k``, entry ``2k + 1`` in the high four; an
    odd row is completed with a zero. Read back by :func:`_unpack_nibbles`."""
    values = np.asarray(values, dtype=np.int8)
    if values.shape[1] % 2:
        values = np.pad(values, ((0, 0), (0, 1)))
    low = values[:, 0::2].astype(np.uint8) & 0x0F
    high = values[:, 1::2].astype(np.uint8) << 4
    return (high | low).view(np.int8)


def _unpack_nibbles(packed, width: int):
    """The ``width`` int4 entries of each row of bytes ``packed`` (any leading
    shape), as int32: the inverse of :func:`pack_nibbles`."""
    packed = tf.cast(packed, tf.int32)  # sign-extended: high * 16 + unsigned low
    low = tf.bitwise.right_shift(tf.bitwise.left_shift(packed, 28), 28)
    high = tf.bitwise.right_shift(packed, 4)
    pairs = tf.stack([low, high], axis=-1)
    shape = tf.concat([tf.shape(packed)[:-1], [2 * packed.shape[-1]]], axis=0)
    return tf.reshape(pairs, shape)[..., :width]


class _StoredTable(keras.layers.Layer):
    """An embedding table at ``precision``, read as float32 (int4 entries are
    stored two a byte).

    Without ``ids``, id ``i`` reads row ``i``, as a Keras ``Embedding``. With
    ``ids`` (ascending), ``ids[k]`` reads row ``k`` and any other id zeros, as
    a :class:`SubsetEmbedding`, whose map of every id to its row it replaces.
    """

    def __init__(self, table, precision: str, ids=None, **kwargs):
        super().__init__(trainable=False, **kwargs)
        self.output_dim = table.shape[1]
        precision = stored_precision(self.output_dim, precision)
        if ids is not None and not len(ids):
            # No id has a row: one zero row, behind an id that never occurs.
            table, ids = np.zeros((1, self.output_dim)), np.array([-1])
        self.packed = precision == "int4"
        scale = None
        if precision in _LEVELS:
            table, scale = quantize_rows(table, precision)
        if self.packed:
            table = pack_nibbles(table)
        dtype = "int8" if self.packed else precision
        self.table = self._constant(np.asarray(table, dtype=dtype), "table")
        self.scale = None if scale is None else self._constant(scale, "scale")
        self.ids = None if ids is None else self._constant(ids.astype(np.int32), "ids")

    def _constant(self, value: np.ndarray, name: str):
        weight = self.add_weight(
            shape=value.shape,
            dtype=str(value.dtype),
            initializer="zeros",
            trainable=False,
            name=name,
        )
        weight.assign(value)
        return weight

    def call(self, ids):
        ids = ops.cast(ids, "int32")
        rows = ids
        if self.ids is not None:
            flat = tf.reshape(ids, [-1])
            at = tf.minimum(tf.searchsorted(self.ids, flat), tf.size(self.ids) - 1)
            found = tf.gather(self.ids, at) == flat
            rows = tf.reshape(tf.where(found, at, -1), tf.shape(ids))
        read = ops.maximum(rows, 0)
        vectors = ops.take(self.table, read, axis=0)
        if self.packed:
            vectors = _unpack_nibbles(vectors, self.output_dim)
        vectors = ops.cast(vectors, "float32")
        if self.scale is not None:
            vectors = vectors * ops.take(self.scale, read)[..., None]
        if self.ids is not None:
            vectors = vectors * ops.cast(rows >= 0, "float32")[..., None]
        return vectors

    def compute_output_shape(self, input_shape):
        return (*input_shape, self.output_dim)
