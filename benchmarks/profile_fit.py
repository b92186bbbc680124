"""Where one default fit spends its time, on one task of bench_20newsgroups.py.

Prints the vectorizer's time, each epoch's time, the channel mix's fit, the
classifier's whole fit and the test accuracy; with ``--steps``, also the mean
time of a training batch through the network forward, forward and backward,
and a whole ``train_on_batch`` step (optimizer, losses and metrics included).

    python benchmarks/profile_fit.py --task full
    python benchmarks/profile_fit.py --task clinc150 --steps
"""

import argparse
import time

import keras
import numpy as np
import tensorflow as tf
from _common import find_archive, parse_params
from bench_20newsgroups import TASKS, _EpochTimer, _find_clinc, load_task

import skglove._keras_hooks
from skglove import make_glove_pipeline


def _timed(fn, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - start


def _step_times(model: keras.Model, batches: list) -> dict:
    """Mean milliseconds per batch of the three parts of a step, each timed
    on a second pass (the first traces)."""

    @tf.function(reduce_retracing=True)
    def forward(x):
        return model(x, training=True)

    @tf.function(reduce_retracing=True)
    def backward(x, y):
        with tf.GradientTape() as tape:
            outputs = model(x, training=True)
            loss = tf.add_n(
                [
                    tf.reduce_sum(keras.losses.get(loss_fn)(target, out))
                    for loss_fn, target, out in zip(model.loss, y, outputs, strict=True)
                ]
            )
        return tape.gradient(loss, model.trainable_variables)

    parts = {
        "forward": lambda x, y: forward(x),
        "forward and backward": backward,
        "train_on_batch": lambda x, y: model.train_on_batch(x, list(y)),
    }
    times = {}
    for name, part in parts.items():
        for _ in range(2):
            start = time.perf_counter()
            for x, y in batches:
                part(x, y)
        times[name] = (time.perf_counter() - start) / len(batches) * 1000
    return times


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--task", choices=sorted(TASKS), default="full")
    parser.add_argument("--archive", help="20news-bydate.tar.gz")
    parser.add_argument("--clinc", help="CLINC150's data_full.json")
    parser.add_argument("--glove", default="glove.6B.50d")
    parser.add_argument("--params", default="", help="pipeline parameters")
    parser.add_argument("--max-train", type=int, default=None)
    parser.add_argument("--steps", action="store_true", help="time a step's parts")
    args = parser.parse_args(argv)

    clinc = args.task == "clinc150"
    (X_train, y_train), (X_test, y_test) = load_task(
        args.task,
        None if clinc else find_archive(args.archive),
        max_train=args.max_train,
        clinc=_find_clinc(args.clinc) if clinc else None,
    )
    timer = _EpochTimer()
    params = {"random_state": 0, **parse_params(args.params)}
    pipe = make_glove_pipeline(args.glove, callbacks=[timer], **params)
    vectorizer, clf = pipe[0], pipe[-1]

    mix_seconds, fit_calls = [], []
    fitted_mix, fit = skglove._keras_hooks.fitted_mix, keras.Model.fit

    def timed_mix(*a, **k):
        mix, seconds = _timed(fitted_mix, *a, **k)
        mix_seconds.append(seconds)
        return mix

    def recorded_fit(model, *a, **k):
        fit_calls.append((model, k["x"]))
        return fit(model, *a, **k)

    skglove._keras_hooks.fitted_mix = timed_mix
    keras.Model.fit = recorded_fit
    try:
        X, vectorize_s = _timed(vectorizer.fit_transform, X_train)
        _, fit_s = _timed(clf.fit, X, y_train)
    finally:
        skglove._keras_hooks.fitted_mix, keras.Model.fit = fitted_mix, fit
    accuracy = float(np.mean(pipe.predict(X_test) == np.asarray(y_test)))
    result = {
        "vectorize_s": vectorize_s,
        "epoch_s": timer.seconds,
        "mix_s": sum(mix_seconds),
        "fit_s": fit_s,
        "accuracy": accuracy,
    }
    print(f"task {args.task}: {len(X_train)} train documents, params {params}")
    print(f"vectorizer fit_transform: {vectorize_s:.2f} s")
    print("epochs: " + ", ".join(f"{s:.2f}" for s in timer.seconds) + " s")
    print(f"channel mix: {result['mix_s']:.2f} s")
    print(f"classifier fit: {fit_s:.2f} s; test accuracy {accuracy:.4f}")
    if args.steps:
        model, dataset = fit_calls[-1]
        result["step_ms"] = _step_times(model, list(dataset))
        for name, ms in result["step_ms"].items():
            print(f"{name}: {ms:.1f} ms per batch")
    return result


if __name__ == "__main__":
    main()
