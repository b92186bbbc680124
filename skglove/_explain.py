"""Explain a fitted pipeline's predictions: a score per word."""

from itertools import pairwise
from numbers import Integral

import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from ._attribution import exact_attributions
from ._classifier import GloveCNNClassifier
from ._explanation import Explanation, Explanations, Token, Window
from ._ids import IdSequences
from ._validation import check_documents
from ._vectorizer import GloveSequenceVectorizer, _pad

__all__ = ["explain"]

#: Rows of one occlusion call to ``predict_proba``: bounds its memory.
_OCCLUSION_ROWS = 4096


def explain(
    pipeline: Pipeline, documents, *, top: int = 10, target=None
) -> Explanations:
    """Score each word of each document toward its predicted class.

    The default network is explained exactly. Its class logits are a sum of
    one term per token plus a bias: the lexical channel's word scores
    weighted by TF-IDF, the TF-IDF mean of the word vectors, and each
    convolution filter's max-pooled value, which belongs to the window that
    won it (a value that several windows reach is shared evenly among them).
    A token's score is its share of the target class's logit minus the mean
    logit over classes, the part of the logit that the softmax reads, in the
    output's log-probability units: the scores plus ``intercept`` add up to
    it. A score of +1 multiplies the target's odds against the average class
    by e. With ``dense_units > 0`` or ``architecture="blog"`` the output is
    not a sum over tokens, and a token's score is by occlusion instead: how
    much that centred logit falls when the token alone is removed, at the
    cost of one forward pass per token.

    Parameters
    ----------
    pipeline : Pipeline
        A fitted pipeline of a :class:`GloveSequenceVectorizer` followed by a
        :class:`GloveCNNClassifier`, such as :func:`make_glove_pipeline`'s.
    documents : iterable of str
        The documents to explain; a single string is rejected, as by
        ``predict``.
    top : int, default=10
        How many tokens (and windows) to list in each explanation's ``top``.
    target : label or None, default=None
        The class to score toward; None scores each document toward its
        predicted class.

    Returns
    -------
    Explanations
        A list of :class:`~skglove.Explanation`, one per document, that
        renders in a notebook. A document none of whose words the network
        reads has an explanation with ``empty`` true, scores of 0 and no
        ``top``.

    Raises
    ------
    NotFittedError
        If the pipeline is not fitted.
    ValueError
        If ``documents`` is a string or empty, or ``target`` is not a class.
    TypeError
        If ``pipeline`` is not such a pipeline, or a document is not a str.

    Examples
    --------
    >>> from skglove import explain, make_glove_pipeline
    >>> docs = ["the rocket reached orbit", "the doctor saw a patient"] * 10
    >>> labels = ["space", "medicine"] * 10
    >>> pipe = make_glove_pipeline(filters=8, epochs=3, random_state=0)
    >>> pipe = pipe.fit(docs, labels)
    >>> (why,) = explain(pipe, ["a rocket to the moon"], top=1)
    >>> why.label, why.top[0].text
    ('space', 'rocket')
    """
    vectorizer, classifier = _steps(pipeline)
    if isinstance(top, bool) or not isinstance(top, Integral) or top < 0:
        raise ValueError(f"top must be an int >= 0, got {top!r}")
    check_is_fitted(vectorizer, "vocabulary_")
    documents = check_documents(documents)
    proba = pipeline.predict_proba(documents)
    classes = classifier.classes_.tolist()
    target_code = _class_code(classes, target)
    tokens = vectorizer._tokenize_all(documents)
    ids = vectorizer._token_ids(tokens)
    bounds = pairwise(np.searchsorted(tokens.doc, np.arange(len(documents) + 1)))
    per_document = [ids[a:b] for a, b in bounds]
    read = [_read_tokens(doc_ids, vectorizer) for doc_ids in per_document]
    sequences = [doc_ids[r] for doc_ids, r in zip(per_document, read, strict=True)]
    encoder = classifier.feature_encoder_
    shares = exact_attributions(
        classifier.model_, [encoder.transform(s) for s in sequences]
    )
    exact = shares is not None
    if not exact:
        shares = _occlusion(classifier, vectorizer, sequences, proba)
    explanations = Explanations()
    for i, document in enumerate(documents):
        label = int(np.argmax(proba[i]))
        code = label if target_code is None else target_code
        explanations.append(
            _explanation(
                document,
                vectorizer._token_spans(document),
                read[i],
                shares[i],
                code=code,
                top=top,
                label=classes[label],
                target=classes[code],
                probabilities=proba[i],
                method="exact" if exact else "occlusion",
            )
        )
    return explanations


def _steps(pipeline):
    steps = getattr(pipeline, "steps", None)
    if (
        not isinstance(pipeline, Pipeline)
        or len(steps) != 2
        or not isinstance(steps[0][1], GloveSequenceVectorizer)
        or not isinstance(steps[1][1], GloveCNNClassifier)
    ):
        raise TypeError(
            "explain() needs a Pipeline of a GloveSequenceVectorizer followed "
            f"by a GloveCNNClassifier (make_glove_pipeline), got {pipeline!r:.200}"
        )
    return steps[0][1], steps[1][1]


def _class_code(classes: list, target) -> int | None:
    if target is None:
        return None
    matches = [i for i, c in enumerate(classes) if c == target]
    if not matches:
        raise ValueError(
            f"target={target!r} is not a class of this classifier; its classes "
            f"are {classes!r:.300}"
        )
    return matches[0]


def _read_tokens(ids: np.ndarray, vectorizer) -> np.ndarray:
    """Indices of a document's tokens that reach the network, in order."""
    kept = np.flatnonzero(ids >= 0)
    if len(kept) <= vectorizer.max_len:
        return kept
    if vectorizer.truncating == "pre":
        return kept[-vectorizer.max_len :]
    return kept[: vectorizer.max_len]


def _occlusion(classifier, vectorizer, sequences, proba) -> list:
    """Per token: the fall of each centred log-probability without it."""
    shares = []
    group, rows = [], 0
    for i, sequence in enumerate(sequences):
        group.append(i)
        rows += len(sequence)
        if rows >= _OCCLUSION_ROWS or i == len(sequences) - 1:
            shares.extend(_occlude(classifier, vectorizer, sequences, group, proba))
            group, rows = [], 0
    return shares


def _occlude(classifier, vectorizer, sequences, group, proba):
    # Every sequence of the group with one token left out, in order.
    ids, doc = [], []
    for sequence in (sequences[i] for i in group):
        for t in range(len(sequence)):
            ids.append(np.delete(sequence, t))
            doc.append(np.full(len(sequence) - 1, len(doc)))
    if not ids:
        return [np.zeros((0, proba.shape[1])) for _ in group]
    X = _pad(
        np.concatenate(ids),
        np.concatenate(doc),
        len(ids),
        int(vectorizer.max_len),
        vectorizer.padding,
        vectorizer.truncating,
    )
    without = _centred_log(
        classifier.predict_proba(IdSequences(X, _source(vectorizer)))
    )
    shares, offset = [], 0
    for i in group:
        n = len(sequences[i])
        shares.append(_centred_log(proba[i : i + 1]) - without[offset : offset + n])
        offset += n
    return shares


def _source(vectorizer):
    return getattr(vectorizer, "id_source_", None)


def _centred_log(proba: np.ndarray) -> np.ndarray:
    logits = np.log(np.maximum(proba, 1e-12))
    return logits - logits.mean(axis=1, keepdims=True)


def _explanation(
    document, spans, read, shares, *, code, top, label, target, probabilities, method
) -> Explanation:
    token_shares = shares if method == "occlusion" else shares.tokens
    scores = np.zeros(len(spans))
    scores[read] = token_shares[:, code]
    is_read = np.zeros(len(spans), dtype=bool)
    is_read[read] = True
    tokens = tuple(
        Token(i, start, end, document[start:end], float(scores[i]), bool(is_read[i]))
        for i, (start, end) in enumerate(spans)
    )
    order = np.argsort(-scores, kind="stable")
    best = tuple(tokens[i] for i in order if is_read[i] and scores[i] > 0)[:top]
    windows = ()
    intercept = None
    if method == "exact":
        intercept = float(shares.intercept[code])
        windows = _top_windows(document, spans, read, shares.windows, code, top)
    return Explanation(
        document=document,
        label=label,
        probability=float(probabilities.max()),
        target=target,
        target_probability=float(probabilities[code]),
        tokens=tokens,
        top=best,
        windows=windows,
        intercept=intercept,
        method=method,
    )


def _top_windows(document, spans, read, windows, code, top) -> tuple:
    scored = sorted(
        ((float(s[code]), first, last) for first, last, s in windows),
        key=lambda w: (-w[0], w[1]),
    )
    best = []
    for score, first, last in scored[:top]:
        if score <= 0:
            break
        first, last = int(read[first]), int(read[last])
        text = document[spans[first][0] : spans[last][1]]
        best.append(Window(first, last, text, score))
    return tuple(best)
