"""Every GitHub workflow passes actionlint.

actionlint is looked up on PATH, then in $(go env GOPATH)/bin. Missing, it
fails the run under CI=true and is skipped (with the install command) elsewhere.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from pipelines.shared.pins import ACTIONLINT_INSTALL
from tests.tools import found_or_stop

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.y*ml"))
INSTALL = ACTIONLINT_INSTALL


def find_actionlint() -> str | None:
    if found := shutil.which("actionlint"):
        return found
    go = shutil.which("go")
    if go is None:
        return None
    gopath = subprocess.run([go, "env", "GOPATH"], capture_output=True, text=True, check=False).stdout.strip()
    candidate = Path(gopath or Path.home() / "go") / "bin" / "actionlint"
    return str(candidate) if candidate.is_file() else None


@pytest.fixture(scope="module")
def actionlint() -> str:
    reason = f"actionlint not found on PATH or in $(go env GOPATH)/bin; install it with: {INSTALL}"
    return found_or_stop(find_actionlint(), reason, skipping="workflow lint")


def test_there_are_workflows() -> None:
    assert WORKFLOWS, "expected .github/workflows/*.yml"


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=[w.name for w in WORKFLOWS])
def test_actionlint(actionlint: str, workflow: Path) -> None:
    result = subprocess.run(
        [actionlint, "-no-color", str(workflow.relative_to(ROOT))],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, f"actionlint {workflow.name}:\n{result.stdout}{result.stderr}"


def test_the_engine_job_starts_a_released_engine_with_host_networking_and_runs_the_tier_on_it() -> None:
    job = yaml.safe_load((ROOT / ".github/workflows/ci.yml").read_text())["jobs"]["engine"]
    runs = "\n".join(str(step.get("run", "")) for step in job["steps"])
    assert "--network host" in runs
    assert '"registry.dagger.io/engine:v${DAGGER_VERSION}"' in runs
    tier = next(step for step in job["steps"] if "ci/engine-tier.sh" in str(step.get("run", "")))
    assert tier["env"]["RIE_ENGINE"] == "docker-container://dagger-engine"
    assert "--name dagger-engine" in runs
