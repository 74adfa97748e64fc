"""Smoke test: does the image start its runner, as its own user, at the right version?

The exit code alone proves nothing: as root without RUNNER_ALLOW_RUNASROOT,
run.sh refuses ("Must not run interactively with sudo") and still exits 0.
So the output must hold a line that is exactly the version.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import dagger

from pipelines.shared.contract import ImageContract
from pipelines.shared.errors import SmokeTestError
from pipelines.shared.spec import RunnerSpec

MAX_QUOTED = 4000  # characters of output quoted in an error


def version_line(output: str, version: str) -> str | None:
    """The line of output that is exactly the version (surrounding blanks ignored)."""
    return next((line.strip() for line in output.splitlines() if line.strip() == version), None)


def contract_mismatches(
    contract: ImageContract,
    *,
    user: str,
    workdir: str,
    env: Mapping[str, str | None],
    entrypoint: Sequence[str],
    default_args: Sequence[str],
) -> list[str]:
    """What an image's config gets wrong against its contract, one line per finding."""
    found: list[str] = []
    if user != contract.user:
        found.append(f"user: expected {contract.user!r}, found {user!r}")
    if workdir.rstrip("/") != contract.workdir:
        found.append(f"workdir: expected {contract.workdir!r}, found {workdir!r}")
    for key, value in contract.env.items():
        if env.get(key) != value:
            found.append(f"env {key}: expected {value!r}, found {env.get(key)!r}")
    if entrypoint or default_args:
        found.append(f"entrypoint/cmd: expected none, found {list(entrypoint)!r} {list(default_args)!r}")
    return found


async def check_contract(ctr: dagger.Container, spec: RunnerSpec) -> None:
    """Compare the image config (no exec) with spec's contract; raise on any mismatch."""
    env = {key: await ctr.env_variable(key) for key in spec.contract.env}
    mismatches = contract_mismatches(
        spec.contract,
        user=await ctr.user(),
        workdir=await ctr.workdir(),
        env=env,
        entrypoint=await ctr.entrypoint(),
        default_args=await ctr.default_args(),
    )
    if mismatches:
        msg = f"image {spec.name} breaks the {spec.layout.value} contract: " + "; ".join(mismatches)
        raise SmokeTestError(msg)


def docker_cli_problem(spec: RunnerSpec, docker_out: str, buildx_out: str) -> str | None:
    """Why ``docker --version`` / ``docker buildx version`` output is not the asked versions, or None."""
    if not _has_version(docker_out, spec.docker_version):
        return f"docker --version: expected {spec.docker_version}, found {docker_out.strip()!r}"
    if not _has_version(buildx_out, f"v{spec.buildx_version}"):
        return f"docker buildx version: expected v{spec.buildx_version}, found {buildx_out.strip()!r}"
    return None


def _has_version(output: str, version: str) -> bool:
    """version appears as a whole word (1.2.3 is not found in 1.2.30)."""
    return re.search(rf"(?<![\w.]){re.escape(version)}(?![\w])(?!\.\d)", output) is not None


async def check_docker_cli(ctr: dagger.Container, spec: RunnerSpec) -> None:
    """The CLI and its buildx plugin run as the image user, at the versions asked for."""
    script = "docker --version && echo --- && docker buildx version"
    ran = ctr.with_exec(["sh", "-c", script], expect=dagger.ReturnType.ANY)
    out, err = await ran.stdout(), await ran.stderr()
    docker_out, _, buildx_out = out.partition("---")
    problem = docker_cli_problem(spec, docker_out, buildx_out)
    if problem:
        msg = f"{spec.name}: {problem}{f' ({err.strip()[-500:]})' if err.strip() else ''}"
        raise SmokeTestError(msg)


async def smoke_test(ctr: dagger.Container, spec: RunnerSpec) -> str:
    """Run ``<runner_dir>/run.sh --version`` as the image user; return the version line."""
    await check_contract(ctr, spec)
    run_sh = spec.contract.run_sh
    ran = ctr.with_exec([run_sh, "--version"], expect=dagger.ReturnType.ANY)
    try:
        stdout, stderr, code = await ran.stdout(), await ran.stderr(), await ran.exit_code()
    except dagger.QueryError as e:
        msg = f"{spec.name}: {run_sh} --version could not run: {e}"
        raise SmokeTestError(msg) from e
    line = version_line(stdout, spec.runner_version) or version_line(stderr, spec.runner_version)
    if line is None:
        output = f"stdout:\n{stdout}\nstderr:\n{stderr}"[-MAX_QUOTED:]
        msg = (
            f"{spec.name}: {run_sh} --version as user {spec.contract.user!r}: expected a line "
            f'"{spec.runner_version}", found none (exit code {code}). Output:\n{output}'
        )
        raise SmokeTestError(msg)
    if spec.with_docker_cli:
        await check_docker_cli(ctr, spec)
    return line
