"""The build stages, in Dockerfile order: base, fetch (verified), unpack, system, assemble.

system is the one apt step (packages, user, sudo rule) and the CA
certificates. build.py composes them. May import pipelines.shared and
pipelines.network.
"""
