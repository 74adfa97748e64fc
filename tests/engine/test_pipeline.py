"""The pipeline for real: build, smoke-test and publish against a Dagger engine, on local inputs."""

from __future__ import annotations

import dataclasses
import stat
import uuid

import dagger
import pytest

from pipelines.release.tested import build_and_test, release
from pipelines.shared.contract import CONTRACTS, Layout
from pipelines.shared.errors import ArchiveError, ChecksumError, DownloadError
from pipelines.shared.spec import RunnerSpec
from tests.engine.fixtures import HOOKS_INDEX_JS, ReleaseMirror
from tests.engine.registry import Registry, read_index

pytestmark = pytest.mark.anyio

ARCHES = ("amd64", "arm64")
LAYOUTS = tuple(Layout)
PLATFORM_MACHINE = {"amd64": "x86_64", "arm64": "aarch64"}
# What ARC's chart (gha-runner-scale-set) sets ACTIONS_RUNNER_CONTAINER_HOOKS to, per container mode.
CHART_HOOKS = {
    "kubernetes": "/home/runner/k8s/index.js",
    "kubernetes-novolume": "/home/runner/k8s-novolume/index.js",
}


def make_spec(mirror: ReleaseMirror, base_image: str, arch: str, layout: Layout, **changes: object) -> RunnerSpec:
    """A spec that downloads from the local mirror, with the mirror's true sums.

    Without Docker's CLI unless changes ask for it: Docker's repository is not
    reachable here (test_docker_cli.py gives the build a local copy of one).
    """
    spec = RunnerSpec(
        docker_cli=False,
        runner_version=mirror.runner_version,
        hooks_version=mirror.hooks_version,
        hooks_novolume_version=mirror.hooks_novolume_version,
        arch=arch,
        layout=layout,
        base_image=base_image,
        runner_base_url=f"{mirror.base_url}/runner",
        hooks_base_url=f"{mirror.base_url}/hooks",
    )
    spec = dataclasses.replace(spec, **changes) if changes else spec
    return dataclasses.replace(
        spec,
        runner_sha256=changes.get("runner_sha256") or mirror.sums.get(spec.runner_asset),
        hooks_sha256=changes.get("hooks_sha256") or mirror.sums.get(spec.hooks_asset),
        hooks_novolume_sha256=changes.get("hooks_novolume_sha256") or mirror.sums.get(spec.hooks_novolume_asset),
    )


def unique_address(registry: str, what: str) -> tuple[str, str, str]:
    repository = f"runner-image-test/{what}"
    tag = uuid.uuid4().hex[:12]
    return f"{registry}/{repository}:{tag}", repository, tag


async def sh(ctr: dagger.Container, script: str) -> str:
    return (await ctr.with_exec(["sh", "-c", script]).stdout()).strip()


def hooks_js(version: str) -> str:
    """index.js of the k8s hooks zip of one release, as the mirror serves it."""
    return HOOKS_INDEX_JS.format(flavour="k8s", version=version).strip()


@pytest.mark.parametrize("layout", LAYOUTS, ids=lambda v: v.value)
@pytest.mark.parametrize("arch", ARCHES)
async def test_built_image_meets_its_contract(
    dag: dagger.Client, mirror: ReleaseMirror, base_image: str, arch: str, layout: Layout
) -> None:
    spec = make_spec(mirror, base_image, arch, layout)
    contract = CONTRACTS[layout]
    passed = await build_and_test(dag, spec)
    ctr = passed.container

    assert passed.version == mirror.runner_version
    assert await ctr.user() == contract.user
    assert (await ctr.workdir()).rstrip("/") == contract.workdir
    assert await ctr.entrypoint() == []
    assert await ctr.default_args() == []
    for key, value in contract.env.items():
        assert await ctr.env_variable(key) == value, key
    assert await ctr.label("org.opencontainers.image.version") == mirror.runner_version
    assert await ctr.label("dev.runner-image.hooks.version") == mirror.hooks_version
    assert await ctr.label("dev.runner-image.hooks-novolume.version") == mirror.hooks_novolume_version

    # Inside the image, as its own user, on its own architecture.
    assert await sh(ctr, "uname -m") == PLATFORM_MACHINE[arch]
    assert await sh(ctr, "id -un; id -u") == f"{contract.user}\n{contract.uid}"
    assert await sh(ctr, 'echo "$HOME"; pwd') == f"{contract.home}\n{contract.workdir}"
    run_sh = contract.run_sh
    assert await sh(ctr, f"stat -c '%u:%g' {run_sh}; test -x {run_sh} && echo exec") == (
        f"{contract.uid}:{contract.gid}\nexec"
    )
    root = contract.runner_dir
    assert mirror.hooks_version != mirror.hooks_novolume_version  # else the next two could not tell them apart
    assert await sh(ctr, f"cat {root}/k8s/index.js") == hooks_js(mirror.hooks_version)
    assert await sh(ctr, f"cat {root}/k8s-novolume/index.js") == hooks_js(mirror.hooks_novolume_version)
    writable = f"test -w {root} && test -d {contract.work_dir} && test -w {contract.work_dir} && echo ok"
    assert await sh(ctr, writable) == "ok"

    if layout is Layout.HOSTED:
        # The two files read above are where ARC's chart points the runner in each kubernetes mode.
        read = {"kubernetes": f"{root}/k8s/index.js", "kubernetes-novolume": f"{root}/k8s-novolume/index.js"}
        assert read == CHART_HOOKS
        assert await sh(ctr, "getent group docker | cut -d: -f1,3") == "docker:123"
        assert "docker" in (await sh(ctr, "id -Gn")).split()
        assert await sh(ctr, "sudo -n id -u") == "0"
        assert await sh(ctr, "sudo -n sh -c 'echo $DEBIAN_FRONTEND'") == "noninteractive"  # env_keep
        assert await sh(ctr, "id -gn") == "runner"  # primary group, as upstream's adduser makes it
        assert await sh(ctr, f"stat -c '%a %U:%G' {root}") == "755 runner:docker"  # not upstream's 777
        assert await ctr.env_variable("ImageOS") == "debian12"  # from the base's os-release
        # Packages resolved and downloaded off the target platform, installed in it (pipelines/image/apt.py):
        # the target's arch, dependencies marked automatic as a one-step install leaves them, nothing left over.
        installed = await sh(ctr, "dpkg-query -W -f '${Package} ${Architecture}\\n' git jq sudo curl perl")
        assert installed.splitlines() == [f"{p} {arch}" for p in ("curl", "git", "jq", "perl", "sudo")]
        auto = (await sh(ctr, "apt-mark showauto")).split()
        assert "perl" in auto
        assert "libcurl4" in auto
        assert not {"git", "jq", "sudo", "curl", "unzip"} & set(auto)
        leftovers = (
            "ls -A /var/lib/apt/lists /var/cache/apt/archives 2>/dev/null"
            " | grep -v -e '^lock$' -e '^partial$' -e ':$' -e '^$'"
        )
        no_caches = "test ! -e /run/runner-image-packages && ! ls /var/cache/apt/*.bin 2>/dev/null && echo clean"
        assert await sh(ctr, f"{leftovers}; {no_caches}") == "clean"
    else:
        assert await ctr.env_variable("RUNNER_ALLOW_RUNASROOT") == "1"


@pytest.mark.parametrize("layout", LAYOUTS, ids=lambda v: v.value)
async def test_publish_multi_arch_index_and_read_it_back(
    dag: dagger.Client, mirror: ReleaseMirror, base_image: str, registry: str, layout: Layout
) -> None:
    address, repository, tag = unique_address(registry, f"runner-{layout.value}")
    specs = [make_spec(mirror, base_image, arch, layout) for arch in ARCHES]
    contract = CONTRACTS[layout]

    published = await release(dag, specs, address)

    assert published.startswith(f"{registry}/{repository}:{tag}@sha256:")
    images = read_index(Registry(registry), address)
    assert sorted(images) == ["linux/amd64", "linux/arm64"]
    for platform, image in images.items():
        config = image.config["config"]
        assert image.config["architecture"] == platform.split("/")[1]
        assert config.get("User") == contract.user
        assert config.get("WorkingDir", "").rstrip("/") == contract.workdir
        assert not config.get("Entrypoint")
        assert not config.get("Cmd")
        env = dict(item.split("=", 1) for item in config.get("Env", []))
        for key, value in contract.env.items():
            assert env.get(key) == value, (platform, key)
        labels = config.get("Labels") or {}
        assert labels["org.opencontainers.image.version"] == mirror.runner_version
        assert labels["org.opencontainers.image.licenses"] == "MIT"
        assert labels["org.opencontainers.image.base.name"] == base_image
        assert labels["dev.runner-image.hooks.version"] == mirror.hooks_version
        assert labels["dev.runner-image.hooks-novolume.version"] == mirror.hooks_novolume_version
        run_sh = image.files[contract.run_sh.lstrip("/")]
        assert run_sh.mode & stat.S_IXUSR, f"{platform}: {contract.run_sh} not executable"
        assert (run_sh.uid, run_sh.gid) == (contract.uid, contract.gid), platform
        for hooks_dir in ("k8s", "k8s-novolume"):
            assert f"{contract.runner_dir.lstrip('/')}/{hooks_dir}/index.js" in image.files


@pytest.mark.parametrize("arch", ARCHES)
async def test_adr_pod_spec_init_container_copies_the_runner(
    dag: dagger.Client, mirror: ReleaseMirror, base_image: str, registry: str, arch: str
) -> None:
    """The ADR's pod: init `cp -r /actions-runner/* /runner/` into an emptyDir, then /runner/run.sh."""
    address, _, _ = unique_address(registry, "runner-pod-spec")
    published = await release(dag, [make_spec(mirror, base_image, arch, Layout.MINIMAL)], address)
    image = dag.container(platform=dagger.Platform(f"linux/{arch}")).from_(published)

    init = image.with_mounted_directory("/runner", dag.directory()).with_exec(
        ["sh", "-c", "cp -r /actions-runner/* /runner/"]
    )
    volume = init.directory("/runner")
    runner = image.with_mounted_directory("/runner", volume).with_exec(["/runner/run.sh", "--version"])
    output = await runner.stdout()

    assert mirror.runner_version in output.splitlines()
    assert "Must not run interactively with sudo" not in output


async def test_runner_refuses_root_without_allow_runasroot_so_smoke_test_reads_output(
    dag: dagger.Client, mirror: ReleaseMirror, base_image: str
) -> None:
    """Why the smoke test reads the output: as root, without the variable, run.sh still exits 0."""
    spec = make_spec(mirror, base_image, "amd64", Layout.MINIMAL)
    passed = await build_and_test(dag, spec)
    ran = passed.container.without_env_variable("RUNNER_ALLOW_RUNASROOT").with_exec(
        [spec.contract.run_sh, "--version"], expect=dagger.ReturnType.ANY
    )
    assert await ran.exit_code() == 0
    output = await ran.stdout()
    assert "Must not run interactively with sudo" in output
    assert mirror.runner_version not in output.splitlines()


# --- Bad inputs: a clear error, and nothing published ----------------------------


async def assert_refused(
    dag: dagger.Client, registry: str, specs: list[RunnerSpec], error: type[Exception]
) -> Exception:
    address, repository, tag = unique_address(registry, "runner-refused")
    with pytest.raises(error) as caught:
        await release(dag, specs, address)
    assert not Registry(registry).has_tag(repository, tag), f"{address} was published despite {caught.value}"
    return caught.value


async def test_wrong_checksum_is_refused_before_unpacking(
    dag: dagger.Client, mirror: ReleaseMirror, base_image: str, registry: str
) -> None:
    spec = make_spec(mirror, base_image, "amd64", Layout.HOSTED, runner_sha256="0" * 64)
    error = await assert_refused(dag, registry, [spec], ChecksumError)
    message = str(error)
    assert spec.runner_asset in message
    assert "0" * 64 in message
    assert mirror.sha(spec.runner_asset) in message  # the sum actually found, comparable by hand


async def test_error_page_instead_of_tarball_is_refused(
    dag: dagger.Client, mirror: ReleaseMirror, base_image: str, registry: str
) -> None:
    """actions/runner#4140: a 9-byte body served with 200 where the tarball should be."""
    good_sum = mirror.sha(f"actions-runner-linux-x64-{mirror.runner_version}.tar.gz")
    spec = make_spec(mirror, base_image, "amd64", Layout.HOSTED, runner_version="9.9.9", runner_sha256=good_sum)
    message = str(await assert_refused(dag, registry, [spec], ChecksumError))
    assert "9 bytes" in message
    assert "error page" in message


async def test_error_page_without_checksum_fails_at_unpack_and_names_the_asset(
    dag: dagger.Client, mirror: ReleaseMirror, base_image: str, registry: str
) -> None:
    spec = make_spec(mirror, base_image, "amd64", Layout.HOSTED, runner_version="9.9.9", allow_unverified=True)
    message = str(await assert_refused(dag, registry, [spec], ArchiveError))
    assert spec.runner_asset in message


async def test_missing_release_is_a_download_error_naming_the_url(
    dag: dagger.Client, mirror: ReleaseMirror, base_image: str, registry: str
) -> None:
    spec = make_spec(mirror, base_image, "arm64", Layout.HOSTED, runner_version="9.9.8", runner_sha256="1" * 64)
    message = str(await assert_refused(dag, registry, [spec], DownloadError))
    assert spec.runner_url in message
    assert "404" in message


async def test_multi_arch_publish_is_all_or_none(
    dag: dagger.Client, mirror: ReleaseMirror, base_image: str, registry: str
) -> None:
    """amd64 builds and passes; arm64's sum is wrong: nothing at all is pushed."""
    good = make_spec(mirror, base_image, "amd64", Layout.HOSTED)
    bad = make_spec(mirror, base_image, "arm64", Layout.HOSTED, runner_sha256="f" * 64)
    message = str(await assert_refused(dag, registry, [good, bad], ChecksumError))
    assert bad.runner_asset in message
