"""Time and memory of the Dagger pipeline next to `docker build` of the same image.

    sudo bash ci/testenv.sh up && eval "$(bash ci/testenv.sh env)"
    python -m ci.bench.bench [--runs 3] [--arch amd64] [--runner-mb 130]

Both sides build the hosted layout for one arch from the same local base image
and the same archives (a fixture runner tarball padded with incompressible
bytes to the size of a real one, and the hooks zips), verify the SHA-256
before unpacking, and install the same packages from the same Debian mirror.
"cold" empties the build cache first (the engine's, or BuildKit's in dockerd,
and the pulled base); "warm" runs again on a full cache. Peak memory is the
largest sum of resident memory, sampled every 0.2 s, over the processes doing
the work: the engine container's process tree plus the client for Dagger;
dockerd and containerd with their children plus the docker CLI for the peer.
Prints a table; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import anyio
import dagger

from pipelines.build import build
from pipelines.spec import Layout, RunnerSpec
from tests.engine import fixtures

HERE = Path(__file__).parent
DOCKER = "/usr/bin/docker"  # Debian's client, matching Debian's dockerd
VERSION, HOOKS, HOOKS_NOVOLUME = "2.399.1", "0.7.9", "0.9.2"


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
    host = os.environ["_EXPERIMENTAL_DAGGER_RUNNER_HOST"].removeprefix("docker-container://")
    out = subprocess.run([DOCKER, "inspect", "-f", "{{.State.Pid}}", host], capture_output=True, text=True, check=True)
    return int(out.stdout)


# --- the two builds ------------------------------------------------------------


def make_inputs(root: Path, arch: str, runner_mb: int) -> dict[str, Path]:
    runner_arch = {"amd64": "x64", "arm64": "arm64"}[arch]
    names = {
        "runner": f"actions-runner-linux-{runner_arch}-{VERSION}.tar.gz",
        "hooks": f"actions-runner-hooks-k8s-{HOOKS}.zip",
        "novolume": f"actions-runner-hooks-k8s-{HOOKS_NOVOLUME}.zip",
    }
    data = {
        "runner": fixtures.runner_tarball(VERSION, runner_arch, padding=os.urandom(runner_mb * 1024 * 1024)),
        "hooks": fixtures.hooks_zip(HOOKS),
        "novolume": fixtures.hooks_zip(HOOKS_NOVOLUME),
    }
    paths = {}
    for key, name in names.items():
        (root / name).write_bytes(data[key])
        paths[key] = root / name
    sums = "".join(f"{fixtures.sha256(data[k])}  {names[k]}\n" for k in names)
    (root / "SHA256SUMS").write_text(sums)
    shutil.copy(HERE / "Dockerfile", root / "Dockerfile")
    return paths


async def dagger_build(spec: RunnerSpec, paths: dict[str, Path], *, cold: bool) -> tuple[float, int]:
    if cold:
        async with dagger.connection(dagger.Config(log_output=open(os.devnull, "w"))):  # noqa: ASYNC230
            await dagger.dag.engine().local_cache().prune()
    roots = lambda: [engine_pid(), os.getpid()]  # noqa: E731 - the client's children are in os.getpid()'s tree
    with peak_memory(roots) as peak:
        start = time.monotonic()
        async with dagger.connection(dagger.Config(log_output=open(os.devnull, "w"))):  # noqa: ASYNC230
            dag = dagger.dag
            files = {k: dag.host().file(str(p)) for k, p in paths.items()}
            ctr = await build(dag, spec, files["runner"], files["hooks"], files["novolume"])
            await ctr.sync()
        elapsed = time.monotonic() - start
    return elapsed, peak[0]


def docker_build(context: Path, spec: RunnerSpec, paths: dict[str, Path], *, cold: bool) -> tuple[float, int]:
    if cold:
        subprocess.run([DOCKER, "builder", "prune", "-af"], capture_output=True, check=True)
        subprocess.run([DOCKER, "rmi", "-f", spec.base_image], capture_output=True, check=False)
    command = [
        DOCKER, "build", "--network", "host", "--platform", spec.platform, "-t", "runner-image-bench:peer",
        "--build-arg", f"BASE_IMAGE={spec.base_image}",
        "--build-arg", f"RUNNER_ASSET={paths['runner'].name}",
        "--build-arg", f"HOOKS_ASSET={paths['hooks'].name}",
        "--build-arg", f"NOVOLUME_ASSET={paths['novolume'].name}",
        str(context),
    ]  # fmt: skip
    roots = lambda: pidof("dockerd") + pidof("containerd") + [os.getpid()]  # noqa: E731
    with peak_memory(roots) as peak:
        start = time.monotonic()
        subprocess.run(command, env={**os.environ, "DOCKER_BUILDKIT": "1"}, capture_output=True, check=True)
        elapsed = time.monotonic() - start
    return elapsed, peak[0]


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m ci.bench.bench", description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--arch", choices=("amd64", "arm64"), default="amd64")
    p.add_argument("--runner-mb", type=int, default=130, help="size of the runner tarball (a real one is ~130 MB)")
    args = p.parse_args(argv)
    base = os.environ.get("RIE_BASE_IMAGE") or sys.exit('RIE_BASE_IMAGE unset: eval "$(bash ci/testenv.sh env)"')
    with tempfile.TemporaryDirectory(prefix="runner-image-bench.") as tmp:
        context = Path(tmp)
        paths = make_inputs(context, args.arch, args.runner_mb)
        sums = {
            name: digest
            for digest, name in (line.split() for line in (context / "SHA256SUMS").read_text().splitlines())
        }
        spec = RunnerSpec(
            runner_version=VERSION,
            hooks_version=HOOKS,
            hooks_novolume_version=HOOKS_NOVOLUME,
            arch=args.arch,
            base_image=base,
            layout=Layout.HOSTED,
            runner_sha256=sums[paths["runner"].name],
            hooks_sha256=sums[paths["hooks"].name],
            hooks_novolume_sha256=sums[paths["novolume"].name],
        )
        results: dict[tuple[str, str], list[tuple[float, int]]] = {}
        for _ in range(args.runs):
            for cold in (True, False):
                mode = "cold" if cold else "warm"
                results.setdefault(("dagger pipeline", mode), []).append(
                    anyio.run(lambda c=cold: dagger_build(spec, paths, cold=c))
                )
                results.setdefault(("docker build", mode), []).append(docker_build(context, spec, paths, cold=cold))
                print(".", end="", flush=True, file=sys.stderr)
    print(f"\nhosted layout, linux/{args.arch}, runner tarball {args.runner_mb} MB, {args.runs} runs each")
    print(f"{'tool':<16} {'cache':<5} {'median s':>9} {'min s':>7} {'max s':>7} {'peak MiB (median)':>18}")
    for (tool, mode), runs in sorted(results.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        secs = [r[0] for r in runs]
        mem = statistics.median(r[1] for r in runs) / 1024
        print(f"{tool:<16} {mode:<5} {statistics.median(secs):>9.1f} {min(secs):>7.1f} {max(secs):>7.1f} {mem:>18.0f}")


if __name__ == "__main__":
    main()
