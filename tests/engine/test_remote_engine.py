"""The module against an engine at a tcp:// address, as a remote or in-cluster engine is reached (docs/scaling.md).

The test engine serves a Unix socket inside its container; a forwarder on
127.0.0.1 gives it a tcp:// address, and `dagger call` goes through that
address instead of the default docker-container:// connection.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.engine.faults import ConnectionCutter
from tests.engine.fixtures import ReleaseMirror
from tests.engine.test_dagger_call import dagger, local_settings

pytestmark = pytest.mark.anyio
ENGINE_SOCKET = "run/dagger/engine.sock"  # where the engine serves its API inside its container


def engine_socket() -> str:
    """The test engine's socket, reached through its container's root from the host."""
    host = os.environ["_EXPERIMENTAL_DAGGER_RUNNER_HOST"]
    name = host.removeprefix("docker-container://")
    assert name != host, f"expected a docker-container:// engine, found {host}"
    pid = subprocess.run(
        ["docker", "inspect", "-f", "{{.State.Pid}}", name], capture_output=True, text=True, check=True
    ).stdout.strip()
    return f"/proc/{pid}/root/{ENGINE_SOCKET}"


async def test_dagger_call_through_a_tcp_address(mirror: ReleaseMirror, base_image: str) -> None:
    forwarder = ConnectionCutter(engine_socket())
    try:
        address = f"tcp://127.0.0.1:{forwarder.port}"
        done = await dagger(
            "call", *local_settings(mirror, base_image), "smoke-test", "--arch", "amd64", "--layout", "minimal",
            env={"_EXPERIMENTAL_DAGGER_RUNNER_HOST": address},
        )  # fmt: skip
    finally:
        forwarder.cut()
    assert done.returncode == 0, done
    assert done.stdout.strip() == mirror.runner_version, done
    assert forwarder.connections > 0  # the CLI went through the tcp:// address
