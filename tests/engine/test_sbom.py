"""syft (built through the Go module proxy, see .ci/run) against a built image: the SBOM lists what the image holds."""

from __future__ import annotations

import json
import shutil

import dagger
import pytest

from pipelines.image.build import build
from pipelines.network.checksums import resolve_checksums
from pipelines.release.sbom import sbom
from pipelines.shared.contract import Layout
from pipelines.shared.errors import SbomError
from pipelines.shared.pins import SYFT_INSTALL
from tests.engine.fixtures import ReleaseMirror
from tests.engine.test_pipeline import make_spec
from tests.tools import found_or_stop

pytestmark = pytest.mark.anyio
INSTALL = SYFT_INSTALL


@pytest.fixture(scope="module")
def syft_path() -> str:
    reason = f"syft not found on PATH; install it with: {INSTALL}"
    return found_or_stop(shutil.which("syft"), reason, skipping="SBOM tests")


@pytest.mark.parametrize("arch", ["amd64", "arm64"])
async def test_sbom_lists_installed_packages_and_the_runner(
    dag: dagger.Client, mirror: ReleaseMirror, base_image: str, syft_path: str, arch: str
) -> None:
    spec = await resolve_checksums(dag, make_spec(mirror, base_image, arch, Layout.HOSTED))
    image = await build(dag, spec)

    document = json.loads(await sbom(dag, spec, image, dag.host().file(syft_path)))

    assert document["spdxVersion"].startswith("SPDX-")
    packages = {p["name"]: p for p in document["packages"]}
    # Packages the hosted layout installs with apt, and one the base carries, as syft found them in dpkg's status.
    for name in ("sudo", "git", "jq", "libicu72"):
        assert name in packages, sorted(packages)
        assert packages[name]["versionInfo"], name
    installed = await image.with_exec(["dpkg-query", "-W", "-f", "${Version}", "sudo"]).stdout()
    assert packages["sudo"]["versionInfo"] == installed
    runner = packages["actions-runner"]
    assert runner["versionInfo"] == mirror.runner_version
    assert runner["checksums"] == [{"algorithm": "SHA256", "checksumValue": mirror.sha(spec.runner_asset)}]
    assert packages["actions-runner-hooks-k8s"]["versionInfo"] == mirror.hooks_version


async def test_a_file_that_is_not_syft_is_a_clear_error(
    dag: dagger.Client, mirror: ReleaseMirror, base_image: str
) -> None:
    spec = await resolve_checksums(dag, make_spec(mirror, base_image, "amd64", Layout.MINIMAL))
    not_syft = dag.directory().with_new_file("syft", "#!/bin/false\n").file("syft")
    with pytest.raises(SbomError) as caught:
        await sbom(dag, spec, await build(dag, spec), not_syft)
    assert "amd64/minimal: expected syft to write an SPDX JSON SBOM" in str(caught.value)
    assert "static syft binary" in str(caught.value)
