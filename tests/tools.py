"""A tool a test needs, found or not: missing, it fails the run under CI=true and is skipped loudly elsewhere."""

from __future__ import annotations

import os

import pytest


def found_or_stop(found: str | None, reason: str, *, skipping: str = "") -> str:
    """found (the tool's path); if it is None or empty, stop the test: CI can never pass on a skipped test."""
    if not found:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true: {reason}")
        pytest.skip(f"!!! SKIPPED{' ' + skipping if skipping else ''}: {reason}")
    return found
