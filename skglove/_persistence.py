"""Saving and loading fitted models without pickle.

An archive written by :func:`save` is a zip file with these members:

- ``manifest.json``: the format name and version, what the archive holds, the
  versions of the libraries that wrote it and the SHA-256 of every other
  member;
- ``vectorizer.json``: the vectorizer's parameters and fitted vocabulary;
- ``classifier.json``: the classifier's parameters and fitted state;
- ``model.keras``: the network, in Keras' ``.keras`` format.

:func:`load` checks the member names and sizes (:mod:`skglove._archive`), the
checksums, the format version, the fields and types of every document, and
the network's layer types (:mod:`skglove._keras_file`) before it deserializes
anything, then loads the network with ``safe_mode=True``. Nothing in an
archive is unpickled or run.
"""

import hashlib
import inspect
import os
import warnings
from contextlib import suppress
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING

from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from ._archive import is_hdf5, read_archive, write_archive
from ._json_values import decode, dump_json, encode, encode_params, field, parse_json
from ._keras_file import load_network, network_bytes
from ._saved_state import (
    classifier_from_state,
    classifier_state,
    vectorizer_from_state,
    vectorizer_state,
)
from ._vectorizer import GloveSequenceVectorizer

# The classifier (and with it TensorFlow) is imported where it is needed, so
# that importing this module, and refusing a bad file, stays cheap.
if TYPE_CHECKING:  # pragma: no cover
    from ._classifier import GloveCNNClassifier

__all__ = ["load", "save"]

FORMAT = "skglove-model"
#: The newest archive format this module reads; bump it when the layout changes.
FORMAT_VERSION = 2
#: Networks saved in format 1 (skglove 0.1) pooled every token with layers
#: this version no longer has; their archives are refused by name.
_FIRST_NETWORK_FORMAT = 2
MANIFEST = "manifest.json"
VECTORIZER = "vectorizer.json"
CLASSIFIER = "classifier.json"
NETWORK = "model.keras"
#: The members each kind of archive holds, besides the manifest.
MEMBERS = {
    "pipeline": {VECTORIZER, CLASSIFIER, NETWORK},
    "vectorizer": {VECTORIZER},
    "classifier": {CLASSIFIER, NETWORK},
}
#: Distributions whose versions are recorded, and compared at load.
RECORDED_VERSIONS = (
    "skglove",
    "keras",
    "tensorflow",
    "scikit-learn",
    "scikeras",
    "numpy",
)
#: The most each member may inflate to, checked before any is inflated.
MEMBER_LIMITS = {
    MANIFEST: 1 << 20,
    VECTORIZER: 1 << 30,  # a vocabulary of tens of millions of words
    CLASSIFIER: 1 << 30,
    NETWORK: 1 << 34,  # frozen GloVe rows: 2.4 GB for 2M rows of 300d
}


def save(
    estimator: "Pipeline | GloveSequenceVectorizer | GloveCNNClassifier",
    path: "str | os.PathLike",
) -> None:
    """Save a fitted skglove model to a pickle-free archive.

    The archive holds the network in Keras' ``.keras`` format, everything else
    as JSON, the library versions and a SHA-256 checksum of each member; read
    it back with :func:`load`. The file is written to a temporary name in the
    same directory and renamed over ``path``, so an interrupted save leaves
    any previous file at ``path`` intact.

    Parameters
    ----------
    estimator : Pipeline, GloveSequenceVectorizer or GloveCNNClassifier
        A fitted pipeline of a :class:`GloveSequenceVectorizer` followed by a
        :class:`GloveCNNClassifier` (as :func:`make_glove_pipeline` builds),
        or one fitted estimator of either class.
    path : str or path-like
        Where to write the archive; an existing file is replaced.

    Raises
    ------
    TypeError
        If ``estimator`` is anything else, or a parameter is not a JSON value
        (for instance a callback object or an optimizer instance).
    sklearn.exceptions.NotFittedError
        If an estimator is not fitted.

    See Also
    --------
    load : Read the archive back.

    Examples
    --------
    >>> import os, tempfile
    >>> import skglove
    >>> docs = ["good great fine", "bad awful poor"] * 10
    >>> labels = ["pos", "neg"] * 10
    >>> pipe = skglove.make_glove_pipeline(
    ...     max_len=20,
    ...     filters=4,
    ...     kernel_size=2,
    ...     dense_units=4,
    ...     epochs=1,
    ...     random_state=0,
    ... ).fit(docs, labels)
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = os.path.join(tmp.name, "model.skglove")
    >>> skglove.save(pipe, path)
    >>> restored = skglove.load(path)
    >>> bool((restored.predict_proba(docs) == pipe.predict_proba(docs)).all())
    True
    >>> tmp.cleanup()
    """
    kind, step_names, pipeline_params, vectorizer, classifier = _split(estimator)
    members = {}
    glove = {"source": None, "dim": None}
    if vectorizer is not None:
        check_is_fitted(vectorizer, "vocabulary_")
        members[VECTORIZER] = dump_json(
            {"params": encode_params(vectorizer), **vectorizer_state(vectorizer)}
        )
        glove["source"] = _source_name(vectorizer.glove)
    if classifier is not None:
        check_is_fitted(classifier, "model_")
        members[CLASSIFIER] = dump_json(
            {
                "params": encode_params(classifier),
                "state": classifier_state(classifier),
            },
            what="GloveCNNClassifier's fitted state (its classes_ must be numbers "
            "or strings)",
        )
        members[NETWORK] = network_bytes(classifier.model_)
        glove["source"] = _source_name(classifier.glove)
        with suppress(ValueError, AttributeError):
            glove["dim"] = classifier.model_.get_layer("embedding").output_dim
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "kind": kind,
        "steps": step_names,
        "pipeline_params": pipeline_params,
        "glove": glove,
        "versions": _versions(),
        "sha256": {name: _sha256(data) for name, data in members.items()},
    }
    write_archive(path, {MANIFEST: dump_json(manifest), **members})


def load(
    path: "str | os.PathLike",
) -> "Pipeline | GloveSequenceVectorizer | GloveCNNClassifier":
    """Load a model saved by :func:`save`, without running code from the file.

    Before deserializing anything, loading checks that the file is a skglove
    archive of a format version this skglove reads, that no member name is
    absolute, climbs out of the archive or is unexpected, that no member
    declares a size out of proportion (a zip bomb; checked before anything
    is inflated), that every member matches its SHA-256 checksum, that every
    document has the fields and types it should, and that the network
    contains no ``Lambda`` layer and names no object outside Keras but the
    layers skglove registers. The network is then loaded with Keras'
    ``safe_mode=True``. A library version that differs from the one that
    saved the archive gives a warning.

    The checksums detect corruption and edits of single members; they do not
    authenticate the file. See the "Reliability" page of the documentation for
    the security model.

    Parameters
    ----------
    path : str or path-like
        An archive written by :func:`save`.

    Returns
    -------
    Pipeline, GloveSequenceVectorizer or GloveCNNClassifier
        The fitted estimator, as it was saved.

    Raises
    ------
    ValueError
        If the file is not a skglove archive, is an HDF5 (``.h5``) file, fails
        a check above, or comes from a newer format version. The message
        names the problem; no other exception type reports a bad file.

    See Also
    --------
    save : Write an archive.

    Examples
    --------
    >>> import os, tempfile
    >>> import skglove
    >>> vec = skglove.GloveSequenceVectorizer(max_len=4).fit(["the cat sat"])
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = os.path.join(tmp.name, "vectorizer.skglove")
    >>> skglove.save(vec, path)
    >>> skglove.load(path).transform(["the dog sat"]).tolist()
    [[0, 2, 2928, 3225]]
    >>> tmp.cleanup()
    """
    path = Path(path)
    if is_hdf5(path):
        raise ValueError(
            f"{path} is an HDF5 (.h5) file. skglove.load reads only archives "
            "written by skglove.save; legacy HDF5 Keras models are refused "
            "because they can carry code that runs when loaded"
        )
    members = read_archive(path, MEMBER_LIMITS)
    manifest = _check_manifest(members, path)
    _warn_on_other_versions(manifest["versions"], path)
    try:
        return _rebuild(manifest, members)
    # The schema names each wrong field; this adds the file. Parameters that
    # the estimators refuse (a TypeError for an unknown keyword) are wrong too.
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{path} holds an invalid skglove model: {exc}") from exc


def _split(estimator):
    """Kind, step names, pipeline parameters, vectorizer and classifier."""
    if type(estimator) is GloveSequenceVectorizer:  # saved without TensorFlow
        return "vectorizer", None, None, estimator, None
    from ._classifier import GloveCNNClassifier

    if isinstance(estimator, Pipeline):
        steps = estimator.steps
        if (
            len(steps) == 2
            and type(steps[0][1]) is GloveSequenceVectorizer
            and type(steps[1][1]) is GloveCNNClassifier
        ):
            if estimator.memory is not None:
                raise ValueError(
                    "skglove.save does not store a Pipeline's memory: its cache "
                    "folder would hold pickles that load could be made to read. "
                    "Set memory=None before saving, and again after load"
                )
            params = {
                name: encode(value, f"Pipeline parameter {name!r}")
                for name, value in estimator.get_params(deep=False).items()
                if name != "steps"
            }
            names = [name for name, _ in steps]
            return "pipeline", names, params, steps[0][1], steps[1][1]
        kinds = ", ".join(type(step).__name__ for _, step in steps)
        raise TypeError(
            "skglove.save supports a Pipeline of a GloveSequenceVectorizer then a "
            f"GloveCNNClassifier, got a Pipeline of {kinds}; use joblib for "
            "other pipelines, and load such files only from trusted sources"
        )
    if type(estimator) is GloveCNNClassifier:
        return "classifier", None, None, None, estimator
    raise TypeError(
        "skglove.save supports a GloveSequenceVectorizer + GloveCNNClassifier "
        "Pipeline, or one of those estimators, got "
        f"{type(estimator).__name__}"
    )


def _source_name(glove) -> "str | None":
    return None if glove is None else os.fspath(glove)


def _versions() -> dict:
    found = {}
    for name in RECORDED_VERSIONS:
        try:
            found[name] = version(name)
        except PackageNotFoundError:  # pragma: no cover - all are dependencies
            found[name] = None
    return found


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _check_manifest(members: dict, path) -> dict:
    """The parsed manifest, once its fields, types and every checksum check out."""
    manifest = parse_json(members, MANIFEST, path) if MANIFEST in members else None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ValueError(f"{path} is not a skglove archive (no valid {MANIFEST})")
    where = f"{path}: {MANIFEST}"
    found = manifest.get("format_version")
    if not isinstance(found, int) or isinstance(found, bool) or found < 1:
        raise ValueError(f"{path} has an invalid format version {found!r:.40}")
    if found > FORMAT_VERSION:
        raise ValueError(
            f"{path} was written in skglove archive format version {found}, newer "
            f"than this skglove reads ({FORMAT_VERSION}); upgrade skglove to load it"
        )
    kind = field(manifest, "kind", str, where)
    if kind not in MEMBERS:
        raise ValueError(
            f"{where}: 'kind' must be one of {sorted(MEMBERS)}, got {kind!r:.40}"
        )
    expected = MEMBERS[kind]
    checksums = field(manifest, "sha256", dict, where)
    present = set(members) - {MANIFEST}
    if present != expected or set(checksums) != expected:
        raise ValueError(
            f"{path} holds members {sorted(present)}, but a {kind} archive holds "
            f"{sorted(expected)}; refusing to load"
        )
    for name in sorted(expected):
        if _sha256(members[name]) != checksums[name]:
            raise ValueError(
                f"checksum mismatch for {name!r} in {path}: the archive was "
                "modified or corrupted; refusing to load"
            )
    versions = field(manifest, "versions", dict, where)
    if not all(v is None or isinstance(v, str) for v in versions.values()):
        raise ValueError(f"{where}: 'versions' must map names to version strings")
    if NETWORK in expected and found < _FIRST_NETWORK_FORMAT:
        raise ValueError(
            f"{path} was written by skglove {versions.get('skglove')} (archive "
            f"format {found}), whose networks pool every token with layers that "
            f"this skglove ({_versions().get('skglove')}, archive format "
            f"{FORMAT_VERSION}) no longer has; refit the pipeline and save it again"
        )
    if kind == "pipeline":
        steps = field(manifest, "steps", list, where)
        if len(steps) != 2 or not all(isinstance(n, str) and n for n in steps):
            raise ValueError(f"{where}: 'steps' must hold two step names")
        if steps[0] == steps[1]:
            raise ValueError(f"{where}: 'steps' names both steps {steps[0]!r}")
        params = field(manifest, "pipeline_params", dict, where)
        _check_param_names(params, Pipeline, where)
        if "steps" in params:
            raise ValueError(f"{where}: 'pipeline_params' may not hold the steps")
        if params.get("memory") is not None:
            # A cache folder named by the file would be read back with pickle.
            raise ValueError(f"{where}: a Pipeline's memory must be null")
    return manifest


def _warn_on_other_versions(saved: dict, path) -> None:
    current = _versions()
    changed = [
        f"{name} {saved[name]} (now {current[name]})"
        for name in RECORDED_VERSIONS
        if name in saved and saved[name] != current[name]
    ]
    if changed:
        warnings.warn(
            f"{path} was saved with {', '.join(changed)}; check that the loaded "
            "model predicts as expected",
            UserWarning,
            stacklevel=3,
        )


def _rebuild(manifest: dict, members: dict):
    vectorizer = classifier = None
    if VECTORIZER in members:
        vectorizer = _vectorizer_from_json(parse_json(members, VECTORIZER, ""))
    if CLASSIFIER in members:
        classifier = _classifier_from_json(
            parse_json(members, CLASSIFIER, ""), members[NETWORK]
        )
    if manifest["kind"] == "vectorizer":
        return vectorizer
    if manifest["kind"] == "classifier":
        return classifier
    return Pipeline(
        list(zip(manifest["steps"], (vectorizer, classifier), strict=True)),
        **decode(manifest["pipeline_params"]),
    )


def _estimator_params(document, where: str, estimator_class) -> dict:
    """The decoded ``params`` of a document, checked against the class."""
    params = decode(field(document, "params", dict, where))
    _check_param_names(params, estimator_class, where)
    return params


def _check_param_names(params: dict, estimator_class, where: str) -> None:
    """Refuse keywords the constructor does not take (unless it takes any)."""
    signature = inspect.signature(estimator_class)
    kinds = {parameter.kind for parameter in signature.parameters.values()}
    if inspect.Parameter.VAR_KEYWORD in kinds:
        return  # e.g. scikeras' routed parameters: the constructor decides
    unknown = sorted(set(params) - set(signature.parameters))
    if unknown:
        raise ValueError(
            f"{where}: unknown {estimator_class.__name__} parameters {unknown}"
        )


def _vectorizer_from_json(document) -> GloveSequenceVectorizer:
    where = VECTORIZER
    if not isinstance(document, dict):
        raise ValueError(f"{where} must hold an object, got {type(document).__name__}")
    params = _estimator_params(document, where, GloveSequenceVectorizer)
    return vectorizer_from_state(params, document, where)


def _classifier_from_json(document, network: bytes) -> "GloveCNNClassifier":
    from ._classifier import GloveCNNClassifier

    where = CLASSIFIER
    if not isinstance(document, dict):
        raise ValueError(f"{where} must hold an object, got {type(document).__name__}")
    params = _estimator_params(document, where, GloveCNNClassifier)
    state = field(document, "state", dict, where)
    # The network is loaded only once the documents around it check out.
    return classifier_from_state(
        GloveCNNClassifier, params, state, lambda: load_network(network), where
    )
