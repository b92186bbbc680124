"""Tests for skglove._layers: the bag layers against plain references."""

import numpy as np
import pytest
import tensorflow as tf
from sklearn.feature_extraction.text import TfidfVectorizer

from skglove._layers import ROW_BLOCK, BagMax, Bags, BagTfidf

#: Padded id batches: repeated words, a document with no word between
#: others, and an empty last document (no pairs at all for it).
IDS = np.array(
    [
        [0, 0, 5, 3, 5, 5],
        [7, 7, 7, 2, 0, 0],
        [0, 0, 0, 0, 0, 0],
        [3, 9, 2, 9, 3, 4],
        [0, 0, 0, 0, 0, 0],
    ],
    dtype=np.int32,
)
N_IDS = 10


def _bags(ids=IDS):
    return [np.asarray(x) for x in Bags(N_IDS)(tf.constant(ids))]


def test_bags_lists_each_documents_distinct_words_and_counts():
    words, word_of_pair, doc_of_pair, count, pair_words = _bags()
    np.testing.assert_array_equal(words[word_of_pair], pair_words)
    pairs = list(
        zip(doc_of_pair.tolist(), pair_words.tolist(), count.tolist(), strict=True)
    )
    # Grouped by document, words in the order they first occur.
    assert pairs == [
        (0, 5, 3.0), (0, 3, 1.0),
        (1, 7, 3.0), (1, 2, 1.0),
        (3, 3, 2.0), (3, 9, 2.0), (3, 2, 1.0), (3, 4, 1.0),
    ]  # fmt: skip
    # The distinct words, then padding to a whole block of rows.
    assert len(words) == ROW_BLOCK
    assert sorted(words[:6].tolist()) == [2, 3, 4, 5, 7, 9]
    assert not words[6:].any()


def _token_max(values_per_id, ids):
    """The reference: each document's max over its tokens' values."""
    vectors = tf.gather(values_per_id, ids) * tf.cast(ids != 0, tf.float32)[..., None]
    return tf.reduce_max(vectors, axis=1)


@pytest.mark.parametrize("ties", [False, True])
def test_bag_max_and_its_gradient_equal_tensorflows_max(ties):
    rng = np.random.default_rng(0)
    per_id = rng.random((N_IDS, 4)).astype(np.float32)
    if ties:  # distinct words with equal vectors share the max's gradient
        per_id[[2, 3, 9]] = per_id[3]
    per_id = tf.constant(per_id)
    words, word_of_pair, doc_of_pair, _, _ = Bags(N_IDS)(tf.constant(IDS))
    upstream = tf.constant(rng.random((len(IDS), 4)).astype(np.float32))
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(per_id)
        values = tf.gather(per_id, words)
        ours = BagMax()([values, word_of_pair, doc_of_pair, IDS])
        # TensorFlow's own gradient of a max over each document's distinct
        # words, and, without ties between words, over its tokens.
        pairs = tf.math.unsorted_segment_max(
            tf.gather(values, word_of_pair), doc_of_pair, len(IDS)
        )
        tokens = _token_max(per_id, IDS)
        losses = [tf.reduce_sum(x * upstream) for x in (ours, pairs, tokens)]
    np.testing.assert_array_equal(ours.numpy(), tokens.numpy())
    ours, pairs, tokens = [
        tf.convert_to_tensor(tape.gradient(loss, per_id)).numpy() for loss in losses
    ]
    assert np.count_nonzero(ours)
    np.testing.assert_allclose(ours, pairs, rtol=1e-6)
    if not ties:
        np.testing.assert_allclose(ours, tokens, rtol=1e-6)


def test_bag_max_after_a_relu_has_tensorflows_gradient_where_filters_are_dead():
    # Half the values negative: after the ReLU, many documents' max is 0 in
    # some feature, with every pair tied. No gradient may reach the values
    # before the ReLU there, as with TensorFlow's own max.
    rng = np.random.default_rng(1)
    per_id = tf.constant(rng.normal(size=(N_IDS, 16)).astype(np.float32) - 0.8)
    words, word_of_pair, doc_of_pair, _, _ = Bags(N_IDS)(tf.constant(IDS))
    upstream = tf.constant(rng.random((len(IDS), 16)).astype(np.float32))
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(per_id)
        values = tf.nn.relu(tf.gather(per_id, words))
        ours = BagMax()([values, word_of_pair, doc_of_pair, IDS])
        pairs = tf.math.unsorted_segment_max(
            tf.gather(values, word_of_pair), doc_of_pair, len(IDS)
        )
        losses = [tf.reduce_sum(x * upstream) for x in (ours, pairs)]
    dead = ours.numpy()[np.unique(doc_of_pair.numpy())] == 0
    assert dead.sum() >= 10, "the case this test is about"
    ours, pairs = [
        tf.convert_to_tensor(tape.gradient(loss, per_id)).numpy() for loss in losses
    ]
    assert np.count_nonzero(ours)
    np.testing.assert_allclose(ours, pairs, rtol=1e-6)


@pytest.mark.parametrize("norm", ["l2", "l1"])
def test_bag_tfidf_is_the_sublinear_tfidf_vector_times_the_vectors(norm):
    docs = [" ".join(f"w{i}" for i in row if i) for row in IDS]
    tfidf = TfidfVectorizer(
        sublinear_tf=True, norm=norm, token_pattern=r"\S+", lowercase=False
    )
    weights = tfidf.fit_transform(docs).toarray()
    idf = np.zeros(N_IDS, dtype=np.float32)
    for word, column in tfidf.vocabulary_.items():
        idf[int(word[1:])] = tfidf.idf_[column]
    vectors = np.random.default_rng(1).random((N_IDS, 3)).astype(np.float32)
    expected = np.zeros((len(IDS), 3))
    for word, column in tfidf.vocabulary_.items():
        expected += weights[:, [column]] * vectors[int(word[1:])]
    pool = BagTfidf(N_IDS, norm=norm, max_count=IDS.shape[1])
    pool.build(None)
    pool.set_weights([idf])
    _, _, doc_of_pair, count, pair_words = Bags(N_IDS)(tf.constant(IDS))
    pooled = pool([tf.gather(vectors, pair_words), pair_words, doc_of_pair, count, IDS])
    np.testing.assert_allclose(pooled.numpy(), expected, rtol=1e-5, atol=1e-7)


def test_a_documents_bag_outputs_do_not_depend_on_the_other_rows():
    rng = np.random.default_rng(2)
    per_id = tf.constant(rng.random((N_IDS, 4)).astype(np.float32))
    pool = BagTfidf(N_IDS, max_count=IDS.shape[1])
    pool.build(None)
    pool.set_weights([rng.random(N_IDS).astype(np.float32)])

    def pooled(ids):
        words, word_of_pair, doc_of_pair, count, pair_words = Bags(N_IDS)(ids)
        values = tf.gather(per_id, words)
        return np.concatenate(
            [
                BagMax()([values, word_of_pair, doc_of_pair, ids]),
                pool(
                    [tf.gather(per_id, pair_words), pair_words, doc_of_pair, count, ids]
                ),
            ],
            axis=1,
        )

    together = pooled(tf.constant(IDS))
    for row in range(len(IDS)):
        alone = pooled(tf.constant(IDS[row : row + 1]))
        np.testing.assert_array_equal(alone[0], together[row])
