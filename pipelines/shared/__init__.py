"""Facts every stage may take: the spec and its checks, the image contract, references, labels, pins, errors.

Imports nothing of the library outside this room, so any stage can use it
without reaching sideways into another stage.
"""
