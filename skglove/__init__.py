"""scikit-learn text classification with frozen GloVe vectors and a Keras convnet."""

from importlib.metadata import PackageNotFoundError, version

from ._classifier import GloveCNNClassifier
from ._glove import GloveVectors, load_glove, register_glove
from ._pipeline import make_glove_pipeline
from ._vectorizer import KERAS_FILTERS, GloveSequenceVectorizer

try:
    __version__ = version("skglove")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

__all__ = [
    "KERAS_FILTERS",
    "GloveCNNClassifier",
    "GloveSequenceVectorizer",
    "GloveVectors",
    "__version__",
    "load_glove",
    "make_glove_pipeline",
    "register_glove",
]
