"""What the SBOM adds to syft's SPDX document: the runner and hooks archives (pure: no engine, no syft)."""

from __future__ import annotations

import dataclasses

from pipelines.release.sbom import DOCUMENT_ID, syft_command, with_archives
from pipelines.shared.spec import RunnerSpec

SPEC = RunnerSpec(runner_sha256="a" * 64, hooks_sha256="b" * 64, hooks_novolume_sha256="c" * 64)
SYFT_DOC = {
    "spdxVersion": "SPDX-2.3",
    "SPDXID": DOCUMENT_ID,
    "packages": [{"name": "sudo", "SPDXID": "SPDXRef-Package-deb-sudo", "versionInfo": "1.9.13p3-1+deb12u1"}],
    "relationships": [
        {"spdxElementId": DOCUMENT_ID, "relationshipType": "DESCRIBES", "relatedSpdxElement": "SPDXRef-image"}
    ],
}


def test_runner_and_hooks_become_packages_the_image_contains() -> None:
    out = with_archives(SYFT_DOC, SPEC)
    added = {p["name"]: p for p in out["packages"][1:]}
    assert sorted(added) == ["actions-runner", "actions-runner-hooks-k8s", "actions-runner-hooks-k8s-novolume"]
    runner = added["actions-runner"]
    assert runner["versionInfo"] == SPEC.runner_version
    assert runner["downloadLocation"] == SPEC.runner_url
    assert runner["checksums"] == [{"algorithm": "SHA256", "checksumValue": "a" * 64}]
    assert runner["externalRefs"][0]["referenceLocator"] == f"pkg:github/actions/runner@v{SPEC.runner_version}"
    assert added["actions-runner-hooks-k8s-novolume"]["checksums"][0]["checksumValue"] == "c" * 64
    contains = [r for r in out["relationships"] if r["relationshipType"] == "CONTAINS"]
    assert {r["spdxElementId"] for r in contains} == {"SPDXRef-image"}  # what the document describes
    assert {r["relatedSpdxElement"] for r in contains} == {p["SPDXID"] for p in added.values()}
    assert len(SYFT_DOC["packages"]) == 1  # syft's document is left as it was


def test_without_novolume_hooks_or_known_sums() -> None:
    spec = dataclasses.replace(SPEC, novolume_hooks=False, hooks_sha256=None)
    added = {p["name"]: p for p in with_archives({"packages": []}, spec)["packages"]}
    assert sorted(added) == ["actions-runner", "actions-runner-hooks-k8s"]
    assert "checksums" not in added["actions-runner-hooks-k8s"]  # no sum known: none claimed


def test_syft_scans_the_oci_archive_into_spdx_json() -> None:
    assert syft_command()[1:4] == ["scan", "oci-archive:/image.tar", "--output"]
    assert syft_command()[4].startswith("spdx-json=")
