"""The checks of each mode: what ARC's chart (or the ADR's pod) runs, run in throwaway containers of the image."""

from __future__ import annotations

import dataclasses
import re
import shlex
from collections.abc import Mapping
from types import MappingProxyType

import dagger

from pipelines.audit.chart import (
    CHART_RUN_SH,
    DOCKER_GID,
    DOCKER_HOST,
    DOCKER_SOCKET,
    EXTERNALS,
    HOOKS,
    INIT_COPY,
    MINIMAL_DIR,
    POD_RUNNER_DIR,
    RUNNER_HOME,
    Mode,
)
from pipelines.audit.probes import Config, Ran, outcome, probe, run
from pipelines.audit.report import Row, judged
from pipelines.shared.labels import VERSION_LABEL

VERSION_LINE = re.compile(r"^\d+\.\d+\.\d+$")
# What the hook is given on stdin: not JSON, so it stops at its first step,
# JSON.parse of its input (hooklib's getInputFromStdin), reports it as an
# ::error:: line and exits 1, before it asks Kubernetes anything.
HOOK_PROBE_INPUT = "runner-image check: not a hook request\n"
_HOOK_CHECKS = ("hook present", "hook starts")
# The rows each mode's check gives, in order: the table `check` prints, and
# what the tests count rows by (they hold each check_* below to it).
CHECKS: Mapping[Mode, tuple[str, ...]] = MappingProxyType(
    {
        Mode.DEFAULT: (
            "image user",
            "HOME",
            "WORKDIR",
            "run.sh --version",
            "_diag writable",
            "_work writable",
            "ENTRYPOINT/CMD",
        ),
        Mode.DIND: ("docker CLI", "buildx plugin", f"in group {DOCKER_GID}", "externals/", "daemon via socket"),
        Mode.KUBERNETES: _HOOK_CHECKS,
        Mode.KUBERNETES_NOVOLUME: _HOOK_CHECKS,
        Mode.MINIMAL: ("run.sh", "WORKDIR", "image user", f"init copy, then {POD_RUNNER_DIR}/run.sh"),
    }
)


def expected_version(config: Config) -> str | None:
    label = config.labels.get(VERSION_LABEL, "")
    return label if VERSION_LINE.match(label) else None


def version_row(mode: Mode, ran: Ran, expected: str | None, *, check: str) -> Row:
    """run.sh --version must print exactly one version line (the image's version label's, when it has one)."""
    lines = [line.strip() for line in ran.out.splitlines() if VERSION_LINE.match(line.strip())]
    label = f" ({expected}, the image's {VERSION_LABEL} label)" if expected else ""
    needs = (
        f"one line that is the runner's version{label} from run.sh --version as the image user "
        "(run.sh exits 0 even when it refuses to start)"
    )
    if ran.code is None:
        return judged(mode, check, False, f"could not run: {ran.out}", needs)
    if len(lines) != 1:
        return judged(mode, check, False, f"{len(lines)} version lines (exit {ran.code}): {ran.out}", needs)
    if expected and lines[0] != expected:
        return judged(mode, check, False, f"printed {lines[0]}, the label says {expected}", needs)
    return judged(mode, check, True, lines[0], needs)


def user_row(mode: Mode, config: Config, uid: Ran) -> Row:
    name = config.user or "(none: root)"
    if not uid.ok or not uid.out.isdigit():
        return judged(mode, "image user", False, f"{name}: id -u failed: {uid.out}", "a user the image can run as")
    if uid.out != "0":
        return judged(mode, "image user", True, f"{name} (uid {uid.out})", "")
    if config.allows_root:
        return judged(mode, "image user", True, f"{name} (uid 0), RUNNER_ALLOW_RUNASROOT set", "")
    return judged(
        mode,
        "image user",
        False,
        f"{name} (uid 0) without RUNNER_ALLOW_RUNASROOT",
        "a non-root USER, or ENV RUNNER_ALLOW_RUNASROOT=1: run.sh refuses to start as root otherwise",
    )


def writable(d: str) -> str:
    """A snippet: the runner's d/ folder can be made and written by the image user, as the runner does."""
    return f"mkdir -p {RUNNER_HOME}/{d} && touch {RUNNER_HOME}/{d}/.check && echo {RUNNER_HOME}/{d}"


async def check_default(ctr: dagger.Container, config: Config) -> list[Row]:
    mode = Mode.DEFAULT
    home_of_user = '${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}'
    found = await probe(
        ctr,
        {
            "uid": "id -u",
            "home": f'h="{home_of_user}"; echo "${{h:-(unset)}}"; [ -d "$h" ] && [ -w "$h" ]',
            "_diag": writable("_diag"),
            "_work": writable("_work"),
        },
    )
    version = await run(ctr, [CHART_RUN_SH, "--version"])
    home_needs = "HOME (or the user's home in /etc/passwd) a folder the image user can write"
    return [
        user_row(mode, config, found["uid"]),
        judged(mode, "HOME", found["home"].ok, found["home"].out, home_needs),
        judged(
            mode,
            "WORKDIR",
            config.workdir == RUNNER_HOME,
            config.workdir,
            f"{RUNNER_HOME}: the chart runs {CHART_RUN_SH}",
        ),
        version_row(mode, version, expected_version(config), check="run.sh --version"),
        *(
            judged(
                mode,
                f"{d} writable",
                found[d].ok,
                found[d].out,
                f"{RUNNER_HOME} writable by the image user: the runner writes {d}/ there",
            )
            for d in ("_diag", "_work")
        ),
        await entrypoint_row(ctr, config),
    ]


async def entrypoint_row(ctr: dagger.Container, config: Config) -> Row:
    """The chart's command replaces ENTRYPOINT and drops CMD; a pod that sets only args would run the ENTRYPOINT."""
    check = "ENTRYPOINT/CMD"
    cmd = f"; CMD {list(config.default_args)} (dropped: the chart sets command)" if config.default_args else ""
    if not config.entrypoint:
        return judged(Mode.DEFAULT, check, True, f"no ENTRYPOINT{cmd}", "")
    ran = await run(ctr, [CHART_RUN_SH, "--version"], entrypoint=True)
    row = version_row(Mode.DEFAULT, ran, expected_version(config), check=check)
    where = f"ENTRYPOINT {list(config.entrypoint)} given {CHART_RUN_SH} --version"
    if row.passed:
        return dataclasses.replace(row, found=f"{where} printed {row.found}{cmd}")
    needs = (
        'no ENTRYPOINT, or one that runs its arguments (exec "$@"): it runs instead of run.sh '
        "whenever a pod template sets args without command"
    )
    return dataclasses.replace(row, found=f"{where}: {row.found}", needs=needs)


async def check_dind(ctr: dagger.Container, config: Config, docker_socket: dagger.Socket | None) -> list[Row]:
    mode = Mode.DIND
    ctr = ctr.with_env_variable("DOCKER_HOST", DOCKER_HOST)  # as the chart sets it
    snippets = {
        "docker": "docker --version",
        "buildx": "docker buildx version",
        "groups": "id -G",
        "externals": f'[ -n "$(ls -A {EXTERNALS})" ] && ls {EXTERNALS}',
    }
    if docker_socket is not None:
        # The sidecar's socket is root:123, mode 0660; Dagger mounts one 0600 in each exec, so it is
        # owned by the image user here. Group 123 has a row of its own.
        user = config.user.partition(":")[0] or "root"
        ctr = ctr.with_unix_socket(DOCKER_SOCKET, docker_socket, owner=f"{user}:{DOCKER_GID}")
        snippets["daemon"] = "docker version --format 'server {{.Server.Version}}'"
    found = await probe(ctr, snippets)
    groups = found["groups"].out.split() if found["groups"].ok else []
    rows = [
        judged(mode, "docker CLI", found["docker"].ok, found["docker"].out, "docker on PATH for the image user"),
        judged(mode, "buildx plugin", found["buildx"].ok, found["buildx"].out, "the buildx CLI plugin (docker buildx)"),
        judged(
            mode,
            f"in group {DOCKER_GID}",
            str(DOCKER_GID) in groups,
            f"groups {' '.join(groups)}" if groups else found["groups"].out,
            f"the image user in gid {DOCKER_GID}: the sidecar's socket is root:{DOCKER_GID}, mode 660",
        ),
        judged(
            mode,
            "externals/",
            found["externals"].ok,
            " ".join(found["externals"].out.split()) or f"{EXTERNALS} is empty",
            f"the runner's {EXTERNALS}/: the init container runs cp -r {EXTERNALS}/. …",
        ),
    ]
    if docker_socket is None:
        rows.append(Row(mode=mode, check="daemon via socket", passed=None, found="no --docker-socket given"))
    else:
        daemon = found["daemon"]
        rows.append(
            judged(mode, "daemon via socket", daemon.ok, daemon.out, f"docker as the image user reaching {DOCKER_HOST}")
        )
    return rows


async def check_hooks(ctr: dagger.Container, mode: Mode) -> list[Row]:
    """The hook is there, and the runner's own node starts it as far as reading its input."""
    hook = HOOKS[mode]
    newest_node = f"ls -d {EXTERNALS}/node*/bin/node 2>/dev/null | sort -V | tail -n 1"
    start = (
        f'n=$({newest_node}); [ -n "$n" ] || {{ echo "no {EXTERNALS}/node*/bin/node"; exit 3; }}; '
        f'echo "$n:"; printf %s {shlex.quote(HOOK_PROBE_INPUT)} | "$n" {hook}'
    )
    found = await probe(ctr, {"hook": f"ls {hook}", "start": start})
    started = found["start"]
    # The hook's own answer to input it cannot parse: an ::error:: line about JSON, exit 1.
    read_input = started.code == 1 and re.search(r"::error::.*JSON", started.out) is not None
    return [
        judged(
            mode,
            "hook present",
            found["hook"].ok,
            found["hook"].out,
            f"{hook}: the chart points ACTIONS_RUNNER_CONTAINER_HOOKS at it",
        ),
        judged(
            mode,
            "hook starts",
            read_input,
            f"exit {started.code}: {started.out}",
            "the runner's externals/node*/bin/node running the hook as the image user, as far as the hook's "
            "own error for input it cannot read (an ::error:: line about JSON, exit 1)",
        ),
    ]


async def check_minimal(client: dagger.Client, ctr: dagger.Container, config: Config) -> list[Row]:
    mode = Mode.MINIMAL
    found = await probe(ctr, {"uid": "id -u", "run_sh": f"ls {MINIMAL_DIR}/run.sh && test -x {MINIMAL_DIR}/run.sh"})
    rows = [
        judged(
            mode, "run.sh", found["run_sh"].ok, found["run_sh"].out, f"an executable {MINIMAL_DIR}/run.sh (the ADR)"
        ),
        judged(mode, "WORKDIR", config.workdir == MINIMAL_DIR, config.workdir, f"{MINIMAL_DIR} (the ADR)"),
        user_row(mode, config, found["uid"]),
    ]
    # The pod: an init container copies into an empty volume, the runner container runs the copy.
    check = f"init copy, then {POD_RUNNER_DIR}/run.sh"
    init = ctr.with_mounted_directory(POD_RUNNER_DIR, client.directory()).with_exec(
        ["sh", "-c", INIT_COPY], expect=dagger.ReturnType.ANY
    )
    copied = await outcome(init)
    if not copied.ok:
        rows.append(
            judged(mode, check, False, f"{INIT_COPY}: exit {copied.code}: {copied.out}", f"{INIT_COPY} to work")
        )
        return rows
    volume = init.directory(POD_RUNNER_DIR)
    ran = await run(ctr.with_mounted_directory(POD_RUNNER_DIR, volume), [f"{POD_RUNNER_DIR}/run.sh", "--version"])
    rows.append(version_row(mode, ran, expected_version(config), check=check))
    return rows
