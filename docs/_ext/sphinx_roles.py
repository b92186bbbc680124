"""A Griffe extension that lets mkdocstrings render skglove's numpydoc docstrings.

The docstrings follow numpydoc, written for Sphinx; mkdocstrings reads Markdown.
This extension bridges the two without changing a docstring:

- Sphinx roles such as ``:class:`GloveCNNClassifier``` and ``:func:`~skglove.load```
  become links when they name a public object of skglove (a name in
  ``skglove.__all__``, ``skglove.glove.__all__`` or ``skglove.datasets.__all__``),
  and inline code otherwise.
- The entries of a numpydoc "See Also" section become a list of links.
- A module-level constant documented by ``#:`` comments above it (Sphinx's
  attribute-comment syntax) gets those comments as its docstring.

It is loaded by ``mkdocs.yml`` (``plugins.mkdocstrings...extensions``).
"""

import ast
import re
from pathlib import Path

import griffe

ROOT = Path(__file__).resolve().parents[2]
ROLE = re.compile(r":(?:class|func|meth|attr|data|mod|obj|exc):`(~?)([\w.]+)`")
SEE_ALSO = re.compile(r"^See Also\n-+\n(.*?)(?=\n\n|\Z)", re.M | re.S)


def _public_names() -> dict[str, str]:
    """Every public name, short and full, mapped to its documented path."""
    targets = {}
    # Later modules win a short name: skglove's own namespace comes last.
    for module, file in (
        ("skglove.datasets", "datasets.py"),
        ("skglove.glove", "glove/__init__.py"),
        ("skglove", "__init__.py"),
    ):
        tree = ast.parse((ROOT / "skglove" / file).read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
            ):
                for name in ast.literal_eval(node.value):
                    targets[name] = targets[f"{module}.{name}"] = f"{module}.{name}"
    return targets


class SphinxRoles(griffe.Extension):
    """Rewrite roles and "See Also" to Markdown; read ``#:`` attribute comments."""

    def __init__(self) -> None:
        self.targets = _public_names()

    def _link(self, name: str, label: str) -> str:
        target = self.targets.get(name)
        return f"[`{label}`][{target}]" if target else f"`{label}`"

    def _role(self, match: re.Match) -> str:
        short, name = match.groups()
        return self._link(name, name.rsplit(".", 1)[-1] if short else name)

    def _see_also(self, match: re.Match) -> str:
        """``name : text`` lines (text may continue, indented) as a list."""
        items: list[str] = []
        for line in match.group(1).splitlines():
            if line.startswith(" ") and items:
                items[-1] += " " + line.strip()
                continue
            name, _, text = (part.strip() for part in line.partition(":"))
            link = self._link(name, name)
            items.append(f"- {link}: {text}" if text else f"- {link}")
        return "See Also\n--------\n" + "\n".join(items)

    def on_instance(self, *, obj: griffe.Object, agent, **kwargs) -> None:
        if obj.docstring is None and obj.is_attribute:
            comment = _attribute_comment(obj)
            if comment:
                obj.docstring = griffe.Docstring(
                    comment,
                    parent=obj,
                    parser=agent.docstring_parser,
                    parser_options=agent.docstring_options,
                )
        if obj.docstring is not None:
            value = SEE_ALSO.sub(self._see_also, obj.docstring.value)
            obj.docstring.value = ROLE.sub(self._role, value)


def _attribute_comment(obj: griffe.Object) -> str:
    """The ``#:`` comment lines right above an attribute's assignment."""
    if obj.lineno is None or obj.filepath is None or isinstance(obj.filepath, list):
        return ""
    lines = Path(obj.filepath).read_text(encoding="utf-8").splitlines()
    comment = []
    for line in reversed(lines[: obj.lineno - 1]):
        if not line.lstrip().startswith("#:"):
            break
        comment.insert(0, line.lstrip()[2:].strip())
    return " ".join(comment)
