"""Tests for the Keras architectures."""

import numpy as np
import pytest

from skglove._models import build_blog_cnn, embedding_layer


def test_blog_cnn_is_the_seed_network():
    weights = np.arange(20 * 3, dtype=np.float32).reshape(20, 3)
    model = build_blog_cnn(1000, 20, embedding_layer(20, 3, weights))
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == [
        "InputLayer",
        "Embedding",
        "Conv1D",
        "MaxPooling1D",
        "Conv1D",
        "MaxPooling1D",
        "Conv1D",
        "GlobalMaxPooling1D",
        "Dense",
        "Dense",
    ]
    convs = [layer for layer in model.layers if type(layer).__name__ == "Conv1D"]
    assert [(c.filters, c.kernel_size) for c in convs] == [(128, (5,))] * 3
    assert model.output_shape == (None, 20)
    assert model.layers[-1].activation.__name__ == "softmax"
    np.testing.assert_array_equal(
        model.get_layer("embedding").get_weights()[0], weights
    )


@pytest.mark.parametrize("kernel_size, pool_size, shortest", [(5, 5, 149), (4, 3, 48)])
def test_shortest_sequence(kernel_size, pool_size, shortest):
    embedding = embedding_layer(10, 2)
    build_blog_cnn(shortest, 2, embedding, kernel_size=kernel_size, pool_size=pool_size)
    with pytest.raises(ValueError, match=f"at least {shortest} ids"):
        build_blog_cnn(
            shortest - 1,
            2,
            embedding_layer(10, 2),
            kernel_size=kernel_size,
            pool_size=pool_size,
        )


def test_dropout_layers():
    model = build_blog_cnn(149, 3, embedding_layer(10, 2), dropout=0.5)
    assert sum(type(layer).__name__ == "Dropout" for layer in model.layers) == 2


def test_embedding_layer_checks_weights_shape():
    with pytest.raises(ValueError, match=r"shape \(3, 2\), expected \(4, 2\)"):
        embedding_layer(4, 2, np.zeros((3, 2), dtype=np.float32))
    assert embedding_layer(4, 2).trainable
    assert not embedding_layer(4, 2, np.zeros((4, 2), dtype=np.float32)).trainable
