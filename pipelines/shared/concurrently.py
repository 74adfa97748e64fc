"""Await several things at once, as one barrier; what failed comes out as one of our errors, named.

An anyio task group raises an ExceptionGroup when a task fails. A user should
see the stage's own error ("checksum: ..."), not a group: an engine error in a
step (the SDK's QueryError: a registry, a network, an exec) becomes an
EngineError naming the step and what the engine said, here where every
concurrent step is gathered, so no stage can let one through as a group.
``unwrap`` then gives one of our errors as itself, several as one, and anything
else (a bug) untouched, with its traceback.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import anyio
import dagger

from pipelines.shared.errors import BaseImageError, EngineError, RunnerImageError, engine_said


async def gather(*calls: Callable[[], Awaitable[Any]], steps: Sequence[str] = ()) -> list[Any]:
    """Run every call concurrently; their results in the order given.

    steps names each call for the user ("reading Docker's apt index"), in the
    same order; an engine error in a call is shown under its name.
    """
    results: dict[int, Any] = {}

    async def one(index: int, call: Callable[[], Awaitable[Any]]) -> None:
        try:
            results[index] = await call()
        except dagger.QueryError as e:
            step = steps[index] if index < len(steps) else "a step run concurrently"
            raise EngineError(step, engine_said(e)) from e

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
    # Every stage stands on the base image: when it could not be pulled, the others failed for that.
    base = [e for e in leaves if isinstance(e, BaseImageError)]
    if base:
        return base[0]
    leaves = _one_per_engine_cause(leaves)
    if len(leaves) == 1:
        return leaves[0]
    kinds = {type(e) for e in leaves}
    if len(kinds) == 1 and kinds != {EngineError}:  # same stage: its prefix is printed once
        kind = kinds.pop()
        return kind(" | ".join(dict.fromkeys(str(e.args[0]) if e.args else "" for e in leaves)))
    # Several images failing the same way (one release API for both arches) say it once.
    return RunnerImageError(" | ".join(dict.fromkeys(str(e) for e in leaves)))


def _one_per_engine_cause(leaves: list[BaseException]) -> list[BaseException]:
    """Several steps that failed on one engine error (one unreachable registry) are told once."""
    seen: set[str] = set()
    kept: list[BaseException] = []
    for e in leaves:
        if isinstance(e, EngineError):
            if e.said in seen:
                continue
            seen.add(e.said)
        kept.append(e)
    return kept


def _leaves(group: BaseExceptionGroup) -> list[BaseException]:
    found: list[BaseException] = []
    for e in group.exceptions:
        found.extend(_leaves(e) if isinstance(e, BaseExceptionGroup) else [e])
    return found
