"""The engine session of client mode: opened within a time limit, and its loss told apart from a failed input.

The SDK's own start-up waits about 10 minutes for an absent engine in a
thread that cannot be cancelled; engine_session bounds it (--engine-timeout).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator

import anyio
import anyio.abc
import dagger

DEFAULT_ENGINE_TIMEOUT = 60.0  # seconds to reach the engine before giving up (dagger's own wait is ~10 minutes)


class EngineUnreachable(Exception):  # noqa: N818 - reads as what happened
    """No engine session could be opened within the time limit."""


@contextlib.asynccontextmanager
async def engine_session(connect_within: float) -> AsyncIterator[None]:
    """A Dagger session whose start (the CLI reaching its engine) must finish within connect_within seconds.

    The SDK starts `dagger session` itself and waits for it in a worker thread
    that cannot be cancelled, and the CLI waits about 10 minutes for an absent
    engine. So when a CLI is at hand (_EXPERIMENTAL_DAGGER_CLI_BIN or `dagger`
    on PATH), the session is started here, as the SDK would, and the SDK is
    pointed at it (DAGGER_SESSION_PORT/TOKEN, as `dagger run` does). Under
    `dagger run`, or with no CLI at hand (the SDK then downloads its own), the
    SDK connects as usual.
    """
    cli = os.environ.get("_EXPERIMENTAL_DAGGER_CLI_BIN") or shutil.which("dagger")
    if os.environ.get("DAGGER_SESSION_PORT") or cli is None:
        async with dagger.connection(dagger.Config(log_output=sys.stderr)):
            yield
        return
    command = [cli, "session", "--label", "dagger.io/sdk.name:python"]
    async with await anyio.open_process(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=sys.stderr
    ) as proc:
        try:
            with anyio.fail_after(connect_within):
                params = await _session_params(proc)
        except TimeoutError:
            proc.kill()
            raise EngineUnreachable(connect_within) from None
        session = {"DAGGER_SESSION_PORT": str(params["port"]), "DAGGER_SESSION_TOKEN": str(params["session_token"])}
        saved = {key: os.environ.get(key) for key in session}
        os.environ.update(session)
        try:
            async with dagger.connection(dagger.Config(log_output=sys.stderr)):
                yield
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
            if proc.stdin is not None:
                await proc.stdin.aclose()  # the CLI ends its session when its stdin closes
            with anyio.move_on_after(30):
                await proc.wait()


async def _session_params(proc: anyio.abc.Process) -> dict[str, object]:
    """The first line `dagger session` prints: {"port": ..., "session_token": ...}."""
    assert proc.stdout is not None  # noqa: S101 - opened with a pipe above
    buffered = b""
    async for chunk in proc.stdout:
        buffered += chunk
        if b"\n" in buffered:
            break
    try:
        params = json.loads(buffered.split(b"\n", 1)[0])
    except ValueError:
        params = None
    if not isinstance(params, dict) or "port" not in params or "session_token" not in params:
        await proc.wait()
        why = f"dagger session exited with code {proc.returncode}"
        raise EngineUnreachable(why)
    return params


def engine_unreachable_message(timeout: float, error: EngineUnreachable) -> str:
    runner = os.environ.get("_EXPERIMENTAL_DAGGER_RUNNER_HOST")
    where = f"at _EXPERIMENTAL_DAGGER_RUNNER_HOST={runner}" if runner else "(the dagger CLI's default engine)"
    how = f" ({error.args[0]}; its own error is above)" if error.args and isinstance(error.args[0], str) else ""
    return (
        f"error: engine: expected a Dagger engine to answer within {timeout:g} s (--engine-timeout), "
        f"found none {where}{how}. Check that it runs (`dagger core version`, or the engine container in "
        "`docker ps`) and that the address is right, or raise --engine-timeout for a slow first start"
    )


# The client's own transport to the engine: when one of these ends a run, the
# engine (or the connection to it) went away; it says nothing about the inputs.
ENGINE_GONE_EXIT = 3


_CLIENT_ERRORS = (dagger.ClientConnectionError, dagger.TransportError, dagger.ProvisionError)


_TRANSPORT_LIBRARIES = frozenset({"gql", "httpx", "httpcore", "tenacity"})  # the SDK's HTTP client and retries


def engine_gone(error: BaseException) -> BaseException | None:
    """The failure of the connection to the engine inside error (or its exception group), if any."""
    if isinstance(error, BaseExceptionGroup):
        found = (engine_gone(e) for e in error.exceptions)
        return next((e for e in found if e is not None), None)
    if isinstance(error, _CLIENT_ERRORS) or type(error).__module__.split(".")[0] in _TRANSPORT_LIBRARIES:
        return error
    return None


def engine_gone_message(error: BaseException) -> str:
    detail = str(error).strip().splitlines()[0][:300] if str(error).strip() else ""
    return (
        f"error: engine: lost the connection to the Dagger engine ({type(error).__name__}"
        f"{': ' + detail if detail else ''}). Expected the engine to run until the command ends; "
        "it stopped, restarted or became unreachable mid-run. Check that it runs "
        "(`dagger core version`, or the engine container in `docker ps`), then run the same command "
        "again: finished steps come back from the engine's cache, and a publish that printed no "
        "digest may be repeated safely"
    )
