"""Explain a fitted pipeline's predictions: a score per word."""

from itertools import pairwise
from numbers import Integral

import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from ._attribution import label_attributions, output_logits
from ._classifier import GloveCNNClassifier
from ._explanation import Explanation, Explanations, Tokens, Window
from ._multilabel import check_label_names
from ._sequences import IdSequences
from ._validation import check_documents
from ._vectorizer import GloveSequenceVectorizer

__all__ = ["explain"]

#: Sequences of one occlusion call to the network: bounds its memory.
_OCCLUSION_ROWS = 4096


def explain(
    pipeline: Pipeline, documents, *, top: int = 10, target=None
) -> Explanations:
    """Score each word of each document toward its predicted class (or, for
    a multi-label classifier, toward each of its predicted labels).

    The default network is explained exactly. Its class logits are a sum of
    one term per token plus a bias: the lexical channel's word scores
    weighted by TF-IDF, the TF-IDF mean of the word vectors, and each
    convolution filter's max-pooled value, which belongs to the window that
    won it (a value that several windows reach is shared evenly among them).
    A token's score is its share of the target class's logit minus the mean
    logit over classes, the part of the logit that the softmax reads, in the
    output's log-probability units: the scores plus ``intercept`` add up to
    it (the intercept also holds the effect of the output's floor on tiny
    probabilities). A score of +1 multiplies the target's odds against the
    average class by e. A multi-label classifier has one sigmoid output per
    label and no softmax, so nothing is centred: a token's score is its share
    of the label's own log-odds, ``log(p / (1 - p))`` of the label's
    probability, and the scores plus ``intercept`` add up to them; a score
    of +1 multiplies the label's odds by e. With ``dense_units > 0`` or
    ``architecture="blog"`` the output is not a sum over tokens, and a
    token's score is by occlusion instead: how much that centred logit (for
    a multi-label classifier, the label's log-odds) falls when the token
    alone is removed from the sequence the network reads, at the cost of one
    forward pass per token. See the docs' "Explaining predictions" page.

    A multi-label classifier's document can have several predicted labels,
    or none. With ``target=None`` each document gets one explanation per
    predicted label (a label whose probability exceeds the classifier's
    ``threshold_``), in the order of the label columns, and a document with
    no predicted label gets one explanation, of its most probable label.
    The list stays flat, in document order; each explanation's
    ``document_index`` says which document it explains, and its
    ``predicted`` whether its label is predicted. ``label`` and ``target``
    are then both the explained label, as its name in the classifier's
    ``label_names``, or its column number without them, and ``probability``
    and ``target_probability`` its own probability. With a ``target``, each
    document gets one explanation, toward that label.

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
        predicted class. For a multi-label classifier, a label column (an
        int in ``classes_``) or a name in its ``label_names``; None scores
        toward each predicted label.

    Returns
    -------
    Explanations
        A list of :class:`~skglove.Explanation`, one per document (for a
        multi-label classifier without a ``target``, one per document and
        predicted label), that renders in a notebook. A document none of
        whose words the network reads has an explanation with ``empty``
        true, scores of 0 and no ``top``.

    Raises
    ------
    NotFittedError
        If the pipeline is not fitted.
    ValueError
        If ``documents`` is a string or empty, ``target`` is not a class
        (not a label column or name), or ``top`` is not an int >= 0.
    TypeError
        If ``pipeline`` is not such a pipeline, a document is not a str, or
        ``target`` is not a single label.

    Examples
    --------
    >>> from skglove import explain, make_glove_pipeline
    >>> docs = ["the rocket reached orbit", "the doctor saw a patient"] * 10
    >>> labels = ["space", "medicine"] * 10
    >>> pipe = make_glove_pipeline(filters=8, epochs=10, random_state=0)
    >>> pipe = pipe.fit(docs, labels)
    >>> (why,) = explain(pipe, ["a rocket to the moon"], top=1)
    >>> why.label, why.top[0].text
    ('space', 'rocket')
    """
    vectorizer, classifier = _steps(pipeline)
    if isinstance(top, bool) or not isinstance(top, Integral) or top < 0:
        raise ValueError(f"top must be an int >= 0, got {top!r}")
    check_is_fitted(pipeline)
    documents = check_documents(documents)
    multilabel = classifier._multilabel
    names, target_code = None, None
    if hasattr(classifier, "classes_"):  # else predict_proba says it is unfitted
        if multilabel:
            names = _label_names(classifier)
            target_code = _label_code(len(classifier.classes_), names, target)
        else:
            target_code = _class_code(classifier.classes_.tolist(), target)
    proba = pipeline.predict_proba(documents)
    if multilabel:
        names = names or list(range(proba.shape[1]))
        predicted = proba > classifier.threshold_
        codes = [
            np.flatnonzero(row) if row.any() else np.array([p.argmax()])
            for row, p in zip(predicted, proba, strict=True)
        ]
    else:
        names, predicted = classifier.classes_.tolist(), None
        codes = [np.array([p.argmax()]) for p in proba]
    if target_code is not None:
        codes = [np.array([target_code])] * len(proba)
    tokens = vectorizer._tokenize(documents)
    ids, _ = vectorizer._token_ids(tokens)
    bounds = pairwise(np.searchsorted(tokens.doc, np.arange(len(documents) + 1)))
    per_document = [ids[a:b] for a, b in bounds]
    read = [_read_tokens(doc_ids, vectorizer) for doc_ids in per_document]
    # The network's input ids, mapped for all documents at once.
    lengths = np.cumsum([len(r) for r in read])[:-1]
    kept = [doc_ids[r] for doc_ids, r in zip(per_document, read, strict=True)]
    flat = np.concatenate(kept) if kept else np.empty(0, dtype=np.int64)
    sequences = np.split(classifier.feature_encoder_.transform(flat), lengths)
    shares = label_attributions(classifier.model_, sequences, codes)
    method = "exact"
    if shares is None:
        method = "occlusion"
        shares = _occlusion(classifier, vectorizer, sequences, codes)
    explanations = Explanations()
    for i, document in enumerate(documents):
        spans = vectorizer._token_spans(document)
        for code, share in zip(codes[i].tolist(), shares[i], strict=True):
            # A multi-label explanation is of its label; a class's, of the
            # predicted class, toward the target.
            label = code if multilabel else int(np.argmax(proba[i]))
            explanations.append(
                _explanation(
                    document,
                    spans,
                    read[i],
                    share,
                    top=top,
                    label=names[label],
                    probability=float(proba[i, label]),
                    target=names[code],
                    target_probability=float(proba[i, code]),
                    method=method,
                    document_index=i,
                    predicted=None if predicted is None else bool(predicted[i, code]),
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
    if np.ndim(target) != 0:
        raise TypeError(f"target must be one class label, got {target!r:.100}")
    # True == 1 in Python: a bool names a class only among bool classes.
    matches = [
        i
        for i, c in enumerate(classes)
        if c == target and isinstance(c, bool) == isinstance(target, bool | np.bool_)
    ]
    if not matches:
        raise ValueError(
            f"target={target!r} is not a class of this classifier; its classes "
            f"are {classes!r:.300}"
        )
    return matches[0]


def _label_names(classifier) -> list | None:
    """The names of a multi-label classifier's label columns, or None."""
    names = classifier.label_names
    if names is None:
        return None
    check_label_names(names, len(classifier.classes_))
    return list(names)


def _label_code(n_labels: int, names: list | None, target) -> int | None:
    """The column of a multi-label target: a column number, or a name of
    ``label_names``."""
    if target is None:
        return None
    if np.ndim(target) != 0:
        raise TypeError(f"target must be one label, got {target!r:.100}")
    if isinstance(target, str | np.str_) and names is not None and target in names:
        return names.index(target)
    is_column = isinstance(target, Integral) and not isinstance(target, bool | np.bool_)
    if is_column and 0 <= target < n_labels:
        return int(target)
    valid = f"a label column, 0 to {n_labels - 1}"
    if names is not None:
        valid += f", or a name of label_names: {names!r:.300}"
    raise ValueError(
        f"target={target!r} is not a label of this classifier; give {valid}"
    )


def _read_tokens(ids: np.ndarray, vectorizer) -> np.ndarray:
    """Indices of a document's tokens that reach the network, in order."""
    kept = np.flatnonzero(ids >= 0)
    if len(kept) <= vectorizer.max_len:
        return kept
    if vectorizer.truncating == "pre":
        return kept[-vectorizer.max_len :]
    return kept[: vectorizer.max_len]


def _occlusion(classifier, vectorizer, sequences, codes) -> list[list]:
    """Per token: the fall of the target's centred logit (of the target
    label's log-odds, for a multi-label network) without that token; for
    each sequence, one array per code of ``codes[i]``.

    The token is left out of the sequence the network reads; the network
    then reads the others as the vectorizer would pad them.
    """
    shares, group, rows = [], [], 0
    for i, sequence in enumerate(sequences):
        group.append(i)
        rows += len(sequence) + 1
        if rows >= _OCCLUSION_ROWS or i == len(sequences) - 1:
            shares.extend(_occlude(classifier, vectorizer, sequences, group, codes))
            group, rows = [], 0
    return shares


def _occlude(classifier, vectorizer, sequences, group, codes) -> list[list]:
    # Each sequence of the group, then each with one token left out.
    variants = []
    for i in group:
        sequence = sequences[i]
        variants.append(sequence)
        variants.extend(np.delete(sequence, t) for t in range(len(sequence)))
    offsets = np.cumsum([0, *(len(v) for v in variants)])
    X = IdSequences(
        np.concatenate(variants), offsets, vectorizer.max_len, vectorizer.padding
    )
    logits = output_logits(
        classifier.model_, X, **classifier._predict_args(verbose=0, callbacks=[])
    )
    shares, offset = [], 0
    for i in group:
        n = len(sequences[i])
        block = logits[offset : offset + n + 1]
        shares.append([block[0, code] - block[1:, code] for code in codes[i]])
        offset += n + 1
    return shares


def _explanation(
    document, spans, read, shares, *, top, method, **prediction
) -> Explanation:
    starts, ends = spans
    scores = np.zeros(len(starts))
    scores[read] = shares if method == "occlusion" else shares.tokens
    is_read = np.zeros(len(starts), dtype=bool)
    is_read[read] = True
    tokens = Tokens(document, starts, ends, scores, is_read)
    positive = np.flatnonzero(is_read & (scores > 0))
    best = positive[np.argsort(-scores[positive], kind="stable")][:top]
    windows, intercept = (), None
    if method == "exact":
        intercept = shares.intercept
        windows = _top_windows(document, tokens, read, shares.windows, top)
    return Explanation(
        document=document,
        tokens=tokens,
        top=tuple(tokens[i] for i in best.tolist()),
        windows=windows,
        intercept=intercept,
        method=method,
        **prediction,
    )


def _top_windows(document, tokens, read, windows, top) -> tuple:
    scored = sorted(
        ((share, first, last) for first, last, share in windows),
        key=lambda w: (-w[0], w[1]),
    )
    best = []
    for score, first, last in scored[:top]:
        if score <= 0:
            break
        first, last = int(read[first]), int(read[last])
        text = document[tokens[first].start : tokens[last].end]
        best.append(Window(first, last, text, score))
    return tuple(best)
