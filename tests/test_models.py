"""Tests for the Keras architectures and the length-bucketed input pipeline."""

import numpy as np
import pytest

from skglove._batching import _bucket_boundaries, predict_by_length, training_dataset
from skglove._models import build_blog_cnn, build_kim_cnn, build_network


def _table(n_ids=20, dim=3):
    return np.arange(n_ids * dim, dtype=np.float32).reshape(n_ids, dim) / 100


def test_blog_cnn_is_the_seed_network():
    weights = _table()
    model = build_blog_cnn(1000, 20, n_ids=20, embedding_dim=3, weights=weights)
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
    embedding = model.get_layer("embedding")
    assert not embedding.trainable
    np.testing.assert_array_equal(embedding.get_weights()[0], weights)


@pytest.mark.parametrize("kernel_size, pool_size, shortest", [(5, 5, 149), (4, 3, 48)])
def test_blog_shortest_sequence(kernel_size, pool_size, shortest):
    sizes = {"kernel_size": kernel_size, "pool_size": pool_size}
    build_blog_cnn(shortest, 2, n_ids=10, embedding_dim=2, **sizes)
    with pytest.raises(ValueError, match=f"at least {shortest} ids"):
        build_blog_cnn(shortest - 1, 2, n_ids=10, embedding_dim=2, **sizes)


def test_blog_takes_one_kernel_width():
    with pytest.raises(ValueError, match="stacks convolutions of one width"):
        build_blog_cnn(200, 2, n_ids=10, embedding_dim=2, kernel_size=(3, 4))


def test_blog_dropout_layers():
    model = build_blog_cnn(149, 3, n_ids=10, embedding_dim=2, dropout=0.5)
    assert sum(type(layer).__name__ == "Dropout" for layer in model.layers) == 2


def test_embedding_weights_shape_is_checked():
    with pytest.raises(ValueError, match=r"shape \(3, 2\), expected \(4, 2\)"):
        build_network(
            "kim", 10, 2, n_ids=4, embedding_dim=2, weights=np.zeros((3, 2), "float32")
        )


def test_kim_cnn_layout():
    model = build_kim_cnn(None, 4, n_ids=20, embedding_dim=3, weights=_table())
    convs = [layer for layer in model.layers if type(layer).__name__ == "Conv1D"]
    assert sorted(c.kernel_size[0] for c in convs) == [3, 4, 5]
    assert model.input_shape == (None, None)
    assert model.output_shape == (None, 4)


def test_kim_needs_sequences_as_long_as_its_widest_kernel():
    with pytest.raises(ValueError, match="at least 5 ids, got max_len=4"):
        build_kim_cnn(4, 2, n_ids=10, embedding_dim=2)


def test_kim_output_ignores_padding():
    model = build_kim_cnn(
        None, 3, n_ids=20, embedding_dim=3, weights=_table(), filters=8
    )
    words = np.array([[5, 7, 1, 9, 12, 3]], dtype=np.int32)
    outputs = []
    for pad_before, pad_after in [(0, 0), (10, 0), (0, 7), (40, 3)]:
        x = np.pad(words, ((0, 0), (pad_before, pad_after)))
        outputs.append(model.predict(x, verbose=0))
    for out in outputs[1:]:
        np.testing.assert_allclose(out, outputs[0], rtol=1e-5)


def test_trainable_rows_leave_the_rest_frozen():
    weights = _table()
    rows = np.zeros(20, dtype=bool)
    rows[15:] = True
    model = build_kim_cnn(
        None,
        2,
        n_ids=20,
        embedding_dim=3,
        weights=weights,
        trainable_rows=rows,
        kernel_size=2,
    )
    assert not model.get_layer("embedding").trainable
    correction = model.get_layer("trainable_rows")
    assert correction.trainable
    np.testing.assert_array_equal(correction.get_weights()[0], 0)
    model.compile("adam", "sparse_categorical_crossentropy")
    x = np.array([[3, 16, 17], [4, 18, 2]] * 8, dtype=np.int32)
    model.fit(x, np.array([0, 1] * 8), epochs=3, verbose=0)
    learned = correction.get_weights()[0]
    np.testing.assert_array_equal(learned[:15], 0)  # gated out: no gradient
    assert np.abs(learned[16:19]).sum() > 0
    np.testing.assert_array_equal(
        model.get_layer("embedding").get_weights()[0], weights
    )


def test_bucket_boundaries_double():
    assert _bucket_boundaries(100) == [16, 32, 64]
    assert _bucket_boundaries(16) == []


def test_training_batches_are_cropped_and_complete():
    rng = np.random.default_rng(0)
    lengths = rng.integers(0, 60, 200)
    X = np.zeros((200, 64), dtype=np.int32)
    for i, n in enumerate(lengths):
        X[i, 64 - n :] = rng.integers(2, 50, n)
    y = np.arange(200)
    dataset = training_dataset(
        X, y, None, batch_size=16, min_len=5, shuffle=True, seed=0
    )
    seen = []
    for x, labels in dataset:
        x, labels = x.numpy(), labels.numpy()
        assert x.shape[1] >= 5
        longest = max(5, lengths[labels].max())
        assert x.shape[1] == min(64, 2 ** int(np.ceil(np.log2(longest))))
        # Cropping removed padding only: each row ends with its document.
        for row, label in zip(x, labels, strict=True):
            n = lengths[label]
            if n:
                np.testing.assert_array_equal(row[-n:], X[label, -n:])
        seen.extend(labels.tolist())
    assert sorted(seen) == list(range(200))
    assert dataset.cardinality().numpy() == sum(1 for _ in dataset)


def test_predict_by_length_keeps_the_input_order():
    model = build_kim_cnn(None, 3, n_ids=50, embedding_dim=3, weights=_table(50))
    rng = np.random.default_rng(1)
    X = np.zeros((30, 40), dtype=np.int32)
    for i, n in enumerate(rng.integers(1, 40, 30)):
        X[i, 40 - n :] = rng.integers(2, 50, n)
    expected = model.predict(X, verbose=0)
    got = predict_by_length(model, X, batch_size=7, min_len=5)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-7)


def test_trainable_features_are_appended_to_frozen_vectors():
    weights = _table()
    model = build_kim_cnn(
        None, 2, n_ids=20, embedding_dim=3, weights=weights, trainable_dim=4
    )
    assert model.get_layer("features").output.shape[-1] == 7
    assert model.get_layer("trainable_features").trainable
    assert not model.get_layer("embedding").trainable


def test_crop_keeps_every_word_in_a_power_of_two_window():
    import tensorflow as tf

    from skglove._batching import _cropper, _next_power_of_two

    assert _next_power_of_two(
        tf.constant([1, 2, 3, 16, 17, 16385])
    ).numpy().tolist() == [
        1,
        2,
        4,
        16,
        32,
        32768,
    ]
    crop = _cropper(5)
    pre = np.zeros((2, 100), dtype=np.int32)
    pre[0, -17:] = 3
    assert crop(tf.constant(pre)).shape == (2, 32)
    np.testing.assert_array_equal(crop(tf.constant(pre)).numpy()[:, -17:], pre[:, -17:])
    post = pre[:, ::-1].copy()
    np.testing.assert_array_equal(crop(tf.constant(post)).numpy()[:, :17], post[:, :17])
    assert crop(tf.constant(np.zeros((3, 100), dtype=np.int32))).shape == (3, 8)
    assert crop(tf.constant(np.ones((1, 100), dtype=np.int32))).shape == (1, 100)


def test_prediction_does_not_retrace_once_warm():
    model = build_kim_cnn(None, 2, n_ids=50, embedding_dim=3, weights=_table(50))
    rng = np.random.default_rng(2)
    X = np.zeros((64, 200), dtype=np.int32)
    for i, n in enumerate(rng.integers(1, 200, 64)):
        X[i, 200 - n :] = rng.integers(2, 50, n)
    predict_by_length(model, X, batch_size=8, min_len=5)
    traces = model.predict_function.experimental_get_tracing_count()
    for _ in range(3):
        predict_by_length(model, X[::-1], batch_size=8, min_len=5)
    assert model.predict_function.experimental_get_tracing_count() == traces
