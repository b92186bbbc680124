"""Vectorizer speed against Keras 2's Tokenizer + pad_sequences.

Times ``GloveSequenceVectorizer.fit_transform(train) + transform(test)`` and
``tf_keras``' ``Tokenizer.fit_on_texts`` + ``texts_to_sequences`` +
``pad_sequences`` on the 18,846 posts of 20 Newsgroups, checks that both give
the same words at every position, and prints the speed ratio.

    python benchmarks/bench_vectorizer.py --archive ../shared/data/20news-bydate.tar.gz

Needs ``tf-keras`` (in the ``[test]`` extra).
"""

import argparse
import statistics

import numpy as np
from _common import Timer, find_archive, print_table

from skglove import GloveSequenceVectorizer, load_glove
from skglove.datasets import load_20newsgroups


def _keras(train, test, max_words, max_len):
    from tf_keras.preprocessing.sequence import pad_sequences
    from tf_keras.preprocessing.text import Tokenizer

    tokenizer = Tokenizer(num_words=max_words)
    tokenizer.fit_on_texts(train)
    X_train = pad_sequences(tokenizer.texts_to_sequences(train), maxlen=max_len)
    X_test = pad_sequences(tokenizer.texts_to_sequences(test), maxlen=max_len)
    return tokenizer, X_train, X_test


def _skglove(train, test, max_words, max_len):
    vec = GloveSequenceVectorizer(max_words=max_words, max_len=max_len)
    return vec, vec.fit_transform(train), vec.transform(test)


def _same_words(tokenizer, X_keras, vec, X_ours) -> bool:
    """Both outputs name the same word at every position."""
    keras_words = np.array(
        [""] + [tokenizer.index_word[i] for i in range(1, X_keras.max() + 1)],
        dtype=object,
    )
    ours = {i: w for w, i in vec.vocabulary_.items()}
    ours[0] = ""
    lookup = np.vectorize(ours.__getitem__, otypes=[object])
    return bool(np.array_equal(keras_words[X_keras], lookup(X_ours)))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--archive", help="20news-bydate.tar.gz (default: ../shared/data)"
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--max-words", type=int, default=20000)
    parser.add_argument("--max-len", type=int, default=1000)
    args = parser.parse_args(argv)

    archive = find_archive(args.archive)
    train = load_20newsgroups("train", archive=archive).data
    test = load_20newsgroups("test", archive=archive).data
    load_glove("glove.6B.50d").index  # noqa: B018 - load once, outside the timings

    times = {"tf_keras": [], "skglove": []}
    for _ in range(args.repeats):
        for name, run in (("tf_keras", _keras), ("skglove", _skglove)):
            with Timer() as timer:
                result = run(train, test, args.max_words, args.max_len)
            times[name].append(timer.seconds)
            if name == "tf_keras":
                keras_result = result
            else:
                ours = result
    identical = _same_words(keras_result[0], keras_result[1], ours[0], ours[1])
    identical &= _same_words(keras_result[0], keras_result[2], ours[0], ours[2])

    rows = [
        {
            "impl": name,
            "median": f"{statistics.median(t):.2f} s",
            "runs": ", ".join(f"{s:.2f}" for s in t),
        }
        for name, t in times.items()
    ]
    print(
        f"{len(train)} train + {len(test)} test posts, "
        f"max_words={args.max_words}, max_len={args.max_len}"
    )
    print_table(
        rows,
        [
            ("impl", "implementation"),
            ("median", "median wall time"),
            ("runs", "runs (s)"),
        ],
    )
    ratio = statistics.median(times["tf_keras"]) / statistics.median(times["skglove"])
    print(
        f"\nspeed-up over tf_keras: {ratio:.2f}x "
        f"(target >= 3x: {'PASS' if ratio >= 3 else 'FAIL'})"
    )
    print(f"identical words at every position: {'yes' if identical else 'NO'}")
    return ratio, identical


if __name__ == "__main__":
    main()
