"""apt packages for the final stage, with apt's index work kept off the emulator.

An arm64 image built on an amd64 engine runs every exec under qemu, and apt
is slow there: on a 2-core VM, ``apt-get update`` and the dependency
resolution of the hosted packages took ~25 s under qemu against ~3 s
natively, and dpkg's unpacking ~20 s more. Only dpkg has to run in the
target (maintainer scripts run the target's binaries); the rest does not
depend on the platform apt runs on. So the work is split in two:

1. download, on the engine's own platform: ``apt-get update`` and
   ``apt-get install --download-only`` with apt told the target's
   architecture and the target's dpkg status (so it resolves exactly what
   the target lacks). apt checks the repositories' signatures and each
   package's SHA-256 against the signed index, as it always does, before a
   file lands in the output.
2. install, in the target: ``apt-get install`` of those .deb files, with no
   index and no network, so apt only orders them for dpkg. Packages pulled
   in as dependencies are marked automatically installed again, as a
   normal install leaves them (so ``apt-get autoremove`` in a job behaves
   the same).

The image gets the packages and apt's state, and no lists, no downloaded
files and no binary caches (a one-step install on a base without Docker's
official images' apt clean-up hooks, like the tests' debootstrap base, kept
the .deb files and a large pkgcache.bin in the layer).
"""

from __future__ import annotations

import shlex
from collections.abc import Callable

import dagger

from pipelines.shared.spec import RunnerSpec

OUT = "/run/runner-image-packages"  # the download stage's output, mounted in the target for its install step
DEBS = f"{OUT}/debs"
DEPENDENCIES = f"{OUT}/dependencies"  # names of the packages apt added, one per line
TARGET_STATUS = "/run/runner-image-target-dpkg/status"
DPKG_STATUS = "/var/lib/dpkg/status"


def apt_options(arch: str) -> list[str]:
    """apt on the build platform acting for arch's image, whose dpkg status is mounted at TARGET_STATUS."""
    return [
        f"APT::Architecture={arch}",
        f"APT::Architectures::={arch}",  # only the target's: no foreign arch of the build platform
        f"Dir::State::status={TARGET_STATUS}",
        f"Dir::Cache::archives={DEBS}/",
        "Acquire::Languages=none",  # descriptions' translations: never used in an image
    ]


def download_script(arch: str, packages: tuple[str, ...], *, strict_update: bool = False) -> str:
    """Update, download packages with their missing dependencies for arch, list the dependencies.

    strict_update makes apt-get update fail on any repository it cannot read
    or verify, whatever apt's default for that case, so a tampered
    repository stops the step before anything is downloaded.
    """
    q = shlex.quote
    opts = " ".join(f"-o {q(o)}" for o in apt_options(arch))
    update_opts = f"{opts} -o APT::Update::Error-Mode=any" if strict_update else opts
    wanted = " ".join(q(p.split("=")[0]) for p in packages)
    return "\n".join(
        [
            "set -eu",
            f"mkdir -p {DEBS}/partial",
            f"apt-get {update_opts} update",
            f"apt-get {opts} install -y --download-only --no-install-recommends {' '.join(q(p) for p in packages)}",
            f"rm -rf {DEBS}/partial {DEBS}/lock",
            f": > {DEPENDENCIES}",
            f"for deb in {DEBS}/*.deb; do",
            '  [ -e "$deb" ] || continue  # nothing was missing',
            '  name=$(dpkg-deb --field "$deb" Package)',
            f'  case " {wanted} " in *" $name "*) ;; *) echo "$name" >> {DEPENDENCIES} ;; esac',
            "done",
        ]
    )


def install_script(then: str | None = None) -> str:
    """Install the downloaded files (no index, no network), mark the dependencies automatic, then run then."""
    # force-unsafe-io: no fsync per file; the step's result is committed whole or not at all.
    return "\n".join(
        [
            "set -eu",
            "export DEBIAN_FRONTEND=noninteractive  # for this step only: the minimal layout sets no such env",
            f"set -- {DEBS}/*.deb",
            'if [ -e "$1" ]; then',
            '  apt-get install -y --no-install-recommends -o DPkg::Options::=--force-unsafe-io "$@"',
            "fi",
            f"if [ -s {DEPENDENCIES} ]; then apt-mark auto $(cat {DEPENDENCIES}) >/dev/null; fi",
            "rm -rf /var/lib/apt/lists/*  # apt's index of the given files (auxfiles/)",
            "rm -f /var/cache/apt/*.bin  # apt's binary caches: rebuilt by the next apt run",
            *([then] if then else []),
        ]
    )


def downloaded(
    client: dagger.Client,
    spec: RunnerSpec,
    target: dagger.Container,
    packages: tuple[str, ...],
    *,
    with_sources: Callable[[dagger.Container], dagger.Container] | None = None,
    strict_update: bool = False,
) -> dagger.Directory:
    """packages (and what target lacks of their dependencies) for spec's arch, fetched on the engine's platform.

    with_sources adds repositories (source line, keyring, a mounted copy) to
    the download stage; the target gets its own copy of what it keeps.
    """
    stage = (
        client.container()
        .from_(spec.base_image)
        .with_mounted_file(TARGET_STATUS, target.file(DPKG_STATUS))
        .with_env_variable("DEBIAN_FRONTEND", "noninteractive")
    )
    if with_sources is not None:
        stage = with_sources(stage)
    script = download_script(spec.arch, packages, strict_update=strict_update)
    return stage.with_exec(["sh", "-c", script]).directory(OUT)


def with_packages(target: dagger.Container, fetched: dagger.Directory, then: str | None = None) -> dagger.Container:
    """target with the fetched packages installed; the files are mounted for the step only.

    then: shell run in the same step once they are installed, as a Dockerfile
    joins commands in one RUN: each step is a container start (~0.2 s here).
    """
    script = install_script(then)
    return target.with_mounted_directory(OUT, fetched).with_exec(["sh", "-c", script]).without_mount(OUT)
