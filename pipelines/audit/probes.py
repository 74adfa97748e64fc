"""Running things in a container of an image and reading what they did, without ever raising for it."""

from __future__ import annotations

import dataclasses
import shlex
from collections.abc import Mapping, Sequence

import dagger

MARK = "@@runner-image probe "  # starts each snippet's report in a probe's output
MAX_QUOTED = 300  # characters of a broken probe's output quoted
# Seconds one snippet may run. Under qemu-user (arm64 on an amd64 machine) a Go program and its
# child now and then both stop for good (golang/go#68976): `docker buildx version` once hung a
# check for 17 minutes, deaf to SIGTERM. So timeout(1) sends TERM, then KILL 5 s later, and exits
# 124 or 137; a snippet that ended so is tried once more (one killed for another reason, too).
SNIPPET_LIMIT = 120
TIMED_OUT = frozenset({124, 137})
RETRY_ENV = "RUNNER_IMAGE_PROBE_RETRY"  # set in the second try's container (a new exec, not the cached one)


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Ran:
    """What one probe printed (stdout and stderr together) and its exit code (None: it could not start)."""

    code: int | None
    out: str

    @property
    def ok(self) -> bool:
        return self.code == 0


async def run(ctr: dagger.Container, args: Sequence[str], *, entrypoint: bool = False) -> Ran:
    """args in a container of the image, as its user; never raises for what the command did."""
    return await outcome(ctr.with_exec(list(args), expect=dagger.ReturnType.ANY, use_entrypoint=entrypoint))


async def outcome(ran: dagger.Container) -> Ran:
    """The output and exit code of ran's last exec (run with expect=ANY)."""
    try:
        out, err, code = await ran.stdout(), await ran.stderr(), await ran.exit_code()
    except dagger.QueryError as e:  # not even started: no such file, wrong architecture, no shell
        return Ran(code=None, out=str(e))
    return Ran(code=code, out=f"{out}{err}".strip())


def bounded(snippet: str, limit: int) -> str:
    """snippet in a shell of its own, stopped after limit seconds where the image has timeout(1)."""
    script = shlex.quote(snippet)
    return f"if command -v timeout >/dev/null 2>&1; then timeout -k 5 {limit} sh -c {script}; else sh -c {script}; fi"


async def probe(ctr: dagger.Container, snippets: Mapping[str, str], *, limit: int = SNIPPET_LIMIT) -> dict[str, Ran]:
    """Several shell snippets in one container start (arm64 runs under emulation); each one's output and code.

    Each snippet may run limit seconds; the ones that ran out run once more, in a container
    of their own, and one that runs out again is reported so.
    """
    found = await probe_once(ctr, snippets, limit)
    stuck = {name: snippet for name, snippet in snippets.items() if found[name].code in TIMED_OUT}
    if stuck:
        again = await probe_once(ctr.with_env_variable(RETRY_ENV, "1"), stuck, limit)
        for name, ran in again.items():
            twice = f"\n(did not finish within {limit} s, twice)" if ran.code in TIMED_OUT else ""
            found[name] = Ran(code=ran.code, out=f"{ran.out}{twice}".strip())
    return found


async def probe_once(ctr: dagger.Container, snippets: Mapping[str, str], limit: int) -> dict[str, Ran]:
    report = f"printf '%s%s %s\\n%s\\n' {shlex.quote(MARK)}"  # MARK name rc, then what it printed
    parts = [
        f'out=$( {{ {bounded(snippet, limit)}\n}} 2>&1 ); rc=$?; {report} {shlex.quote(name)} "$rc" "$out"'
        for name, snippet in snippets.items()
    ]
    ran = await run(ctr, ["sh", "-c", "\n".join(parts)])
    if ran.code is None:
        return dict.fromkeys(snippets, ran)
    found: dict[str, Ran] = {}
    for block in ran.out.split(MARK)[1:]:
        head, _, body = block.partition("\n")
        name, _, code = head.partition(" ")
        found[name] = Ran(code=int(code) if code.isdigit() else None, out=body.strip())
    missing = Ran(code=None, out=f"the probe did not finish: {ran.out[-MAX_QUOTED:]}")
    return {name: found.get(name, missing) for name in snippets}


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Config:
    """The image's config, read without running anything."""

    user: str
    workdir: str
    env: Mapping[str, str]
    entrypoint: tuple[str, ...]
    default_args: tuple[str, ...]
    labels: Mapping[str, str]

    @property
    def allows_root(self) -> bool:
        return bool(self.env.get("RUNNER_ALLOW_RUNASROOT"))


async def read_config(ctr: dagger.Container) -> Config:
    env = {await v.name(): await v.value() for v in await ctr.env_variables()}
    labels = {await label.name(): await label.value() for label in await ctr.labels()}
    return Config(
        user=await ctr.user(),
        workdir=(await ctr.workdir()).rstrip("/") or "/",
        env=env,
        entrypoint=tuple(await ctr.entrypoint()),
        default_args=tuple(await ctr.default_args()),
        labels=labels,
    )


async def has_file(ctr: dagger.Container, path: str) -> bool:
    """Whether path is a file of the image (read from its filesystem: nothing runs)."""
    try:
        await ctr.file(path).size()
    except dagger.QueryError:
        return False
    return True
