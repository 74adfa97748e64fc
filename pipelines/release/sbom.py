"""An SPDX JSON SBOM of one built image, made by syft, completed with what syft cannot see.

syft catalogs the image's Debian packages (and any other ecosystems it
knows); the runner and the hooks are plain archives to it, so their entries
(version, download URL, the SHA-256 this pipeline verified) are added here.

syft comes in as a file (a static binary for the engine's platform), run in
an empty container: no registry is needed for a syft image, and the engine
needs no Go toolchain image to build one.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import dagger

from pipelines.shared.errors import SbomError
from pipelines.shared.pins import SYFT_INSTALL
from pipelines.shared.spec import RunnerSpec

SYFT = "/syft"
IMAGE_TAR = "/image.tar"
OUT_DIR = "/out"
SBOM_NAME = "sbom.spdx.json"
DOCUMENT_ID = "SPDXRef-DOCUMENT"
SCRATCH = "/scratch"  # a fresh tmpfs of this one container, not a shared /tmp


def syft_command() -> list[str]:
    return [SYFT, "scan", f"oci-archive:{IMAGE_TAR}", "--output", f"spdx-json={OUT_DIR}/{SBOM_NAME}", "--quiet"]


async def syft_sbom(client: dagger.Client, image: dagger.Container, syft: dagger.File, *, name: str) -> str:
    """syft's SPDX JSON for image (exported as an OCI tarball), as text."""
    tarball = image.as_tarball(media_types=dagger.ImageMediaTypes.OCIMediaTypes)
    scan = (
        client.container()
        .with_file(SYFT, syft, permissions=0o755)
        .with_mounted_file(IMAGE_TAR, tarball)
        .with_directory(OUT_DIR, client.directory())
        # An empty container has no /tmp or $HOME; syft unpacks layers in TMPDIR.
        .with_mounted_temp(SCRATCH)
        .with_env_variable("TMPDIR", SCRATCH)
        .with_env_variable("HOME", SCRATCH)
        .with_env_variable("SYFT_CHECK_FOR_APP_UPDATE", "false")  # no network to ask, nothing to gain
        .with_exec(syft_command())
    )
    try:
        return await scan.file(f"{OUT_DIR}/{SBOM_NAME}").contents()
    except dagger.ExecError as e:
        msg = (
            f"{name}: expected syft to write an SPDX JSON SBOM, it exited {e.exit_code}: {e.stderr.strip()[-800:]}; "
            f"pass a static syft binary for the engine's platform ({SYFT_INSTALL})"
        )
        raise SbomError(msg) from e


def archive_packages(spec: RunnerSpec) -> list[dict[str, Any]]:
    """SPDX packages for the runner and hooks archives of spec (their sums must be resolved)."""
    archives = [
        ("actions-runner", spec.runner_version, spec.runner_url, spec.runner_sha256, "actions/runner"),
        ("actions-runner-hooks-k8s", spec.hooks_version, spec.hooks_url, spec.hooks_sha256,
         "actions/runner-container-hooks"),
    ]  # fmt: skip
    if spec.novolume_hooks:
        archives.append(
            ("actions-runner-hooks-k8s-novolume", spec.hooks_version, spec.hooks_novolume_url,
             spec.hooks_novolume_sha256, "actions/runner-container-hooks"),
        )  # fmt: skip
    return [
        {
            "name": name,
            "SPDXID": f"SPDXRef-Package-runner-image-{name}",
            "versionInfo": version,
            "supplier": "Organization: GitHub",
            "downloadLocation": url,
            "filesAnalyzed": False,
            **({"checksums": [{"algorithm": "SHA256", "checksumValue": sha}]} if sha else {}),
            "licenseConcluded": "NOASSERTION",
            "licenseDeclared": "MIT",
            "copyrightText": "NOASSERTION",
            "externalRefs": [
                {
                    "referenceCategory": "PACKAGE-MANAGER",
                    "referenceType": "purl",
                    "referenceLocator": f"pkg:github/{project}@v{version}",
                }
            ],
        }
        for name, version, url, sha, project in archives
    ]


def with_archives(document: dict[str, Any], spec: RunnerSpec) -> dict[str, Any]:
    """A copy of syft's SPDX document with the runner and hooks as packages the image contains."""
    described = [
        r["relatedSpdxElement"]
        for r in document.get("relationships", [])
        if r.get("spdxElementId") == DOCUMENT_ID and r.get("relationshipType") == "DESCRIBES"
    ]
    root = (document.get("documentDescribes") or described or [DOCUMENT_ID])[0]
    added = archive_packages(spec)
    out = copy.deepcopy(document)
    out.setdefault("packages", []).extend(added)
    out.setdefault("relationships", []).extend(
        {"spdxElementId": root, "relationshipType": "CONTAINS", "relatedSpdxElement": p["SPDXID"]} for p in added
    )
    return out


async def sbom(client: dagger.Client, spec: RunnerSpec, image: dagger.Container, syft: dagger.File) -> str:
    """The SPDX JSON SBOM of spec's built image, as text."""
    text = await syft_sbom(client, image, syft, name=spec.name)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as e:
        msg = f"{spec.name}: expected syft to write SPDX JSON, found {text[:200]!r}; check the syft binary passed"
        raise SbomError(msg) from e
    return json.dumps(with_archives(document, spec), indent=2) + "\n"
