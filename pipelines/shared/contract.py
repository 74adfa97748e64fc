"""The two image contracts of the ADR, and the layout that picks one."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import dagger

from pipelines.shared.errors import InvalidSpecError


# One enum for both doors: the module registers it as is (member names are
# what `dagger call --layout` matches, ignoring case).
@dagger.enum_type
class Layout(enum.StrEnum):
    """Where the runner lives in the image and who runs it (see the ADR)."""

    HOSTED = "hosted"
    """GitHub-hosted parity ("Breaking Changes"): /home/runner, user runner(1001)."""

    MINIMAL = "minimal"
    """Bring-your-own contract ("Context"): /actions-runner, root, RUNNER_ALLOW_RUNASROOT=1."""


DEFAULT_LAYOUT = Layout.HOSTED
LAYOUTS: tuple[str, ...] = tuple(layout.value for layout in Layout)


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class ImageContract:
    """What an image of one layout promises; tests check built images against it."""

    runner_dir: str
    """Folder holding run.sh, bin/, k8s/ (the runner root; _diag/ is written here)."""
    workdir: str
    """The image's WORKDIR."""
    user: str
    """The image's USER."""
    uid: int
    """uid of that user."""
    group: str
    """Group owning the runner files; the user is a member of it."""
    gid: int
    """gid of that group."""
    home: str
    """$HOME of the user."""
    work_dir: str
    """Where jobs run (the runner's _work folder)."""
    env: Mapping[str, str] = dataclasses.field(hash=False)
    """Environment the image sets (ImageOS, derived from the base, is not listed)."""
    sudo: bool
    """Whether the user is a passwordless sudoer."""

    @property
    def run_sh(self) -> str:
        return f"{self.runner_dir}/run.sh"


HOSTED_CONTRACT = ImageContract(
    runner_dir="/home/runner",
    workdir="/home/runner",
    user="runner",
    uid=1001,
    group="docker",
    gid=123,
    home="/home/runner",
    work_dir="/home/runner/_work",
    env=MappingProxyType(
        {
            "HOME": "/home/runner",
            "DEBIAN_FRONTEND": "noninteractive",
            "RUNNER_MANUALLY_TRAP_SIG": "1",
            "ACTIONS_RUNNER_PRINT_LOG_TO_STDOUT": "1",
        }
    ),
    sudo=True,
)

MINIMAL_CONTRACT = ImageContract(
    runner_dir="/actions-runner",
    workdir="/actions-runner",
    user="root",
    uid=0,
    group="root",
    gid=0,
    home="/root",
    work_dir="/actions-runner/_work",
    env=MappingProxyType({"RUNNER_ALLOW_RUNASROOT": "1"}),
    sudo=False,
)

CONTRACTS: Mapping[Layout, ImageContract] = MappingProxyType(
    {Layout.HOSTED: HOSTED_CONTRACT, Layout.MINIMAL: MINIMAL_CONTRACT}
)


def parse_layout(value: Any) -> Layout:
    """Return the Layout named by value (a Layout, an enum with .value, or a string)."""
    raw = getattr(value, "value", value)
    try:
        return Layout(raw)
    except ValueError:
        msg = f"layout {raw!r}: expected one of {', '.join(LAYOUTS)}; pass --layout hosted or --layout minimal"
        raise InvalidSpecError(msg) from None
