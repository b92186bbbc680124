"""The network member of an archive: a ``.keras`` file, checked, then loaded.

Before Keras reads a byte of it, the network's own zip gets the checks of
:mod:`skglove._archive` (names, sizes, ratios), and its ``config.json`` is
searched for layers that carry code and for objects outside Keras and the
layers skglove registers. Keras then loads it with ``safe_mode=True``.

Keras is imported only when a network is saved or loaded.
"""

import io
import json
import tempfile
import zipfile
import zlib
from pathlib import Path
from typing import TYPE_CHECKING

from ._archive import HDF5_MAGIC, check_members, read_member

if TYPE_CHECKING:  # pragma: no cover
    import keras

__all__ = [
    "CODE_CLASS_NAMES",
    "KERAS_MODULES",
    "NETWORK_MEMBER_LIMITS",
    "SKGLOVE_OBJECTS",
    "load_network",
    "network_bytes",
]

#: The name of a network in Keras' format, inside an archive and on disk.
_FILE_NAME = "model.keras"
#: The most each member of a ``.keras`` zip may inflate to. Keras may add
#: other small members (assets), which get ``_OTHER_LIMIT``.
NETWORK_MEMBER_LIMITS = {
    "metadata.json": 1 << 20,
    "config.json": 1 << 26,
    "model.weights.h5": 1 << 34,  # frozen GloVe rows: 2.4 GB for 2M rows of 300d
}
_OTHER_LIMIT = 1 << 26
#: Layer configs that carry Python code. ``safe_mode`` refuses them as well;
#: checking first gives a clear message and does not rely on it alone.
CODE_CLASS_NAMES = {"Lambda", "__lambda__", "TFOpLambda"}
#: Modules a network's config may name for Keras' own objects (``builtins`` is
#: how Keras names its own loss functions).
KERAS_MODULES = ("keras", "builtins")
#: The only other objects a network may name: the layers skglove registers
#: with Keras (``skglove/_layers.py``, ``skglove/_windows.py``), as (module,
#: class, registered name).
SKGLOVE_OBJECTS = frozenset(
    (module, name, f"skglove>{name}")
    for module, names in (
        (
            "skglove._layers",
            (
                "BagMax",
                "BagTfidf",
                "Bags",
                "ChannelMix",
                "LabelBias",
                "SubsetEmbedding",
            ),
        ),
        ("skglove._windows", ("WindowMax", "Windows")),
    )
    for name in names
)
_REGISTERED_NAMES = frozenset(registered for _, _, registered in SKGLOVE_OBJECTS)


def network_bytes(model: "keras.Model") -> bytes:
    """A Keras model in the ``.keras`` format."""
    with tempfile.TemporaryDirectory() as tmp:
        file = Path(tmp) / _FILE_NAME
        model.save(file)
        return file.read_bytes()


def load_network(data: bytes) -> "keras.Model":
    """A Keras model from ``.keras`` bytes, once they pass every check.

    Raises
    ------
    ValueError
        If the bytes are an HDF5 file, not a ``.keras`` zip, fail a check of
        :func:`skglove._archive.check_members`, name code or an object outside
        Keras and skglove's layers, or Keras cannot load them.
    """
    if data.startswith(HDF5_MAGIC):
        raise ValueError(
            f"its network {_FILE_NAME!r} is an HDF5 (.h5) file; only the .keras "
            "format is loaded"
        )
    where = f"its network {_FILE_NAME!r}"
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as network:
            infos = check_members(
                network, where, NETWORK_MEMBER_LIMITS, other_limit=_OTHER_LIMIT
            )
            info = next((i for i in infos if i.filename == "config.json"), None)
            if info is None:
                raise ValueError(f"{where} is not in the .keras format: no config.json")
            text = read_member(network, info, where)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
        raise ValueError(f"{where} is not in the .keras format: {exc}") from None
    try:
        config = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"{where} has an invalid config.json: {exc}") from None
    _check_network_config(config)
    import keras  # here: only a network that passed the checks needs Keras

    with tempfile.TemporaryDirectory() as tmp:
        file = Path(tmp) / _FILE_NAME
        file.write_bytes(data)
        try:
            return keras.saving.load_model(file, safe_mode=True)
        except Exception as exc:
            raise ValueError(f"Keras could not load its network: {exc}") from exc


def _check_network_config(config) -> None:
    """Refuse layers that carry code, and objects outside the allow-list."""
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
            _check_object(node)
            stack.extend(node.values())


def _check_object(node: dict) -> None:
    """Refuse a config that names an object outside Keras and skglove's layers."""
    module = node.get("module")
    registered = node.get("registered_name")
    function = node.get("config") if node.get("class_name") == "function" else None
    # Keras resolves "package>name" through its registry of custom objects:
    # only skglove's own layers may be named so, and no registered function.
    for name, is_function in ((registered, False), (function, True)):
        if not (isinstance(name, str) and ">" in name):
            continue
        if name not in _REGISTERED_NAMES and (
            is_function or name.split(">", 1)[0].startswith("skglove")
        ):
            raise ValueError(
                f"its network names the registered object {name!r}, which is not "
                "one of the layers skglove registers; refusing to load"
            )
    if module is None or (
        isinstance(module, str) and module.split(".")[0] in KERAS_MODULES
    ):
        return
    found = (module, node.get("class_name"), registered)
    if found not in SKGLOVE_OBJECTS:
        raise ValueError(
            f"its network names an object from module {module!r} "
            f"({found[1]!r}), outside Keras and the layers skglove registers; "
            "refusing to load"
        )
