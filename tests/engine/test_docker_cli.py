"""ARC's dind mode: the Docker CLI and buildx from a signed apt repository, and what a bad repository gets.

The repositories are the fixtures of apt_repo.py (real docker CLI and buildx
inside, signed with a test key), given to the build as --docker-apt-repo
folders that apt reads through a copy: source; dockerd is the test environment's own,
reached through its socket mounted as the chart's sidecar shares it.
The dind test runs on both arches (arm64 under emulation, against the same dockerd).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import dagger
import pytest

from pipelines.image.build import Archives
from pipelines.release.tested import Passed, build_and_test
from pipelines.shared.contract import Layout
from pipelines.shared.errors import ChecksumError, PackageError
from pipelines.shared.spec import RunnerSpec
from tests.engine.apt_repo import AptRepos, run
from tests.engine.fixtures import EXTERNALS_NODE_PATH, ReleaseMirror
from tests.engine.test_pipeline import make_spec, sh

TIMED_OUT = 124  # timeout(1)'s exit status when the command ran out of time

pytestmark = pytest.mark.anyio

DOCKER_SOCKET = Path("/var/run/docker.sock")  # the test environment's dockerd (tests/env/testenv.sh)
SOCKET = "/var/run/docker.sock"  # where the chart mounts the sidecar's socket


def docker_spec(
    mirror: ReleaseMirror, base_image: str, repos: AptRepos, repo: str, arch: str = "amd64", **changes: object
) -> RunnerSpec:
    spec = make_spec(
        mirror,
        base_image,
        arch,
        Layout.HOSTED,
        docker_cli=True,
        docker_key_fingerprint=repos.fingerprint,
        docker_version=repos.docker_version,
        buildx_version=repos.buildx_version,
    )
    return dataclasses.replace(spec, **changes) if changes else spec


async def build_with_repo(dag: dagger.Client, spec: RunnerSpec, repos: AptRepos, repo: str) -> Passed:
    """build_and_test with the named fixture repository as --docker-apt-repo."""
    return await build_and_test(dag, spec, Archives(docker_apt_repo=dag.host().directory(str(repos.path(repo)))))


@pytest.mark.long
@pytest.mark.parametrize("arch", ["amd64", "arm64"])
async def test_dind_mode_runner_uses_the_sidecars_dockerd_through_its_socket(
    dag: dagger.Client, mirror: ReleaseMirror, base_image: str, apt_repos: AptRepos, arch: str
) -> None:
    ctr = (
        await build_with_repo(dag, docker_spec(mirror, base_image, apt_repos, "good", arch), apt_repos, "good")
    ).container
    assert await sh(ctr, "uname -m") == {"amd64": "x86_64", "arm64": "aarch64"}[arch]
    assert await ctr.label("dev.runner-image.docker.version") == apt_repos.docker_version
    assert await ctr.label("dev.runner-image.buildx.version") == apt_repos.buildx_version

    # The chart's init container, with the runner image: externals/ into an empty 0777 emptyDir.
    empty = dag.directory().with_new_directory("tmpDir", permissions=0o777).directory("tmpDir")
    init = ctr.with_mounted_directory("/home/runner/tmpDir", empty)
    assert await sh(init, "stat -c '%a' /home/runner/tmpDir; ls -A /home/runner/tmpDir") == "777"
    copied = init.with_exec(["sh", "-c", "cp -r /home/runner/externals/. /home/runner/tmpDir/"])
    node = EXTERNALS_NODE_PATH.removeprefix("externals/")
    assert await sh(copied, f"/home/runner/tmpDir/{node}") == "node fixture v20"

    # The runner container: DOCKER_HOST at the sidecar's socket, owned by gid 123 (dockerd --group=123).
    server = run("/usr/bin/docker", "-H", f"unix://{DOCKER_SOCKET}", "version", "--format", "{{.Server.Version}}")
    # dockerd --group=123 leaves its socket root:123, mode 0660. Dagger mounts it 0600 in each
    # exec, so each exec first sets the sidecar's mode (sudo, for that only); docker runs as runner.
    runner = ctr.with_unix_socket(SOCKET, dag.host().unix_socket(str(DOCKER_SOCKET)), owner="0:123")
    runner = runner.with_env_variable("DOCKER_HOST", f"unix://{SOCKET}")

    async def as_runner(command: str) -> str:
        return await sh(runner, f"sudo -n chmod 0660 {SOCKET} && {command}")

    assert await as_runner(f"id -un; stat -c '%a %u:%g' {SOCKET}") == "runner\n660 0:123"
    assert await as_runner("docker version --format '{{.Server.Version}}'") == server.strip()
    assert await sh(runner, "command -v docker") == "/usr/bin/docker"
    buildx = await plugin_run(runner, "docker buildx version", emulated=arch != await engine_arch(dag))
    assert f"v{apt_repos.buildx_version}" in buildx, buildx


async def engine_arch(dag: dagger.Client) -> str:
    return str(await dag.default_platform()).split("/")[1]


async def plugin_run(runner: dagger.Container, command: str, *, emulated: bool) -> str:
    """command as the runner, bounded in time; under emulation, tried up to three times.

    docker runs the buildx plugin as a child process. Under the qemu-user 7.2 that
    emulates arm64 on the test machine (Debian bookworm's), a Go parent and its child
    now and then both stop for good (golang/go#68976 reports os/exec hangs under that
    qemu; a real arm64 node runs them natively). The time limit turns such a hang into
    an exit 124, which is tried again; any other failure is not.
    """
    attempts = 3 if emulated else 1
    for attempt in range(1, attempts + 1):
        try:
            fresh = runner.with_env_variable("RIE_ATTEMPT", str(attempt))  # not the failed exec's cache key
            return await sh(fresh, f"sudo -n chmod 0660 {SOCKET} && timeout 120 {command}")
        except dagger.ExecError as e:
            if e.exit_code != TIMED_OUT or attempt == attempts:
                raise
    raise AssertionError(attempts)  # the loop returns or raises


async def test_minimal_layout_and_the_setting_off_have_no_docker(
    dag: dagger.Client, mirror: ReleaseMirror, base_image: str, apt_repos: AptRepos
) -> None:
    for spec in (
        docker_spec(mirror, base_image, apt_repos, "good", layout=Layout.MINIMAL),
        docker_spec(mirror, base_image, apt_repos, "good", docker_cli=False),
    ):
        ctr = (await build_with_repo(dag, spec, apt_repos, "good")).container
        assert await sh(ctr, "command -v docker || echo none") == "none", spec.name
        assert await ctr.label("dev.runner-image.docker.version") is None


async def test_a_key_that_is_not_the_pinned_one_is_refused_before_apt_runs(
    dag: dagger.Client, mirror: ReleaseMirror, base_image: str, apt_repos: AptRepos
) -> None:
    spec = docker_spec(mirror, base_image, apt_repos, "wrong-key")
    with pytest.raises(ChecksumError) as caught:
        await build_with_repo(dag, spec, apt_repos, "wrong-key")
    message = str(caught.value)
    assert "debian/gpg of the directory given as --docker-apt-repo" in message
    assert f"expected the key with fingerprint {apt_repos.fingerprint}" in message
    assert apt_repos.other_fingerprint in message
    assert "--docker-key-fingerprint" in message


@pytest.mark.parametrize(
    ("repo", "apt_says"),
    [("bad-signature", "NO_PUBKEY"), ("bad-sum", "Hash Sum mismatch")],
)
async def test_a_tampered_repository_fails_the_build_before_anything_is_installed(
    dag: dagger.Client, mirror: ReleaseMirror, base_image: str, apt_repos: AptRepos, repo: str, apt_says: str
) -> None:
    spec = docker_spec(mirror, base_image, apt_repos, repo)
    with pytest.raises(PackageError) as caught:
        await build_with_repo(dag, spec, apt_repos, repo)
    message = str(caught.value)
    assert message.startswith(f"packages: {spec.name}: installing docker-ce-cli=5:{apt_repos.docker_version}-1~")
    assert "from the directory given as --docker-apt-repo (debian/)" in message
    assert apt_says in message, message
    apt = caught.value.__cause__
    assert isinstance(apt, dagger.ExecError)
    for installing in ("Unpacking", "Setting up"):  # dpkg never ran, for any package
        assert installing not in f"{apt.stdout}{apt.stderr}", message
