"""Build stage: unpack the verified archives into /actions-runner, on the same base.

As the ADR's first stage: the runner tarball into /actions-runner, the k8s
hooks zip into /actions-runner/k8s and, as upstream's Dockerfile does, the
k8s zip of a later hooks release into /actions-runner/k8s-novolume. The base
has tar and gzip but not unzip, so this stage installs unzip; none of it
reaches the image.
"""

from __future__ import annotations

import shlex

import dagger

from pipelines.errors import ArchiveError
from pipelines.spec import RunnerSpec

STAGE_DIR = "/actions-runner"
ASSETS_DIR = "/tmp/runner-image-assets"  # noqa: S108 - inside the throwaway build stage
UNZIP_TOOLS = ["unzip"]
RUN_SH = f"{STAGE_DIR}/run.sh"


def with_unpack_tools(base: dagger.Container) -> dagger.Container:
    """The base plus unzip (installed without recommends, lists dropped)."""
    install = (
        "apt-get update"
        f" && apt-get install -y --no-install-recommends {' '.join(UNZIP_TOOLS)}"
        " && rm -rf /var/lib/apt/lists/*"
    )
    return base.with_env_variable("DEBIAN_FRONTEND", "noninteractive").with_exec(["sh", "-c", install])


def unpack_script(runner: str, hooks: str, novolume: str | None) -> str:
    """Shell that unpacks the mounted archives; each step fails loudly (set -eu)."""
    q = shlex.quote
    lines = [
        "set -eu",
        f"mkdir -p {STAGE_DIR}",
        f"tar xzf {q(runner)} -C {STAGE_DIR}",
        f"unzip -q -o {q(hooks)} -d {STAGE_DIR}/k8s",
    ]
    if novolume is not None:
        lines.append(f"unzip -q -o {q(novolume)} -d {STAGE_DIR}/k8s-novolume")
    return "\n".join(lines)


async def unpack(
    client: dagger.Client,
    spec: RunnerSpec,
    base: dagger.Container,
    runner_archive: dagger.File,
    hooks_archive: dagger.File,
    novolume_archive: dagger.File | None = None,
) -> dagger.Directory:
    """Return /actions-runner of the build stage, once run.sh is known to be there."""
    del client  # same signature as every stage; the base carries the session
    # One folder per target: both hooks zips have the same name when their versions match.
    runner = f"{ASSETS_DIR}/{spec.runner_asset}"
    hooks = f"{ASSETS_DIR}/k8s/{spec.hooks_asset}"
    stage = with_unpack_tools(base).with_mounted_file(runner, runner_archive).with_mounted_file(hooks, hooks_archive)
    novolume = None
    if novolume_archive is not None:
        novolume = f"{ASSETS_DIR}/k8s-novolume/{spec.hooks_novolume_asset}"
        stage = stage.with_mounted_file(novolume, novolume_archive)
    stage = stage.with_exec(["sh", "-c", unpack_script(runner, hooks, novolume)])
    checked = stage.with_exec(["test", "-x", RUN_SH], expect=dagger.ReturnType.ANY)
    try:
        code = await checked.exit_code()
    except dagger.ExecError as e:
        raise ArchiveError(_unpack_failed(spec, e)) from e
    if code != 0:
        msg = (
            f"{spec.runner_asset}: expected an executable run.sh at the archive's top level, "
            f"found none in {STAGE_DIR} after unpacking. Is it really a runner release "
            "tarball for this version and arch?"
        )
        raise ArchiveError(msg)
    return stage.directory(STAGE_DIR)


def _unpack_failed(spec: RunnerSpec, e: dagger.ExecError) -> str:
    stderr = (e.stderr or "").strip()[-2000:]
    command = " ".join(e.command) if e.command else "?"
    if "apt-get" in command:
        what = f"installing {', '.join(UNZIP_TOOLS)} in the build stage on {spec.base_image}"
    else:
        zips = f"{spec.hooks_asset} (k8s/)"
        if spec.novolume_hooks:
            zips += f" and {spec.hooks_novolume_asset} (k8s-novolume/)"
        what = f"unpacking {spec.runner_asset}, {zips}"
    return f"{what} failed (exit {e.exit_code}): {stderr or e.message}"
