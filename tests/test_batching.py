"""Batches for training and prediction, and predictions that do not depend on
the other rows of their call.

For the latter, each network is fitted once; then the same documents are
scored in 100 random subsets, orders and batch sizes, and every row must
equal, bit for bit, the document's row in a reference call.
"""

import itertools

import numpy as np
import pytest
from conftest import COMMON, TOPICS, make_posts

from skglove import BLOG_PARAMS, make_glove_pipeline
from skglove._batching import _bucket_boundaries, predict_in_batches, training_dataset
from skglove._models import build_kim_cnn
from skglove._sequences import IdSequences


def _random_sequences(n=200, max_len=64, seed=0) -> IdSequences:
    rng = np.random.default_rng(seed)
    lengths = rng.integers(0, max_len - 3, n)
    ids = rng.integers(2, 50, lengths.sum())
    return IdSequences(ids, np.cumsum([0, *lengths]), max_len)


def test_bucket_boundaries_grow_by_a_quarter():
    assert _bucket_boundaries(30) == [8, 10, 12, 15, 19, 24]
    assert _bucket_boundaries(8) == []
    boundaries = _bucket_boundaries(1000)
    assert all(b / a < 1.3 for a, b in itertools.pairwise(boundaries))


@pytest.mark.parametrize("by_length", [True, False])
def test_training_batches_are_padded_only_as_needed_and_complete(by_length):
    X = _random_sequences()
    y = np.arange(len(X))
    rows = np.arange(10, len(X))  # the others are held out
    dataset = training_dataset(
        X, y, None, rows, batch_size=16, shuffle=True, seed=0, by_length=by_length
    )
    edges = [*_bucket_boundaries(X.max_len), X.max_len]
    seen = []
    for x, labels in dataset:
        x, labels = x.numpy(), labels.numpy()
        lengths = X.lengths[labels]
        if by_length:
            # Padded to its longest document, all of one length bucket.
            assert x.shape[1] == max(1, lengths.max())
            assert len(set(np.searchsorted(edges, lengths))) == 1
        else:
            assert x.shape[1] == X.max_len
        np.testing.assert_array_equal(x, X[labels].toarray(x.shape[1]))
        seen.extend(labels.tolist())
    assert sorted(seen) == rows.tolist()
    assert dataset.cardinality().numpy() == sum(1 for _ in dataset)
    # Each pass is a new order, drawn from the seed alone.
    again = training_dataset(
        X, y, None, rows, batch_size=16, shuffle=True, seed=0, by_length=by_length
    )
    orders = [np.concatenate([b.numpy() for _, b in d]) for d in (again, again)]
    assert orders[0].tolist() == seen and orders[1].tolist() != seen


def test_training_dataset_repeats_labels_for_each_output():
    X = IdSequences([3, 4, 5, 6, 7], [0, 2, 5], 3)
    (_, labels, weights), *_ = training_dataset(
        X,
        np.array([0, 1]),
        np.array([0.5, 2.0]),
        np.arange(2),
        batch_size=2,
        shuffle=False,
        seed=0,
        n_outputs=3,
    )
    assert len(labels) == 3
    for part in labels:
        np.testing.assert_array_equal(np.sort(part.numpy()), [0, 1])
    assert sorted(weights.numpy().tolist()) == [0.5, 2.0]


def test_predict_in_batches_keeps_the_input_order():
    model = build_kim_cnn(None, 3, n_ids=50, embedding_dim=3, weights=_table(50))
    X = _random_sequences(30, 40, seed=1)
    expected = model.predict(X.toarray(), verbose=0)
    got = predict_in_batches(model, X, batch_size=7, by_length=True)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-7)


def test_prediction_does_not_retrace_once_warm():
    model = build_kim_cnn(None, 2, n_ids=50, embedding_dim=3, weights=_table(50))
    X = _random_sequences(64, 200, seed=2)
    predict_in_batches(model, X, batch_size=8, by_length=True)
    traces = model.predict_function.experimental_get_tracing_count()
    for _ in range(3):
        predict_in_batches(model, X[::-1], batch_size=8, by_length=True)
    assert model.predict_function.experimental_get_tracing_count() == traces


def _table(n_ids, dim=3):
    return np.random.default_rng(0).normal(size=(n_ids, dim)).astype(np.float32)


MAX_LEN = 160  # the blog network needs 149 ids at least
_EDGE = _bucket_boundaries(MAX_LEN)[3]
_WORDS = [w for words in TOPICS.values() for w in words] + COMMON

#: The default network, small; and the blog's, as BLOG_PARAMS sets it.
NETWORKS = {
    "default": dict(filters=8, epochs=2),
    "blog": dict(BLOG_PARAMS, filters=8, dense_units=8, epochs=1),
}


def _documents() -> list[str]:
    """Posts of many lengths: one word, a bucket's edge and its neighbours,
    exactly ``MAX_LEN`` words and more, and random lengths between."""
    rng = np.random.default_rng(7)
    lengths = [1, 1, 2, _EDGE - 1, _EDGE, _EDGE + 1, MAX_LEN, MAX_LEN + 40]
    lengths += rng.integers(1, MAX_LEN, size=40).tolist()
    return [" ".join(rng.choice(_WORDS, n)) for n in lengths]


@pytest.fixture(scope="module", params=sorted(NETWORKS))
def fitted(request, tiny_glove):
    docs, labels = make_posts(n_per_class=20, length=40)
    pipe = make_glove_pipeline(
        tiny_glove, max_len=MAX_LEN, random_state=0, **NETWORKS[request.param]
    )
    return pipe.fit(docs, labels)


def test_each_row_is_the_same_in_any_subset_order_and_batch(fitted):
    docs = np.array(_documents(), dtype=object)
    reference = fitted.predict_proba(list(docs))
    rng = np.random.default_rng(0)
    for _ in range(100):
        rows = rng.permutation(len(docs))[: rng.integers(1, len(docs) + 1)]
        batch_size = int(rng.choice([1, 2, 3, 7, 16, 64, 128, 1000]))
        got = fitted.predict_proba(list(docs[rows]), batch_size=batch_size)
        np.testing.assert_array_equal(got, reference[rows])


@pytest.fixture(scope="module")
def crowd():
    """10,000 posts, made once for both networks (they take seconds to make)."""
    return make_posts(n_per_class=3334, seed=3, length=30)[0][:10_000]


def test_each_row_is_the_same_alone_and_among_10000(fitted, crowd):
    docs = _documents()
    among = fitted.predict_proba(docs + crowd)[: len(docs)]
    alone = np.concatenate([fitted.predict_proba([doc]) for doc in docs])
    np.testing.assert_array_equal(alone, among)
