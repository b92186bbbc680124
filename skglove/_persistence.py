"""Saving and loading fitted models without pickle.

An archive written by :func:`save` is a zip file with these members:

- ``manifest.json``: the format name and version, what the archive holds, the
  versions of the libraries that wrote it and the SHA-256 of every other
  member;
- ``vectorizer.json``: the vectorizer's parameters and fitted vocabulary;
- ``classifier.json``: the classifier's parameters and fitted state;
- ``model.keras``: the network, in Keras' ``.keras`` format.

:func:`load` checks the member names, the checksums, the format version and
the network's layer types before it deserializes anything, then loads the
network with ``safe_mode=True``. Nothing in an archive is unpickled or run.
"""

import hashlib
import io
import json
import os
import secrets
import tempfile
import warnings
import zipfile
import zlib
from contextlib import suppress
from importlib.metadata import PackageNotFoundError, version
from numbers import Integral, Real
from pathlib import Path, PurePosixPath, PureWindowsPath

import keras
import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from ._classifier import GloveCNNClassifier
from ._vectorizer import GloveSequenceVectorizer, set_unseen_words, unseen_words
from .glove import GloveVectors

__all__ = ["load", "save"]

FORMAT = "skglove-model"
#: The newest archive format this module reads; bump it when the layout changes.
FORMAT_VERSION = 1
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
HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
#: Layer configs that carry Python code. ``safe_mode`` refuses them as well;
#: checking first gives a clear message and does not rely on it alone.
CODE_CLASS_NAMES = {"Lambda", "__lambda__", "TFOpLambda"}
#: Modules a network's config may name: Keras' own objects (``builtins`` is
#: how Keras names its own loss functions) and skglove's registered layers.
TRUSTED_MODULES = ("keras", "builtins", "skglove")
# Keys that tag JSON encodings of parameter values JSON has no type for.
_TUPLE, _PATH, _ITEMS = "__tuple__", "__path__", "__items__"


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
    ...     pool_size=2,
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
        members[VECTORIZER] = _dump_json(
            {
                "params": _encode_params(vectorizer),
                "vocabulary": vectorizer.vocabulary_,
                "missing_words": vectorizer.missing_words_,
                "glove_coverage": vectorizer.glove_coverage_,
                "unseen_words": unseen_words(vectorizer),
            }
        )
        glove["source"] = _source_name(vectorizer.glove)
    if classifier is not None:
        check_is_fitted(classifier, "model_")
        members[CLASSIFIER] = _dump_json(
            {
                "params": _encode_params(classifier),
                "state": classifier._get_fitted_state(),
            },
            what="GloveCNNClassifier's fitted state (its classes_ must be numbers "
            "or strings)",
        )
        members[NETWORK] = _network_bytes(classifier.model_)
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
    _write_atomically(Path(path), {MANIFEST: _dump_json(manifest), **members})


def load(
    path: "str | os.PathLike",
) -> "Pipeline | GloveSequenceVectorizer | GloveCNNClassifier":
    """Load a model saved by :func:`save`, without running code from the file.

    Before deserializing anything, loading checks that the file is a skglove
    archive of a format version this skglove reads, that no member name is
    absolute or climbs out of the archive, that every member matches its
    SHA-256 checksum, and that the network contains no ``Lambda`` layer and
    names no module outside Keras and skglove. The network is then loaded
    with Keras' ``safe_mode=True``. A library version that differs from the
    one that saved the archive gives a warning.

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
        a check above, or comes from a newer format version.

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
    with open(path, "rb") as file:
        head = file.read(len(HDF5_MAGIC))
    if path.suffix.lower() in {".h5", ".hdf5"} or head.startswith(HDF5_MAGIC):
        raise ValueError(
            f"{path} is an HDF5 (.h5) file. skglove.load reads only archives "
            "written by skglove.save; legacy HDF5 Keras models are refused "
            "because they can carry code that runs when loaded"
        )
    try:
        with zipfile.ZipFile(path) as archive:
            members = _read_members(archive, path)
    # Damaged compressed data fails in zlib before zipfile's CRC check.
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
        raise ValueError(
            f"{path} is not a skglove archive, or it is damaged: {exc}"
        ) from None
    manifest = _check_manifest(members, path)
    _warn_on_other_versions(manifest["versions"], path)
    try:
        return _rebuild(manifest, members)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{path} holds an invalid skglove model: {exc}") from exc


def _split(estimator):
    """Kind, step names, pipeline parameters, vectorizer and classifier."""
    if isinstance(estimator, Pipeline):
        steps = estimator.steps
        if (
            len(steps) == 2
            and type(steps[0][1]) is GloveSequenceVectorizer
            and type(steps[1][1]) is GloveCNNClassifier
        ):
            params = {
                name: _encode(value, f"Pipeline parameter {name!r}")
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
    if type(estimator) is GloveSequenceVectorizer:
        return "vectorizer", None, None, estimator, None
    if type(estimator) is GloveCNNClassifier:
        return "classifier", None, None, None, estimator
    raise TypeError(
        "skglove.save supports a GloveSequenceVectorizer + GloveCNNClassifier "
        "Pipeline, or one of those estimators, got "
        f"{type(estimator).__name__}"
    )


def _encode_params(estimator) -> dict:
    name = type(estimator).__name__
    return {
        param: _encode(value, f"parameter {param!r} of {name}")
        for param, value in estimator.get_params(deep=False).items()
    }


def _encode(value, where: str):
    """The JSON form of a parameter value, or a TypeError naming ``where``."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, np.generic):  # e.g. np.int64 from a parameter grid
        value = value.item()
    if isinstance(value, Integral):
        return int(value)
    if isinstance(value, Real):
        return float(value)
    if isinstance(value, os.PathLike):
        return {_PATH: os.fspath(value)}
    if isinstance(value, tuple):
        return {_TUPLE: [_encode(v, where) for v in value]}
    if isinstance(value, list):
        return [_encode(v, where) for v in value]
    if isinstance(value, dict):
        if all(isinstance(k, str) and not k.startswith("__") for k in value):
            return {k: _encode(v, where) for k, v in value.items()}
        return {
            _ITEMS: [[_encode(k, where), _encode(v, where)] for k, v in value.items()]
        }
    hint = (
        "; register the vectors with skglove.register_glove and pass their name"
        if isinstance(value, GloveVectors)
        else "; use a name (such as 'rmsprop') or a number instead of an object"
    )
    raise TypeError(
        f"cannot save {where}: a {type(value).__name__} is not a JSON value, and "
        f"skglove.save stores parameters as JSON{hint}, or use joblib (load such "
        "files only from trusted sources)"
    )


def _decode(value):
    """Invert :func:`_encode`."""
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if isinstance(value, dict):
        if set(value) == {_TUPLE}:
            return tuple(_decode(v) for v in value[_TUPLE])
        if set(value) == {_PATH}:
            return Path(value[_PATH])
        if set(value) == {_ITEMS}:
            return {_decode(k): _decode(v) for k, v in value[_ITEMS]}
        return {k: _decode(v) for k, v in value.items()}
    return value


def _source_name(glove) -> "str | None":
    return None if glove is None else os.fspath(glove)


def _dump_json(document, what: str = "the model") -> bytes:
    try:
        return json.dumps(document, indent=1).encode("ascii")
    except TypeError as exc:
        raise TypeError(f"cannot save {what}: {exc}") from None


def _network_bytes(model: keras.Model) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        file = Path(tmp) / NETWORK
        model.save(file)
        return file.read_bytes()


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


def _write_atomically(path: Path, members: dict) -> None:
    """Write a zip to a fresh name next to ``path``, then rename it over ``path``.

    ``os.replace`` is atomic within a file system, so readers see either the
    old file or the complete new one, never a truncated mix.
    """
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    # os.open applies the umask, so the file gets the usual permissions.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as file:
            with zipfile.ZipFile(file, "w", zipfile.ZIP_DEFLATED) as archive:
                for name, data in members.items():
                    archive.writestr(name, data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, path)
    except BaseException:
        with suppress(OSError):
            tmp.unlink()
        raise
    with suppress(OSError):  # make the rename durable; not possible everywhere
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


def _read_members(archive: zipfile.ZipFile, path) -> dict:
    """All members by name, after refusing unsafe or repeated names."""
    names = archive.namelist()
    for name in names:
        _check_member_name(name, path)
    if len(set(names)) != len(names):
        raise ValueError(f"{path} holds repeated member names; refusing to load")
    return {name: archive.read(name) for name in names}


def _check_member_name(name: str, path) -> None:
    posix = PurePosixPath(name)
    if (
        not name
        or "\\" in name
        or posix.is_absolute()
        or PureWindowsPath(name).drive
        or ".." in posix.parts
    ):
        raise ValueError(
            f"{path} holds a member named {name!r}, an absolute path or a path "
            "traversal; refusing to load"
        )


def _check_manifest(members: dict, path) -> dict:
    """The parsed manifest, once the format and every checksum check out."""
    try:
        manifest = json.loads(members[MANIFEST])
        is_ours = manifest["format"] == FORMAT
    except (KeyError, TypeError, ValueError):
        is_ours = False
    if not is_ours:
        raise ValueError(f"{path} is not a skglove archive (no valid {MANIFEST})")
    found = manifest.get("format_version")
    if not isinstance(found, int) or isinstance(found, bool) or found < 1:
        raise ValueError(f"{path} has an invalid format version {found!r}")
    if found > FORMAT_VERSION:
        raise ValueError(
            f"{path} was written in skglove archive format version {found}, newer "
            f"than this skglove reads ({FORMAT_VERSION}); upgrade skglove to load it"
        )
    expected = MEMBERS.get(manifest.get("kind"))
    checksums = manifest.get("sha256")
    if expected is None or not isinstance(checksums, dict):
        raise ValueError(f"{path} has an invalid {MANIFEST}")
    present = set(members) - {MANIFEST}
    if present != expected or set(checksums) != expected:
        raise ValueError(
            f"{path} holds members {sorted(present)}, but a "
            f"{manifest['kind']} archive holds {sorted(expected)}; refusing to load"
        )
    for name in sorted(expected):
        if _sha256(members[name]) != checksums[name]:
            raise ValueError(
                f"checksum mismatch for {name!r} in {path}: the archive was "
                "modified or corrupted; refusing to load"
            )
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
        vectorizer = _vectorizer_from_json(json.loads(members[VECTORIZER]))
    if CLASSIFIER in members:
        document = json.loads(members[CLASSIFIER])
        classifier = GloveCNNClassifier._from_fitted_state(
            _decode(document["params"]),
            document["state"],
            _load_network(members[NETWORK]),
        )
    if manifest["kind"] == "vectorizer":
        return vectorizer
    if manifest["kind"] == "classifier":
        return classifier
    names = manifest["steps"]
    return Pipeline(
        list(zip(names, (vectorizer, classifier), strict=True)),
        **_decode(manifest["pipeline_params"]),
    )


def _vectorizer_from_json(document: dict) -> GloveSequenceVectorizer:
    vectorizer = GloveSequenceVectorizer(**_decode(document["params"]))
    vectorizer._validate_params()
    vocabulary = document["vocabulary"]
    if not all(
        isinstance(i, int) and not isinstance(i, bool) and i >= 0
        for i in vocabulary.values()
    ):
        raise ValueError("the vocabulary must map words to non-negative ids")
    missing = document["missing_words"]
    if not all(isinstance(word, str) for word in missing):
        raise ValueError("missing_words must be a list of str")
    coverage = document["glove_coverage"]
    if coverage is not None and set(coverage) != {"words", "tokens"}:
        raise ValueError("glove_coverage must be None or hold 'words' and 'tokens'")
    # Archives written before unseen_glove_words existed let no word through.
    unseen = document.get("unseen_words", [])
    if not isinstance(unseen, list) or not all(isinstance(w, str) for w in unseen):
        raise ValueError("unseen_words must be a list of str")
    vectorizer.vocabulary_ = dict(vocabulary)
    vectorizer.missing_words_ = list(missing)
    vectorizer.glove_coverage_ = coverage
    set_unseen_words(vectorizer, unseen)
    return vectorizer


def _load_network(data: bytes) -> keras.Model:
    if data.startswith(HDF5_MAGIC):
        raise ValueError(
            f"its network {NETWORK!r} is an HDF5 (.h5) file; only the .keras "
            "format is loaded"
        )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as network:
            for name in network.namelist():
                _check_member_name(name, NETWORK)
            config = json.loads(network.read("config.json"))
    except (zipfile.BadZipFile, zlib.error, EOFError, KeyError) as exc:
        raise ValueError(f"its network is not in the .keras format: {exc}") from None
    _check_network_config(config)
    with tempfile.TemporaryDirectory() as tmp:
        file = Path(tmp) / NETWORK
        file.write_bytes(data)
        try:
            return keras.saving.load_model(file, safe_mode=True)
        except Exception as exc:
            raise ValueError(f"Keras could not load its network: {exc}") from exc


def _check_network_config(config) -> None:
    """Refuse layers that carry code, and objects from unknown modules."""
    stack = [config]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            if node.get("class_name") in CODE_CLASS_NAMES:
                raise ValueError(
                    "its network contains a Lambda layer, which holds Python code "
                    "that would run when loaded; refusing to load"
                )
            module = node.get("module")
            if isinstance(module, str) and module.split(".")[0] not in TRUSTED_MODULES:
                raise ValueError(
                    f"its network names an object from module {module!r}, outside "
                    "Keras and skglove; refusing to load"
                )
            stack.extend(node.values())
