"""scikit-learn text classification with frozen GloVe vectors and a Keras convnet."""

import logging
from importlib.metadata import PackageNotFoundError, version

from ._classifier import GloveCNNClassifier
from ._persistence import load, save
from ._pipeline import BLOG_PARAMS, make_glove_pipeline
from ._tf_logging import hide_retracing_warnings
from ._vectorizer import KERAS_FILTERS, GloveSequenceVectorizer
from .glove import GloveVectors, load_glove, register_glove

try:
    __version__ = version("skglove")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

# A library stays silent unless the application configures logging.
logging.getLogger(__name__).addHandler(logging.NullHandler())
# Each fit traces a new model; TensorFlow's warning about that is noise here.
hide_retracing_warnings()

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
