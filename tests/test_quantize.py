"""skglove._quantize: a copy of a network with its tables at lower precision."""

import keras
import numpy as np
import pytest
from conftest import TINY_MAX_LEN

from skglove._layers import SubsetEmbedding
from skglove._quantize import (
    _unpack_nibbles,
    pack_nibbles,
    quantize_rows,
    quantized_network,
    stored_precision,
)

#: Largest |Δ probability| against the float32 network allowed on the posts.
TOLERANCE = {"float16": 1e-3, "int8": 1e-2, "int4": 1e-1}
#: The dtype a table is stored in, by precision: int4 entries two an int8.
STORED = {"float16": "float16", "int8": "int8", "int4": "int8"}


@pytest.mark.parametrize(("precision", "levels"), [("int8", 127), ("int4", 7)])
def test_integer_rows_are_within_half_a_step_of_the_table(precision, levels):
    rng = np.random.default_rng(0)
    table = rng.normal(size=(40, 7)) * rng.uniform(1e-3, 10, size=(40, 1))
    table[3] = 0.0
    values, scale = quantize_rows(table, precision)
    assert values.dtype == np.int8 and scale.dtype == np.float32
    assert (np.abs(values).max(axis=1) == np.where(scale > 0, levels, 0)).all()
    error = np.abs(values * scale[:, None].astype(np.float64) - table)
    assert (error <= scale[:, None] / 2 * (1 + 1e-6)).all()
    assert scale[3] == 0 and not values[3].any()


@pytest.mark.parametrize("width", [1, 2, 7, 50])
def test_int4_entries_are_packed_two_a_byte_and_read_back_exactly(width):
    values = np.random.default_rng(width).integers(-8, 8, size=(5, width))
    values[0, :2] = [-8, 7][:width]  # both ends of the range
    packed = pack_nibbles(values.astype(np.int8))
    assert packed.dtype == np.int8 and packed.shape == (5, (width + 1) // 2)
    # Any leading shape, as the network gathers rows: (batch, length, bytes).
    batch = np.stack([packed, packed[::-1]])
    got = np.asarray(_unpack_nibbles(batch, width))
    np.testing.assert_array_equal(got, np.stack([values, values[::-1]]))


def _tables(model):
    kinds = (keras.layers.Embedding, SubsetEmbedding)
    return {layer.name for layer in model.layers if isinstance(layer, kinds)}


@pytest.mark.parametrize("precision", ["float16", "int8", "int4"])
def test_a_copy_stores_each_table_at_the_precision_and_keeps_the_rest(
    fitted_pipeline, posts, precision
):
    model = fitted_pipeline[-1].model_
    before = [w.copy() for w in model.get_weights()]
    copy = quantized_network(model, precision)
    assert _tables(model) >= {"embedding", "word_scores"}
    for layer in copy.layers:
        original = model.get_layer(layer.name).get_weights()
        if layer.name in _tables(model):
            # The table itself, then an integer table's scales and the id rows.
            dtypes = [np.asarray(w).dtype.name for w in layer.get_weights()]
            assert dtypes[0] == STORED[precision], (layer.name, dtypes)
            if precision == "int4":
                table = original[0]
                assert layer.get_weights()[0].shape[-1] == -(-table.shape[-1] // 2)
            assert sum(np.asarray(w).nbytes for w in layer.get_weights()) < sum(
                w.nbytes for w in original
            )
        else:
            for got, want in zip(layer.get_weights(), original, strict=True):
                np.testing.assert_array_equal(got, want)
    for got, want in zip(model.get_weights(), before, strict=True):
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)
    ids = fitted_pipeline[-1].feature_encoder_.transform(
        fitted_pipeline[0].transform(posts[0])
    )
    x = ids.toarray(TINY_MAX_LEN)
    full = np.asarray(model(x, training=False))
    smaller = np.asarray(copy(x, training=False))
    assert 0 < np.abs(smaller - full).max() < TOLERANCE[precision]
    # Exactly the float32 network with each table replaced by what the
    # precision stores: a read path off by any factor fails here.
    np.testing.assert_allclose(
        smaller, _stored_values_network(model, precision)(x), rtol=0, atol=1e-6
    )


def _stored_values_network(model, precision):
    """A float32 copy of ``model`` whose tables hold the values ``precision``
    stores, read back in NumPy."""
    reference = keras.models.clone_model(model)
    reference.set_weights(model.get_weights())
    for name in _tables(model):
        layer = reference.get_layer(name)
        weights = layer.get_weights()
        stored = stored_precision(weights[0].shape[1], precision)
        if stored == "float16":
            weights[0] = weights[0].astype(np.float16).astype(np.float32)
        elif stored != "float32":
            values, scale = quantize_rows(weights[0], precision)
            weights[0] = values * scale[:, None]
        layer.set_weights(weights)
    return lambda x: np.asarray(reference(x, training=False))


def test_float32_is_the_network_itself(fitted_pipeline):
    model = fitted_pipeline[-1].model_
    assert quantized_network(model, "float32") is model


def test_float16_refuses_a_table_it_would_overflow(fitted_copy):
    model = fitted_copy[-1].model_
    layer = model.get_layer("word_scores")
    weights = layer.get_weights()
    weights[0][1, 0] = -70000.0
    layer.set_weights(weights)
    with pytest.raises(ValueError, match="'word_scores': an entry of magnitude 70000"):
        quantized_network(model, "float16")
    assert quantized_network(model, "int8") is not model


@pytest.mark.parametrize("precision", ["float16", "int8", "int4"])
def test_a_table_with_a_nan_or_infinity_is_refused(fitted_copy, precision):
    model = fitted_copy[-1].model_
    layer = model.get_layer("word_scores")
    weights = layer.get_weights()
    for bad in (np.nan, np.inf):
        weights[0][1, 0] = bad
        layer.set_weights(weights)
        with pytest.raises(ValueError, match="'word_scores': it holds NaN or inf"):
            quantized_network(model, precision)


@pytest.mark.parametrize("precision", ["int8", "int4"])
def test_a_table_one_entry_wide_stays_float32_and_answers_exactly(precision):
    # trainable_dim=1 or embedding_dim=1 make such tables: a float32 scale
    # per row would take as many bytes as the row itself.
    rng = np.random.default_rng(0)
    ids = keras.Input((6,), dtype="int32", name="ids")
    wide = keras.layers.Embedding(50, 4, name="wide")(ids)
    narrow = keras.layers.Embedding(50, 1, name="narrow")(ids)
    joined = keras.layers.Concatenate()([wide, narrow])
    model = keras.Model(ids, keras.layers.Dense(3)(keras.layers.Flatten()(joined)))
    model.get_layer("narrow").set_weights([rng.normal(size=(50, 1))])
    copy = quantized_network(model, precision)
    table = copy.get_layer("narrow").get_weights()
    assert [w.dtype.name for w in table] == ["float32"]
    np.testing.assert_array_equal(table[0], model.get_layer("narrow").get_weights()[0])
    assert copy.get_layer("wide").get_weights()[0].dtype.name == "int8"
    x = rng.integers(0, 50, size=(8, 6))
    np.testing.assert_allclose(
        copy(x), _stored_values_network(model, precision)(x), rtol=0, atol=1e-6
    )
    assert stored_precision(2, precision) == precision
