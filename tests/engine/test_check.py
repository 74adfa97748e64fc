"""check: images against what ARC's chart does in each mode, on a real engine.

The runner fixture here carries a real node (Node.js's linux build of node20,
from the npm registry, fixtures.runner_node) and the hooks fixture is a real
script that reads its input as the hooks do, so the kubernetes modes start
real code. dind's daemon is the test environment's dockerd, through its socket.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import anyio
import dagger
import pytest

from pipelines.audit.chart import MODES_OF_LAYOUT, Mode
from pipelines.audit.check import check_image
from pipelines.audit.modes import CHECKS
from pipelines.audit.report import Report
from pipelines.image.build import Archives
from pipelines.release.tested import build_and_test
from pipelines.shared.contract import Layout
from pipelines.shared.spec import RunnerSpec
from tests.bench import size
from tests.engine import fixtures
from tests.engine.apt_repo import AptRepos
from tests.engine.test_dagger_call import REPO, local_settings
from tests.engine.test_dagger_call import dagger as dagger_cli
from tests.engine.test_docker_cli import DOCKER_SOCKET, docker_spec
from tests.engine.test_pipeline import make_spec

pytestmark = pytest.mark.anyio

RUNNER_VERSION = "2.398.3"  # the node mirror's: not the other tests' runner, so no cache is shared by mistake
REPOSITORY = "runner-image-test/check"
# The upstream-equivalent docker build takes the mirror's URL as build args, and docker's cache keys a RUN
# on them: a port of its own, the same every run, lets a second run reuse the first one's layers.
UPSTREAM_MIRROR_PORT = 38461


@pytest.fixture(scope="module")
def node_mirror(tools_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[fixtures.ReleaseMirror]:
    """The release mirror with a real node in the runner's externals/, for both arches."""
    root = tmp_path_factory.mktemp("node-releases")
    node = {arch: fixtures.runner_node(tools_cache, arch) for arch in ("x64", "arm64")}
    versions = {"runner_version": RUNNER_VERSION, "hooks_version": "0.7.9", "hooks_novolume_version": "0.9.2"}
    sums = fixtures.write_release_mirror(root, node=node, **versions)
    with fixtures.FileServer(root) as server:
        yield fixtures.ReleaseMirror(root=root, base_url=server.url, sums=sums, **versions)


def our_spec(mirror: fixtures.ReleaseMirror, base_image: str, repos: AptRepos, arch: str, layout: Layout) -> RunnerSpec:
    """Ours as the README builds it: the hosted layout with Docker's CLI (from the signed fixture repository)."""
    if layout is Layout.HOSTED:
        return docker_spec(mirror, base_image, repos, "good", arch)
    return make_spec(mirror, base_image, arch, layout)


async def build(dag: dagger.Client, spec: RunnerSpec, repos: AptRepos) -> dagger.Container:
    archives = Archives(docker_apt_repo=dag.host().directory(str(repos.path("good"))))
    return (await build_and_test(dag, spec, archives)).container


def failed(report: Report) -> dict[tuple[str, str], str]:
    return {(row.mode.value, row.check): row.found for row in report.failed}


async def client_mode(*args: str) -> subprocess.CompletedProcess[bytes]:
    """`python -m pipelines ARGS` in this checkout, as a user runs it."""
    return await anyio.run_process([sys.executable, "-m", "pipelines", *args], cwd=REPO, check=False)


def socket(dag: dagger.Client) -> dagger.Socket:
    return dag.host().unix_socket(str(DOCKER_SOCKET))


@pytest.mark.parametrize(
    ("arch", "layout"),
    [("amd64", Layout.HOSTED), ("arm64", Layout.HOSTED), ("amd64", Layout.MINIMAL), ("arm64", Layout.MINIMAL)],
)
async def test_our_images_pass_every_mode_of_their_layout(
    dag: dagger.Client,
    node_mirror: fixtures.ReleaseMirror,
    base_image: str,
    apt_repos: AptRepos,
    arch: str,
    layout: Layout,
) -> None:
    ctr = await build(dag, our_spec(node_mirror, base_image, apt_repos, arch, layout), apt_repos)
    report = await check_image(dag, ctr, name=f"ours {arch}", docker_socket=socket(dag))

    assert report.layout is layout
    assert [m for m in Mode if any(row.mode is m for row in report.rows)] == list(MODES_OF_LAYOUT[layout])
    checks = [(mode, check) for mode in MODES_OF_LAYOUT[layout] for check in CHECKS[mode]]
    assert [(row.mode, row.check) for row in report.rows] == checks  # the rows the code declares, in order
    assert failed(report) == {}, report.render()
    assert all(row.passed for row in report.rows), report.render()  # the daemon row ran too
    rows = {(row.mode, row.check): row.found for row in report.rows}
    if layout is Layout.HOSTED:
        assert rows[Mode.DEFAULT, "run.sh --version"] == RUNNER_VERSION
        assert rows[Mode.DEFAULT, "image user"] == "runner (uid 1001)"
        assert rows[Mode.DIND, "daemon via socket"].startswith("server ")
        for mode in (Mode.KUBERNETES, Mode.KUBERNETES_NOVOLUME):  # the real node read the hook's input
            assert "::error::Unexpected token" in rows[mode, "hook starts"], report.render()
    else:
        assert rows[Mode.MINIMAL, "init copy, then /runner/run.sh"] == RUNNER_VERSION


def broken(name: str) -> Callable[[dagger.Container], dagger.Container]:
    """Our hosted amd64 image, made broken one way on purpose."""
    as_root = lambda c: c.with_user("root")  # noqa: E731
    return {
        "no hooks": lambda c: c.without_directory("/home/runner/k8s"),
        "uid 0 without RUNASROOT": as_root,
        "no docker CLI": lambda c: as_root(c).with_exec(["rm", "/usr/bin/docker"]).with_user("runner"),
        "run.sh missing": lambda c: c.without_file("/home/runner/run.sh"),
        "run.sh printing another version": lambda c: c.with_new_file(
            "/home/runner/run.sh", "#!/bin/sh\necho 2.300.0\n", permissions=0o755
        ),
        "user not in 123": lambda c: as_root(c).with_exec(["gpasswd", "-d", "runner", "docker"]).with_user("runner"),
        "an ENTRYPOINT that exits": lambda c: c.with_entrypoint(["sh", "-c", "echo starting; exit 3"]),
    }[name]


# Each broken image: the mode checked, and every check that fails with (part of) what it found.
BROKEN = {
    "no hooks": (
        Mode.KUBERNETES,
        {
            ("kubernetes", "hook present"): "cannot access '/home/runner/k8s/index.js'",
            ("kubernetes", "hook starts"): "Cannot find module '/home/runner/k8s/index.js'",
        },
    ),
    "uid 0 without RUNASROOT": (
        Mode.DEFAULT,
        {
            ("default", "image user"): "root (uid 0) without RUNNER_ALLOW_RUNASROOT",
            ("default", "run.sh --version"): "Must not run interactively with sudo",
        },
    ),
    "no docker CLI": (
        Mode.DIND,
        {
            ("dind", "docker CLI"): "docker: not found",
            ("dind", "buildx plugin"): "docker: not found",
            ("dind", "daemon via socket"): "docker: not found",
        },
    ),
    "run.sh missing": (Mode.DEFAULT, {("default", "run.sh --version"): "/home/runner/run.sh: no such file"}),
    "run.sh printing another version": (
        Mode.DEFAULT,
        {("default", "run.sh --version"): f"printed 2.300.0, the label says {RUNNER_VERSION}"},
    ),
    "user not in 123": (Mode.DIND, {("dind", "in group 123"): "groups 1001"}),
    "an ENTRYPOINT that exits": (
        Mode.DEFAULT,
        {("default", "ENTRYPOINT/CMD"): "0 version lines (exit 3): starting"},
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
async def test_an_image_broken_on_purpose_fails_with_its_reason(
    dag: dagger.Client, node_mirror: fixtures.ReleaseMirror, base_image: str, apt_repos: AptRepos, case: str
) -> None:
    good = await build(dag, our_spec(node_mirror, base_image, apt_repos, "amd64", Layout.HOSTED), apt_repos)
    mode, expected = BROKEN[case]
    report = await check_image(dag, broken(case)(good), name=case, modes=[mode], docker_socket=socket(dag))

    found = failed(report)
    assert set(found) == set(expected), report.render()
    for key, reason in expected.items():
        assert reason in found[key], report.render()
    assert "| FAIL | " in report.render()


async def test_a_minimal_image_without_runasroot_fails_the_adr_pod(
    dag: dagger.Client, node_mirror: fixtures.ReleaseMirror, base_image: str, apt_repos: AptRepos
) -> None:
    good = await build(dag, our_spec(node_mirror, base_image, apt_repos, "amd64", Layout.MINIMAL), apt_repos)
    report = await check_image(dag, good.without_env_variable("RUNNER_ALLOW_RUNASROOT"), name="no RUNASROOT")

    found = failed(report)
    assert set(found) == {("minimal", "image user"), ("minimal", "init copy, then /runner/run.sh")}, report.render()
    assert "Must not run interactively with sudo" in found["minimal", "init copy, then /runner/run.sh"]


@pytest.mark.long
async def test_dagger_call_check_of_a_registry_image_and_of_a_broken_one(
    dag: dagger.Client, node_mirror: fixtures.ReleaseMirror, base_image: str, apt_repos: AptRepos, registry: str
) -> None:
    """The front door: `dagger call check --image REF --docker-socket PATH`, then one that fails (exit 1, the table)."""
    good = await build(dag, our_spec(node_mirror, base_image, apt_repos, "arm64", Layout.HOSTED), apt_repos)
    ref = await good.publish(f"{registry}/{REPOSITORY}:ours-arm64")
    done = await dagger_cli("call", "check", "--image", ref, "--arch", "arm64", "--docker-socket", str(DOCKER_SOCKET))
    assert done.returncode == 0, done
    modes = "modes default, dind, kubernetes, kubernetes-novolume"
    assert f"check {ref} (linux/arm64) (hosted layout; {modes}): every check passed" in done.stdout
    every_check = sum(len(CHECKS[mode]) for mode in MODES_OF_LAYOUT[Layout.HOSTED])
    assert done.stdout.count("| pass |") == every_check, done.stdout

    bad = await broken("run.sh missing")(good).publish(f"{registry}/{REPOSITORY}:no-run-sh")
    done = await dagger_cli(
        "call", "check", "--image", bad, "--arch", "arm64", "--mode", "default", "--mode", "kubernetes_novolume"
    )
    assert done.returncode == 1, done
    asked = len(CHECKS[Mode.DEFAULT]) + len(CHECKS[Mode.KUBERNETES_NOVOLUME])
    assert f"check: {bad} (linux/arm64): 1 of {asked} checks failed" in done.stderr
    assert "| default | run.sh --version | FAIL | 0 version lines" in done.stderr
    assert "| kubernetes-novolume | hook starts | pass |" in done.stderr
    assert "Traceback" not in done.stderr


async def test_client_mode_check_and_an_image_that_is_not_there(
    dag: dagger.Client, node_mirror: fixtures.ReleaseMirror, base_image: str, apt_repos: AptRepos, registry: str
) -> None:
    good = await build(dag, our_spec(node_mirror, base_image, apt_repos, "amd64", Layout.MINIMAL), apt_repos)
    ref = await good.publish(f"{registry}/{REPOSITORY}:ours-minimal")
    done = await client_mode("check", "--image", ref)
    assert done.returncode == 0, done
    assert "(minimal layout; modes minimal): every check passed" in done.stdout.decode()
    missing = f"{registry}/{REPOSITORY}:not-pushed"
    done = await client_mode("check", "--image", missing, "--mode", "DIND")
    assert done.returncode == 1, done
    expected = f'error: check: image "{missing}": expected an image the engine can pull for linux/amd64'
    assert expected in done.stderr.decode(), done


@pytest.mark.long
async def test_the_upstream_equivalent_image_passes_the_chart_modes(
    node_mirror: fixtures.ReleaseMirror,
    base_image: str,
    apt_repos: AptRepos,
    tools_cache: Path,
    registry: str,
    tmp_path: Path,
) -> None:
    """tests/bench/upstream.Dockerfile (upstream's steps) built by docker from the node mirror; dagger call checks."""
    with fixtures.filling(tools_cache):
        docker_version = size.write_docker_downloads(node_mirror.root, tools_cache, "amd64", apt_repos.buildx_version)
    tag = f"{registry}/{REPOSITORY}:upstream-amd64"
    context = tmp_path / "context"
    context.mkdir()
    try:
        server = fixtures.FileServer(node_mirror.root, port=UPSTREAM_MIRROR_PORT)
    except OSError:  # taken by something else: any port, and docker runs the build stage's steps again
        server = fixtures.FileServer(node_mirror.root)
    with server:
        command = size.upstream_build(
            size.DOCKER,
            tag=tag,
            platform="linux/amd64",
            base=base_image,
            mirror_url=server.url,
            runner=(node_mirror.runner_version, node_mirror.hooks_version, node_mirror.hooks_novolume_version),
            docker_cli=(docker_version, apt_repos.buildx_version),
            context=context,
        )
        for step in (command, [size.DOCKER, "push", tag]):
            done = await anyio.run_process(step, env={**os.environ, "DOCKER_BUILDKIT": "1"}, check=False)
            assert done.returncode == 0, done.stderr.decode(errors="replace")[-3000:]

    done = await dagger_cli("call", "check", "--image", tag, "--docker-socket", str(DOCKER_SOCKET))
    assert done.returncode == 0, done
    assert "(hosted layout; modes default, dind, kubernetes, kubernetes-novolume): every check passed" in done.stdout
    assert "| default | image user | pass | runner (uid 1001) |" in done.stdout
    assert f"| default | run.sh --version | pass | {node_mirror.runner_version} |" in done.stdout


def shell_settings(mirror: fixtures.ReleaseMirror, base_image: str, repos: AptRepos) -> str:
    """The module's local settings for `dagger -c`, with Docker's CLI from the signed fixture repository."""
    settings = [arg for arg in local_settings(mirror, base_image) if arg != "--docker-cli=false"]
    settings += [
        *("--docker-key-fingerprint", repos.fingerprint, "--docker-version", repos.docker_version),
        *("--buildx-version", repos.buildx_version),
        # The shell reads a bare path argument inside the module's folder, even an absolute one.
        *("--docker-apt-repo", f"$(host | directory {repos.path('good')})"),
    ]
    return " ".join(settings)


@pytest.mark.long
async def test_the_readme_line_checks_builds_output_in_dagger_shell(
    node_mirror: fixtures.ReleaseMirror, base_image: str, apt_repos: AptRepos
) -> None:
    """`dagger -c 'check --container $(build --arch arm64)'`: the module's own build, checked without a registry."""
    settings = shell_settings(node_mirror, base_image, apt_repos)
    done = await dagger_cli("-c", f"check --container $(. {settings} | build --arch arm64)")
    assert done.returncode == 0, done
    modes = "modes default, dind, kubernetes, kubernetes-novolume"
    assert f"check the container given (linux/arm64) (hosted layout; {modes}): every check passed" in done.stdout
    assert f"| default | run.sh --version | pass | {RUNNER_VERSION} |" in done.stdout


@pytest.mark.long
async def test_the_readme_line_chains_a_step_after_build_then_checks_it(
    node_mirror: fixtures.ReleaseMirror, base_image: str, apt_repos: AptRepos
) -> None:
    """The README's chain: build (hosted, with Docker's CLI), a git setting as root, back to runner, check."""
    settings = shell_settings(node_mirror, base_image, apt_repos)
    chain = (
        f". {settings} | build --arch amd64 | with-user root"
        ' | with-exec -- git config --system safe.directory "*" | with-user runner'
    )
    done = await dagger_cli("-c", f"check --container $({chain})")
    assert done.returncode == 0, done
    assert "(hosted layout; modes default, dind, kubernetes, kubernetes-novolume): every check passed" in done.stdout
    assert "| dind | daemon via socket | not run | no --docker-socket given |" in done.stdout
    done = await dagger_cli("-c", f"{chain} | with-exec -- git config --system safe.directory | stdout")
    assert done.returncode == 0, done
    assert done.stdout.strip() == "*"


async def test_an_image_behind_a_registry_login(
    dag: dagger.Client,
    node_mirror: fixtures.ReleaseMirror,
    base_image: str,
    apt_repos: AptRepos,
    auth_registry: tuple[str, str, str],
) -> None:
    """`check --image REF --username U --password env:VAR`; without them the pull is refused, naming the image."""
    address, user, password = auth_registry
    good = await build(dag, our_spec(node_mirror, base_image, apt_repos, "amd64", Layout.MINIMAL), apt_repos)
    ref = f"{address}/{REPOSITORY}:private-minimal"
    await good.with_registry_auth(ref, user, dag.set_secret("check-push", password)).publish(ref)

    done = await dagger_cli("call", "check", "--image", ref)
    assert done.returncode == 1, done
    assert f'check: image "{ref}": expected an image the engine can pull for linux/amd64' in done.stderr
    login = ("--username", user, "--password", "env:RIE_CHECK_TOKEN")
    done = await dagger_cli("call", "check", "--image", ref, *login, env={"RIE_CHECK_TOKEN": password})
    assert done.returncode == 0, done
    assert "(minimal layout; modes minimal): every check passed" in done.stdout
    assert password not in done.stdout + done.stderr
