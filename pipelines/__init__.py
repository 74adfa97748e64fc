"""The runner image pipeline as a plain library, one module per stage.

spec -> checksums -> fetch -> unpack -> assemble (docker_cli for dind mode) ->
smoke -> publish; build composes the first five, verify builds and
smoke-tests several specs at once.
Every stage takes the Dagger client first (``dagger.dag`` in module mode).
"""

from pipelines.contract import ImageContract, Layout
from pipelines.errors import (
    ArchiveError,
    ChecksumError,
    DownloadError,
    InvalidSpecError,
    MergeError,
    PackageError,
    PublishError,
    RunnerImageError,
    SbomError,
    SmokeTestError,
    StalePinError,
    UpstreamError,
)
from pipelines.spec import RunnerSpec

__all__ = [
    "ArchiveError",
    "ChecksumError",
    "DownloadError",
    "ImageContract",
    "InvalidSpecError",
    "Layout",
    "MergeError",
    "PackageError",
    "PublishError",
    "RunnerImageError",
    "RunnerSpec",
    "SbomError",
    "SmokeTestError",
    "StalePinError",
    "UpstreamError",
]
