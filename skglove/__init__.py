"""scikit-learn text classification with frozen GloVe vectors and a Keras convnet.

Importing skglove, fitting a vectorizer and loading GloVe need no TensorFlow:
the classifier, :func:`save` and :func:`load` import it on first use.
"""

import logging
from importlib import import_module
from importlib.metadata import PackageNotFoundError, version

from ._glove import GloveVectors, load_glove, register_glove
from ._pipeline import BLOG_PARAMS, make_glove_pipeline
from ._vectorizer import KERAS_FILTERS, GloveSequenceVectorizer

try:
    __version__ = version("skglove")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

# A library stays silent unless the application configures logging.
logging.getLogger(__name__).addHandler(logging.NullHandler())

# Public names whose modules import TensorFlow, loaded on first access (PEP 562).
_LAZY = {
    "GloveCNNClassifier": "._classifier",
    "load": "._persistence",
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
    "GloveCNNClassifier",
    "GloveSequenceVectorizer",
    "GloveVectors",
    "__version__",
    "load",
    "load_glove",
    "make_glove_pipeline",
    "register_glove",
    "save",
]
