"""Client mode: the module object's functions called from Python, and `dagger run python -m pipelines`.

`dagger call` itself is tested in test_dagger_call.py; these reach what it
cannot: Dagger objects built here (host files, a secret set from a test
value) and the progress log a test can read.
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from pathlib import Path

import anyio
import dagger
import pytest

from pipelines.shared.contract import HOSTED_CONTRACT, Layout
from pipelines.shared.defaults import Arch
from runner_image.main import RunnerImage
from tests.engine.fixtures import ReleaseMirror, client_mode_flags
from tests.engine.registry import Registry, read_index

pytestmark = pytest.mark.anyio
REPO = Path(__file__).resolve().parents[2]


def module_object(mirror: ReleaseMirror, base_image: str) -> RunnerImage:
    """RunnerImage as `dagger call --base-image ... --runner-base-url ... <function>` constructs it."""
    v, h, n = mirror.runner_version, mirror.hooks_version, mirror.hooks_novolume_version
    return RunnerImage(
        runner_version=v,
        hooks_version=h,
        hooks_novolume_version=n,
        base_image=base_image,
        runner_base_url=f"{mirror.base_url}/runner",
        hooks_base_url=f"{mirror.base_url}/hooks",
        docker_cli=False,  # Docker's repository is not reachable here (see test_docker_cli.py)
        runner_checksums=[
            f"amd64={mirror.sha(f'actions-runner-linux-x64-{v}.tar.gz')}",
            f"arm64={mirror.sha(f'actions-runner-linux-arm64-{v}.tar.gz')}",
        ],
        hooks_checksum=mirror.sha(f"actions-runner-hooks-k8s-{h}.zip"),
        hooks_novolume_checksum=mirror.sha(f"actions-runner-hooks-k8s-{n}.zip"),
        source_url="https://example.invalid/runner-image",
        revision="0123456789abcdef",
    )


async def test_the_module_objects_ci_called_in_process_builds_and_tests_every_arch_and_layout(
    dag: dagger.Client, mirror: ReleaseMirror, base_image: str
) -> None:
    report = await module_object(mirror, base_image).ci()

    lines = report.splitlines()
    assert len(lines) == 4, report
    for arch in ("amd64", "arm64"):
        for layout in ("hosted", "minimal"):
            assert any(arch in line and layout in line and ": ok" in line for line in lines), (arch, layout, report)


async def test_the_module_objects_smoke_test_called_in_process_with_local_archives(
    dag: dagger.Client, mirror: ReleaseMirror, base_image: str
) -> None:
    """Air-gapped: local files stand in for the downloads, and are still verified."""
    v = mirror.runner_version
    obj = module_object(mirror, base_image)
    obj.runner_base_url = obj.hooks_base_url = "http://127.0.0.1:9/unreachable"
    runner = dag.host().file(str(mirror.root / f"runner/v{v}/actions-runner-linux-arm64-{v}.tar.gz"))
    hooks = dag.host().file(str(mirror.hooks_path(mirror.hooks_version)))
    novolume = dag.host().file(str(mirror.hooks_path(mirror.hooks_novolume_version)))

    obj.runner_archive, obj.hooks_archive, obj.hooks_novolume_archive = runner, hooks, novolume

    version = await obj.smoke_test(arch=Arch.ARM64, layout=Layout.MINIMAL)

    assert version == v


async def test_the_module_objects_publish_called_in_process_keeps_a_secret_password_out_of_image_and_logs(
    dag: dagger.Client, mirror: ReleaseMirror, base_image: str, registry: str, dagger_log: Path
) -> None:
    password = f"pw-{uuid.uuid4().hex}"
    tag = uuid.uuid4().hex[:12]
    address = f"{registry}/runner-image-test/runner-module:{tag}"

    published = await module_object(mirror, base_image).publish(
        address=address,
        username="ci-bot",
        password=dag.set_secret("registry-password", password),
    )

    assert published.startswith(f"{address}@sha256:")
    images = read_index(Registry(registry), published)
    assert sorted(images) == ["linux/amd64", "linux/arm64"]
    for image in images.values():
        assert image.config["config"]["User"] == HOSTED_CONTRACT.user
        labels = image.config["config"]["Labels"]
        assert labels["org.opencontainers.image.revision"] == "0123456789abcdef"
        assert password not in json.dumps(image.config)  # config, env and history
    assert password not in await anyio.Path(dagger_log).read_text(errors="replace")


def cli_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO)}


def cli_args(mirror: ReleaseMirror, base_image: str, *extra: str) -> list[str]:
    return [*client_mode_flags(mirror, base_image), *extra]


async def test_cli_under_dagger_run_smoke_tests_arm64(mirror: ReleaseMirror, base_image: str) -> None:
    dagger_cli = os.environ["_EXPERIMENTAL_DAGGER_CLI_BIN"]
    args = cli_args(mirror, base_image, "--arch", "arm64", "--layout", "minimal")
    done = await anyio.run_process(
        [dagger_cli, "run", "--progress=plain", sys.executable, "-m", "pipelines", "smoke-test", *args],
        env=cli_env(),
        cwd=REPO,
        check=False,
    )
    out, err = done.stdout.decode(), done.stderr.decode()
    assert done.returncode == 0, err[-3000:]
    assert mirror.runner_version in out.splitlines(), out


async def test_cli_reports_a_bad_archive_clearly(mirror: ReleaseMirror, base_image: str) -> None:
    args = cli_args(mirror, base_image, "--arch", "arm64", "--allow-unverified")
    args[args.index("--runner-version") + 1] = "9.9.9"  # the arm64 tarball of 9.9.9 lacks run.sh
    done = await anyio.run_process(
        [sys.executable, "-m", "pipelines", "smoke-test", *args], env=cli_env(), cwd=REPO, check=False
    )
    err = done.stderr.decode()
    assert done.returncode == 1, err[-3000:]
    assert "actions-runner-linux-arm64-9.9.9.tar.gz" in err
    assert "run.sh" in err
    assert "Traceback" not in err
