"""Keras layers for convolutions wider than one word, over each document's
windows, computed from the batch's distinct words.

Registered for ``.keras`` files, as the layers of :mod:`skglove._layers`,
whose max-pooling gradient they share.
"""

import keras
import tensorflow as tf

from ._ids import PAD
from ._layers import (
    PACKAGE,
    DynamicShapeLayer,
    max_winners,
    pad_rows,
    per_document,
    relu_segment_max,
)

__all__ = ["WindowMax", "Windows"]


@keras.saving.register_keras_serializable(package=PACKAGE)
class Windows(DynamicShapeLayer):
    """Each document's windows of ``width`` consecutive ids.

    A document is read as if ``width - 1`` padding ids stood on either side
    of it: a document of ``n`` words has ``n + width - 1`` windows, the ones
    at its ends overhanging it, and a one-word document is read by every
    window that holds its word. Windows of padding alone are left out, so
    the outputs do not depend on how much padding surrounds a document. The
    outputs, row by row and, within a row, in order:

    - ``words``, ``(n_words,)``: the batch's distinct ids, then padding ids
      up to a multiple of :data:`skglove._layers.ROW_BLOCK`;
    - ``slots``, ``(n_windows, width)``: each window's ids, as indices into
      ``words``, or -1 where the window overhangs its document;
    - ``doc_of_window``, ``(n_windows,)``: each window's document
      (non-decreasing).

    A convolution max-pooled over time (:class:`WindowMax`) then reads each
    distinct word once, and only the windows that hold a word, rather than
    every position, padding included.

    Parameters
    ----------
    n_ids : int
        Size of the id space: every id is below it.
    width : int
        Ids per window, at least 1.
    """

    def __init__(self, n_ids: int, width: int, **kwargs):
        super().__init__(**kwargs)
        if int(width) < 1:
            raise ValueError(f"width must be at least 1, got {width!r}")
        self.n_ids = int(n_ids)
        self.width = int(width)

    def call(self, ids):
        is_word = tf.cast(ids, tf.int64) != PAD
        words, word = tf.unique(tf.boolean_mask(tf.cast(ids, tf.int64), is_word))
        # Each position's word, as an index into words; -1 for padding.
        grid = tf.tensor_scatter_nd_update(
            tf.fill(tf.shape(ids), tf.constant(-1, word.dtype)), tf.where(is_word), word
        )
        slots, has_word = self._slots(grid)
        shape = tf.shape(has_word, out_type=tf.int64)
        doc = tf.broadcast_to(tf.range(shape[0])[:, None], shape)
        return (
            pad_rows(tf.cast(words, tf.int32)),
            tf.cast(tf.boolean_mask(slots, has_word), tf.int32),
            tf.cast(tf.boolean_mask(doc, has_word), tf.int32),
        )

    def _slots(self, grid):
        """Every window of every row, ``(batch, length + width - 1, width)``,
        from a grid of word indices with -1 for padding, and whether each
        window holds a word."""
        overhang = self.width - 1
        padded = tf.pad(grid, [[0, 0], [overhang, overhang]], constant_values=-1)
        n_positions = tf.shape(grid)[1] + overhang
        slots = tf.stack(
            [padded[:, k : k + n_positions] for k in range(self.width)], axis=-1
        )
        return slots, tf.reduce_any(slots >= 0, axis=-1)

    def token_windows(self, ids):
        """Each position's window, a row of :meth:`call`'s ``slots``, of
        shape ``(batch, length + width - 1)``; -1 where a window holds no
        word. The window at ``j`` reads the positions ``j - width + 1`` to
        ``j``."""
        grid = tf.where(tf.cast(ids, tf.int64) != PAD, 0, -1)
        _, has_word = self._slots(grid)
        order = tf.cumsum(tf.reshape(tf.cast(has_word, tf.int64), [-1])) - 1
        order = tf.reshape(order, tf.shape(has_word, out_type=tf.int64))
        return tf.where(has_word, order, tf.constant(-1, tf.int64))

    def compute_output_spec(self, ids):
        return (
            keras.KerasTensor((None,), dtype="int32"),
            keras.KerasTensor((None, self.width), dtype="int32"),
            keras.KerasTensor((None,), dtype="int32"),
        )

    def get_config(self):
        return {**super().get_config(), "n_ids": self.n_ids, "width": self.width}


@keras.saving.register_keras_serializable(package=PACKAGE)
class WindowMax(DynamicShapeLayer):
    """A convolution over each document's windows, ReLU, max-pooled.

    The value of a window is ``relu(bias + sum_k kernel[k] . v_k)``, where
    ``v_k`` is the vector of its ``k``-th word (zeros where it overhangs its
    document): a ``Conv1D`` with ``activation="relu"``, as a function of the
    window alone. Each document's output is the max over its windows, zeros
    for a document without words.

    ``kernel[k] . v`` is computed once per distinct word of the batch and
    offset ``k``, and added up per window. The gradient, as
    :class:`skglove._layers.BagMax`'s, reaches only the windows that hold a document's
    (positive) max, shared evenly where several do.

    Parameters
    ----------
    filters : int
        Output features.
    width : int
        Words per window.
    kernel_initializer : initializer, default="glorot_uniform"
        Of the ``(width, dim, filters)`` kernel, Conv1D's shape.

    Call arguments: ``[vectors, slots, doc_of_window, ids]``: a vector per
    word of a :class:`Windows` output, its other outputs, and the batch it
    came from. Returns ``(batch, filters)``.
    """

    def __init__(
        self, filters: int, width: int, kernel_initializer="glorot_uniform", **kwargs
    ):
        super().__init__(**kwargs)
        if int(width) < 1:
            raise ValueError(f"width must be at least 1, got {width!r}")
        self.filters = int(filters)
        self.width = int(width)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, input_shape):
        slots_width = input_shape[1][-1]
        if slots_width is not None and slots_width != self.width:
            raise ValueError(
                f"WindowMax of width {self.width} got windows of width "
                f"{slots_width}: give it the slots of Windows(n_ids, {self.width})"
            )
        dim = input_shape[0][-1]
        self.kernel = self.add_weight(
            shape=(self.width, dim, self.filters),
            initializer=self.kernel_initializer,
            name="kernel",
        )
        self.bias = self.add_weight(
            shape=(self.filters,), initializer="zeros", name="bias"
        )

    def call(self, inputs):
        vectors, slots, doc_of_window, ids = inputs
        bias = tf.convert_to_tensor(self.bias)
        pooled = _window_max(self.word_offsets(vectors), bias, slots, doc_of_window)
        return per_document(pooled, ids)

    def word_offsets(self, vectors):
        """``kernel[k] . v`` for each word vector and offset, ``(n_words,
        width, filters)``."""
        kernel = tf.convert_to_tensor(self.kernel)
        return tf.einsum("nd,kdf->nkf", tf.cast(vectors, kernel.dtype), kernel)

    def window_values(self, vectors, slots):
        """Each window's value, ``(n_windows, filters)``."""
        bias = tf.convert_to_tensor(self.bias)
        return _window_values(self.word_offsets(vectors), bias, slots)

    def compute_output_spec(self, inputs):
        return keras.KerasTensor((None, self.filters), dtype="float32")

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "width": self.width,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
        }


def _window_values(projected, bias, slots):
    n_words = tf.shape(projected)[0]
    # Overhanging offsets (-1) read an appended row of zeros.
    projected = tf.concat([projected, tf.zeros_like(projected[:1])], axis=0)
    rows = tf.where(slots >= 0, slots, n_words)
    total = bias
    for k in range(slots.shape[1]):
        total = total + tf.gather(projected[:, k], rows[:, k])
    return tf.nn.relu(total)


@tf.custom_gradient
def _window_max(projected, bias, slots, doc_of_window):
    values = _window_values(projected, bias, slots)
    pooled = relu_segment_max(values, doc_of_window)

    def gradient(upstream):
        window, feature, reached = max_winners(values, pooled, doc_of_window, upstream)
        width = slots.shape[1]
        slot = tf.gather(slots, window)  # (n, width)
        offset = tf.broadcast_to(tf.range(width, dtype=slot.dtype), tf.shape(slot))
        feature = tf.broadcast_to(tf.cast(feature, slot.dtype)[:, None], tf.shape(slot))
        index = tf.stack([slot, offset, feature], axis=-1)
        reached = tf.broadcast_to(reached[:, None], tf.shape(slot))
        overhangs = slot < 0  # these read the zero row: no gradient
        d_projected = tf.scatter_nd(
            tf.boolean_mask(index, ~overhangs),
            tf.boolean_mask(reached, ~overhangs),
            tf.shape(projected, out_type=index.dtype),
        )
        d_bias = tf.math.unsorted_segment_sum(
            reached[:, 0], feature[:, 0], tf.shape(bias)[0]
        )
        return d_projected, d_bias, None, None

    return pooled, gradient
