"""What the size workload needs: the Docker downloads' stand-ins, and image sizes read from a registry.

Both images are pushed to the local registry; each is then measured from what
the registry holds, the same way for both: per layer, the blob's size
(compressed, what a node pulls) and the bytes of the tar it unpacks to
(uncompressed), and the step that made it (the image config's history).
"""

from __future__ import annotations

import dataclasses
import json
import urllib.request
import zlib
from pathlib import Path
from typing import Any, cast

from tests.bench.static_docker import static_tgz
from tests.engine import apt_repo
from tests.engine.registry import Registry

DOCKER = "/usr/bin/docker"  # Debian's client, matching Debian's dockerd (tests/env/testenv.sh), BuildKit built in
UPSTREAM_DOCKERFILE = Path(__file__).resolve().parent / "upstream.Dockerfile"
DOCKER_ARCH = {"amd64": "x86_64", "arm64": "aarch64"}  # as upstream's Dockerfile maps it
GZIP_LAYERS = ("application/vnd.oci.image.layer.v1.tar+gzip", "application/vnd.docker.image.rootfs.diff.tar.gzip")


def write_docker_downloads(mirror: Path, cache: Path, arch: str, buildx_version: str) -> str:
    """Upstream's two Docker downloads under mirror, laid out as their URLs; returns the docker version.

    docker/linux/static/stable/<x86_64|aarch64>/docker-<v>.tgz (static_docker.py) and
    buildx/v<v>/buildx-v<v>.linux-<arch>, the buildx binary the apt repository's plugin holds.
    """
    version, tgz = static_tgz(cache, arch)
    path = mirror / "docker" / "linux" / "static" / "stable" / DOCKER_ARCH[arch] / f"docker-{version}.tgz"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(tgz)
    buildx = mirror / "buildx" / f"v{buildx_version}" / f"buildx-v{buildx_version}.linux-{arch}"
    buildx.parent.mkdir(parents=True, exist_ok=True)
    buildx.write_bytes(apt_repo.build_buildx(cache, arch, buildx_version).read_bytes())
    return version


def upstream_build(
    docker: str,
    *,
    tag: str,
    platform: str,
    base: str,
    mirror_url: str,
    runner: tuple[str, str, str],
    docker_cli: tuple[str, str],
    context: Path,
    label: str | None = None,
) -> list[str]:
    """`docker build` of tests/bench/upstream.Dockerfile from the mirror (write_docker_downloads' and the runner's).

    runner: the runner, hooks and hooks-novolume versions; docker_cli: the docker and buildx versions.
    """
    urls = {"RUNNER": "runner", "HOOKS": "hooks", "DOCKER": "docker", "BUILDX": "buildx"}
    names = ("RUNNER_VERSION", "RUNNER_CONTAINER_HOOKS_VERSION", "HOOKS_NOVOLUME_VERSION")
    build_args = {
        "BASE_IMAGE": base,
        **dict(zip(names, runner, strict=True)),
        **dict(zip(("DOCKER_VERSION", "BUILDX_VERSION"), docker_cli, strict=True)),
        **{f"{name}_BASE_URL": f"{mirror_url}/{path}" for name, path in urls.items()},
    }
    return [
        docker, "build", "--progress=plain", "--network", "host", "--platform", platform,
        *(["--label", label] if label else []),
        "-f", str(UPSTREAM_DOCKERFILE), "-t", tag,
        *(arg for key, value in build_args.items() for arg in ("--build-arg", f"{key}={value}")),
        str(context),
    ]  # fmt: skip


# --- sizes from the registry ------------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Layer:
    digest: str
    compressed: int
    """The blob's size in the registry."""
    uncompressed: int
    """Bytes of the tar the blob unpacks to."""
    step: str
    """The step that made it (image config history), "" when the history does not say."""


def layer_steps(config: dict[str, object], count: int) -> list[str]:
    """The created_by of each of count layers: history entries without empty_layer, in order."""
    history = cast("list[dict[str, object]]", config.get("history") or [])
    steps = [str(h.get("created_by") or h.get("comment") or "") for h in history if not h.get("empty_layer")]
    return steps if len(steps) == count else [""] * count


def sizes(layers: list[Layer]) -> tuple[int, int, int]:
    """(layer count, compressed bytes, uncompressed bytes)."""
    return len(layers), sum(layer.compressed for layer in layers), sum(layer.uncompressed for layer in layers)


def _gunzipped_size(url: str) -> int:
    """Bytes of the tar a gzip blob unpacks to, streamed."""
    inflate, total = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS), 0
    with urllib.request.urlopen(url) as answer:  # noqa: S310 - the bench's own registry, http on 127.0.0.1
        while chunk := answer.read(1 << 20):
            total += len(inflate.decompress(chunk))
    return total + len(inflate.flush())


def image_layers(registry: str, repository: str, reference: str, arch: str) -> list[Layer]:
    """The layers of repository:reference for linux/<arch> (from an index, that platform's manifest)."""
    reader = Registry(registry)
    manifest = reader.manifest(repository, reference)
    if "manifests" in manifest:
        digest = next(
            m["digest"]
            for m in manifest["manifests"]
            if m.get("platform", {}).get("os") == "linux" and m.get("platform", {}).get("architecture") == arch
        )
        manifest = reader.manifest(repository, digest)
    layers = cast("list[dict[str, Any]]", manifest["layers"])
    config = json.loads(reader.blob(repository, manifest["config"]["digest"]))
    steps = layer_steps(config, len(layers))
    out = []
    for layer, step in zip(layers, steps, strict=True):
        if layer["mediaType"] not in GZIP_LAYERS:
            msg = f"{repository}:{reference}: layer {layer['digest']} is {layer['mediaType']}, expected gzip"
            raise RuntimeError(msg)
        size = _gunzipped_size(f"http://{registry}/v2/{repository}/blobs/{layer['digest']}")
        out.append(Layer(digest=layer["digest"], compressed=layer["size"], uncompressed=size, step=step))
    return out


# --- report --------------------------------------------------------------------


def mb(n: int) -> str:
    return f"{n / 1e6:.1f}"


def report(title: str, images: dict[str, list[Layer]], base: list[Layer]) -> list[str]:
    """The table: per image its layers, compressed and uncompressed sizes, in all and over the base."""
    _, base_c, base_u = sizes(base)
    lines = [
        title,
        f"{'image':<24} {'layers':>6} {'compressed MB':>14} {'uncompressed MB':>16}"
        f" {'added compressed MB':>20} {'added uncompressed MB':>22}",
    ]
    for name, layers in {"base": base, **images}.items():
        count, c, u = sizes(layers)
        lines.append(f"{name:<24} {count:>6} {mb(c):>14} {mb(u):>16} {mb(c - base_c):>20} {mb(u - base_u):>22}")
    (_, ours), (_, peer) = list(images.items())[:2]
    (_, oc, ou), (_, pc, pu) = sizes(ours), sizes(peer)
    lines.append(
        f"ratio ours/upstream: compressed {oc / pc:.2f}, uncompressed {ou / pu:.2f}; over the base: "
        f"compressed {(oc - base_c) / (pc - base_c):.2f}, uncompressed {(ou - base_u) / (pu - base_u):.2f}"
    )
    base_digests = {layer.digest for layer in base}
    for name, layers in images.items():
        lines.append(f"\n{name}: layers over the base (compressed MB, uncompressed MB, step)")
        lines.extend(
            f"  {mb(layer.compressed):>8} {mb(layer.uncompressed):>8}  {' '.join(layer.step.split())[:100]}"
            for layer in layers
            if layer.digest not in base_digests
        )
    return lines
