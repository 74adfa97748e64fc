"""The module's argument types that several functions take, each declared once with its help.

`dagger call` shows each one's name, values and help as declared here; the
enums themselves (Arch, Layout, Mode) are the library's, beside what they mean.
"""

from typing import Annotated

import dagger
from dagger import Doc, Name

from pipelines.shared.contract import Layout
from pipelines.shared.defaults import Arch

# Argument types used by more than one function, each documented once.
ArchArg = Annotated[Arch, Doc("Architecture to build")]
ArchesArg = Annotated[list[Arch] | None, Name("arch"), Doc("Architectures to build, repeatable (default: all)")]
LayoutArg = Annotated[Layout, Doc("Image layout: hosted (GitHub-hosted parity) or minimal")]
RunnerArchiveArg = Annotated[dagger.File | None, Doc("Local runner tarball to use instead of downloading (air-gapped)")]
HooksArchiveArg = Annotated[
    dagger.File | None, Doc("Local k8s hooks zip of --hooks-version, for k8s/, instead of downloading (air-gapped)")
]
DockerAptRepoArg = Annotated[
    dagger.Directory | None,
    Doc("Local copy of Docker's apt repository (<os id>/gpg, dists/, pool/) for --docker-cli, instead of the URL"),
]
HoldsArg = Annotated[
    list[str] | None,
    Name("hold"),
    Doc("Keep a pin on a version prefix, PIN=PREFIX (hooks=0.7, hooks_novolume=); repeatable (default: pins.toml's)"),
]
PinsFileArg = Annotated[
    dagger.File | None, Doc("A pins.toml to compare and rewrite (default: this module's pipelines/pins.toml)")
]
NovolumeArchiveArg = Annotated[
    dagger.File | None,
    Doc("Local k8s hooks zip of --hooks-novolume-version, for k8s-novolume/, instead of downloading (air-gapped)"),
]
# The SHA-256 a tool's release asset must have ("checksum": `dagger call` would spell sha256 as "sha-256"),
# for a mirror serving another build of it, or a sum checked by hand.
GrypeSumArg = Annotated[
    str | None,
    Doc("SHA-256 grype's release asset must have (default: pins.toml's for the engine's platform, else GitHub's)"),
]
SyftSumArg = Annotated[
    str | None,
    Doc("SHA-256 syft's release asset must have (default: pins.toml's for the engine's platform, else GitHub's)"),
]
# grype, as scan and base-fixes take it.
GrypeArg = Annotated[
    dagger.File | None, Doc("A grype binary for the engine's platform, instead of the pinned release's (air-gapped)")
]
GrypeBaseUrlArg = Annotated[str, Doc("Where grype's release assets are downloaded from (a mirror of it works)")]
GrypeDbArg = Annotated[
    dagger.File | None,
    Doc("grype's database to use instead of the newest: a vulnerability.db, or an archive its listing serves"),
]
GrypeDbUrlArg = Annotated[str, Doc("Where grype's database listing is (<url>/v6/latest.json), or a mirror of it")]
