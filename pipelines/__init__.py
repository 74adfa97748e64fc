"""The runner image pipeline as a plain library, in rooms by job.

shared (the spec, contract, labels, pins, errors) is taken by every room;
network reads from outside; image builds (base -> fetch -> unpack -> system
-> assemble, composed by image/build.py); release smoke-tests, publishes,
merges and describes a built image; audit checks any image against ARC's
chart; current compares the pins with upstream; client is the command line.
Each room's __init__ says what it may import (tests/unit/test_rooms.py holds
them to it). Every stage takes the Dagger client first (``dagger.dag`` in
module mode).
"""

from pipelines.shared.contract import ImageContract, Layout
from pipelines.shared.errors import (
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
from pipelines.shared.spec import RunnerSpec

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
