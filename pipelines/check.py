"""check: any runner image against what ARC's chart, or the ADR's pod spec, does with it, mode by mode.

Each check runs what the chart runs (pipelines/chart.py), in throwaway
containers of the image, as its user: no push, no install, nothing that
leaves the engine. The result is one row per mode and check; a failure says
what was found and what the chart needs.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import shlex
from collections.abc import Sequence

import dagger

from pipelines.assemble import LAYOUT_LABEL, OCI
from pipelines.chart import (
    CHART_RUN_SH,
    DOCKER_GID,
    DOCKER_HOST,
    DOCKER_SOCKET,
    EXTERNALS,
    HOOKS,
    INIT_COPY,
    MINIMAL_DIR,
    MODES_OF_LAYOUT,
    POD_RUNNER_DIR,
    RUNNER_HOME,
    Mode,
    parse_mode,
)
from pipelines.concurrently import gather
from pipelines.contract import Layout
from pipelines.errors import CheckError, refused
from pipelines.probes import Config, Ran, has_file, outcome, probe, read_config, run
from pipelines.reference import parse_reference
from pipelines.spec import runner_arch

VERSION_LABEL = f"{OCI}.version"
VERSION_LINE = re.compile(r"^\d+\.\d+\.\d+$")
# What the hook is given on stdin: not JSON, so it stops at its first step,
# JSON.parse of its input (hooklib's getInputFromStdin), reports it as an
# ::error:: line and exits 1, before it asks Kubernetes anything.
HOOK_PROBE_INPUT = "runner-image check: not a hook request\n"
MAX_FOUND = 300  # characters of output quoted in a row


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Row:
    """One check of one mode."""

    mode: Mode
    check: str
    passed: bool | None
    """None: not run (the message says what it needs)."""
    found: str
    needs: str = ""
    """What the chart needs, shown when the check failed."""

    @property
    def result(self) -> str:
        return {True: "pass", False: "FAIL", None: "not run"}[self.passed]


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Report:
    image: str
    layout: Layout
    rows: tuple[Row, ...]

    @property
    def failed(self) -> tuple[Row, ...]:
        return tuple(row for row in self.rows if row.passed is False)

    def render(self) -> str:
        """A title line and a Markdown table: one row per mode and check."""
        modes = list(dict.fromkeys(row.mode.value for row in self.rows))
        verdict = f"{len(self.failed)} of {len(self.rows)} checks failed" if self.failed else "every check passed"
        lines = [
            f"check {self.image} ({self.layout.value} layout; modes {', '.join(modes)}): {verdict}",
            "",
            "| mode | check | result | found | the chart needs |",
            "|---|---|---|---|---|",
        ]
        lines += [
            f"| {row.mode.value} | {row.check} | {row.result} | {_cell(row.found)} | {_cell(row.needs)} |"
            for row in self.rows
        ]
        return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    one_line = " ".join(text.split())
    if len(one_line) > MAX_FOUND:
        one_line = "…" + one_line[-MAX_FOUND:]
    return one_line.replace("|", "\\|") or "—"


async def image_layout(ctr: dagger.Container, config: Config) -> Layout:
    """Our layout label when there is one; else minimal when only /actions-runner/run.sh exists."""
    label = config.labels.get(LAYOUT_LABEL, "")
    if label in {layout.value for layout in Layout}:
        return Layout(label)
    if not await has_file(ctr, CHART_RUN_SH) and await has_file(ctr, f"{MINIMAL_DIR}/run.sh"):
        return Layout.MINIMAL
    return Layout.HOSTED


def judged(mode: Mode, check: str, ok: bool, found: str, needs: str) -> Row:
    """A row that shows what the chart needs only when the check failed."""
    return Row(mode=mode, check=check, passed=ok, found=found, needs="" if ok else needs)


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


async def check_image(
    client: dagger.Client,
    ctr: dagger.Container,
    *,
    name: str,
    modes: Sequence[Mode] | None = None,
    docker_socket: dagger.Socket | None = None,
) -> Report:
    """Every asked mode (default: each of the image's layout) checked at once; the report, failed or not."""
    config = await read_config(ctr)
    layout = await image_layout(ctr, config)
    wanted = set(modes or ())  # already Modes: check() parsed them before pulling anything
    asked = tuple(mode for mode in Mode if mode in wanted) if wanted else MODES_OF_LAYOUT[layout]
    checks = {
        Mode.DEFAULT: functools.partial(check_default, ctr, config),
        Mode.DIND: functools.partial(check_dind, ctr, config, docker_socket),
        Mode.KUBERNETES: functools.partial(check_hooks, ctr, Mode.KUBERNETES),
        Mode.KUBERNETES_NOVOLUME: functools.partial(check_hooks, ctr, Mode.KUBERNETES_NOVOLUME),
        Mode.MINIMAL: functools.partial(check_minimal, client, ctr, config),
    }
    results = await gather(*(checks[mode] for mode in asked))
    return Report(image=name, layout=layout, rows=tuple(row for rows in results for row in rows))


def verdict(report: Report) -> str:
    """The table when every asked mode passed; a CheckError holding it otherwise (the command exits non-zero)."""
    text = report.render()
    if report.failed:
        msg = f"{report.image}: {len(report.failed)} of {len(report.rows)} checks failed\n\n{text}"
        raise CheckError(msg)
    return text


async def image_to_check(
    client: dagger.Client,
    *,
    image: str | None,
    container: dagger.Container | None,
    arch: str,
    username: str | None = None,
    password: dagger.Secret | None = None,
) -> tuple[dagger.Container, str]:
    """The container to check and its name in the report: --image pulled for arch (logged in if asked), or
    --container as given."""
    if (image is None) == (container is None):
        msg = "image: expected exactly one of --image REF (a registry's image) and --container (e.g. build's)"
        raise CheckError(msg)
    if container is not None:
        return container, f"the container given ({await container.platform()})"
    ref = str(parse_reference(image, name="image"))
    runner_arch(arch)  # refuses an unknown arch, naming the two
    platform = f"linux/{arch}"
    ctr = client.container(platform=dagger.Platform(platform))
    if username is not None and password is not None:
        ctr = ctr.with_registry_auth(ref, username, password)
    ctr = ctr.from_(ref)
    try:
        await ctr.sync()
    except dagger.QueryError as e:
        msg = refused("image", image, f"an image the engine can pull for {platform}") + f"; the engine said: {e}"
        raise CheckError(msg) from e
    return ctr, f"{ref} ({platform})"


async def check(
    client: dagger.Client,
    *,
    image: str | None = None,
    container: dagger.Container | None = None,
    modes: Sequence[Mode | str] | None = None,
    arch: str = "amd64",
    docker_socket: dagger.Socket | None = None,
    username: str | None = None,
    password: dagger.Secret | None = None,
) -> str:
    """`check` through either door: the report's table, or a CheckError holding it when a check failed."""
    asked = [parse_mode(m) for m in modes] if modes else None  # a bad mode is refused before the pull
    ctr, name = await image_to_check(
        client, image=image, container=container, arch=arch, username=username, password=password
    )
    return verdict(await check_image(client, ctr, name=name, modes=asked, docker_socket=docker_socket))
