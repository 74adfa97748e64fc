"""What each test costs the machine: its wall time and the CPU time of the whole machine while it ran.

    eval "$(bash tests/env/testenv.sh env)"
    python3 -m pytest -p tests.bench.cpu_per_test -n 0 tests/engine

Run it in one process (`-n 0`) on an otherwise idle machine: the CPU counted
is every process's (/proc/stat's busy time), so it takes in the engine, its
exec containers, dockerd and the registries that a test drives, not only
pytest's own. A test's first use of a module-scoped fixture pays its set-up.
At the end it prints the 25 dearest tests and each file's sums; with
RIE_CPU_PER_TEST=PATH it also writes every test's line to PATH (tab-separated:
test, wall seconds, CPU seconds). Why it exists: the suite is bound by the two
cores (docs/test-environment.md), so CPU, not wall time alone, says where a
run's time goes. It times; it asserts nothing.
"""

from __future__ import annotations

import collections
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

DEAREST = 25
_costs: list[tuple[str, float, float]] = []


def busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy since boot (everything but idle and iowait)."""
    with open("/proc/stat", encoding="ascii") as stat:
        ticks = [int(field) for field in stat.readline().split()[1:]]
    idle, iowait = ticks[3], ticks[4]
    return (sum(ticks) - idle - iowait) / os.sysconf("SC_CLK_TCK")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """Set-up, call and teardown of one test, counted together."""
    cpu, wall = busy_seconds(), time.monotonic()
    yield
    _costs.append((item.nodeid, time.monotonic() - wall, busy_seconds() - cpu))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _costs:
        return
    write = terminalreporter.write_line
    if path := os.environ.get("RIE_CPU_PER_TEST"):
        Path(path).write_text("".join(f"{n}\t{w:.1f}\t{c:.1f}\n" for n, w, c in _costs), encoding="utf-8")
    terminalreporter.section(f"the {DEAREST} tests that cost the most CPU (machine-wide)")
    write(f"{'cpu s':>8} {'wall s':>8}  test")
    for nodeid, wall, cpu in sorted(_costs, key=lambda cost: -cost[2])[:DEAREST]:
        write(f"{cpu:8.1f} {wall:8.1f}  {nodeid}")
    terminalreporter.section("each file's sums")
    files: dict[str, list[float]] = collections.defaultdict(lambda: [0, 0.0, 0.0])
    for nodeid, wall, cpu in _costs:
        sums = files[nodeid.split("::")[0]]
        sums[0], sums[1], sums[2] = sums[0] + 1, sums[1] + wall, sums[2] + cpu
    write(f"{'cpu s':>8} {'wall s':>8} {'tests':>6}  file")
    for name, (count, wall, cpu) in sorted(files.items(), key=lambda entry: -entry[1][2]):
        write(f"{cpu:8.1f} {wall:8.1f} {int(count):6d}  {name}")
    wall, cpu = sum(c[1] for c in _costs), sum(c[2] for c in _costs)
    write(f"{cpu:8.1f} {wall:8.1f} {len(_costs):6d}  in all")
