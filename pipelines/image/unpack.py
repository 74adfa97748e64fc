"""Build stage: unpack the verified archives into /actions-runner.

As the ADR's first stage: the runner tarball into /actions-runner, the k8s
hooks zip into /actions-runner/k8s and, as upstream's Dockerfile does, the
k8s zip of a later hooks release into /actions-runner/k8s-novolume.
Unpacking does not depend on the target arch, so it runs on the engine's own
platform (never under emulation), and the hooks, the same for every arch,
are unpacked once. The base has tar and gzip but not unzip, so this stage
installs unzip; none of it
reaches the image.
"""

from __future__ import annotations

import shlex
from collections.abc import Awaitable, Callable
from typing import Any

import dagger

from pipelines.image.base import tools_stage
from pipelines.shared.concurrently import gather
from pipelines.shared.errors import ArchiveError
from pipelines.shared.spec import RunnerSpec

STAGE_DIR = "/actions-runner"
ASSETS_DIR = "/tmp/runner-image-assets"  # noqa: S108 - inside the throwaway build stage
UNZIP_TOOLS = ["unzip"]
RUN_SH = f"{STAGE_DIR}/run.sh"


def unpack_stage(client: dagger.Client, spec: RunnerSpec) -> dagger.Container:
    """The base image on the engine's own platform, plus unzip: shared by every arch's build."""
    return tools_stage(client, spec.base_image, UNZIP_TOOLS)


def unpack_script(archive: str, dest: str) -> str:
    """Shell that unpacks one mounted archive into dest (tar.gz or zip); fails loudly (set -eu)."""
    q = shlex.quote
    if archive.endswith(".tar.gz"):
        tool = f"tar xzf {q(archive)} -C {q(dest)}"
    else:
        tool = f"unzip -q -o {q(archive)} -d {q(dest)}"
    return f"set -eu\nmkdir -p {q(dest)}\n{tool}"


def unpacked(stage: dagger.Container, name: str, archive: dagger.File, dest: str) -> dagger.Container:
    """stage with archive (named name) unpacked into dest."""
    path = f"{ASSETS_DIR}/{name}"
    return stage.with_mounted_file(path, archive).with_exec(["sh", "-c", unpack_script(path, dest)])


async def unpack(
    client: dagger.Client,
    spec: RunnerSpec,
    runner_archive: dagger.File,
    hooks_archive: dagger.File,
    novolume_archive: dagger.File | None = None,
) -> dagger.Directory:
    """Return the runner tree (/actions-runner with k8s/ and k8s-novolume/), once it unpacked and run.sh is there."""
    stage = unpack_stage(client, spec)
    runner = unpacked(stage, spec.runner_asset, runner_archive, STAGE_DIR)
    tree = runner.directory(STAGE_DIR)
    for name, archive, folder in (
        (spec.hooks_asset, hooks_archive, "k8s"),
        (spec.hooks_novolume_asset, novolume_archive, "k8s-novolume"),
    ):
        if archive is not None:
            dest = f"{STAGE_DIR}/{folder}"
            tree = tree.with_directory(folder, unpacked(stage, name, archive, dest).directory(dest))

    async def checked(call: Callable[[], Awaitable[Any]]) -> Any:
        try:
            return await call()
        except dagger.ExecError as e:
            raise ArchiveError(_unpack_failed(spec, e)) from e

    # Both at once: the runner's run.sh, and every archive unpacking at all.
    code, _ = await gather(
        lambda: checked(runner.with_exec(["test", "-x", RUN_SH], expect=dagger.ReturnType.ANY).exit_code),
        lambda: checked(tree.sync),
        steps=("looking for the runner's run.sh", "unpacking the archives"),
    )
    if code != 0:
        msg = (
            f"{spec.runner_asset}: expected an executable run.sh at the archive's top level, "
            f"found none in {STAGE_DIR} after unpacking. Is it really a runner release "
            "tarball for this version and arch?"
        )
        raise ArchiveError(msg)
    return tree


def _unpack_failed(spec: RunnerSpec, e: dagger.ExecError) -> str:
    stderr = (e.stderr or "").strip()[-2000:]
    command = " ".join(e.command) if e.command else "?"
    names = (spec.runner_asset, spec.hooks_asset, spec.hooks_novolume_asset)
    if "apt-get" in command:
        what = f"installing {', '.join(UNZIP_TOOLS)} in the build stage on {spec.base_image}"
    else:
        what = "unpacking " + next((name for name in names if name in command), "the archives")
    return f"{what} failed (exit {e.exit_code}): {stderr or e.message}"
