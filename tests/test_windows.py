"""Tests for skglove._windows: windows and their convolution against Keras'
Conv1D and TensorFlow's max."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from test_layers import IDS, N_IDS

from skglove._layers import ROW_BLOCK
from skglove._windows import WindowMax, Windows


def _reference_windows(row, width):
    """A document's windows as the tuples of ids a padded convolution reads,
    in order, without those of padding alone."""
    padded = [0] * (width - 1) + list(row) + [0] * (width - 1)
    windows = [tuple(padded[j : j + width]) for j in range(len(row) + width - 1)]
    return [window for window in windows if any(window)]


@pytest.mark.parametrize("width", [1, 2, 3, 5])
def test_windows_lists_each_documents_windows(width):
    layer = Windows(N_IDS, width)
    words, slots, doc_of_window = (np.asarray(x) for x in layer(tf.constant(IDS)))
    assert slots.shape[1] == width
    assert len(words) == ROW_BLOCK
    assert sorted(words[:6].tolist()) == [2, 3, 4, 5, 7, 9]
    assert not words[6:].any()
    assert np.all(np.diff(doc_of_window) >= 0)
    windows = np.where(slots >= 0, words[slots], 0)
    for doc, row in enumerate(IDS):
        listed = [tuple(w) for w in windows[doc_of_window == doc].tolist()]
        # Padding around a document does not change its windows.
        assert listed == _reference_windows(row[row != 0], width)
    # Each position's window, as a padded convolution reads it.
    at = np.asarray(layer.token_windows(tf.constant(IDS)))
    assert at.shape == (len(IDS), IDS.shape[1] + width - 1)
    for doc, row in enumerate(IDS):
        padded = np.pad(row, width - 1)
        for j, index in enumerate(at[doc]):
            window = padded[j : j + width]
            if window.any():
                np.testing.assert_array_equal(windows[index], window)
                assert doc_of_window[index] == doc
            else:
                assert index == -1


@pytest.mark.parametrize("width", [2, 3])
def test_window_max_and_its_gradient_equal_a_padded_conv1d(width):
    # The reference: Keras' Conv1D with the same kernel over each document's
    # word vectors, width - 1 zero vectors on either side, a ReLU, and
    # TensorFlow's max over the windows that hold a word.
    rng = np.random.default_rng(4)
    per_id = rng.normal(size=(N_IDS, 3)).astype(np.float32)
    per_id[[2, 9]] = per_id[4]  # equal words: tied windows share the max
    per_id = tf.constant(per_id)
    conv = WindowMax(5, width)
    words, slots, doc_of_window = Windows(N_IDS, width)(IDS)
    conv([tf.gather(per_id, words), slots, doc_of_window, IDS])
    conv.bias.assign(rng.normal(size=5).astype(np.float32) - 0.5)
    upstream = tf.constant(rng.random((len(IDS), 5)).astype(np.float32))
    reference = keras.layers.Conv1D(5, width, activation="relu")
    reference.build((None, None, 3))
    reference.set_weights(conv.get_weights())
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(per_id)
        ours = conv([tf.gather(per_id, words), slots, doc_of_window, IDS])
        masked = tf.gather(per_id, IDS) * tf.cast(IDS != 0, tf.float32)[..., None]
        padded = tf.pad(masked, [[0, 0], [width - 1, width - 1], [0, 0]])
        has_word = tf.nn.max_pool1d(
            tf.cast(tf.pad(IDS, [[0, 0], [width - 1, width - 1]]) != 0, tf.float32)[
                ..., None
            ],
            width,
            1,
            "VALID",
        )
        theirs = tf.reduce_max(reference(padded) * has_word, axis=1)
        losses = [tf.reduce_sum(x * upstream) for x in (ours, theirs)]
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-5, atol=1e-6)
    assert (ours.numpy() == 0).any() and (ours.numpy() > 0).any()
    for ours_grad, theirs_grad in zip(
        tape.gradient(losses[0], [per_id, *conv.trainable_variables]),
        tape.gradient(losses[1], [per_id, *reference.trainable_variables]),
        strict=True,
    ):
        ours_grad, theirs_grad = (
            tf.convert_to_tensor(g).numpy() for g in (ours_grad, theirs_grad)
        )
        assert np.count_nonzero(ours_grad)
        np.testing.assert_allclose(ours_grad, theirs_grad, rtol=1e-4, atol=1e-6)


def test_window_max_refuses_windows_of_another_width():
    words, slots, doc_of_window = Windows(N_IDS, 2)(IDS)
    vectors = tf.ones((len(words), 3))
    with pytest.raises(ValueError, match="width 3 got windows of width 2"):
        WindowMax(4, 3)([vectors, slots, doc_of_window, IDS])
    with pytest.raises(ValueError, match="width must be at least 1"):
        WindowMax(4, 0)
