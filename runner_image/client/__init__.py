"""Client mode, ``python -m pipelines``: the module's functions as a command line, run against an engine.

A front door like the module object (runner_image/main.py): may import every other room, and no room imports it.
It reads the module object (runner_image.main.RunnerImage) for its settings' flags, so
each setting is declared once, there.
"""
