"""The module through the engine addresses users give (docs/scaling.md): tcp://, as a remote or in-cluster
engine is reached, and docker-container://, as the dagger CLI reaches an engine in Docker.

The test engine serves a Unix socket, which the other tests use (tests/env/testenv.sh
mounts it out of the engine's container); a forwarder on 127.0.0.1 gives it a
tcp:// address, and `docker exec` into the container is the docker-container:// way.
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


def engine_container() -> str:
    name = os.environ.get("RIE_ENGINE_CONTAINER")
    if not name:
        pytest.skip("!!! SKIPPED: RIE_ENGINE is not a docker-container:// engine, so it has no container to reach")
    return name


def engine_socket() -> str:
    """The test engine's socket, reached through its container's root from the host."""
    pid = subprocess.run(
        ["docker", "inspect", "-f", "{{.State.Pid}}", engine_container()], capture_output=True, text=True, check=True
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


async def test_dagger_call_through_docker_container(mirror: ReleaseMirror, base_image: str) -> None:
    """The dagger CLI's own way to an engine in Docker: a `docker exec` into its container per connection."""
    address = f"docker-container://{engine_container()}"
    done = await dagger(
        "call", *local_settings(mirror, base_image), "smoke-test", "--arch", "amd64", "--layout", "minimal",
        env={"_EXPERIMENTAL_DAGGER_RUNNER_HOST": address},
    )  # fmt: skip
    assert done.returncode == 0, done
    assert done.stdout.strip() == mirror.runner_version, done
