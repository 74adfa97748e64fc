"""Read what was published back from the local registry over its HTTP API (distribution v2)."""

from __future__ import annotations

import base64
import gzip
import io
import json
import tarfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

MANIFEST_TYPES = ", ".join(
    [
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    ]
)


@dataclass(frozen=True)
class Registry:
    address: str  # host:port, plain HTTP on 127.0.0.1
    auth: tuple[str, str] | None = None  # basic auth (the htpasswd registry)

    def _get(self, path: str, accept: str | None = None) -> bytes:
        request = urllib.request.Request(f"http://{self.address}/v2/{path}")
        if accept:
            request.add_header("Accept", accept)
        if self.auth:
            token = base64.b64encode(":".join(self.auth).encode()).decode()
            request.add_header("Authorization", f"Basic {token}")
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            return response.read()

    def manifest(self, repository: str, reference: str) -> dict[str, Any]:
        return json.loads(self._get(f"{repository}/manifests/{reference}", MANIFEST_TYPES))

    def blob(self, repository: str, digest: str) -> bytes:
        return self._get(f"{repository}/blobs/{digest}")

    def put_index(self, repository: str, tag: str, index: dict[str, Any]) -> str:
        """Push index (an OCI image index whose manifests the repository holds) as tag; its digest."""
        body = json.dumps(index, separators=(",", ":")).encode()
        request = urllib.request.Request(
            f"http://{self.address}/v2/{repository}/manifests/{tag}", data=body, method="PUT",
            headers={"Content-Type": "application/vnd.oci.image.index.v1+json"},
        )  # fmt: skip
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            assert response.status == 201, response.status
            return str(response.headers["Docker-Content-Digest"])

    def has_tag(self, repository: str, tag: str) -> bool:
        try:
            self._get(f"{repository}/manifests/{tag}", MANIFEST_TYPES)
        except urllib.error.HTTPError as e:
            if e.code == 404:
                return False
            raise
        return True


@dataclass(frozen=True)
class PublishedImage:
    """One platform's image as the registry serves it: its config and file tree."""

    platform: str
    config: dict[str, Any]
    files: dict[str, tarfile.TarInfo]  # path (no leading /) -> entry of the topmost layer holding it


def read_image(registry: Registry, repository: str, manifest_digest: str, platform: str) -> PublishedImage:
    manifest = registry.manifest(repository, manifest_digest)
    config = json.loads(registry.blob(repository, manifest["config"]["digest"]))
    files: dict[str, tarfile.TarInfo] = {}
    for layer in manifest["layers"]:  # lowest first: a later layer's entry wins
        data = registry.blob(repository, layer["digest"])
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            for entry in tar.getmembers():
                files[entry.name.removeprefix("./").lstrip("/")] = entry
    return PublishedImage(platform=platform, config=config, files=files)


def read_index(registry: Registry, reference: str) -> dict[str, PublishedImage]:
    """platform ("linux/arm64") -> image, for a multi-arch reference host/repo[:tag][@sha256:...]."""
    name = reference.split("/", 1)[1]
    name, _, digest = name.partition("@")
    repository, _, tag = name.rpartition(":") if ":" in name else (name, "", "")
    ref = digest or tag
    index = registry.manifest(repository, ref)
    images = {}
    for entry in index.get("manifests", []):
        p = entry["platform"]
        platform = f"{p['os']}/{p['architecture']}"
        images[platform] = read_image(registry, repository, entry["digest"], platform)
    return images
