"""Warnings that point at the caller of the GloVe loader, not at its insides."""

import sys
import warnings

__all__: list[str] = []


def _warn(message: str) -> None:
    """Warn, pointing at the first caller outside this subpackage."""
    inside = __package__ + "."
    frame, level = sys._getframe(1), 2
    while frame is not None and frame.f_globals.get("__name__", "").startswith(inside):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, UserWarning, stacklevel=level)
