"""`dagger call`, the front door: the real `dagger` binary loads this module through the engine's
Python SDK runtime (tests/env/sdk, built into the test engine by tests/env/testenv.sh) and calls its functions.

Only the local settings differ from what the README and the workflow type: the
release mirror on 127.0.0.1 (with its sums), the local base image, and the
local registries.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tarfile
import uuid
from pathlib import Path

import anyio
import pytest

from pipelines.shared.pins import PINS
from tests.checkout import copy_checkout
from tests.engine import vulnerability_db
from tests.engine.apt_repo import AptRepos
from tests.engine.fake_upstream import FakeUpstream, serve_tool_release
from tests.engine.fixtures import FileServer, ReleaseMirror
from tests.engine.registry import Registry, read_index
from tests.engine.registry_proxy import RegistryProxy
from tests.engine.vulnerability_db import Advisory
from tests.tools import found_or_stop
from tests.workflows import REPO, evaluate, expand, is_dagger_call, push, substitute, workflow_env, workflow_jobs

pytestmark = pytest.mark.anyio
FUNCTIONS = {
    "build": "Build the runner image for one arch and layout",
    "smoke-test": "Build, then run run.sh --version as the image user",
    "ci": "Build and smoke-test both layouts for each arch, concurrently",
    "publish": "Build and smoke-test every arch; only if all pass, push one image",
    "sbom": "Build one image; return its SPDX JSON SBOM made by syft",
    "merge": "Check per-arch images (platform, layout, runner version); only if all fit, tag one index",
}


class Call:
    """One finished `dagger` command: exit code, stdout, stderr."""

    def __init__(self, returncode: int, stdout: str, stderr: str) -> None:
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr

    def __repr__(self) -> str:  # what a failed assertion shows
        return f"exit {self.returncode}\n--- stdout\n{self.stdout[-3000:]}\n--- stderr\n{self.stderr[-6000:]}"


async def dagger(*args: str, env: dict[str, str] | None = None, cwd: Path = REPO) -> Call:
    """Run the dagger CLI in this checkout (or cwd), as a user would (plain progress, so errors are readable)."""
    cli = os.environ["_EXPERIMENTAL_DAGGER_CLI_BIN"]
    done = await anyio.run_process(
        [cli, "--progress=plain", *args], cwd=cwd, env={**os.environ, **(env or {})}, check=False
    )
    return Call(done.returncode, done.stdout.decode(errors="replace"), done.stderr.decode(errors="replace"))


def local_settings(mirror: ReleaseMirror, base_image: str, **runner_sums: str) -> list[str]:
    """The module object's flags that point it at the local mirror and base image instead of GitHub and MCR.

    runner_sums (arch=sum) replace the mirror's runner sums. Docker's CLI is
    left out: its repository is not reachable here (a test below gives the
    build a local copy of one instead).
    """
    v, h, n = mirror.runner_version, mirror.hooks_version, mirror.hooks_novolume_version
    sums = {
        "amd64": mirror.sha(f"actions-runner-linux-x64-{v}.tar.gz"),
        "arm64": mirror.sha(f"actions-runner-linux-arm64-{v}.tar.gz"),
        **runner_sums,
    }
    return [
        "--runner-version", v,
        "--hooks-version", h,
        "--hooks-novolume-version", n,
        "--base-image", base_image,
        "--runner-base-url", f"{mirror.base_url}/runner",
        "--hooks-base-url", f"{mirror.base_url}/hooks",
        "--runner-checksum", f"amd64={sums['amd64']}",
        "--runner-checksum", f"arm64={sums['arm64']}",
        "--hooks-checksum", mirror.sha(f"actions-runner-hooks-k8s-{h}.zip"),
        "--hooks-novolume-checksum", mirror.sha(f"actions-runner-hooks-k8s-{n}.zip"),
        "--docker-cli=false",
    ]  # fmt: skip


async def test_dagger_functions_lists_every_function_with_its_doc() -> None:
    done = await dagger("functions")
    assert done.returncode == 0, done
    listed = {line.split()[0]: line for line in done.stdout.splitlines() if line.strip()}
    for name, doc in FUNCTIONS.items():
        assert name in listed, done
        assert doc in listed[name], done


async def test_build_help_shows_every_flag_its_enum_values_and_defaults() -> None:
    done = await dagger("call", "build", "--help")
    assert done.returncode == 0, done
    flags = ("--arch", "--layout")
    for flag in flags:
        assert re.search(rf"^\s+{flag}\b", done.stdout, re.MULTILINE), (flag, done)
    arch = flag_help(done.stdout, "--arch")
    assert arch.startswith("--arch AMD64,ARM64"), arch  # the values --arch matches, ignoring case
    assert "Architecture to build (default AMD64)" in arch, arch
    layout = flag_help(done.stdout, "--layout")
    assert layout.startswith("--layout HOSTED,MINIMAL"), layout
    assert "(default HOSTED)" in layout, layout

    top = await dagger("call", "--help")
    assert top.returncode == 0, top
    assert f'(default "{PINS.runner_version}")' in flag_help(top.stdout, "--runner-version")
    assert f'(default "{PINS.hooks_version}")' in flag_help(top.stdout, "--hooks-version")
    assert f'(default "{PINS.hooks_novolume_version}")' in flag_help(top.stdout, "--hooks-novolume-version")
    assert "ARCH=SHA256, repeatable" in flag_help(top.stdout, "--runner-checksum")
    shared = ("--hooks-checksum", "--hooks-novolume-checksum", "--allow-unverified", "--base-image")
    archives = ("--runner-archive", "--hooks-archive", "--hooks-novolume-archive", "--docker-apt-repo")
    for flag in (*shared, *archives, "--github-token", "--github-api-url"):
        assert flag_help(top.stdout, flag), (flag, top)
    assert "--runner-archive" not in done.stdout  # declared once, on the object


def flag_help(help_text: str, flag: str) -> str:
    """A flag's entry in `--help` (its line and the indented lines below it), on one line."""
    lines = help_text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip().split(" ", 1)[0] == flag), None)
    if start is None:
        return ""
    entry = [lines[start].strip()]
    for line in lines[start + 1 :]:
        if line.strip().startswith("--") or not line.startswith(" "):
            break
        entry.append(line.strip())
    return " ".join(part for part in entry if part)


async def test_readme_main_command_ci_arch_arm64(mirror: ReleaseMirror, base_image: str) -> None:
    """The README's main job, `dagger call ci --arch arm64`, with the local settings."""
    done = await dagger("call", *local_settings(mirror, base_image), "ci", "--arch", "arm64")
    assert done.returncode == 0, done
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 2, done
    for layout, run_sh in (("hosted", "/home/runner/run.sh"), ("minimal", "/actions-runner/run.sh")):
        assert f"arm64/{layout}: ok, runner {mirror.runner_version}" in done.stdout, done
        assert run_sh in done.stdout, done


async def test_smoke_test_arm64_minimal_prints_the_version(mirror: ReleaseMirror, base_image: str) -> None:
    done = await dagger(
        "call", *local_settings(mirror, base_image), "smoke-test", "--arch", "ARM64", "--layout", "minimal"
    )
    assert done.returncode == 0, done
    assert done.stdout.strip() == mirror.runner_version, done


async def test_smoke_test_with_dockers_cli_from_a_local_repository_copy(
    mirror: ReleaseMirror, base_image: str, apt_repos: AptRepos
) -> None:
    """The default hosted image has Docker's CLI; --docker-apt-repo gives apt a local copy of the repository."""
    settings = [arg for arg in local_settings(mirror, base_image) if arg != "--docker-cli=false"]
    done = await dagger(
        "call", *settings,
        "--docker-key-fingerprint", apt_repos.fingerprint,
        "--docker-version", apt_repos.docker_version,
        "--buildx-version", apt_repos.buildx_version,
        "--docker-apt-repo", str(apt_repos.path("good")),
        "smoke-test", "--arch", "amd64",
    )  # fmt: skip
    assert done.returncode == 0, done
    assert done.stdout.strip() == mirror.runner_version, done


async def test_build_export_writes_an_image_that_keeps_the_contract(
    mirror: ReleaseMirror, base_image: str, tmp_path: Path
) -> None:
    image = tmp_path / "image.tar"
    done = await dagger(
        "call", *local_settings(mirror, base_image), "build", "--arch", "arm64", "export", "--path", str(image)
    )
    assert done.returncode == 0, done
    with tarfile.open(image) as tar:
        index = json.load(tar.extractfile("index.json"))  # type: ignore[arg-type]
        manifest = json.load(tar.extractfile(f"blobs/sha256/{index['manifests'][0]['digest'][7:]}"))  # type: ignore[arg-type]
        config = json.load(tar.extractfile(f"blobs/sha256/{manifest['config']['digest'][7:]}"))  # type: ignore[arg-type]
    assert config["architecture"] == "arm64"
    assert config["config"]["User"] == "runner"
    assert config["config"]["WorkingDir"] == "/home/runner"
    assert not config["config"].get("Entrypoint")
    assert not config["config"].get("Cmd")
    assert config["config"]["Labels"]["org.opencontainers.image.version"] == mirror.runner_version


# Steps that only make sense on GitHub: the checkout (the test runs in this
# one), the docker login and the attestations (they need GitHub's OIDC token).
GITHUB_ONLY = ("actions/checkout@", "docker/login-action@", "actions/attest@")


async def run_step(step: dict, values: dict[str, str], shell_env: dict[str, str], tmp: Path) -> dict[str, str]:
    """One `run:` step as the runner runs it (bash -eo pipefail, in the checkout); returns its outputs."""
    output = tmp / f"github-output-{uuid.uuid4().hex}"
    output.touch()
    env = {k: expand(str(v), values) for k, v in step.get("env", {}).items()}
    done = await anyio.run_process(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", expand(step["run"], values)],
        cwd=REPO, env={**os.environ, **shell_env, **env, "GITHUB_OUTPUT": str(output)}, check=False,
    )  # fmt: skip
    assert done.returncode == 0, (step, done.stderr.decode())
    lines = output.read_text().splitlines()
    assert all("=" in line and "<<" not in line for line in lines), lines
    return dict(line.split("=", 1) for line in lines)


@pytest.mark.long
async def test_every_step_of_the_release_path_runs_verbatim(
    mirror: ReleaseMirror, base_image: str, auth_registry: tuple[str, str, str], tools_cache: Path, tmp_path: Path
) -> None:
    """A push to main, job by job and step by step, against the local registry that wants a login.

    Only the local settings differ: the mirror, base image and runner version
    (module flags before each call), the registry (REGISTRY) and the commit;
    and for the release gate's scans, stand-ins for GitHub (grype's release)
    and grype's database host, whose database holds a Critical with no fix
    (which the gate lets through) and a fixable High (below it); GitHub
    serving syft's release too, for the SBOMs the release attests. The
    attestations themselves need GitHub's OIDC token: the files they attest
    are checked instead.
    """
    with contextlib.ExitStack() as stack:
        stand_in_flags = release_gate_stand_ins(stack, tools_cache, tmp_path)
        await release_path(mirror, base_image, auth_registry, stand_in_flags, tmp_path)


def release_gate_stand_ins(stack: contextlib.ExitStack, tools_cache: Path, tmp_path: Path) -> dict[str, list[str]]:
    """GitHub serving grype's and syft's releases, and grype's database host; the flags that point scan and
    sbom at them (settings, and each function's own)."""
    grype = found_or_stop(shutil.which("grype"), "grype not found on PATH (.ci/run installs it)")
    syft = found_or_stop(shutil.which("syft"), "syft not found on PATH (.ci/run installs it)")
    advisories = [Advisory("CVE-2099-0101", "tar", "", "Critical"), Advisory("CVE-2099-0102", "sudo", "99:1", "High")]
    database = vulnerability_db.database(tools_cache, tmp_path / "grype-db", advisories)
    github = stack.enter_context(FakeUpstream())
    checksum = serve_tool_release(github, tools_cache, "grype", PINS.grype_version, Path(grype))
    host = stack.enter_context(FileServer(vulnerability_db.listing(tmp_path / "databases", database)))
    grype_flags = ["--grype-base-url", f"{github.url}/anchore/grype/releases/download", "--grype-checksum", checksum]
    syft_sum = serve_tool_release(github, tools_cache, "syft", PINS.syft_version, Path(syft))
    syft_flags = ["--syft-base-url", f"{github.url}/anchore/syft/releases/download", "--syft-checksum", syft_sum]
    return {
        "settings": ["--github-api-url", github.api],
        "scan": [*grype_flags, "--grype-db-url", host.url],
        "sbom": syft_flags,
    }


async def release_path(
    mirror: ReleaseMirror,
    base_image: str,
    auth_registry: tuple[str, str, str],
    stand_in_flags: dict[str, list[str]],
    tmp_path: Path,
) -> None:
    address, user, password = auth_registry
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir()
    sha = uuid.uuid4().hex + uuid.uuid4().hex[:8]
    github = {
        "github.repository": "Example/Runner-Image-Test",
        "github.event.repository.default_branch": "main",
        "github.sha": sha,
        "github.actor": user,
        "secrets.GITHUB_TOKEN": password,
        "env.DAGGER_VERSION": "0.21.8",
        "env.REGISTRY": address,
        "env.SCAN_FAIL_ON": workflow_env()["SCAN_FAIL_ON"],
        "runner.temp": str(runner_temp),
    }
    shell_env = {
        "REGISTRY": address, "GITHUB_SHA": sha, "GITHUB_REF": "refs/heads/main",
        "GITHUB_SERVER_URL": "https://github.com", "RUNNER_VERSION": mirror.runner_version,
    }  # fmt: skip
    printed: dict[str, dict[str, str]] = {}
    release_outputs: dict[str, dict[str, str]] = {}
    for name, job in workflow_jobs().items():
        assert evaluate(job["if"], push("refs/heads/main")) if "if" in job else True
        for entry in job.get("strategy", {}).get("matrix", {}).get("include", [{}]):
            outputs: dict[str, dict[str, str]] = {}
            outcomes: dict[str, str] = {}
            for step in job["steps"]:
                if "if" in step and not evaluate(step["if"], push("refs/heads/main", outcomes)):
                    continue
                values = {**github, **{f"matrix.{k}": v for k, v in entry.items()}}
                values.update({f"steps.{i}.outputs.{k}": v for i, out in outputs.items() for k, v in out.items()})
                if "run" in step:
                    found = await run_step(step, values, shell_env, tmp_path)
                elif is_dagger_call(step):
                    env = {k: expand(str(v), values) for k, v in step.get("env", {}).items()}
                    args = with_stand_ins(substitute(step["with"]["args"], values), stand_in_flags)
                    settings = [*local_settings(mirror, base_image), *stand_in_flags["settings"]]
                    done = await dagger("call", *settings, *args, env=env)
                    assert done.returncode == 0, (name, entry, step["name"], done)
                    if "scan" in args and "--fail-on" in args:
                        assert done.stdout.startswith("scan "), done  # the release gate: the table is in the log
                    assert password not in done.stdout + done.stderr
                    found = {"output": done.stdout + "\n"}  # the action appends a newline
                else:
                    assert str(step["uses"]).startswith(GITHUB_ONLY), step
                    continue
                if "id" in step:
                    outputs[step["id"]], outcomes[step["id"]] = found, "success"
            printed[f"{name}/{entry.get('arch', '')}"] = {i: out.get("output", "") for i, out in outputs.items()}
            if name == "release":
                release_outputs = outputs

    released(mirror, auth_registry, sha, printed["release/"]["hosted"].strip(), release_outputs)
    attested(mirror, runner_temp)


def with_stand_ins(args: list[str], flags: dict[str, list[str]]) -> list[str]:
    """A call's args with scan's or sbom's stand-in flags right after the function's name (before `export`)."""
    for function in ("scan", "sbom"):
        if function in args:
            at = args.index(function) + 1
            return [*args[:at], *flags[function], *args[at:]]
    return args


def attested(mirror: ReleaseMirror, runner_temp: Path) -> None:
    """The files the release's attest steps read: each index's SPDX SBOM, with the runner in it, and its scan as
    in-toto's vulns predicate, with the stand-in database's findings (sudo's fixable High only in hosted)."""
    for layout in ("hosted", "minimal"):
        sbom = json.loads((runner_temp / f"sbom-{layout}.spdx.json").read_text())
        assert sbom["spdxVersion"] == "SPDX-2.3"
        packages = {p["name"]: p.get("versionInfo") for p in sbom["packages"]}
        assert packages["actions-runner"] == mirror.runner_version, layout
        predicate = json.loads((runner_temp / f"scan-{layout}.json").read_text())
        found = {r["id"] for r in predicate["scanner"]["result"]}
        assert "CVE-2099-0101" in found, (layout, found)  # tar, in both
        assert ("CVE-2099-0102" in found) is (layout == "hosted"), (layout, found)  # sudo, hosted only
        assert predicate["metadata"]["scanStartedOn"] <= predicate["metadata"]["scanFinishedOn"]
        assert predicate["scanner"]["db"]["uri"].endswith("/v6/latest.json"), predicate["scanner"]["db"]


def released(
    mirror: ReleaseMirror,
    auth_registry: tuple[str, str, str],
    sha: str,
    hosted: str,
    release_outputs: dict[str, dict[str, str]],
) -> None:
    """What the release path left in the registry: both indexes at their tags, labelled, no password."""
    address, user, password = auth_registry
    image = f"{address}/example/runner-image-test"
    registry = Registry(address, auth=(user, password))
    assert hosted.startswith(f"{image}:{mirror.runner_version}@sha256:"), hosted
    assert release_outputs["digest"]["hosted"] == hosted.rsplit("@", 1)[1]
    assert release_outputs["ref"]["image"] == image
    tags = {mirror.runner_version: "hosted", "latest": "hosted", f"{mirror.runner_version}-minimal": "minimal"}
    for tag, layout in tags.items():
        images = read_index(registry, f"{image}:{tag}")
        assert sorted(images) == ["linux/amd64", "linux/arm64"], tag
        for one in images.values():
            labels = one.config["config"]["Labels"]
            assert labels["dev.runner-image.layout"] == layout, tag
            assert labels["org.opencontainers.image.revision"] == sha
            assert labels["org.opencontainers.image.source"] == "https://github.com/Example/Runner-Image-Test"
            assert password not in json.dumps(one.config)
    assert registry.manifest("example/runner-image-test", "latest") == registry.manifest(
        "example/runner-image-test", hosted.rsplit("@", 1)[1]
    )
    minimal_digest = release_outputs["digest"]["minimal"]
    assert registry.manifest("example/runner-image-test", f"{mirror.runner_version}-minimal") == registry.manifest(
        "example/runner-image-test", minimal_digest
    )


async def test_publish_takes_the_password_as_env_colon_var_too(
    mirror: ReleaseMirror, base_image: str, auth_registry: tuple[str, str, str]
) -> None:
    address, user, password = auth_registry
    ref = f"{address}/runner-image-test/env-colon:{uuid.uuid4().hex[:12]}"
    done = await dagger(
        "call", *local_settings(mirror, base_image),
        "publish", "--address", ref, "--arch", "amd64", "--layout", "minimal",
        "--username", user, "--password", "env:RIE_TEST_TOKEN",
        env={"RIE_TEST_TOKEN": password},
    )  # fmt: skip
    assert done.returncode == 0, done
    assert done.stdout.strip().startswith(f"{ref}@sha256:"), done
    assert Registry(address, auth=(user, password)).has_tag("runner-image-test/env-colon", ref.rsplit(":", 1)[1])
    assert password not in done.stdout + done.stderr


async def test_a_second_publish_with_the_same_arguments_runs_again(
    mirror: ReleaseMirror, base_image: str, registry: str
) -> None:
    """Dagger would answer the second call from its cache of function results without reaching the registry;
    publish opts out (runner_image/settings.py's EVERY_CALL_RUNS), so each call asks the registry for the tag and pushes
    what is missing there. (Not the same digest, necessarily: an image the engine built again after its
    cache dropped it carries new layer times.)"""
    with RegistryProxy(registry) as proxy:
        ref = f"{proxy.address}/runner-image-test/every-call:{uuid.uuid4().hex[:12]}"
        args = ("call", *local_settings(mirror, base_image), "publish", "--address", ref, "--arch", "amd64")
        tag_asked = ("HEAD", rf"/manifests/{ref.rsplit(':', 1)[1]}$")
        first = await dagger(*args, "--layout", "minimal")
        assert first.returncode == 0, first
        assert proxy.count(tag_asked) == 1, proxy.log
        again = await dagger(*args, "--layout", "minimal")
        assert again.returncode == 0, again
        assert again.stdout.startswith(f"{ref}@sha256:"), again
        assert proxy.count(tag_asked) == 2, proxy.log


async def test_an_unreachable_base_image_is_the_error_not_a_symptom(mirror: ReleaseMirror) -> None:
    """The minimal build meets an unreachable base in its steps: whichever step met it, the base is named as
    the cause, with the engine's words once, not as "no /etc/os-release"."""
    base = "127.0.0.1:9/runner-image-test/nowhere:1"  # the discard port: the connection is refused
    done = await dagger("call", *local_settings(mirror, base), "smoke-test", "--layout", "minimal")
    assert done.returncode != 0, done
    assert base in done.stderr, done
    assert "connection refused" in done.stderr, done
    assert f'base image: "{base}": the engine could not pull it: ' in done.stderr, done
    assert "Check --base-image" in done.stderr, done
    assert "os-release" not in done.stderr, done
    for raw in ("TaskGroup", "ExceptionGroup", "QueryError", "Traceback"):
        assert raw not in done.stderr, (raw, done)


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (["build", "--arch", "riscv"], "value should be one of AMD64,ARM64"),
        (["--runner-version", "2.33", "smoke-test"], 'runner_version "2.33": expected MAJOR.MINOR.PATCH'),
        (["smoke-test"], f"expected SHA-256 {'0' * 64}, found "),
    ],
    ids=["unknown-arch", "malformed-version", "wrong-checksum"],
)
async def test_bad_input_fails_with_our_message(
    mirror: ReleaseMirror, base_image: str, flags: list[str], expected: str
) -> None:
    # A later flag wins, so a bad setting overrides the good local one.
    wrong = {"amd64": "0" * 64} if flags == ["smoke-test"] else {}
    done = await dagger("call", *local_settings(mirror, base_image, **wrong), *flags)
    assert done.returncode != 0, done
    assert expected in done.stderr, done
    assert "Traceback" not in done.stderr, done


async def test_refused_login_fails_with_our_message_and_publishes_nothing(
    mirror: ReleaseMirror, base_image: str, auth_registry: tuple[str, str, str]
) -> None:
    address, user, password = auth_registry
    tag = uuid.uuid4().hex[:12]
    done = await dagger(
        "call", *local_settings(mirror, base_image),
        "publish", "--address", f"{address}/runner-image-test/refused:{tag}", "--arch", "amd64",
        "--username", user, "--password", "env://RIE_TEST_TOKEN",
        env={"RIE_TEST_TOKEN": "wrong-" + password},
    )  # fmt: skip
    assert done.returncode != 0, done
    assert "The registry refused the login" in done.stderr, done
    assert f"{address}/runner-image-test/refused:{tag}" in done.stderr, done
    assert user in done.stderr, done
    assert password not in done.stdout + done.stderr  # neither the right one nor the wrong one it is part of
    assert "Traceback" not in done.stderr, done
    assert not Registry(address, auth=(user, password)).has_tag("runner-image-test/refused", tag)


async def test_merge_refuses_missing_and_wrong_platform_sources_and_tags_nothing(
    mirror: ReleaseMirror, base_image: str, registry: str
) -> None:
    """Through the CLI: a source never pushed, and an arm64 image (the local base) where amd64 is asked."""
    repository, tag = "runner-image-test/merge-refused", uuid.uuid4().hex[:12]
    missing = f"{registry}/{repository}:never-pushed"
    arm64 = f"{base_image}-arm64"  # single-platform, and not built by this module: no labels
    for sources, arches, expected in (
        ([missing], ["amd64"], f'merge: source "{missing}": expected a readable per-arch image, could not read it'),
        ([arm64], ["amd64"], f'source "{arm64}": expected an image for linux/amd64, found linux/arm64'),
    ):
        flags = [w for s in sources for w in ("--source", s)] + [w for a in arches for w in ("--arch", a)]
        done = await dagger("call", *local_settings(mirror, base_image), "merge", *flags,
                            "--address", f"{registry}/{repository}:{tag}")  # fmt: skip
        assert done.returncode != 0, done
        assert expected in done.stderr, done
        assert "Traceback" not in done.stderr, done
    assert "dev.runner-image.layout" in done.stderr  # the unlabelled base is named as not built here
    assert not Registry(registry).has_tag(repository, tag)


async def test_sbom_export_writes_spdx_json_with_the_runner(
    mirror: ReleaseMirror, base_image: str, tools_cache: Path, tmp_path: Path
) -> None:
    """`dagger call sbom … export --path`, as the README types it: syft is the pinned release's asset (a local
    stand-in for GitHub serving the syft .ci/run built, checked against its sum given as --syft-checksum)."""
    syft = found_or_stop(shutil.which("syft"), "syft not found on PATH (.ci/run installs it)")
    out = tmp_path / "sbom.spdx.json"
    with FakeUpstream() as github:
        checksum = serve_tool_release(github, tools_cache, "syft", PINS.syft_version, Path(syft))
        settings = [*local_settings(mirror, base_image), "--github-api-url", github.api]
        syft_base = f"{github.url}/anchore/syft/releases/download"
        done = await dagger("call", *settings, "sbom", "--syft-base-url", syft_base, "--syft-checksum", checksum,
                            "--arch", "arm64", "export", "--path", str(out))  # fmt: skip
    assert done.returncode == 0, done
    packages = {p["name"]: p.get("versionInfo") for p in json.loads(out.read_text())["packages"]}
    assert packages["actions-runner"] == mirror.runner_version
    assert "sudo" in packages, sorted(packages)


async def module_digest(module: Path, cwd: Path) -> str:
    """The engine's content hash of a module's source, as its dagger.json's include filters it."""
    query = '{ moduleSource(refString: "%s") { digest } }' % module  # noqa: UP031 - GraphQL braces
    done = await anyio.run_process(
        [os.environ["_EXPERIMENTAL_DAGGER_CLI_BIN"], "query"], input=query.encode(), cwd=cwd, check=False
    )
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    return json.loads(done.stdout)["moduleSource"]["digest"]


async def test_the_module_loads_only_what_it_needs(tmp_path: Path) -> None:
    """A docs or test edit leaves the module's source, and so its install in the runtime, as it was.

    The engine installs the module once per source digest; dagger.json's
    include keeps the README, docs/, tests/ and the workflows' scripts (ci/)
    out of it. An edit under pipelines/ or runner_image/ changes it, so the
    check can fail. The edits are made in a copy of the checkout, never in it.
    """
    copy = tmp_path / "checkout"
    copy_checkout(copy)
    before = await module_digest(copy, tmp_path)
    outside = ("docs/_probe.md", "tests/_probe.txt", "README.md", "ci/_probe.sh")
    for edit in (copy / path for path in outside):
        edit.write_text("an edit outside the module\n")
        assert await module_digest(copy, tmp_path) == before, edit
    for inside in ("pipelines", "runner_image"):
        probe = copy / inside / "_probe.txt"
        probe.write_text("an edit inside the module\n")
        assert await module_digest(copy, tmp_path) != before, probe
        probe.unlink()
