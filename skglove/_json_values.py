"""Estimator parameters and fitted state as JSON, and typed reads of JSON.

:func:`encode` turns a parameter value into JSON, tagging the types JSON
lacks (tuples, paths, dicts with other keys); :func:`decode` inverts it and
refuses a malformed tag with a ValueError. :func:`parse_json` and
:func:`field` read an archive's documents so that a missing field or a wrong
type is a ValueError that names it, never a KeyError or a TypeError.
"""

import json
import os
from numbers import Integral, Real
from pathlib import Path

import numpy as np

from .glove import GloveVectors

__all__ = ["decode", "dump_json", "encode", "encode_params", "field", "parse_json"]

# Keys that tag JSON encodings of parameter values JSON has no type for.
_TUPLE, _PATH, _ITEMS = "__tuple__", "__path__", "__items__"


def encode_params(estimator) -> dict:
    name = type(estimator).__name__
    return {
        param: encode(value, f"parameter {param!r} of {name}")
        for param, value in estimator.get_params(deep=False).items()
    }


def encode(value, where: str):
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
        return {_TUPLE: [encode(v, where) for v in value]}
    if isinstance(value, list):
        return [encode(v, where) for v in value]
    if isinstance(value, dict):
        if all(isinstance(k, str) and not k.startswith("__") for k in value):
            return {k: encode(v, where) for k, v in value.items()}
        return {
            _ITEMS: [[encode(k, where), encode(v, where)] for k, v in value.items()]
        }
    hint = (
        "; register the vectors with skglove.register_glove and pass their name"
        if isinstance(value, GloveVectors)
        else "; use a name (such as 'rmsprop') or a number instead of an object"
    )
    # The embedded vectors are a private subclass; name the public class.
    kind = "GloveVectors" if isinstance(value, GloveVectors) else type(value).__name__
    raise TypeError(
        f"cannot save {where}: a {kind} is not a JSON value, and "
        f"skglove.save stores parameters as JSON{hint}, or use joblib (load such "
        "files only from trusted sources)"
    )


def decode(value):
    """Invert :func:`encode`; a ValueError names a malformed encoding."""
    if isinstance(value, list):
        return [decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    for tag, kinds, what in (
        (_TUPLE, list, "a list"),
        (_PATH, str, "a str"),
        (_ITEMS, list, "a list of [key, value] pairs"),
    ):
        if set(value) == {tag}:
            if not isinstance(value[tag], kinds):
                raise ValueError(f"{tag} must hold {what}, got {value[tag]!r:.60}")
            break
    if set(value) == {_TUPLE}:
        return tuple(decode(v) for v in value[_TUPLE])
    if set(value) == {_PATH}:
        return Path(value[_PATH])
    if set(value) == {_ITEMS}:
        pairs = value[_ITEMS]
        if not all(isinstance(pair, list) and len(pair) == 2 for pair in pairs):
            raise ValueError(f"{_ITEMS} must hold [key, value] pairs")
        try:
            return {decode(k): decode(v) for k, v in pairs}
        except TypeError:  # a list or dict decoded as a key
            raise ValueError(f"{_ITEMS} holds a key that is not hashable") from None
    return {k: decode(v) for k, v in value.items()}


def dump_json(document, what: str = "the model") -> bytes:
    try:
        return json.dumps(document, indent=1).encode("ascii")
    except TypeError as exc:
        raise TypeError(f"cannot save {what}: {exc}") from None


def parse_json(members: dict, name: str, path):
    """The parsed JSON of a member; a ValueError names the member if it is not."""
    try:
        return json.loads(members[name])
    except (ValueError, RecursionError) as exc:  # not UTF-8, not JSON, too deep
        raise ValueError(f"{path}: {name} is not valid JSON ({exc})") from None


def field(document: dict, key: str, kinds, where: str):
    """``document[key]``, or a ValueError if it is missing or of another type."""
    if key not in document:
        raise ValueError(f"{where} lacks the field {key!r}")
    value = document[key]
    kinds = kinds if isinstance(kinds, tuple) else (kinds,)
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        names = " or ".join("null" if k is type(None) else k.__name__ for k in kinds)
        raise ValueError(
            f"{where}: {key!r} must be {names}, got {type(value).__name__}"
        )
    return value
