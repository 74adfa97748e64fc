"""Await several things at once, as one barrier; our errors come out as themselves.

An anyio task group raises an ExceptionGroup when a task fails. A user should
see the stage's own error ("checksum: ..."), not a group: ``unwrap`` gives one
of our errors as itself, several as one, and anything else (a bug) untouched.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import anyio

from pipelines.shared.errors import RunnerImageError


async def gather(*calls: Callable[[], Awaitable[Any]]) -> list[Any]:
    """Run every call concurrently; their results in the order given."""
    results: dict[int, Any] = {}

    async def one(index: int, call: Callable[[], Awaitable[Any]]) -> None:
        results[index] = await call()

    failure: BaseException | None = None
    try:
        async with anyio.create_task_group() as tg:
            for index, call in enumerate(calls):
                tg.start_soon(one, index, call)
    except BaseExceptionGroup as group:
        failure = unwrap(group)
    if failure is not None:
        raise failure  # outside the handler, so each error keeps its own cause
    return [results[index] for index in range(len(calls))]


def unwrap(group: BaseExceptionGroup) -> BaseException:
    """One of our errors as itself, several as one RunnerImageError, else the group."""
    leaves = _leaves(group)
    if not all(isinstance(e, RunnerImageError) for e in leaves):
        return group
    if len(leaves) == 1:
        return leaves[0]
    kinds = {type(e) for e in leaves}
    if len(kinds) == 1:  # same stage: its prefix is printed once
        kind = kinds.pop()
        return kind(" | ".join(dict.fromkeys(str(e.args[0]) if e.args else "" for e in leaves)))
    # Several images failing the same way (one release API for both arches) say it once.
    return RunnerImageError(" | ".join(dict.fromkeys(str(e) for e in leaves)))


def _leaves(group: BaseExceptionGroup) -> list[BaseException]:
    found: list[BaseException] = []
    for e in group.exceptions:
        found.extend(_leaves(e) if isinstance(e, BaseExceptionGroup) else [e])
    return found
