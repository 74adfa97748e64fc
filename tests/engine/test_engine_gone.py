"""The engine goes away mid-run: `python -m pipelines` says so and exits non-zero, without a traceback.

The test environment's engine is shared, so it is not stopped here. The
client instead talks to its own `dagger session` through a ConnectionCutter,
which drops every connection while a download is under way: what a client
sees when the engine container stops.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

from runner_image.client.session import ENGINE_GONE_EXIT
from tests.engine import faults
from tests.engine.faults import ConnectionCutter, FaultServer
from tests.engine.fixtures import ReleaseMirror, client_mode_flags
from tests.engine.registry import Registry

pytestmark = pytest.mark.anyio
REPO = Path(__file__).resolve().parents[2]
WAIT_STEPS = 600  # polls of 0.2 s: at most 2 minutes for the run to reach its download


@pytest.fixture
def session() -> Iterator[dict[str, object]]:
    """A `dagger session` of our own on the shared engine: {"port": ..., "session_token": ...}."""
    proc = subprocess.Popen(
        [os.environ["_EXPERIMENTAL_DAGGER_CLI_BIN"], "session"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert proc.stdout is not None
        yield json.loads(proc.stdout.readline())
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)


async def test_engine_gone_mid_publish_exits_3_with_a_message_and_publishes_nothing(
    session: dict[str, object], mirror: ReleaseMirror, base_image: str, registry: str
) -> None:
    tag = uuid.uuid4().hex[:12]
    repository = "runner-image-test/engine-gone"
    v = mirror.runner_version
    with FaultServer(mirror.root) as server:
        runner_path = f"/runner/v{v}/actions-runner-linux-x64-{v}.tar.gz"
        server.script(runner_path, faults.stall(100, after=100))  # keeps the run busy until the cut
        cutter = ConnectionCutter(int(str(session["port"])))
        args = [
            *client_mode_flags(mirror, base_image, server.url),
            *("--arch", "amd64", "--address", f"{registry}/{repository}:{tag}"),
        ]
        env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "DAGGER_SESSION_PORT": str(cutter.port),
            "DAGGER_SESSION_TOKEN": str(session["session_token"]),
        }
        runs: list[subprocess.CompletedProcess[bytes]] = []

        async def publish() -> None:
            command = [sys.executable, "-m", "pipelines", "publish", *args]
            runs.append(await anyio.run_process(command, env=env, cwd=REPO, check=False))

        with anyio.fail_after(600):  # the whole run, cut included
            async with anyio.create_task_group() as tg:
                tg.start_soon(publish)
                for _ in range(WAIT_STEPS):
                    if server.hits(runner_path) or runs:
                        break
                    await anyio.sleep(0.2)
                reached = server.hits(runner_path)
                cutter.cut()

    assert reached == 1, "the run never reached its download"
    (done,) = runs
    err = done.stderr.decode()
    assert done.returncode == ENGINE_GONE_EXIT, err[-3000:]
    assert "error: engine: lost the connection to the Dagger engine" in err
    assert "run the same command again" in err
    assert "Traceback" not in err
    assert not Registry(registry).has_tag(repository, tag)
