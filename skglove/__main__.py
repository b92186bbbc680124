"""``python -m skglove``: the command line of :mod:`skglove._cli`."""

import sys

from ._cli import main

if __name__ == "__main__":
    sys.exit(main())
