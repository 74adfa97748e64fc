#!/usr/bin/env python3
"""Entrypoint of a Python module's runtime container (/runtime), as in Dagger's Python runtime.

The engine runs it once to register the module's types (--register) and once
per function call; dagger.mod.cli finds the main object through the
`dagger.mod` entry point, else DAGGER_MAIN_OBJECT in DAGGER_DEFAULT_PYTHON_PACKAGE.
"""

import sys

from dagger.mod.cli import app

if __name__ == "__main__":
    sys.exit(app(None, register="--register" in sys.argv[1:]))
