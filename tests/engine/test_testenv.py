"""tests/env/testenv.sh on an engine that is already running: the steps of ci.yml's `engine` job, against this engine.

On GitHub that job starts Dagger's released engine and runs ci/engine-tier.sh
(`RIE_ENGINE=<runner host> testenv.sh up`, then `env`, then the tier). Here the
same `up` and `env` run against the test engine, which is already running.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import anyio
import pytest

pytestmark = pytest.mark.anyio
REPO = Path(__file__).resolve().parents[2]


async def test_up_with_rie_engine_builds_no_engine_and_env_points_at_the_running_one() -> None:
    host = os.environ["_EXPERIMENTAL_DAGGER_RUNNER_HOST"]
    env = {**os.environ, "RIE_ENGINE": host}
    try:
        up = await anyio.run_process(["bash", "tests/env/testenv.sh", "up"], cwd=REPO, env=env, check=False)
        err = up.stderr.decode(errors="replace")
        assert up.returncode == 0, err
        assert f"testenv: the engine already running at {host}" in err
        assert "engine image" not in err  # no engine build
        assert "Python SDK image" not in err  # no runtime stand-in
        printed = (await anyio.run_process(["bash", "tests/env/testenv.sh", "env"], cwd=REPO, env=env)).stdout.decode()
        assert f"export _EXPERIMENTAL_DAGGER_RUNNER_HOST={host}\n" in printed
        assert f"export _EXPERIMENTAL_DAGGER_CLI_BIN={shutil.which('dagger')}\n" in printed
        assert f"export RIE_BASE_IMAGE={os.environ['RIE_BASE_IMAGE']}\n" in printed
    finally:
        # The environment as the suite found it: `up` remembers RIE_ENGINE's engine until an `up` without it,
        # and an `env` in between would name no engine container (test_remote_engine.py then skips).
        plain = {k: v for k, v in os.environ.items() if k != "RIE_ENGINE"}
        await anyio.run_process(["bash", "tests/env/testenv.sh", "up"], cwd=REPO, env=plain)
    printed = (await anyio.run_process(["bash", "tests/env/testenv.sh", "env"], cwd=REPO, env=plain)).stdout.decode()
    assert f"export RIE_ENGINE_CONTAINER={os.environ['RIE_ENGINE_CONTAINER']}\n" in printed
