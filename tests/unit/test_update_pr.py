"""ci/update-pr.sh, the update workflow's last step, on its own: what the PR's body says of the base's fixes.

The whole workflow runs in tests/engine/test_updates.py; here the script runs
in a scratch repository with a bare remote and a `gh` that records its calls,
for the two cases that run does not reach: base-fixes' section, and its step
having failed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.checkout import ROOT

UPDATES = "Update base image to sha256:0123456789ab\n\n| pin | current | newest | status | source |\n"
FIXES = "### What the new base image fixes\n\n`a@sha256:1` → `a@sha256:2`: 1 known vulnerability gone.\n"


def run_update_pr(tmp_path: Path, **env: str) -> str:
    """The script, after a pins.toml edit, in a scratch clone; gh's calls as it logged them."""
    origin, repo, bin_dir = tmp_path / "origin.git", tmp_path / "repo", tmp_path / "bin"
    subprocess.run(["git", "init", "--quiet", "--bare", str(origin)], check=True)
    (repo / "pipelines").mkdir(parents=True)
    (repo / "ci").mkdir()
    shutil.copy(ROOT / "ci" / "update-pr.sh", repo / "ci" / "update-pr.sh")
    pins = repo / "pipelines" / "pins.toml"
    pins.write_text('[base]\nimage = "a:1"\n')
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    for args in (["init", "--quiet", "-b", "main"], ["add", "."], ["commit", "--quiet", "-m", "pins"],
                 ["remote", "add", "origin", str(origin)], ["push", "--quiet", "origin", "main"]):  # fmt: skip
        subprocess.run([*git, *args], check=True)
    pins.write_text('[base]\nimage = "a:1@sha256:2"\n')
    bin_dir.mkdir()
    log = tmp_path / "gh.log"
    (bin_dir / "gh").write_text(f'#!/bin/sh\nprintf "%s\\n" "gh $*" >> {log}\n')
    (bin_dir / "gh").chmod(0o755)
    path = f"{bin_dir}:{os.environ['PATH']}"
    done = subprocess.run(
        ["bash", str(repo / "ci" / "update-pr.sh")], capture_output=True, text=True, check=False,
        env={**os.environ, "PATH": path, "BRANCH": "update/pins", "BASE": "main", "UPDATES": UPDATES, **env},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return log.read_text()


@pytest.mark.parametrize(
    ("env", "said"),
    [
        ({"FIXES": FIXES, "FIXES_OUTCOME": "success"}, FIXES.strip()),
        ({"FIXES": "", "FIXES_OUTCOME": "failure"}, "Could not tell: `dagger call base-fixes` did not run its scans"),
    ],
    ids=["fixes", "could-not-tell"],
)
def test_the_prs_body_says_what_the_new_base_fixes_or_that_it_could_not_tell(
    tmp_path: Path, env: dict[str, str], said: str
) -> None:
    calls = run_update_pr(tmp_path, **env)
    assert "gh pr create --head update/pins --base main --title Update base image to sha256:0123456789ab" in calls
    assert "| pin | current | newest | status | source |" in calls  # the table first
    assert said in calls, calls


def test_a_base_that_did_not_move_adds_nothing(tmp_path: Path) -> None:
    calls = run_update_pr(tmp_path, FIXES="", FIXES_OUTCOME="success")
    assert "What the new base image fixes" not in calls
