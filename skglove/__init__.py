"""scikit-learn text classification with frozen GloVe vectors and a Keras convnet.

Each public name is imported on first use (PEP 562), so ``import skglove``
and ``python -m skglove --help`` are quick, and the vectorizer and the GloVe
loaders work without importing TensorFlow: only the classifier, :func:`save`
and :func:`load` do.
"""

import logging
from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # for type checkers and the API docs; not run
    from ._classifier import GloveCNNClassifier
    from ._explain import explain
    from ._explanation import Explanation, Explanations, Token, Tokens, Window
    from ._export import export
    from ._persistence import load, save
    from ._pipeline import BLOG_PARAMS, make_glove_pipeline
    from ._sequences import IdSequences
    from ._vectorizer import KERAS_FILTERS, GloveSequenceVectorizer
    from .glove import GloveVectors, load_glove, register_glove

try:
    __version__ = version("skglove")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

# A library stays silent unless the application configures logging.
logging.getLogger(__name__).addHandler(logging.NullHandler())

# Public name -> the module that defines it.
_LAZY = {
    "BLOG_PARAMS": "._pipeline",
    "Explanation": "._explanation",
    "Explanations": "._explanation",
    "KERAS_FILTERS": "._vectorizer",
    "Token": "._explanation",
    "Tokens": "._explanation",
    "Window": "._explanation",
    "explain": "._explain",
    "export": "._export",
    "GloveCNNClassifier": "._classifier",
    "GloveSequenceVectorizer": "._vectorizer",
    "GloveVectors": ".glove",
    "IdSequences": "._sequences",
    "load": "._persistence",
    "load_glove": ".glove",
    "make_glove_pipeline": "._pipeline",
    "register_glove": ".glove",
    "save": "._persistence",
}


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


__all__ = [
    "BLOG_PARAMS",
    "KERAS_FILTERS",
    "Explanation",
    "Explanations",
    "GloveCNNClassifier",
    "GloveSequenceVectorizer",
    "GloveVectors",
    "IdSequences",
    "Token",
    "Tokens",
    "Window",
    "__version__",
    "explain",
    "export",
    "load",
    "load_glove",
    "make_glove_pipeline",
    "register_glove",
    "save",
]
