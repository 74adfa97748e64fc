"""check's shell probes, bounded in time: one that runs out is run once more, then reported so."""

from __future__ import annotations

import dagger
import pytest

from pipelines.audit.probes import RETRY_ENV, TIMED_OUT, probe

pytestmark = pytest.mark.anyio


async def test_a_probe_that_runs_out_is_run_once_more_then_named(dag: dagger.Client, base_image: str) -> None:
    """A 2 s limit: one snippet hangs only on its first run, one always, one deaf to SIGTERM (KILL ends it)."""
    found = await probe(
        dag.container().from_(base_image),
        {
            "quick": "echo quick",
            "once": f'[ -n "${RETRY_ENV}" ] || sleep 60; echo second run',
            "stuck": "sleep 60",
            "deaf": 'trap "" TERM; sleep 60',
        },
        limit=2,
    )
    assert (found["quick"].code, found["quick"].out) == (0, "quick")
    assert (found["once"].code, found["once"].out) == (0, "second run")
    assert found["stuck"].code == 124, found["stuck"]
    assert found["deaf"].code == 137, found["deaf"]  # TERM ignored: KILL 5 s later
    for name in ("stuck", "deaf"):
        assert found[name].code in TIMED_OUT
        assert found[name].out.endswith("(did not finish within 2 s, twice)"), found[name]


async def test_an_image_without_timeout_runs_its_probes_unbounded(dag: dagger.Client, base_image: str) -> None:
    ctr = dag.container().from_(base_image).with_exec(["rm", "/usr/bin/timeout"])
    found = await probe(ctr, {"plain": "command -v timeout || echo no timeout; exit 3"}, limit=2)
    assert (found["plain"].code, found["plain"].out) == (3, "no timeout")
