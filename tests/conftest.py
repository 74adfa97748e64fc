"""Shared pytest configuration: async tests run on asyncio only; long tests are handed out first."""

import pytest


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked `long` first, each group in its own order.

    The workers (pytest-xdist, `--dist load --maxschedchunk 2`) are handed
    tests two at a time in this order as they free up, so the long ones start
    at once, spread over the workers, instead of one starting near the end and
    the run waiting on it alone.
    """
    items.sort(key=lambda item: item.get_closest_marker("long") is None)
