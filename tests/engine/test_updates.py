"""Staying current through the front door: `dagger call updates` and `bump` against a fake upstream on 127.0.0.1,
then a build from the bumped pins, and the build's errors when GitHub's API cannot be read.

The fake upstream (tests/engine/fake_upstream.py) is GitHub's releases API,
its downloads and Docker's apt index; `--github-api-url`, `--docker-apt-url`
and the download bases point the module at it. Nothing reaches the internet.
"""

from __future__ import annotations

import datetime
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
import yaml

from pipelines.shared.pins import PINS, PINS_FILE, parse
from tests.engine.fake_upstream import (
    Answer,
    FakeUpstream,
    hooks_release,
    json_answer,
    packages_index,
    runner_release,
    tool_release,
)
from tests.engine.test_dagger_call import Call, dagger
from tests.workflows import REPO, expand, is_dagger_call

pytestmark = pytest.mark.anyio
NOW = datetime.datetime.now(tz=datetime.UTC)
NEW_RUNNER = "2.399.7"  # no real release has it
NEW_HOOKS = "0.9.9"
HELD_HOOKS = "0.7.9"  # newer than the k8s/ pin and on its 0.7 hold
DOCKER_NEW, BUILDX_AMD64_ONLY = "29.99.1", "0.99.0"
NEW_GRYPE, NEW_SYFT = "99.0.0", "99.0.1"  # newer than any grype or syft pin
RUNNER_LIST = "/api/repos/actions/runner/releases"
TITLE = (
    f"Update runner to {NEW_RUNNER}, hooks (k8s/) to {HELD_HOOKS}, hooks (k8s-novolume/) to {NEW_HOOKS}, "
    f"docker-ce-cli to {DOCKER_NEW}, grype to {NEW_GRYPE}, syft to {NEW_SYFT}; pin the base image's digest"
)
HOOKS_LIST = "/api/repos/actions/runner-container-hooks/releases"


@pytest.fixture
def upstream() -> Iterator[FakeUpstream]:
    """Upstream with a newer runner (published 25 days ago), newer hooks, a newer Docker CLI.

    Also a newer runner prerelease and a draft (never proposed), a hooks release
    beyond the k8s/ hold, and a buildx only the amd64 index has.
    """
    with FakeUpstream() as fake:
        new_sums = fake.runner_assets(NEW_RUNNER)
        pinned_sums = {arch: str(sha) for arch, sha in PINS.runner_sha256.items()}
        fake.releases(
            "actions/runner",
            [
                runner_release("2.399.9", new_sums, NOW - datetime.timedelta(days=1), prerelease=True),
                runner_release("2.399.8", new_sums, NOW - datetime.timedelta(days=1), draft=True),
                runner_release(NEW_RUNNER, new_sums, NOW - datetime.timedelta(days=25)),
                runner_release(PINS.runner_version, pinned_sums, NOW - datetime.timedelta(days=60)),
            ],
        )
        # The tools scan and sbom download: newer releases (and a prerelease, never proposed), each with its
        # assets' digests in the API and its checksums file.
        grype, _ = fake.tool_assets("grype", NEW_GRYPE)
        fake.releases("anchore/grype", [tool_release("99.1.0", NOW, prerelease=True),
                                        tool_release(NEW_GRYPE, NOW, assets=grype)])  # fmt: skip
        syft, _ = fake.tool_assets("syft", NEW_SYFT)
        fake.releases("anchore/syft", [tool_release(NEW_SYFT, NOW - datetime.timedelta(days=9), assets=syft)])
        for tool, version in (("grype", PINS.grype_version), ("syft", PINS.syft_version)):  # the pinned assets' sums
            asset = {"name": f"{tool}_{version}_linux_amd64.tar.gz", "digest": f"sha256:{'0' * 64}"}
            fake.put(f"/api/repos/anchore/{tool}/releases/tags/v{version}", json_answer({"assets": [asset]}))
        hooks = [(v, fake.hooks_asset(v)) for v in (PINS.hooks_version, HELD_HOOKS, NEW_HOOKS)]
        fake.releases("actions/runner-container-hooks", [hooks_release(v, sha, NOW) for v, sha in hooks])
        dists = "/docker/debian/dists/bookworm/stable"
        cli = [PINS.docker_version, DOCKER_NEW, "30.0.0~rc.1"]
        fake.put(f"{dists}/binary-amd64/Packages", packages_index({"docker-ce-cli": cli, "docker-buildx-plugin": [
            PINS.buildx_version, BUILDX_AMD64_ONLY]}))  # fmt: skip
        fake.put(f"{dists}/binary-arm64/Packages", packages_index({"docker-ce-cli": cli, "docker-buildx-plugin": [
            PINS.buildx_version]}))  # fmt: skip
        yield fake


def settings(upstream: FakeUpstream, base_image: str) -> list[str]:
    return [
        "--github-api-url", upstream.api,
        "--docker-apt-url", f"{upstream.url}/docker",
        "--base-image", base_image,
    ]  # fmt: skip


async def bump(upstream: FakeUpstream, base_image: str, out: Path, *extra: str) -> tuple[int, str]:
    done = await dagger("call", *settings(upstream, base_image), "bump", *extra, "export", "--path", str(out))
    return done.returncode, done.stderr


@pytest.mark.long
async def test_updates_and_bump_propose_what_two_sources_vouch_for(
    upstream: FakeUpstream, base_image: str, tmp_path: Path
) -> None:
    done = await dagger("call", *settings(upstream, base_image), "updates")
    assert done.returncode == 0, done
    table = done.stdout
    assert table.startswith(f"{TITLE}\n"), done
    assert f"| runner | {PINS.runner_version} | {NEW_RUNNER} | update; GitHub stops sending jobs to" in table
    deadline = (NOW - datetime.timedelta(days=25) + datetime.timedelta(days=30)).date()
    assert f"on {deadline} (4 days left)" in table or f"on {deadline} (5 days left)" in table, table
    assert f"| hooks (k8s/) | {PINS.hooks_version} | {HELD_HOOKS} | update (held at 0.7.x; newest {NEW_HOOKS})" in table
    assert f"| docker-ce-cli | {PINS.docker_version} | {DOCKER_NEW} | update |" in table
    assert f"| docker-buildx-plugin | {PINS.buildx_version} | {PINS.buildx_version} | current |" in table
    assert f"| grype | {PINS.grype_version} | {NEW_GRYPE} | update |" in table
    assert f"| syft | {PINS.syft_version} | {NEW_SYFT} | update |" in table
    assert f"| grype_{NEW_GRYPE}_linux_arm64.tar.gz | " in table  # with its two sums
    assert f"| base image | {base_image} | sha256:" in table
    assert "| fill the missing digest | 127.0.0.1:" in table
    assert f"actions-runner-linux-arm64-{NEW_RUNNER}.tar.gz" in table
    assert "2.399.9" not in table  # a prerelease
    assert "2.399.8" not in table  # a draft

    first, second = tmp_path / "first.toml", tmp_path / "second.toml"
    for out in (first, second):
        code, err = await bump(upstream, base_image, out)
        assert code == 0, err
    assert first.read_bytes() == second.read_bytes()
    bumped = parse(first.read_text())
    release = upstream.routes[f"{RUNNER_LIST}/tags/v{NEW_RUNNER}"].body.decode()
    assert bumped.runner_version == NEW_RUNNER
    assert all(sha and sha in release for sha in bumped.runner_sha256.values())
    assert (bumped.hooks_version, bumped.hooks_novolume_version) == (HELD_HOOKS, NEW_HOOKS)
    assert bumped.hooks_sha256
    assert bumped.hooks_novolume_sha256
    assert (bumped.docker_version, bumped.buildx_version) == (DOCKER_NEW, PINS.buildx_version)
    assert (bumped.grype_version, bumped.syft_version) == (NEW_GRYPE, NEW_SYFT)
    for tool, version, sums in (("grype", NEW_GRYPE, bumped.grype_sha256), ("syft", NEW_SYFT, bumped.syft_sha256)):
        checksums = upstream.routes[f"/anchore/{tool}/releases/download/v{version}/{tool}_{version}_checksums.txt"]
        assert all(f"{sums[arch]}  {tool}_{version}_linux_{arch}.tar.gz" in checksums.body.decode() for arch in sums)
    assert bumped.base_image.startswith(f"{base_image}@sha256:")  # the tag, pinned at its digest of now
    old, new = PINS_FILE.read_text().splitlines(), first.read_text().splitlines()
    assert len(old) == len(new)
    # 3 runner + 2 + 2 hooks + docker cli + 3 grype + 3 syft (version and two sums) + the base
    assert sum(a != b for a, b in zip(old, new, strict=True)) == 15

    # Nothing new since: bump of the bumped file is that file, byte for byte.
    again = tmp_path / "again.toml"
    code, err = await bump(upstream, base_image, again, "--pins-file", str(first))
    assert code == 0, err
    assert again.read_bytes() == first.read_bytes()
    quiet = await dagger("call", *settings(upstream, bumped.base_image), "updates", "--pins-file", str(first))
    assert quiet.stdout.startswith("Nothing to update"), quiet

    # A hold from the flag: k8s/ stays where the pins file has it.
    held = tmp_path / "held.toml"
    code, err = await bump(upstream, base_image, held, "--hold", f"hooks={PINS.hooks_version}")
    assert code == 0, err
    assert parse(held.read_text()).hooks_version == PINS.hooks_version

    await build_from_bumped_pins(upstream, base_image, first, tmp_path)


async def build_from_bumped_pins(upstream: FakeUpstream, base_image: str, pins: Path, tmp_path: Path) -> None:
    """Client mode, from a copy of pipelines/ (and runner_image/, whose object client mode reads) holding the
    bumped pins: the pinned sums verify the new assets, and the base is the pinned digest (no --base-image)."""
    checkout = tmp_path / "checkout"
    for room in ("pipelines", "runner_image"):
        shutil.copytree(REPO / room, checkout / room, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(pins, checkout / "pipelines" / "pins.toml")
    api_hits = sum(upstream.hits[path] for path in upstream.hits if path.startswith("/api/"))
    done = await anyio.run_process(
        [sys.executable, "-m", "pipelines", "ci", "--arch", "amd64",
         "--runner-base-url", f"{upstream.url}/runner", "--hooks-base-url", f"{upstream.url}/hooks",
         "--github-api-url", upstream.api, "--no-docker-cli"],
        cwd=checkout, check=False,
    )  # fmt: skip
    err = done.stderr.decode(errors="replace")
    assert done.returncode == 0, err[-3000:]
    assert done.stdout.decode().splitlines() == [
        f"amd64/hosted: ok, runner {NEW_RUNNER} starts as runner from /home/runner/run.sh",
        f"amd64/minimal: ok, runner {NEW_RUNNER} starts as root from /actions-runner/run.sh",
    ]
    assert sum(upstream.hits[path] for path in upstream.hits if path.startswith("/api/")) == api_hits  # all pinned


@pytest.mark.long
async def test_updates_fails_within_the_deadline_with_the_reason(upstream: FakeUpstream, base_image: str) -> None:
    done = await dagger("call", *settings(upstream, base_image), "updates", "--fail-within", "7")
    assert done.returncode != 0, done
    assert f"runner {PINS.runner_version}: GitHub stops sending jobs to it on" in done.stderr, done
    assert "fewer than --fail-within 7" in done.stderr
    assert "dagger call bump export --path pipelines/pins.toml" in done.stderr
    assert "Traceback" not in done.stderr
    ok = await dagger("call", *settings(upstream, base_image), "updates", "--fail-within", "3")
    assert ok.returncode == 0, ok


@pytest.mark.long
async def test_disagreeing_sums_are_not_proposed(upstream: FakeUpstream, base_image: str, tmp_path: Path) -> None:
    sums = {"x64": "a" * 64, "arm64": "b" * 64}
    release = runner_release(NEW_RUNNER, sums, NOW, api_sums={"arm64": "c" * 64})
    upstream.releases("actions/runner", [release])
    done = await dagger("call", *settings(upstream, base_image), "updates")
    assert done.returncode == 0, done
    assert "NOT proposed" in done.stdout
    assert f"actions-runner-linux-arm64-{NEW_RUNNER}.tar.gz: API digest {'c' * 64}" in done.stdout
    out = tmp_path / "pins.toml"
    code, err = await bump(upstream, base_image, out)
    assert code == 0, err
    assert parse(out.read_text()).runner_version == PINS.runner_version


async def test_api_500_then_200_is_retried_and_the_next_call_asks_again(
    upstream: FakeUpstream, base_image: str
) -> None:
    """A 500 is retried. And freshness: Dagger would answer a second `updates` with the same arguments from
    its cache of function results for up to 7 days; updates opts out (runner_image/settings.py's EVERY_CALL_RUNS), so a
    release published since the last call is proposed."""
    upstream.script(RUNNER_LIST, Answer(500, b"oops"))
    done = await dagger("call", *settings(upstream, base_image), "updates")
    assert done.returncode == 0, done
    assert upstream.hits[RUNNER_LIST] == 2
    assert NEW_RUNNER in done.stdout
    assert "2.399.9" not in done.stdout  # a prerelease so far

    sums = upstream.runner_assets("2.399.9")
    upstream.releases("actions/runner", [runner_release("2.399.9", sums, NOW - datetime.timedelta(hours=1))])
    after = await dagger("call", *settings(upstream, base_image), "updates")
    assert after.returncode == 0, after
    assert f"| runner | {PINS.runner_version} | 2.399.9 | update;" in after.stdout, after
    assert upstream.hits[RUNNER_LIST] == 3


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (json_answer({"message": "Not Found"}, 404), "could not read {url}: HTTP 404"),
        (Answer(200, b"<html>rate limited</html>"), "{url}: expected JSON from the API"),
        (json_answer([{"tag_name": "v2.400", "assets": []}]),
         'release tag_name at {url} "v2.400": expected MAJOR.MINOR.PATCH'),
        (json_answer([{"tag_name": "v2.400.0", "assets": [{"name": "a", "digest": "sha256:abc"}]}]),
         "expected a SHA-256 of 64 hexadecimal characters"),
    ],
    ids=["404", "malformed-json", "bad-version", "bad-sum"],
)  # fmt: skip
async def test_bad_answers_fail_clearly_and_write_nothing(
    upstream: FakeUpstream, base_image: str, tmp_path: Path, answer: Answer, expected: str
) -> None:
    upstream.put(RUNNER_LIST, answer)
    out = tmp_path / "pins.toml"
    code, err = await bump(upstream, base_image, out)
    assert code != 0, err
    assert expected.format(url=f"{upstream.api}/repos/actions/runner/releases?per_page=100") in err, err
    assert "upstream: " in err
    assert "Traceback" not in err
    assert not out.exists()


async def test_a_tools_checksums_file_that_cannot_be_read_fails_naming_it(
    upstream: FakeUpstream, base_image: str, tmp_path: Path
) -> None:
    """grype's checksums file, at the address the releases API gives, answers 404: nothing is exported."""
    path = f"/anchore/grype/releases/download/v{NEW_GRYPE}/grype_{NEW_GRYPE}_checksums.txt"
    upstream.put(path, Answer(404, b"Not Found"))
    out = tmp_path / "pins.toml"
    code, err = await bump(upstream, base_image, out)
    assert code != 0, err
    assert f"upstream: could not read {upstream.url}{path}: HTTP 404" in err, err
    assert "Check that the engine can reach it (the releases API at --github-api-url names it)" in err
    assert "Traceback" not in err
    assert not out.exists()


BUILD_WITHOUT_PINNED_SUMS = ["--runner-version", "2.399.1", "--docker-cli=false"]


async def test_build_names_githubs_rate_limit_and_when_it_resets(upstream: FakeUpstream, base_image: str) -> None:
    reset = int(NOW.timestamp()) + 1800
    tag = f"{RUNNER_LIST}/tags/v2.399.1"
    upstream.put(tag, json_answer({"message": "API rate limit exceeded"}, 403, {"X-RateLimit-Remaining": "0"}))
    upstream.put("/api/rate_limit", json_answer({"resources": {"core": {"limit": 60, "remaining": 0, "reset": reset}}}))
    done = await dagger(
        "call", "--github-api-url", upstream.api, "--base-image", base_image, *BUILD_WITHOUT_PINNED_SUMS, "ci"
    )
    assert done.returncode != 0, done
    when = datetime.datetime.fromtimestamp(reset, tz=datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert f"could not read {upstream.api}/repos/actions/runner/releases/tags/v2.399.1: HTTP 403" in done.stderr, done
    assert f"rate limit reached (0 requests left; it resets at {when})" in done.stderr
    assert "--github-token" in done.stderr
    error = next(line for line in done.stderr.splitlines() if line.startswith("Error: "))
    assert error.count("rate limit reached") == 1, error  # four images, one message
    assert " | " not in error


UPDATE_WORKFLOW = REPO / ".github/workflows/update.yml"


@pytest.mark.long
async def test_every_step_of_the_update_workflow_runs_in_order(
    upstream: FakeUpstream, base_image: str, tmp_path: Path
) -> None:
    """The scheduled run, job by job and step by step, in a clone of this repository.

    Stood in for: the checkout (a `git clone` of this one), the remote (a bare
    repository the real `git push` goes to) and `gh` (a script that records its
    calls). Each `dagger call` gets the fake upstream's settings before its own
    arguments, and runs with the clone as its working directory, so `export
    --path pipelines/pins.toml` writes the clone's file, as on GitHub.
    """
    origin, checkout, bin_dir = tmp_path / "origin.git", tmp_path / "checkout", tmp_path / "bin"
    for command in (["git", "init", "--quiet", "--bare", str(origin)],
                    ["git", "clone", "--quiet", str(REPO), str(checkout)],
                    ["git", "-C", str(checkout), "remote", "set-url", "origin", str(origin)],
                    ["git", "-C", str(checkout), "push", "--quiet", "origin", "HEAD:main"]):  # fmt: skip
        await anyio.run_process(command)
    bin_dir.mkdir()
    gh_log = tmp_path / "gh.log"
    (bin_dir / "gh").write_text(f'#!/bin/sh\nprintf "%s\\n" "gh $*" >> {gh_log}\n')
    (bin_dir / "gh").chmod(0o755)
    token = f"test-token-{NOW.timestamp()}"
    github = {
        "secrets.GITHUB_TOKEN": token,
        "env.DAGGER_VERSION": "0.21.8",
        "github.event.repository.default_branch": "main",
    }
    workflow = yaml.safe_load(UPDATE_WORKFLOW.read_text())
    results = await run_jobs(workflow, github, [*settings(upstream, base_image)], checkout, bin_dir)
    for call in results.values():
        assert token not in call.stdout + call.stderr

    # The runner is 5 days from its deadline: the deadline job is red, and says why.
    deadline = results["deadline/dagger call updates --fail-within 7"]
    assert deadline.returncode != 0, deadline
    assert "fewer than --fail-within 7" in deadline.stderr, deadline
    # Every API read carried the token.
    assert upstream.authorization[RUNNER_LIST] == f"Bearer {token}"
    assert upstream.authorization[HOOKS_LIST] == f"Bearer {token}"

    # The base is a plain tag here: nothing pinned to compare, so base-fixes says nothing and fetches nothing.
    fixes = results["bump/dagger call base-fixes (what the base's new digest fixes, for the PR's body)"]
    assert (fixes.returncode, fixes.stdout.strip()) == (0, ""), fixes
    last = results[f"bump/{workflow['jobs']['bump']['steps'][-1]['name']}"]
    assert last.returncode == 0, last
    title = TITLE
    pushed = await anyio.run_process(["git", "-C", str(origin), "log", "-1", "--format=%s", "update/pins"])
    assert pushed.stdout.decode().startswith(title), pushed
    changed = await anyio.run_process(["git", "-C", str(origin), "diff", "--name-only", "main", "update/pins"])
    assert changed.stdout.decode().split() == ["pipelines/pins.toml"]
    shown = await anyio.run_process(["git", "-C", str(origin), "show", "update/pins:pipelines/pins.toml"])
    assert parse(shown.stdout.decode()).runner_version == NEW_RUNNER
    calls = gh_log.read_text().splitlines()
    assert calls[0].startswith("gh pr list --head update/pins --base main --state open"), calls
    assert calls[1].startswith(f"gh pr create --head update/pins --base main --title {title}"), calls
    assert "| runner |" in gh_log.read_text()  # the table is the body
    assert calls[-1] == "gh workflow run ci.yml --ref update/pins", calls


async def run_jobs(
    workflow: dict, github: dict[str, str], dagger_settings: list[str], checkout: Path, bin_dir: Path
) -> dict[str, Call]:
    """Each job's steps in order, as the runner runs them (a failed step ends its job unless it may fail);
    each step's result by "job/step name"."""
    env_block = {k: str(v) for k, v in workflow["env"].items()}
    results: dict[str, Call] = {}
    for name, job in workflow["jobs"].items():
        outputs: dict[str, dict[str, str]] = {}
        outcomes: dict[str, str] = {}
        for step in job["steps"]:
            values = {**github, **{f"env.{k}": v for k, v in env_block.items()}}
            values.update({f"steps.{i}.outputs.{k}": v for i, out in outputs.items() for k, v in out.items()})
            values.update({f"steps.{i}.outcome": outcome for i, outcome in outcomes.items()})
            env = {**env_block, **{k: expand(str(v), values) for k, v in step.get("env", {}).items()}}
            if "run" in step:
                done = await anyio.run_process(
                    ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", expand(step["run"], values)],
                    cwd=checkout, check=False,
                    env={**os.environ, **env, "PATH": f"{bin_dir}:{os.environ['PATH']}"},
                )  # fmt: skip
                call = Call(done.returncode, done.stdout.decode(), done.stderr.decode())
            elif is_dagger_call(step):
                args = [*dagger_settings, *expand(step["with"]["args"], values).split()]
                call = await dagger("-m", str(REPO), "call", *args, env=env, cwd=checkout)
            else:
                assert str(step["uses"]).startswith("actions/checkout@"), step
                continue
            results[f"{name}/{step['name']}"] = call
            if "id" in step:  # a failed step sets no output: its expression is empty, as on GitHub
                outputs[step["id"]] = {"output": call.stdout + "\n" if call.returncode == 0 else ""}
                outcomes[step["id"]] = "success" if call.returncode == 0 else "failure"
            if call.returncode != 0 and not step.get("continue-on-error"):
                break
    return results
