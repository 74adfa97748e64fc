"""The fault matrix through `dagger call`: each function with one outside thing unreachable says so, and stops.

Every cell of tests/engine/fault_matrix.py: the command exits non-zero with one
`Error:` line naming the stage, the unreachable address, the cause (the
connection was refused) and what to do; no raw exception group, SDK error or
traceback reaches the user; nothing is exported or published. Everything else
the call needs is reachable (the local mirror, base image and registry), so the
cell's own thing is what stops it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.engine import test_updates
from tests.engine.fake_upstream import FakeUpstream
from tests.engine.fault_matrix import CELLS, UNREACHABLE, Cell
from tests.engine.fixtures import ReleaseMirror
from tests.engine.registry import Registry
from tests.engine.registry_proxy import RegistryProxy, Rule
from tests.engine.test_dagger_call import dagger, local_settings
from tests.engine.test_updates import settings as upstream_settings
from tests.tools import found_or_stop

pytestmark = pytest.mark.anyio
upstream = test_updates.upstream  # the fixture: GitHub's API and Docker's index with every read answered
RAW = ("TaskGroup", "ExceptionGroup", "QueryError", "Traceback")


def build_settings(cell: Cell, mirror: ReleaseMirror, base_image: str) -> list[str]:
    """The module object's settings for a function that builds, with the cell's thing unreachable (a later flag
    wins)."""
    nowhere = UNREACHABLE[cell.thing]
    if cell.thing == "api":
        # The runner from GitHub's own download host with no sum passed or pinned for its version: its sums are
        # asked of the API, which is unreachable (the download is never tried). The hooks stay on the mirror.
        given = iter(local_settings(mirror, base_image))
        dropped = ("--runner-checksum", "--runner-base-url")
        kept = [flag for flag in given if flag not in dropped or next(given) is None]
        return [*kept, "--github-api-url", nowhere]
    more = {
        "base": ["--base-image", nowhere],
        "downloads": ["--runner-base-url", f"{nowhere}/runner", "--hooks-base-url", f"{nowhere}/hooks"],
        "apt": ["--docker-cli=true", "--docker-apt-url", nowhere],
        "registry": [],
        "vulndb": [],  # the image builds; the database is what cannot be had
        "tools": [],  # the image builds; the tool is what cannot be had
    }[cell.thing]
    return [*local_settings(mirror, base_image), *more]


def upstream_command(cell: Cell, ctx: dict, out: Path) -> list[str]:
    """updates and bump, with upstream's stand-in; base-fixes, with its base pinned at a digest its tag does not
    name, so that there is something to scan."""
    f = cell.function
    if f in ("updates", "bump"):
        nowhere = UNREACHABLE[cell.thing]
        override = {"base": ["--base-image", nowhere], "api": ["--github-api-url", nowhere]}.get(
            cell.thing, ["--docker-apt-url", nowhere]
        )
        export = ["export", "--path", str(out)] if f == "bump" else []
        return [*upstream_settings(ctx["upstream"], ctx["base_image"]), *override, f, *export]
    moved = ["--base-image", f"{ctx['base_image']}@sha256:{'0' * 64}"]
    return {
        "base": ["--base-image", f"{UNREACHABLE['base']}@sha256:{'0' * 64}", cell.function],
        "vulndb": [*moved, cell.function, "--grype", ctx["grype"], "--grype-db-url", UNREACHABLE["vulndb"]],
        "tools": [*moved, "--github-api-url", ctx["upstream"].api, cell.function,
                  "--grype-base-url", UNREACHABLE["tools"]],
    }[cell.thing]  # fmt: skip


def command(cell: Cell, ctx: dict, out: Path) -> list[str]:
    """The whole `dagger call` of a cell."""
    f, registry = cell.function, ctx["registry"]
    if f in ("updates", "bump", "base-fixes"):
        return upstream_command(cell, ctx, out)
    if f == "merge":
        sources = [f"--source={UNREACHABLE['registry']}-{arch}" for arch in ("amd64", "arm64")]
        return ["merge", *sources, f"--address={registry}/fault-matrix/merge:1"]
    if f == "check":
        return ["check", "--image", UNREACHABLE["registry"]]
    # scan's grype never runs: the build, the pull of --image or the read of the database meets the fault first.
    scan = ["scan", "--grype", ctx["grype"], "--grype-db", ctx["grype"]]
    if cell.id == "scan-registry":
        return [*scan, "--image", UNREACHABLE["registry"]]
    if cell.id == "scan-vulndb":
        scan = ["scan", "--grype", ctx["grype"], "--grype-db-url", UNREACHABLE["vulndb"]]
    if cell.thing == "tools":  # GitHub's API (the stand-in) gives the asset's digest; its download is unreachable
        api = ["--github-api-url", ctx["upstream"].api]
        nowhere = {"scan": f"{UNREACHABLE['tools']}/grype", "sbom": f"{UNREACHABLE['tools']}/syft"}[f]
        tail = {
            "scan": ["scan", "--grype-db", ctx["grype"], "--grype-base-url", nowhere],
            "sbom": ["sbom", "--syft-base-url", nowhere, "export", "--path", str(out)],
        }[f]
        return [*build_settings(cell, ctx["mirror"], ctx["base_image"]), *api, *tail]
    args = {
        "build": ["build", "export", "--path", str(out)],
        "smoke-test": ["smoke-test"],
        "ci": ["ci", "--arch", "amd64"],
        "sbom": ["sbom", "--syft", ctx["syft"], "export", "--path", str(out)],
        "scan": scan,
        "publish": ["publish", "--arch", "amd64", "--address", f"{registry}/fault-matrix/{cell.id}:1"],
    }[f]
    if cell.id == "publish-registry":  # built and smoke-tested as other tests do, then the push meets the fault
        args = ["publish", "--arch", "amd64", "--layout", "minimal", "--address", UNREACHABLE["registry"]]
    return [*build_settings(cell, ctx["mirror"], ctx["base_image"]), *args]


@pytest.mark.parametrize("cell", CELLS, ids=lambda c: c.id)
async def test_an_unreachable_thing_is_named_with_its_cause_and_nothing_is_left(
    cell: Cell, mirror: ReleaseMirror, base_image: str, registry: str, upstream: FakeUpstream, tmp_path: Path
) -> None:
    syft = shutil.which("syft") if cell.function == "sbom" and cell.thing != "tools" else "-"
    grype = shutil.which("grype") if cell.function in ("scan", "base-fixes") else "-"
    ctx = {
        "mirror": mirror,
        "base_image": base_image,
        "registry": registry,
        "upstream": upstream,
        "syft": found_or_stop(syft, "syft not found on PATH (.ci/run builds it)"),
        "grype": found_or_stop(grype, "grype not found on PATH (.ci/run builds it)"),
    }
    out = tmp_path / "out"
    done = await dagger("call", *command(cell, ctx, out))

    assert done.returncode != 0, done
    errors = [line for line in done.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, done
    error = errors[0]
    assert UNREACHABLE[cell.thing] in error, (UNREACHABLE[cell.thing], done)
    assert "refused" in error, done
    assert any(stage in error for stage in cell.stages), (cell.stages, done)
    assert any(todo in error for todo in cell.todo), (cell.todo, done)
    for raw in RAW:
        assert raw not in done.stderr, (raw, done)
    assert not out.exists(), out
    pushed_to = {"publish": f"fault-matrix/{cell.id}", "merge": "fault-matrix/merge"}.get(cell.function)
    if pushed_to and cell.id != "publish-registry":  # that one's address is the unreachable one
        assert not Registry(registry).has_tag(pushed_to, "1"), pushed_to


async def test_a_base_registry_answering_503_is_named_with_its_answer(mirror: ReleaseMirror, base_image: str) -> None:
    """The base image's registry's other fault, once (a refusal is the matrix's): every manifest read answered 503
    by a proxy in front of the local registry. The engine's resolver gives up; the build names the base and the
    registry's answer, and says what to do."""
    registry, repository = base_image.split("/", 1)
    every = frozenset(range(1, 100))  # far more reads than the engine's resolver makes
    rules = [Rule(method=method, path=r"/v2/.+/manifests/", nth=every, status=503) for method in ("HEAD", "GET")]
    with RegistryProxy(registry, *rules) as proxy:
        base = f"{proxy.address}/{repository}"
        done = await dagger("call", *local_settings(mirror, base), "smoke-test")
        answered = [entry for entry in proxy.log if entry[2] == 503]

    assert answered, proxy.log
    assert done.returncode != 0, done
    errors = [line for line in done.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, done
    assert f'base image: "{base}": the engine could not pull it: ' in errors[0], done
    assert "503" in errors[0], done
    assert "Check --base-image" in errors[0], done
    for raw in RAW:
        assert raw not in done.stderr, (raw, done)
