"""A stand-in for Docker's static docker-<version>.tgz, made from Debian's packages.

Upstream's image unpacks `docker-<v>.tgz` from Docker's download site
(not reachable here): one folder `docker/` holding the client and the
whole engine, `docker dockerd docker-proxy docker-init containerd
containerd-shim-runc-v2 ctr runc`. This module writes a tarball of the same
shape from the Debian packages that carry those programs (`docker.io`,
`containerd`, `runc`, `tini`, whose static build is what `docker-init` is),
so the bench's upstream-equivalent Dockerfile carries what upstream's
carries. The client is the very file the test apt repository's
`docker-ce-cli` holds (tests/engine/apt_repo.py), so that part of the two
images is byte for byte the same.

apt-get runs with a private state under the cache folder (apt_repo.download_debs):
the machine's apt state is untouched. The programs are kept per arch, so later
runs download nothing.
"""

from __future__ import annotations

import gzip
import io
import shutil
import tarfile
from pathlib import Path

from tests.engine.apt_repo import docker_clients, download_debs, run

PACKAGES = ("docker.io", "containerd", "runc", "tini")
# docker/<name> in the static tgz: where each program is in the Debian packages.
PROGRAMS = {
    "dockerd": "usr/sbin/dockerd",
    "docker-proxy": "usr/sbin/docker-proxy",
    "docker-init": "usr/bin/tini-static",  # docker-init is a static tini build
    "containerd": "usr/bin/containerd",
    "containerd-shim-runc-v2": "usr/bin/containerd-shim-runc-v2",
    "ctr": "usr/bin/ctr",
    "runc": "usr/sbin/runc",
}


def engine_programs(cache: Path, arch: str) -> dict[str, Path]:
    """{name in docker/: file} of the engine programs for linux/<arch> (the client not included)."""
    state = cache / "bench-static-docker"
    out = state / arch / "programs"
    if not all((out / name).exists() for name in PROGRAMS):
        debs, root = download_debs(state, arch, *PACKAGES), state / arch / "root"
        for deb in debs.glob("*.deb"):
            run("dpkg-deb", "-x", str(deb), str(root))
        out.mkdir(parents=True, exist_ok=True)
        for name, rel in PROGRAMS.items():
            shutil.copyfile((root / rel).resolve(), out / name)
        shutil.rmtree(root)
        shutil.rmtree(debs)
    return {name: out / name for name in PROGRAMS}


def static_tgz(cache: Path, arch: str) -> tuple[str, bytes]:
    """(docker version, docker-<version>.tgz) for linux/<arch>: docker/ with the client and the engine.

    Packed once per arch and client version, beside the programs: compressing the engine's ~150 MB
    took about 30 s of CPU in every run of the test that uses it. Fixed times, so the same bytes
    every time; written through a rename, so a reader never sees half of it.
    """
    version, clients = docker_clients(cache)
    programs = {"docker": clients[arch], **engine_programs(cache, arch)}
    packed = cache / "bench-static-docker" / arch / f"docker-{version}.tgz"
    if not packed.is_file():
        buf = io.BytesIO()
        with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as gz, tarfile.open(fileobj=gz, mode="w") as tar:
            info = tarfile.TarInfo("docker")
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            tar.addfile(info)
            for name, path in programs.items():
                info = tarfile.TarInfo(f"docker/{name}")
                info.size, info.mode = path.stat().st_size, 0o755
                with path.open("rb") as data:
                    tar.addfile(info, data)
        partial = packed.with_suffix(".partial")
        partial.write_bytes(buf.getvalue())
        partial.replace(packed)
    return version, packed.read_bytes()
