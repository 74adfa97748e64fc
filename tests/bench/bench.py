"""Time and memory of the Dagger pipeline next to `docker build` of the same work.

    sudo bash tests/env/testenv.sh up && eval "$(bash tests/env/testenv.sh env)"
    python -m tests.bench.bench image [--runs 3] [--arch amd64] [--runner-mb 130]
    python -m tests.bench.bench ci    [--runs 2] [--runner-mb 130]
    python -m tests.bench.bench bump  [--arch amd64] [--runner-mb 130]
    python -m tests.bench.bench size  [--arch amd64] [--runner-mb 130]

image: one image (hosted layout, one arch), the pipeline's `build` against
`docker build --platform linux/<arch>` of tests/bench/Dockerfile, "cold" (build
cache and pulled base emptied first) and "warm" (again, on a full cache),
with Dagger's session start-up (connect, one query, close) on a line of its
own, then the same build warm through `dagger call` in this checkout (the
module loaded by the engine's Python runtime). ci: the CI workload, both
arches x both layouts built and smoke-tested: the pipeline's `build_and_test_all`
(what `dagger call ci` runs) against a user's script of the same work, a
`docker build` per image then `docker run ... run.sh --version` in it, one
after the other. bump: a warm build, then the
same build with a new runner version; prints the steps the engine ran again
and the ones it took from its cache (its progress log's DONE and CACHED).
size: the hosted image with the Docker CLI (Docker's apt repository replaced
by the tests' signed local copy) next to tests/bench/upstream.Dockerfile, upstream's
images/Dockerfile step by step on the same base with stand-ins for its
downloads (see that file and size.py); both pushed to the local registry
under runner-image-bench/size and measured there. Prunes nothing.

Both sides use the same local base image, the same archives (a fixture
runner tarball padded with incompressible bytes to a real one's size, and the
hooks zips), verify SHA-256 before unpacking, and install the same packages
from the same Debian mirror; the pipeline reads the archives from a server on
127.0.0.1 (as from a release mirror), docker from its build context. Peak
memory is the largest sum of resident memory, sampled every 0.2 s, over the
processes doing the work: the engine container's process tree plus the
client for Dagger; dockerd and containerd with their children plus the docker
CLI for the peer. Prints tables and the ratio of medians; asserts nothing.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import dataclasses
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import anyio
import dagger
import gql.utilities  # the SDK's GraphQL client: its schema query is the one timed here
import graphql

from pipelines.image.build import Archives, build
from pipelines.release.tested import build_and_test_all
from pipelines.shared.contract import Layout
from pipelines.shared.spec import RunnerSpec
from tests.bench import size
from tests.engine import apt_repo, fixture_tools, fixtures

HERE = Path(__file__).parent
REPO = HERE.parents[1]  # the module's checkout, where `dagger call` runs
DOCKER = size.DOCKER
VERSION, BUMPED, HOOKS, HOOKS_NOVOLUME = "2.399.1", "2.399.2", "0.7.9", "0.9.2"
ARCHES = ("amd64", "arm64")
# Every image the bench builds with docker carries it, so that they go once it is done: each
# cold run re-tags, leaving the last run's images dangling. Left there, they filled the disk
# until the engine's own garbage collection (it keeps a share of the disk free) evicted its
# cache in the middle of "warm" runs.
BENCH_LABEL = "dev.runner-image.bench=1"
SIZE_REPOSITORY = "runner-image-bench/size"  # on the local registry, the bench's own


# --- memory sampling ---------------------------------------------------------


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        tree.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    return tree


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_rss_kib(roots: list[int]) -> int:
    tree, seen, stack = _children(), set(), list(roots)
    while stack:
        pid = stack.pop()
        if pid in seen:
            continue
        seen.add(pid)
        stack.extend(tree.get(pid, []))
    return sum(_rss_kib(pid) for pid in seen)


@contextmanager
def peak_memory(roots: Callable[[], list[int]]) -> Iterator[list[int]]:
    """Yields a one-item list that holds the peak KiB once the block ends."""
    peak, stop = [0], threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], tree_rss_kib(roots()))
            time.sleep(0.2)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield peak
    finally:
        stop.set()
        thread.join()


def pidof(name: str) -> list[int]:
    done = subprocess.run(["pidof", name], capture_output=True, text=True, check=False)
    return [int(p) for p in done.stdout.split()]


def engine_pid() -> int:
    host = os.environ.get("RIE_ENGINE_CONTAINER") or os.environ["_EXPERIMENTAL_DAGGER_RUNNER_HOST"].removeprefix(
        "docker-container://"
    )
    out = subprocess.run([DOCKER, "inspect", "-f", "{{.State.Pid}}", host], capture_output=True, text=True, check=True)
    return int(out.stdout)


# --- inputs --------------------------------------------------------------------


def spec_for(base: str, arch: str, layout: Layout, mirror: str, version: str = VERSION) -> RunnerSpec:
    return RunnerSpec(
        runner_version=version,
        hooks_version=HOOKS,
        hooks_novolume_version=HOOKS_NOVOLUME,
        arch=arch,
        base_image=base,
        layout=layout,
        runner_base_url=f"{mirror}/runner",
        hooks_base_url=f"{mirror}/hooks",
        docker_cli=False,  # the peer Dockerfile has none, and Docker's repository is not reachable here
    )


def write_inputs(mirror_root: Path, spec: RunnerSpec, runner_mb: int) -> tuple[Path, dict[str, str]]:
    """spec's archives under mirror_root (release layout) and a docker build context; (context, sums)."""
    data = {
        f"runner/v{spec.runner_version}/{spec.runner_asset}": fixtures.runner_tarball(
            spec.runner_version, spec.runner_arch, padding=os.urandom(runner_mb * 1024 * 1024)
        ),
        f"hooks/v{spec.hooks_version}/{spec.hooks_asset}": fixtures.hooks_zip(spec.hooks_version),
        f"hooks/v{spec.hooks_novolume_version}/{spec.hooks_novolume_asset}": fixtures.hooks_zip(
            spec.hooks_novolume_version
        ),
    }
    context = mirror_root / f"context-{spec.arch}-{spec.runner_version}"
    context.mkdir()
    sums = {}
    for rel, fresh in data.items():
        path = mirror_root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():  # the hooks are shared by every arch: written once, or their sums would differ
            path.write_bytes(fresh)
        blob = path.read_bytes()
        os.link(path, context / path.name)
        sums[path.name] = fixtures.sha256(blob)
    (context / "SHA256SUMS").write_text("".join(f"{digest}  {name}\n" for name, digest in sums.items()))
    shutil.copy(HERE / "Dockerfile", context / "Dockerfile")
    return context, sums


def with_sums(spec: RunnerSpec, sums: dict[str, str]) -> RunnerSpec:
    return RunnerSpec(
        **{
            f: getattr(spec, f)
            for f in ("runner_version", "hooks_version", "hooks_novolume_version", "arch", "base_image", "layout")
        },
        runner_base_url=spec.runner_base_url,
        hooks_base_url=spec.hooks_base_url,
        docker_cli=spec.docker_cli,
        runner_sha256=sums[spec.runner_asset],
        hooks_sha256=sums[spec.hooks_asset],
        hooks_novolume_sha256=sums[spec.hooks_novolume_asset],
    )


# --- the two sides ----------------------------------------------------------------


def dagger_roots() -> list[int]:
    return [engine_pid(), os.getpid()]  # the client CLI is a child of this process


def docker_roots() -> list[int]:
    return pidof("dockerd") + pidof("containerd") + [os.getpid()]


def measure(work: Callable[[], object], roots: Callable[[], list[int]]) -> tuple[float, int]:
    """(seconds, peak KiB) of work."""
    with peak_memory(roots) as peak:
        start = time.monotonic()
        work()
        elapsed = time.monotonic() - start
    return elapsed, peak[0]


def empty_dagger_cache() -> None:
    async def prune() -> None:
        async with dagger.connection(dagger.Config(log_output=open(os.devnull, "w"))):  # noqa: ASYNC230
            await dagger.dag.engine().local_cache().prune()

    anyio.run(prune)


def empty_docker_cache(base: str) -> None:
    subprocess.run([DOCKER, "builder", "prune", "-af"], capture_output=True, check=True)
    subprocess.run([DOCKER, "rmi", "-f", base], capture_output=True, check=False)


def dagger_session(work: Callable[[dagger.Client], object], log: Path | None = None) -> None:
    """Run work(dag) in one Dagger session (its progress log to log, if given)."""

    async def session() -> None:
        with (log or Path(os.devnull)).open("w") as out:
            async with dagger.connection(dagger.Config(log_output=out)):
                await work(dagger.dag)  # type: ignore[misc]

    anyio.run(session)


def session_startup() -> float:
    """Seconds to connect, ask the engine its version, and close: what every dagger command pays first."""

    async def version(dag: dagger.Client) -> None:
        await dag.version()

    start = time.monotonic()
    dagger_session(version)
    return time.monotonic() - start


def dagger_cli() -> str:
    """The dagger CLI the SDK would start: the test environment's, else the one on PATH."""
    return os.environ.get("_EXPERIMENTAL_DAGGER_CLI_BIN") or shutil.which("dagger") or sys.exit("no dagger CLI found")


def dagger_call_build(spec: RunnerSpec) -> None:
    """`dagger call … build --arch <arch>` in this checkout, as a user types it (the front door)."""
    command = [
        dagger_cli(), "call",
        "--runner-version", spec.runner_version,
        "--hooks-version", spec.hooks_version,
        "--hooks-novolume-version", spec.hooks_novolume_version,
        "--base-image", spec.base_image,
        "--runner-base-url", spec.runner_base_url,
        "--hooks-base-url", spec.hooks_base_url,
        "--runner-checksum", f"{spec.arch}={spec.runner_sha256}",
        "--hooks-checksum", str(spec.hooks_sha256),
        "--hooks-novolume-checksum", str(spec.hooks_novolume_sha256),
        "--docker-cli=false",
        "build", "--arch", spec.arch,
    ]  # fmt: skip
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
    if done.returncode:
        sys.exit(f"dagger call build failed:\n{done.stderr[-3000:]}")


@contextmanager
def cli_session() -> Iterator[dict[str, str]]:
    """A `dagger session` (what the SDK starts first), yielding its port and token once it says it is ready."""
    with subprocess.Popen(
        [dagger_cli(), "session"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    ) as proc:
        if proc.stdout is None or proc.stdin is None:
            msg = "dagger session: no pipes"  # never: both are asked for above
            raise RuntimeError(msg)
        try:
            yield json.loads(proc.stdout.readline())  # {"port": ..., "session_token": ...}
        finally:
            proc.stdin.close()  # how the SDK ends a session


def cli_session_startup() -> float:
    """Seconds until `dagger session` says it is ready, plus its close."""
    start = time.monotonic()
    with cli_session():
        pass
    return time.monotonic() - start


def engine_schema_answer() -> float:
    """Seconds the engine takes to answer the API-schema (introspection) query the Python SDK sends on connect.

    The same query as the SDK's (gql's default), sent over plain HTTP and
    timed alone: what the engine costs, without the SDK's parsing.
    """
    query = json.dumps({"query": graphql.print_ast(gql.utilities.get_introspection_query_ast())}).encode()
    with cli_session() as params:
        token = base64.b64encode(f"{params['session_token']}:".encode()).decode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{params['port']}/query",
            data=query,
            headers={"Content-Type": "application/json", "Authorization": f"Basic {token}"},
        )
        start = time.monotonic()
        with urllib.request.urlopen(request, timeout=60) as answer:  # noqa: S310 - the session's own port
            answer.read()
        return time.monotonic() - start


def docker_build(context: Path, spec: RunnerSpec, tag: str, log: Path | None = None) -> None:
    command = [
        DOCKER, "build", "--progress=plain", "--network", "host", "--platform", spec.platform, "--label", BENCH_LABEL,
        "--target", spec.layout.value, "-t", tag,
        "--build-arg", f"BASE_IMAGE={spec.base_image}",
        "--build-arg", f"RUNNER_ASSET={spec.runner_asset}",
        "--build-arg", f"HOOKS_ASSET={spec.hooks_asset}",
        "--build-arg", f"NOVOLUME_ASSET={spec.hooks_novolume_asset}",
        str(context),
    ]  # fmt: skip
    docker_or_exit(command, log)


def docker_or_exit(command: list[str], log: Path | None = None) -> None:
    """Run a docker command (BuildKit on), its stderr to log if given; exit with its stderr if it fails."""
    done = subprocess.run(
        command, env={**os.environ, "DOCKER_BUILDKIT": "1"}, capture_output=True, text=True, check=False
    )
    if log:
        log.write_text(done.stderr)
    if done.returncode:
        sys.exit(f"docker {command[1]} failed:\n{done.stderr[-3000:]}")


def docker_smoke(spec: RunnerSpec, tag: str) -> None:
    done = subprocess.run(
        [DOCKER, "run", "--rm", "--platform", spec.platform, tag, spec.contract.run_sh, "--version"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if spec.runner_version not in done.stdout.split():
        sys.exit(f"docker run {tag}: expected {spec.runner_version} in the output, found:\n{done.stdout}{done.stderr}")


# --- reports ------------------------------------------------------------------------

Results = dict[tuple[str, str], list[tuple[float, int]]]


def table(title: str, results: Results) -> None:
    print(f"\n{title}")
    print(f"{'tool':<16} {'cache':<5} {'median s':>9} {'min s':>7} {'max s':>7} {'peak MiB (median)':>18}")
    for (tool, mode), runs in sorted(results.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        secs = [r[0] for r in runs]
        mem = statistics.median(r[1] for r in runs) / 1024
        print(f"{tool:<16} {mode:<5} {statistics.median(secs):>9.1f} {min(secs):>7.1f} {max(secs):>7.1f} {mem:>18.0f}")
    for mode in ("cold", "warm"):
        ours, peer = results.get(("dagger pipeline", mode)), results.get(("docker", mode))
        if ours and peer:
            a, b = statistics.median(r[0] for r in ours), statistics.median(r[0] for r in peer)
            print(f"ratio {mode}: dagger / docker = {a / b:.2f} (difference {a - b:+.1f} s)")


_SPAN_START = re.compile(r"^(?P<id>\d+)\s*: [\s\u2506]*(?P<text>(withExec|withDirectory|withMountedFile|from) .*)$")
_SPAN_END = re.compile(r"^(?P<id>\d+)\s*: [\s\u2506]*\S+ (?P<status>DONE|CACHED|ERROR) \[")


def engine_steps(log_text: str) -> list[tuple[str, str]]:
    """(DONE|CACHED, step) for each exec, copy and pull in a Dagger progress log."""
    plain = re.sub(r"\x1b\[[0-9;]*m", "", log_text)
    started: dict[str, str] = {}
    steps = []
    for line in plain.splitlines():
        if m := _SPAN_START.match(line):
            started.setdefault(m["id"], m["text"])
        elif (m := _SPAN_END.match(line)) and m["id"] in started:
            steps.append((m["status"], started.pop(m["id"])[:110]))
    return steps


def docker_steps(log_text: str) -> list[tuple[str, str]]:
    """(DONE|CACHED, step) for each Dockerfile step in `docker build --progress=plain` output."""
    names: dict[str, str] = {}
    status: dict[str, str] = {}
    for line in log_text.splitlines():
        if m := re.match(r"^#(\d+) (\[.*)$", line):
            names.setdefault(m[1], m[2][:110])
        elif m := re.match(r"^#(\d+) (DONE|CACHED)\b", line):
            status[m[1]] = m[2]
    return [(status[i], names[i]) for i in names if i in status and "[internal]" not in names[i]]


# --- workloads ------------------------------------------------------------------------


def image_workload(args: argparse.Namespace, base: str, tmp: Path) -> None:
    with fixtures.FileServer(tmp) as server:
        spec = spec_for(base, args.arch, Layout.HOSTED, server.url)
        context, sums = write_inputs(tmp, spec, args.runner_mb)
        spec = with_sums(spec, sums)
        results: Results = {}
        startup, cli_startup, schema = [], [], []
        for _ in range(args.runs):
            for cold in (True, False):
                mode = "cold" if cold else "warm"
                if cold:
                    empty_dagger_cache()

                async def one(dag: dagger.Client) -> None:
                    await (await build(dag, spec)).sync()

                run = measure(lambda: dagger_session(one), dagger_roots)
                results.setdefault(("dagger pipeline", mode), []).append(run)
                if cold:
                    empty_docker_cache(base)
                run = measure(lambda: docker_build(context, spec, "runner-image-bench:peer"), docker_roots)
                results.setdefault(("docker", mode), []).append(run)
                print(".", end="", flush=True, file=sys.stderr)
            startup.append(session_startup())
            cli_startup.append(cli_session_startup())
            schema.append(engine_schema_answer())
        dagger_call_build(spec)  # the function's own result is cached from here on, as after any first call
        front_door = [measure(lambda: dagger_call_build(spec), dagger_roots) for _ in range(args.runs)]
    table(f"one image: hosted layout, linux/{args.arch}, runner tarball {args.runner_mb} MB, {args.runs} runs each",
          results)  # fmt: skip
    print(f"dagger session start-up (connect, one query, close): median {statistics.median(startup):.1f} s")
    print(f"  of which the dagger CLI's session (start, ready, close): median {statistics.median(cli_startup):.1f} s;")
    print(f"  the engine's answer to the API-schema query the SDK sends on every connect: median "
          f"{statistics.median(schema):.1f} s;")  # fmt: skip
    print("  the rest is the SDK's side of that query (it parses the answer) and the one query")
    secs, mem = statistics.median(r[0] for r in front_door), statistics.median(r[1] for r in front_door) / 1024
    print(f"`dagger call ... build --arch {args.arch}` (the front door), warm: median {secs:.1f} s, "
          f"min {min(r[0] for r in front_door):.1f} s, peak {mem:.0f} MiB")  # fmt: skip


def ci_workload(args: argparse.Namespace, base: str, tmp: Path) -> None:
    with fixtures.FileServer(tmp) as server:
        specs, contexts = [], {}
        for arch in ARCHES:
            hosted = spec_for(base, arch, Layout.HOSTED, server.url)
            context, sums = write_inputs(tmp, hosted, args.runner_mb)
            contexts[arch] = context
            specs += [with_sums(spec_for(base, arch, layout, server.url), sums) for layout in Layout]

        async def pipeline(dag: dagger.Client) -> None:
            await build_and_test_all(dag, specs)

        def script() -> None:
            for spec in specs:
                tag = f"runner-image-bench:{spec.arch}-{spec.layout.value}"
                docker_build(contexts[spec.arch], spec, tag)
                docker_smoke(spec, tag)

        results: Results = {}
        for _ in range(args.runs):
            for cold in (True, False):
                mode = "cold" if cold else "warm"
                if cold:
                    empty_dagger_cache()
                results.setdefault(("dagger pipeline", mode), []).append(
                    measure(lambda: dagger_session(pipeline), dagger_roots)
                )
                if cold:
                    empty_docker_cache(base)
                results.setdefault(("docker", mode), []).append(measure(script, docker_roots))
                print(".", end="", flush=True, file=sys.stderr)
    table(f"CI workload: {len(specs)} images (amd64, arm64 x hosted, minimal) built and smoke-tested, "
          f"runner tarball {args.runner_mb} MB, {args.runs} runs each", results)  # fmt: skip


def bump_workload(args: argparse.Namespace, base: str, tmp: Path) -> None:
    with fixtures.FileServer(tmp) as server:
        old = spec_for(base, args.arch, Layout.HOSTED, server.url)
        new = spec_for(base, args.arch, Layout.HOSTED, server.url, version=BUMPED)
        (old_ctx, old_sums), (new_ctx, new_sums) = (
            write_inputs(tmp, old, args.runner_mb),
            write_inputs(tmp, new, args.runner_mb),
        )
        old, new = with_sums(old, old_sums), with_sums(new, new_sums)
        log = tmp / "dagger.log"
        for spec in (old, new):

            async def one(dag: dagger.Client, spec: RunnerSpec = spec) -> None:
                await (await build(dag, spec)).sync()

            dagger_session(one, log)
        docker_build(old_ctx, old, "runner-image-bench:old")
        docker_build(new_ctx, new, "runner-image-bench:new", tmp / "docker.log")
    print(f"\nrunner bump {VERSION} -> {BUMPED}, hosted layout, linux/{args.arch}: steps of the second build")
    dagger_log, docker_log = log.read_text(), (tmp / "docker.log").read_text()
    for tool, steps in (("dagger", engine_steps(dagger_log)), ("docker", docker_steps(docker_log))):
        print(f"{tool}: {sum(s == 'DONE' for s, _ in steps)} ran again, {sum(s == 'CACHED' for s, _ in steps)} cached")
        for status, step in steps:
            print(f"  {status:<6} {step}")


def size_workload(args: argparse.Namespace, base: str, tmp: Path) -> None:
    registry = os.environ.get("RIE_REGISTRY") or sys.exit('RIE_REGISTRY unset: eval "$(bash tests/env/testenv.sh env)"')
    cache = fixture_tools.cache_path()
    repos = apt_repo.cached_apt_repos(cache)
    mirror = tmp / "mirror"
    mirror.mkdir()
    docker_version = size.write_docker_downloads(mirror, cache, args.arch, repos.buildx_version)
    ours_ref, peer_ref = f"ours-{args.arch}", f"upstream-{args.arch}"
    with fixtures.FileServer(mirror) as server:
        spec = spec_for(base, args.arch, Layout.HOSTED, server.url)
        _, sums = write_inputs(mirror, spec, args.runner_mb)
        spec = dataclasses.replace(
            with_sums(spec, sums),
            docker_cli=True,
            docker_version=repos.docker_version,
            buildx_version=repos.buildx_version,
            docker_key_fingerprint=repos.fingerprint,
        )

        async def ours(dag: dagger.Client) -> None:
            apt = dag.host().directory(str(repos.path("good")))
            await (await build(dag, spec, Archives(docker_apt_repo=apt))).publish(
                f"{registry}/{SIZE_REPOSITORY}:{ours_ref}"
            )

        dagger_session(ours)
        peer = f"{registry}/{SIZE_REPOSITORY}:{peer_ref}"
        context = tmp / "upstream-context"
        context.mkdir()
        command = size.upstream_build(
            DOCKER,
            tag=peer,
            platform=spec.platform,
            base=base,
            mirror_url=server.url,
            runner=(spec.runner_version, spec.hooks_version, spec.hooks_novolume_version),
            docker_cli=(docker_version, repos.buildx_version),
            context=context,
            label=BENCH_LABEL,
        )
        docker_or_exit(command)
    docker_or_exit([DOCKER, "push", peer])
    base_repo, _, base_tag = base.removeprefix(f"{registry}/").rpartition(":")
    lines = size.report(
        f"\nimage size, hosted layout, linux/{args.arch}: runner tarball {args.runner_mb} MB (fixture), "
        f"docker {docker_version} and buildx {repos.buildx_version} (stand-ins, see tests/bench/upstream.Dockerfile)",
        {
            "ours (pipeline)": size.image_layers(registry, SIZE_REPOSITORY, ours_ref, args.arch),
            "upstream-equivalent": size.image_layers(registry, SIZE_REPOSITORY, peer_ref, args.arch),
        },
        size.image_layers(registry, base_repo, base_tag, args.arch),
    )
    print("\n".join(lines))


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m tests.bench.bench", description=__doc__.splitlines()[0])
    p.add_argument("workload", choices=("image", "ci", "bump", "size"), nargs="?", default="image")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--arch", choices=ARCHES, default="amd64")
    p.add_argument("--runner-mb", type=int, default=130, help="size of the runner tarball (a real one is ~130 MB)")
    args = p.parse_args(argv)
    base = os.environ.get("RIE_BASE_IMAGE") or sys.exit('RIE_BASE_IMAGE unset: eval "$(bash tests/env/testenv.sh env)"')
    with tempfile.TemporaryDirectory(prefix="runner-image-bench.") as tmp:
        workloads = {"image": image_workload, "ci": ci_workload, "bump": bump_workload, "size": size_workload}
        try:
            workloads[args.workload](args, base, Path(tmp))
        finally:
            subprocess.run(
                [DOCKER, "image", "prune", "--all", "--force", "--filter", f"label={BENCH_LABEL}"],
                capture_output=True, check=False,
            )  # fmt: skip


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
