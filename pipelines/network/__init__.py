"""Reads from outside: bounded retries, GitHub's API, the published sums of a release.

May import pipelines.shared only.
"""
