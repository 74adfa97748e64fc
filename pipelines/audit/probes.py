"""Running things in a container of an image and reading what they did, without ever raising for it."""

from __future__ import annotations

import dataclasses
import shlex
from collections.abc import Mapping, Sequence

import dagger

MARK = "@@runner-image probe "  # starts each snippet's report in a probe's output
MAX_QUOTED = 300  # characters of a broken probe's output quoted


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


async def probe(ctr: dagger.Container, snippets: Mapping[str, str]) -> dict[str, Ran]:
    """Several shell snippets in one container start (arm64 runs under emulation); each one's output and code."""
    report = f"printf '%s%s %s\\n%s\\n' {shlex.quote(MARK)}"  # MARK name rc, then what it printed
    parts = [
        f'out=$( {{ {snippet}\n}} 2>&1 ); rc=$?; {report} {shlex.quote(name)} "$rc" "$out"'
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
