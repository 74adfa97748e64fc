"""The daily update PR stays green: the unit tier passes on a tree whose every pin was moved.

The update workflow opens a PR whose only change is pins.toml rewritten by
`bump`; CI runs the whole suite on it. A test that names today's runner,
hooks or Docker version would turn every such PR red. So this copies the
tree, moves every pin the way `bump` does (the same rewrite, keeping comments
and order: the runner with both its sums, both hooks releases with their zip
sums filled, the Docker CLI and buildx, grype and syft with their release
assets' sums filled), and runs the unit tier there.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.shared.pins import PINS, PINS_FILE, TOOL_ARCHES, TOOL_SUM_KEY, parse, rewrite
from tests.checkout import ROOT, copy_checkout

THIS = Path(__file__).relative_to(ROOT).as_posix()


def next_patch(version: str) -> str:
    """The release after a pinned one, within its hold (a hold is MAJOR.MINOR)."""
    major, minor, patch = version.split(".")
    return f"{major}.{minor}.{int(patch) + 1}"


def fake_sum(name: str) -> str:
    return hashlib.sha256(f"bumped {name}".encode()).hexdigest()


def every_pin_moved() -> dict[tuple[str, str], str]:
    return {
        ("runner", "version"): next_patch(PINS.runner_version),
        ("runner", "sha256_x64"): fake_sum("runner x64"),
        ("runner", "sha256_arm64"): fake_sum("runner arm64"),
        ("hooks", "version"): next_patch(PINS.hooks_version),
        ("hooks", "sha256"): fake_sum("hooks"),
        ("hooks_novolume", "version"): next_patch(PINS.hooks_novolume_version),
        ("hooks_novolume", "sha256"): fake_sum("hooks novolume"),
        ("docker", "cli"): next_patch(PINS.docker_version),
        ("docker", "buildx"): next_patch(PINS.buildx_version),
        ("tools", "syft"): next_patch(PINS.syft_version),
        ("tools", "grype"): next_patch(PINS.grype_version),
        **{
            ("tools", TOOL_SUM_KEY.format(tool=tool, arch=arch)): fake_sum(f"{tool} {arch}")
            for tool in ("syft", "grype")
            for arch in TOOL_ARCHES
        },
    }


@pytest.mark.long
def test_the_unit_tier_passes_with_every_pin_moved(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    copy_checkout(tree)
    pins_file = tree / PINS_FILE.relative_to(ROOT)
    moved = every_pin_moved()
    pins_file.write_text(rewrite(pins_file.read_text(encoding="utf-8"), moved), encoding="utf-8")
    bumped = parse(pins_file.read_text(encoding="utf-8"))
    assert bumped.runner_version != PINS.runner_version
    assert (bumped.docker_version, bumped.buildx_version) != (PINS.docker_version, PINS.buildx_version)

    env = {**os.environ, "PYTHONPATH": str(tree), "PYTHONDONTWRITEBYTECODE": "1"}
    # The copy's library is the one imported, not this checkout's.
    seen = subprocess.run(
        [sys.executable, "-c", "from pipelines.shared.pins import PINS; print(PINS.runner_version)"],
        cwd=tree, env=env, capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    assert seen == moved["runner", "version"]

    # One process (-n 0): four more workers would each import and collect the tier again (32-45 CPU s against
    # 21.5 alone, for about the same 20 s), and the suite around this test already keeps both cores busy.
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/unit", "-q", "-p", "no:cacheprovider", "-n", "0", f"--ignore={THIS}"],
        cwd=tree, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    tail = "\n".join(run.stdout.splitlines()[-40:])
    assert run.returncode == 0, f"the unit tier fails on a tree with every pin moved:\n{tail}\n{run.stderr[-2000:]}"
    assert " passed" in tail
