"""What :func:`skglove.export` can write: its formats and table precisions.

A module of constants alone, so that the command line can offer them as
choices without importing TensorFlow.
"""

__all__ = ["FORMATS", "PRECISIONS"]

#: The formats an artifact can be written in.
FORMATS = ("tf_saved_model", "onnx")
#: The precisions a network's tables can be stored at.
PRECISIONS = ("float32", "float16", "int8", "int4")
