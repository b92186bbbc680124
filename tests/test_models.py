"""Tests for the Keras architectures and the length-bucketed input pipeline."""

import keras
import numpy as np
import pytest
import tensorflow as tf

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
    windows = [layer for layer in model.layers if type(layer).__name__ == "Windows"]
    assert sorted(w.width for w in windows) == [3, 4, 5]
    convs = [model.get_layer(f"conv_{i}") for i in range(3)]
    assert [tuple(c.kernel.shape) for c in convs] == [(w, 3, 128) for w in (3, 4, 5)]
    assert model.input_shape == (None, None)
    assert model.output_shape == (None, 4)


def _predict_each(model, batches):
    """``model.predict`` of each int32 batch, in one call and as skglove
    predicts: from a dataset of batches of any shape, so the network is traced
    once, not once a shape. A list, an output (or list of outputs) a batch."""
    signature = tf.TensorSpec((None, None), tf.int32)
    dataset = tf.data.Dataset.from_generator(
        lambda: iter(batches), output_signature=signature
    ).apply(tf.data.experimental.assert_cardinality(len(batches)))
    out = model.predict(dataset, verbose=0)
    ends = np.cumsum([len(batch) for batch in batches])[:-1]
    if isinstance(out, list):
        return list(zip(*(np.split(o, ends) for o in out), strict=True))
    return np.split(out, ends)


def _random_table(n_ids=20, dim=3, seed=0):
    table = np.random.default_rng(seed).normal(size=(n_ids, dim)).astype(np.float32)
    table[0] = 0
    return table


def _kim_with_everything(n_ids=20, dim=3, kernel_size=(3, 4, 5)):
    """The kim network with every option that touches the embedded words."""
    idf = np.linspace(1, 2, n_ids).astype(np.float32)
    idf[:2] = 0
    rows = np.zeros(n_ids, dtype=bool)
    rows[-3:] = True
    return build_network(
        "kim",
        None,
        3,
        lexical={"n_words": n_ids - 2, "idf": idf},
        n_ids=n_ids,
        embedding_dim=dim,
        weights=_random_table(n_ids, dim),
        trainable_rows=rows,
        trainable_dim=2,
        filters=8,
        kernel_size=kernel_size,
        mean_idf=idf,
    )


@pytest.mark.parametrize("kernel_size", [(3, 4, 5), (1, 2), 7])
def test_kim_output_ignores_padding(kernel_size):
    model = _kim_with_everything(kernel_size=kernel_size)
    # Trainable tables start at zero: give them values, as after training.
    rng = np.random.default_rng(3)
    for layer in model.layers:
        if "embedding" in type(layer).__name__.lower():
            for w in layer.trainable_weights:
                w.assign(rng.normal(size=w.shape))
    paddings = [(0, 0), (10, 0), (0, 7), (40, 3), (995, 0)]
    documents = ([[5]], [[5, 7]], [[5, 7, 1, 9, 12, 3]], [[4, 4, 19, 4]])
    batches = [
        np.pad(np.array(words, dtype=np.int32), ((0, 0), padding))
        for words in documents
        for padding in paddings
    ]
    # Each padding of a document is a batch of its own.
    predicted = _predict_each(model, batches)
    for start in range(0, len(batches), len(paddings)):
        outputs = predicted[start : start + len(paddings)]
        for out in outputs[1:]:
            np.testing.assert_allclose(out, outputs[0], rtol=1e-5, atol=1e-6)


@pytest.fixture(scope="module")
def kim_pooled():
    """The default kim network's max-pooled features: the outputs of its
    ``conv`` layers, and a model of them. Tests only read it."""
    model = build_kim_cnn(
        None, 2, n_ids=20, embedding_dim=3, weights=_random_table(), filters=16
    )
    pooled = [layer.output for layer in model.layers if "conv" in layer.name]
    return pooled, keras.Model(model.inputs, pooled)


@pytest.mark.parametrize("length", range(1, 7))
def test_kim_reads_documents_shorter_than_its_kernels(kim_pooled, length):
    # Every width of the default (3, 4, 5) must see the words of a document
    # of any length: the max-pooled features of two documents that differ
    # only in their words differ for every width.
    pooled, features = kim_pooled
    assert len(pooled) == 3
    a = np.arange(2, 2 + length, dtype=np.int32)[None]
    b = np.arange(10, 10 + length, dtype=np.int32)[None]
    for fa, fb in zip(*_predict_each(features, [a, b]), strict=True):
        assert np.abs(fa).sum() > 0 and np.abs(fb).sum() > 0
        assert not np.allclose(fa, fb)


@pytest.mark.parametrize("kernel_size", [(1, 2), (2, 3, 5)])
def test_kim_pools_each_convolution_over_the_documents_windows(kernel_size):
    # The features are those of a Conv1D of each width over the words, with
    # width - 1 zero vectors on either side, ReLU, and a max over the
    # windows that hold a word: computed here with NumPy from the kernels.
    table = _random_table(dim=3)
    model = build_kim_cnn(
        None, 2, n_ids=20, embedding_dim=3, weights=table, filters=6,
        kernel_size=kernel_size,
    )  # fmt: skip
    features = keras.Model(model.inputs, model.get_layer("probabilities").input)
    ids = np.array([[4, 9, 4, 17, 0, 0], [0, 0, 0, 0, 0, 0], [3, 0, 0, 0, 0, 0]])
    got = features.predict(ids.astype(np.int32), verbose=0)
    for row, doc in enumerate(ids):
        words = doc[doc != 0]
        expected = []
        for i, width in enumerate(kernel_size):
            kernel, bias = model.get_layer(f"conv_{i}").get_weights()
            kernel = kernel.reshape(-1, kernel.shape[-1])  # width 1: a Dense
            padded = np.pad(table[words], ((width - 1, width - 1), (0, 0)))
            windows = [
                padded[j : j + width].ravel() @ kernel + bias
                for j in range(len(words) + width - 1)
            ]
            pooled = np.max(np.maximum(windows, 0), axis=0) if len(words) else 0
            expected.append(np.zeros(6) + pooled)
        np.testing.assert_allclose(got[row], np.concatenate(expected), atol=1e-6)


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
    # Only the five chosen ids own a trainable vector; they start at zero.
    (vectors,) = [w.numpy() for w in correction.trainable_weights]
    assert vectors.shape == (5, 3)
    np.testing.assert_array_equal(vectors, 0)
    np.testing.assert_array_equal(correction.rows.numpy(), [-1] * 15 + [0, 1, 2, 3, 4])
    model.compile("adam", "sparse_categorical_crossentropy")
    x = np.array([[3, 16, 17], [4, 18, 2]] * 8, dtype=np.int32)
    model.fit(x, np.array([0, 1] * 8), epochs=3, verbose=0)
    learned = correction.trainable_weights[0].numpy()
    assert np.abs(learned[1:4]).sum(axis=1).min() > 0  # ids 16, 17, 18
    np.testing.assert_array_equal(learned[[0, 4]], 0)  # ids 15, 19: unseen
    np.testing.assert_array_equal(
        model.get_layer("embedding").get_weights()[0], weights
    )
    # The frozen ids read exactly their GloVe rows.
    embedded = keras.Model(model.input, model.get_layer("trainable_rows").output)
    np.testing.assert_array_equal(embedded.predict(x[:2, :1], verbose=0), 0)


def test_trainable_features_are_appended_to_frozen_vectors():
    weights = _table()
    model = build_kim_cnn(
        None, 2, n_ids=20, embedding_dim=3, weights=weights, trainable_dim=4
    )
    assert model.get_layer("features").output.shape[-1] == 7
    assert model.get_layer("trainable_features").trainable
    assert not model.get_layer("embedding").trainable


@pytest.fixture
def a_gpu_is_listed(monkeypatch):
    """TensorFlow lists a GPU, as on a GPU machine: Keras' jit_compile="auto"
    then turns XLA on for a model whose layers all support it."""
    import tensorflow as tf

    listed = tf.config.list_physical_devices

    def with_gpu(device_type=None):
        gpu = tf.config.PhysicalDevice("/physical_device:GPU:0", "GPU")
        devices = [*listed(), gpu]
        return [d for d in devices if device_type in (None, d.device_type)]

    monkeypatch.setattr(tf.config, "list_physical_devices", with_gpu)


def test_xla_stays_off_on_a_gpu_for_the_layers_it_cannot_compile(
    a_gpu_is_listed, tiny_glove, posts
):
    from conftest import tiny_pipeline

    blog = build_blog_cnn(149, 3, n_ids=10, embedding_dim=2)
    blog.compile(loss="categorical_crossentropy")
    assert blog.jit_compile  # the fake GPU is seen
    # The default network's unique words and segment maxima have no XLA kernel:
    # asked to, XLA would fail the first training step.
    pipe = tiny_pipeline(tiny_glove, epochs=1, validation_split=0.2)
    pipe.fit(*posts)
    assert pipe[-1].model_.jit_compile is False
    model = _kim_with_everything()
    with pytest.warns(UserWarning, match="doesn't support `jit_compile=True`"):
        model.compile(loss="categorical_crossentropy", jit_compile=True)
    assert model.jit_compile is False
