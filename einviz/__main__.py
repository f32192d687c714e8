"""``python -m einviz``: the same as the ``einviz`` command."""

import sys

from .cli import main

sys.exit(main())
