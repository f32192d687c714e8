"""``python -m einviz.serve [--host H] [--port P] [--open]``."""

from .launch import main

if __name__ == "__main__":  # importing the module (a doctest run does) starts nothing
    main()
