"""Tag support tickets with several topics at once: a multi-label pipeline.

Each made-up ticket is about one or two of four topics (billing, shipping,
account, bug). ``MultiLabelBinarizer`` turns the tag lists into scikit-learn's
indicator matrix, one 0/1 column per tag; the pipeline fits one network with
a sigmoid output per tag, and ``threshold="tuned"`` picks each tag's
decision threshold for the best F1 on the validation split. The example
prints each tag's threshold and F1 on new tickets, the tags predicted for a
few of them, and the words that decided one of those tags.

    python examples/multi_label.py

It runs offline: the tickets are made up, and the default GloVe vectors ship
with skglove.
"""

import argparse

import numpy as np
from sklearn.metrics import classification_report, f1_score
from sklearn.preprocessing import MultiLabelBinarizer

from skglove import explain, make_glove_pipeline

TOPICS = {
    "billing": "invoice refund charge payment price card bill charged".split(),
    "shipping": "delivery package courier tracking parcel shipped late box".split(),
    "account": "password login username email account locked reset profile".split(),
    "bug": "error crash broken screen freeze bug update app".split(),
}
FILLER = "i my the a please help with this it is was and to me".split()


def made_up_tickets(n: int, seed: int = 0) -> tuple[list[str], list[list[str]]]:
    """Tickets of filler words and words of one or two topics, and their tags."""
    rng = np.random.default_rng(seed)
    names = list(TOPICS)
    tickets, tags = [], []
    for i in range(n):
        chosen = sorted(rng.choice(names, 1 + i % 2, replace=False).tolist())
        words = rng.choice(FILLER, 8).tolist()
        for tag in chosen:
            words += rng.choice(TOPICS[tag], 3).tolist()
        rng.shuffle(words)
        tickets.append(" ".join(words))
        tags.append(chosen)
    return tickets, tags


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--glove", default="glove.6B.50d", help="GloVe name or path")
    parser.add_argument("--n-tickets", type=int, default=400)
    parser.add_argument("--epochs", type=int, default=8)
    args = parser.parse_args(argv)

    train_text, train_tags = made_up_tickets(args.n_tickets)
    test_text, test_tags = made_up_tickets(200, seed=1)
    binarizer = MultiLabelBinarizer()
    Y_train = binarizer.fit_transform(train_tags)
    Y_test = binarizer.transform(test_tags)
    names = binarizer.classes_.tolist()

    pipe = make_glove_pipeline(
        glove=args.glove,
        max_len=40,
        epochs=args.epochs,
        validation_split=0.2,
        threshold="tuned",
        label_names=names,
        random_state=0,
    )
    pipe.fit(train_text, Y_train)
    predicted = pipe.predict(test_text)

    thresholds = pipe[-1].threshold_
    shown = (f"{n} {t:.2f}" for n, t in zip(names, thresholds, strict=True))
    print("tag thresholds: " + ", ".join(shown))
    print(classification_report(Y_test, predicted, target_names=names, digits=3))
    tags_of = binarizer.inverse_transform(predicted[:3])
    for text, tags in zip(test_text[:3], tags_of, strict=True):
        print(f"{', '.join(tags) or '(no tag)':>18}  {text}")
    (why, *_) = explain(pipe, test_text[:1], target=names[int(Y_test[0].argmax())])
    print(f"\nwhy {why.target!r} for {test_text[0]!r}: {why.top_text()}")
    return {
        "micro_f1": f1_score(Y_test, predicted, average="micro"),
        "macro_f1": f1_score(Y_test, predicted, average="macro"),
        "explained": why,
    }


if __name__ == "__main__":
    main()
