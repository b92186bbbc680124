"""Keep TensorFlow's retracing warning out of skglove's own calls.

Every fit builds a new Keras model, so its ``tf.function``s are traced anew.
After five such traces TensorFlow logs "... triggered tf.function retracing",
which is expected here and tells a skglove user nothing: a grid search would
print it for nearly every fit. The filter drops that one message only while
skglove code is on the stack, so the same warning about the user's own
TensorFlow code still shows.
"""

import logging
import sys

__all__ = ["hide_retracing_warnings"]

_RETRACING = "triggered tf.function retracing"


class _RetracingInSkglove(logging.Filter):
    """Reject retracing warnings emitted beneath a skglove frame."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _RETRACING not in str(record.msg):
            return True
        frame = sys._getframe(1)
        while frame is not None:
            module = frame.f_globals.get("__name__", "")
            if module == "skglove" or module.startswith("skglove."):
                return False
            frame = frame.f_back
        return True


_FILTER = _RetracingInSkglove()


def hide_retracing_warnings() -> None:
    """Attach the filter to TensorFlow's logger; calling it again does nothing.

    Examples
    --------
    >>> import logging
    >>> from skglove._tf_logging import hide_retracing_warnings
    >>> hide_retracing_warnings()
    >>> sum(
    ...     type(f).__name__ == "_RetracingInSkglove"
    ...     for f in logging.getLogger("tensorflow").filters
    ... )
    1
    """
    logging.getLogger("tensorflow").addFilter(_FILTER)
