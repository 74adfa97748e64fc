"""What ARC's chart (gha-runner-scale-set), or the ADR's pod spec, does with a runner image, mode by mode.

The chart starts the runner container with ``command: ["/home/runner/run.sh"]``
as the image's user in every mode. In dind mode it adds a ``docker:dind``
sidecar (``dockerd --group=123``) that shares ``/var/run/docker.sock``, sets
``DOCKER_HOST`` to it, and copies the runner's ``externals/`` with an init
container of the same image. In the kubernetes modes it points
``ACTIONS_RUNNER_CONTAINER_HOOKS`` at ``k8s/index.js`` or
``k8s-novolume/index.js``, which the runner starts with its own bundled node.
The ADR's bring-your-own pod copies ``/actions-runner`` into an empty volume
with ``cp -r /actions-runner/* /runner/`` and runs ``/runner/run.sh``.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

import dagger

from pipelines.shared.contract import Layout
from pipelines.shared.errors import CheckError

RUNNER_HOME = "/home/runner"  # the chart's runner folder: its command is /home/runner/run.sh
CHART_RUN_SH = f"{RUNNER_HOME}/run.sh"
DOCKER_GID = 123  # the chart's dind sidecar runs dockerd --group=123
DOCKER_SOCKET = "/var/run/docker.sock"
DOCKER_HOST = f"unix://{DOCKER_SOCKET}"
EXTERNALS = f"{RUNNER_HOME}/externals"  # what dind's init container copies (cp -r .../externals/. ...)
MINIMAL_DIR = "/actions-runner"  # the ADR's bring-your-own contract
POD_RUNNER_DIR = "/runner"  # the ADR pod's emptyDir volume
INIT_COPY = f"cp -r {MINIMAL_DIR}/* {POD_RUNNER_DIR}/"  # the ADR pod's init container, word for word


# One enum for both doors, as Layout: member names are what `dagger call
# --mode` matches, ignoring case.
@dagger.enum_type
class Mode(enum.StrEnum):
    """A way ARC's chart (or the ADR's pod spec) runs the image."""

    DEFAULT = "default"
    """The runner container as the chart runs it, no container mode."""

    DIND = "dind"
    """containerMode dind: a docker:dind sidecar, the docker CLI in the runner."""

    KUBERNETES = "kubernetes"
    """containerMode kubernetes: the k8s/ container hooks."""

    KUBERNETES_NOVOLUME = "kubernetes-novolume"
    """containerMode kubernetes-novolume: the k8s-novolume/ container hooks."""

    MINIMAL = "minimal"
    """The ADR's bring-your-own pod: /actions-runner copied into an empty volume by an init container."""


MODES: tuple[str, ...] = tuple(mode.value for mode in Mode)
MODES_OF_LAYOUT: Mapping[Layout, tuple[Mode, ...]] = {
    Layout.HOSTED: (Mode.DEFAULT, Mode.DIND, Mode.KUBERNETES, Mode.KUBERNETES_NOVOLUME),
    Layout.MINIMAL: (Mode.MINIMAL,),
}
HOOKS = {
    Mode.KUBERNETES: f"{RUNNER_HOME}/k8s/index.js",
    Mode.KUBERNETES_NOVOLUME: f"{RUNNER_HOME}/k8s-novolume/index.js",
}


def parse_mode(value: object) -> Mode:
    """The Mode named by value (a Mode, an enum with .value, or a string in any case, - or _)."""
    raw = str(getattr(value, "value", value)).lower().replace("_", "-")
    try:
        return Mode(raw)
    except ValueError:
        msg = f"mode {raw!r}: expected one of {', '.join(MODES)}"
        raise CheckError(msg) from None
