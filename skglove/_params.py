"""What the classifier's parameters may be, beyond each one's type.

:data:`PARAMETER_CONSTRAINTS` checks each parameter alone; the functions check the
routed keywords, the ``keras.Model.fit`` and ``predict`` arguments a user may
pass, the parameters that only one architecture uses, and the id space of
the input. Each refusal names the parameter and says what to do instead.
"""

import inspect
import os
from numbers import Integral, Real

import keras
import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

from ._ids import FIRST_WORD_ID, RANK_IDS, glove_row
from ._models import ARCHITECTURES
from ._table import IdTable
from ._validation import check_keywords
from .glove import GloveVectors

#: What each parameter may be, alone: the classifier's ``_parameter_constraints``.
PARAMETER_CONSTRAINTS: dict = {
    "glove": [str, os.PathLike, GloveVectors, None],
    "architecture": [StrOptions(set(ARCHITECTURES))],
    "lexical": ["boolean"],
    "filters": [Interval(Integral, 1, None, closed="left")],
    "kernel_size": [Interval(Integral, 1, None, closed="left"), tuple, list, None],
    "pool_size": [Interval(Integral, 1, None, closed="left"), None],
    "dense_units": [Interval(Integral, 0, None, closed="left")],
    "dropout": [Interval(Real, 0, 1, closed="left")],
    "mean_pooling": ["boolean", None],
    "unseen_glove_words": [Interval(Integral, 0, None, closed="left")],
    "embedding_dim": [Interval(Integral, 1, None, closed="left"), None],
    "train_missing": ["boolean"],
    "trainable_dim": [Interval(Integral, 0, None, closed="left")],
    "optimizer": [str, type, keras.optimizers.Optimizer],
    "loss": [str, type, callable, None],
    "metrics": [list, None],
    "callbacks": [list, dict, keras.callbacks.Callback, type, None],
    "learning_rate": [Interval(Real, 0, None, closed="neither"), None],
    "learning_rate_schedule": [StrOptions({"constant", "cosine"})],
    "epochs": [Interval(Integral, 1, None, closed="left")],
    "batch_size": [Interval(Integral, 1, None, closed="left")],
    "validation_split": [Interval(Real, 0, 1, closed="left")],
    "early_stopping": ["boolean"],
    "patience": [Interval(Integral, 0, None, closed="left")],
    "class_weight": [dict, StrOptions({"balanced"}), None],
    "threshold": [Interval(Real, 0, 1, closed="both"), StrOptions({"tuned"})],
    "label_names": [list, tuple, None],
    "random_state": ["random_state"],
    "verbose": ["verbose"],
    "shuffle": ["boolean"],
    "warm_start": ["boolean"],
}

#: The scikeras routes the classifier honours: ``<prefix>__<name>=value``.
ROUTES = ("optimizer", "loss", "callbacks", "fit", "predict")

# The keras.Model.fit and predict arguments a user may set; the classifier
# sets the others (batch_size, epochs, shuffle, ...) itself.
_KERAS_ARGS = {
    "fit": frozenset(
        {"verbose", "callbacks", "steps_per_epoch", "validation_steps"}
        | {"validation_freq"}
    ),
    "predict": frozenset({"batch_size", "verbose", "callbacks"}),
}

#: Each architecture's value for these parameters when they are None.
ARCHITECTURE_DEFAULTS = {
    "kernel_size": {"kim": (1, 2), "blog": 5},
    "pool_size": {"blog": 5},
    "mean_pooling": {"kim": True, "blog": False},
}

#: The width of an embedding learned from scratch, when ``embedding_dim=None``.
DEFAULT_EMBEDDING_DIM = 50

# Classifier parameters that build_network takes as they are.
_NETWORK_PARAMS = ("trainable_dim", "filters", "dense_units", "dropout")

#: ``train_missing`` learns vectors only for words in this many documents.
# Words seen in one training document only would learn a row from a single
# example; they cost an epoch-time share and rarely generalise.
_MIN_DF_TO_LEARN = 2


def check_routes(owner: str, kwargs: dict, valid) -> None:
    """Refuse keywords that are neither parameters nor documented routes."""
    check_keywords(owner, kwargs, valid, ROUTES)
    for key in kwargs:
        if not key.partition("__")[2]:
            raise TypeError(f"{owner} got {key!r}, a route that names no argument")
    for route in ("fit", "predict"):
        # fit__verbose=0 routes "verbose"; fit__verbose__x routes nothing.
        args = {
            k.partition("__")[2]: v
            for k, v in kwargs.items()
            if k.startswith(f"{route}__")
        }
        check_keras_args(args, route, f"routed parameter {route}__")


def check_keras_args(args: dict, method: str, label: str) -> None:
    """Refuse ``keras.Model.<method>`` arguments a user may not set."""
    accepted = _KERAS_ARGS[method]
    if method == "fit" and "validation_data" in args:
        raise ValueError(
            "validation_data is not supported: the classifier holds out "
            "its own validation data; set validation_split instead"
        )
    for name in args:
        if name not in accepted:
            raise TypeError(
                f"{label}{name!r} is not accepted: the classifier sets the "
                f"other arguments of keras.Model.{method} itself, or Keras has "
                f"no such argument; accepted: {', '.join(sorted(accepted))}"
            )


def check_combinations(params: dict, glove_dim: int | None, owner: str) -> None:
    """Refuse parameter values that the others make meaningless.

    ``glove_dim`` is the GloVe source's dimension, None without one.
    """
    kernel_size = params["kernel_size"]
    if isinstance(kernel_size, tuple | list) and not (
        kernel_size and all(isinstance(k, Integral) and k >= 1 for k in kernel_size)
    ):
        raise ValueError(
            f"The 'kernel_size' parameter of {owner} must be a positive int "
            f"or a tuple of them. Got {kernel_size!r} instead."
        )
    if params["early_stopping"] and not params["validation_split"]:
        raise ValueError(
            "early_stopping=True needs a validation set: set "
            "validation_split to a fraction such as 0.1"
        )
    architecture = params["architecture"]
    for param, defaults in ARCHITECTURE_DEFAULTS.items():
        value = params[param]
        if value is not None and value is not False and architecture not in defaults:
            users = " or ".join(repr(a) for a in defaults)
            raise ValueError(
                f"{param}={value!r} is used by architecture {users} only, "
                f"not by architecture={architecture!r}; leave it None"
            )
        if value is True and defaults.get(architecture) is False:
            raise ValueError(
                f"{param}=True is not available for architecture="
                f"{architecture!r}; leave it None"
            )
    _check_routed_values(params)
    embedding_dim = params["embedding_dim"]
    if glove_dim is not None and embedding_dim not in (None, glove_dim):
        raise ValueError(
            f"embedding_dim={embedding_dim} is the width of an embedding "
            f"learned from scratch (glove=None); the GloVe source has dimension "
            f"{glove_dim}. Leave embedding_dim None"
        )


def check_target_params(params: dict, multilabel: bool) -> None:
    """Refuse parameters that do not fit the kind of target: one label per
    sample, or a multi-label indicator (``multilabel``)."""
    if multilabel and params["class_weight"] is not None:
        raise ValueError(
            "class_weight weighs each sample by its class, but a multi-label "
            "sample may have several labels or none; leave class_weight None "
            "and give fit a sample_weight instead"
        )
    loss = params["loss"]
    name = loss if isinstance(loss, str) else getattr(loss, "__name__", None)
    name = name or type(loss).__name__
    if multilabel and "categorical" in name.lower():
        raise ValueError(
            f"loss={loss!r} treats the labels of a sample as exclusive classes; "
            "a multi-label y needs a loss per label, such as "
            "'binary_crossentropy' (loss=None picks it)"
        )
    threshold = params["threshold"]
    if isinstance(threshold, bool):
        # A bool passes as the Real 0 or 1: never or always a label.
        raise TypeError(
            f"threshold must be a probability in [0, 1] or 'tuned', got the "
            f"bool {threshold!r}"
        )
    if not multilabel and threshold != 0.5:
        raise ValueError(
            f"threshold={threshold!r} applies to multi-label targets (a 2-D "
            "indicator y); with one label per sample the most probable class "
            "is predicted: leave threshold at 0.5"
        )
    if not multilabel and params["label_names"] is not None:
        raise ValueError(
            "label_names names the columns of a multi-label indicator y; with "
            "one label per sample the labels are their own names: leave "
            "label_names None"
        )
    if threshold == "tuned" and not params["validation_split"]:
        raise ValueError(
            "threshold='tuned' fits each label's threshold on the validation "
            "split: set validation_split to a fraction such as 0.1"
        )


def resolved_loss(loss, multilabel: bool):
    """The Keras loss of ``loss=None``: by the kind of target."""
    if loss is not None:
        return loss
    name = "binary_crossentropy" if multilabel else "sparse_categorical_crossentropy"
    # The function, as scikeras resolves a name: saved as Keras' own object.
    return keras.losses.get(name)


def architecture_param(params: dict, name: str):
    """A parameter's value, or its architecture's default if it is None."""
    value = params[name]
    return (
        ARCHITECTURE_DEFAULTS[name][params["architecture"]] if value is None else value
    )


def check_same_source(given: str | None, expected: str | None, what: str) -> None:
    """Refuse ids from another id space than the one the classifier reads."""
    if given is None or expected is None or given == expected:
        return
    raise ValueError(
        f"the id sequences are {_id_space(given)}, but the classifier reads "
        f"them as {what}: {_id_space(expected)}. The vectorizer and the "
        "classifier use different GloVe sources; give both the same glove "
        "(make_glove_pipeline does)"
    )


def check_same_glove(glove, fingerprint: str, fitted: str | None) -> None:
    """Refuse to train further on another GloVe source than the fitted one's.

    ``fingerprint`` is the source ``glove``'s, ``fitted`` the one the table
    was built from (None: unknown, unchecked).
    """
    if fitted is not None and fingerprint != fitted:
        raise ValueError(
            f"the GloVe source {str(glove)!r} is not the one the "
            "fitted network's table was built from (another file, or "
            "another word order); fit from scratch (warm_start=False) "
            "or set glove back to the source the model was trained with"
        )


def _id_space(source: str) -> str:
    if source == RANK_IDS:
        return "frequency ranks (a vectorizer with glove=None)"
    return f"the rows of the GloVe source with fingerprint {source[:12]}"


def network_arguments(params: dict, table: IdTable, glove) -> dict:
    """The keywords of ``build_network`` besides the shapes and the seed.

    ``table`` is the fitted id table and ``glove`` the GloVe source (None to
    learn an embedding from scratch).
    """
    if glove is None:
        embedding = {"embedding_dim": params["embedding_dim"] or DEFAULT_EMBEDDING_DIM}
    else:
        # Rows past GloVe's are kept words that GloVe lacks. A vector learned
        # from one document would only memorize it: the lexical channel knows
        # such a word already.
        learnable = table.missing_rows(len(glove)) & (table.df_ >= _MIN_DF_TO_LEARN)
        embedding = {
            "embedding_dim": glove.dim,
            "weights": table.embedding_matrix(glove.vectors),
            "trainable_rows": learnable if params["train_missing"] else None,
        }
    idf = table.idf()
    if params["architecture"] == "blog":
        embedding["pool_size"] = architecture_param(params, "pool_size")
    elif architecture_param(params, "mean_pooling"):
        embedding["mean_idf"] = idf
    lexical = None
    if params["lexical"]:
        seen = FIRST_WORD_ID + table.n_seen_
        # Words not seen at fit carry no lexical evidence, as in TfidfVectorizer.
        lexical = {
            "n_words": seen,
            "idf": np.where(np.arange(len(idf)) < seen, idf, 0),
            "n_documents": table.n_documents_,
        }
    return {
        "lexical": lexical,
        "n_ids": table.n_rows,
        "kernel_size": architecture_param(params, "kernel_size"),
        **{name: params[name] for name in _NETWORK_PARAMS},
        **embedding,
    }


def check_embedding_width(model, params: dict, glove_dim: int | None) -> None:
    """Refuse a fitted network whose embedding width the GloVe source lacks."""
    try:
        width = model.get_layer("embedding").output_dim
    except (AttributeError, ValueError):  # an architecture without one
        return
    if glove_dim is None:
        expected = params["embedding_dim"] or DEFAULT_EMBEDDING_DIM
        source = "embedding_dim"
    else:
        expected, source = glove_dim, f"the GloVe source {str(params['glove'])!r}"
    if width != expected:
        raise ValueError(
            f"the fitted network's embedding has dimension {width}, but "
            f"{source} has dimension {expected}; the GloVe source changed "
            "since fit. Fit from scratch (warm_start=False) or set glove "
            "back to the source the model was trained with"
        )


def check_table_covers(table: IdTable, X, n_glove_rows: int | None) -> None:
    """Refuse data to train on further with words ``table`` has no row for.

    With a GloVe source of ``n_glove_rows`` rows, the GloVe words; without
    one (None), every word.
    """
    unknown = table.unknown(X)
    if n_glove_rows is not None:
        unknown = unknown[glove_row(unknown) < n_glove_rows]
    if not len(unknown):
        return
    remedy = (
        "Set unseen_glove_words to the GloVe source's size to hold every row, "
        "or make the first batch hold the vocabulary"
        if n_glove_rows is not None
        else "Make the first batch hold the vocabulary"
    )
    raise ValueError(
        f"the data holds {len(unknown)} {'GloVe ' * (n_glove_rows is not None)}"
        f"word(s) (ids {unknown[:5].tolist()}...) that the embedding table built "
        "at the first fit has no row for; it cannot grow (partial_fit and "
        f"warm_start keep it), and they would train as unknown words. {remedy}"
    )


def _check_routed_values(params: dict) -> None:
    """Refuse routes that would reach nothing, or fail deep inside Keras."""
    routed = {k.partition("__")[0]: set() for k in params if "__" in k}
    for key in params:
        prefix, _, name = key.partition("__")
        if name:
            routed[prefix].add(name.partition("__")[0])
    if "learning_rate" in routed.get("optimizer", ()) and params["learning_rate"]:
        raise ValueError(
            "optimizer__learning_rate and learning_rate both set the learning "
            "rate, and learning_rate wins; set learning_rate=None to route it"
        )
    if routed.get("callbacks") and params["callbacks"] is None:
        raise ValueError(
            "callbacks__* configure the callbacks given by class in callbacks=, "
            "but callbacks is None"
        )
    for kind, module in (("optimizer", keras.optimizers), ("loss", keras.losses)):
        if not routed.get(kind):
            continue
        target = params[kind]
        if target is None:
            raise ValueError(
                f"{kind}__* route arguments to a {kind} class, but {kind}=None; "
                "give the class, such as keras.losses.BinaryCrossentropy"
            )
        resolved = module.get(target) if isinstance(target, str) else target
        if inspect.isfunction(resolved):
            raise ValueError(
                f"{kind}__* route arguments to a {kind} class, but {kind}="
                f"{target!r} is a function; give the class instead, such as "
                "keras.losses.SparseCategoricalCrossentropy"
            )
        cls = resolved if isinstance(resolved, type) else type(resolved)
        accepted = set(inspect.signature(cls.__init__).parameters) - {"self", "kwargs"}
        unknown = sorted(routed[kind] - accepted)
        if unknown:
            raise ValueError(
                f"{kind}__{unknown[0]} names no argument of {cls.__name__}; "
                f"accepted: {', '.join(sorted(accepted))}"
            )
