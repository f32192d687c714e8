"""``python -m einviz.serve [--host H] [--port P] [--open]``."""

from .launch import main

main()
