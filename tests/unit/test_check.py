"""check, the pure parts: modes, how a probe's output is judged, the table and the verdict."""

from __future__ import annotations

import re

import pytest

from pipelines.audit.chart import MODES, MODES_OF_LAYOUT, Mode, parse_mode
from pipelines.audit.modes import CHECKS, user_row, version_row
from pipelines.audit.probes import Config, Ran
from pipelines.audit.report import Report, Row, judged, verdict
from pipelines.shared.contract import Layout
from pipelines.shared.errors import CheckError
from runner_image.client.flags import parser


def config(user: str = "runner", **env: str) -> Config:
    return Config(user=user, workdir="/home/runner", env=env, entrypoint=(), default_args=(), labels={})


@pytest.mark.parametrize("value", ["kubernetes_novolume", "KUBERNETES_NOVOLUME", "Kubernetes-Novolume"])
def test_a_mode_is_taken_as_either_door_spells_it(value: str) -> None:
    assert parse_mode(value) is Mode.KUBERNETES_NOVOLUME
    assert parse_mode(Mode.DIND) is Mode.DIND


def test_an_unknown_mode_is_refused_naming_the_modes() -> None:
    with pytest.raises(CheckError, match=re.escape("mode 'dnd': expected one of default, dind, kubernetes,")):
        parse_mode("dnd")


def test_each_layout_has_its_modes_and_every_mode_a_layout() -> None:
    assert sorted(m for modes in MODES_OF_LAYOUT.values() for m in modes) == sorted(Mode)
    assert MODES_OF_LAYOUT[Layout.MINIMAL] == (Mode.MINIMAL,)


def test_mode_members_are_what_dagger_call_takes_and_values_the_charts_names() -> None:
    for mode in Mode:
        assert re.fullmatch(r"[A-Z][A-Z0-9_]*", mode.name)  # kept as is by the engine
        assert mode.name.lower().replace("_", "-") == mode.value
    assert MODES == ("default", "dind", "kubernetes", "kubernetes-novolume", "minimal")


@pytest.mark.parametrize("value", ["kubernetes_novolume", "KUBERNETES-NOVOLUME"])
def test_client_mode_takes_a_mode_as_dagger_call_does_and_as_the_chart_names_it(value: str) -> None:
    args = parser().parse_args(["check", "--image", "r/i:t", "--mode", value, "--mode", "DIND"])
    assert args.modes == ["kubernetes-novolume", "dind"]
    with pytest.raises(SystemExit):
        parser().parse_args(["check", "--image", "r/i:t", "--mode", "dnd"])


@pytest.mark.parametrize(
    ("ran", "expected", "passed", "found"),
    [
        (Ran(code=0, out="2.398.3\nExiting runner..."), "2.398.3", True, "2.398.3"),
        (Ran(code=0, out="2.398.3"), None, True, "2.398.3"),
        (Ran(code=0, out="2.300.0"), "2.398.3", False, "printed 2.300.0, the label says 2.398.3"),
        (Ran(code=0, out="Must not run interactively with sudo\nExiting runner..."), None, False, "0 version lines"),
        (Ran(code=0, out="2.398.3\n2.398.3"), None, False, "2 version lines (exit 0)"),
        (Ran(code=0, out="v2.398.3 2.398.3-beta"), None, False, "0 version lines"),
        (Ran(code=None, out="exec format error"), None, False, "could not run: exec format error"),
    ],
)
def test_run_sh_must_print_exactly_one_version_line(ran: Ran, expected: str | None, passed: bool, found: str) -> None:
    row = version_row(Mode.DEFAULT, ran, expected, check="run.sh --version")
    assert row.passed is passed
    assert row.found.startswith(found)
    assert bool(row.needs) is not passed  # what the chart needs, on failure only


def test_root_needs_runasroot_and_anyone_else_passes() -> None:
    assert user_row(Mode.DEFAULT, config(), Ran(code=0, out="1001")).found == "runner (uid 1001)"
    refused = user_row(Mode.DEFAULT, config("root"), Ran(code=0, out="0"))
    assert (refused.passed, refused.found) == (False, "root (uid 0) without RUNNER_ALLOW_RUNASROOT")
    assert "RUNNER_ALLOW_RUNASROOT=1" in refused.needs
    allowed = user_row(Mode.MINIMAL, config("", RUNNER_ALLOW_RUNASROOT="1"), Ran(code=0, out="0"))
    assert (allowed.passed, allowed.found) == (True, "(none: root) (uid 0), RUNNER_ALLOW_RUNASROOT set")
    broken = user_row(Mode.DEFAULT, config("ghost"), Ran(code=1, out="id: cannot find name for user ID 4242"))
    assert broken.passed is False
    assert "id -u failed" in broken.found


def report(*rows: Row) -> Report:
    return Report(image="r/i:t (linux/amd64)", layout=Layout.HOSTED, rows=rows)


def test_the_table_has_one_row_per_check_and_says_what_is_needed_only_on_failure() -> None:
    text = report(
        judged(Mode.DEFAULT, "WORKDIR", True, "/home/runner", "never shown"),
        judged(Mode.DIND, "docker CLI", False, "sh: docker: not found | x", "docker on PATH"),
        Row(mode=Mode.DIND, check="daemon via socket", passed=None, found="no --docker-socket given"),
    ).render()
    assert (
        text.splitlines()[0] == "check r/i:t (linux/amd64) (hosted layout; modes default, dind): 1 of 3 checks failed"
    )
    assert "| default | WORKDIR | pass | /home/runner | — |" in text
    assert "| dind | docker CLI | FAIL | sh: docker: not found \\| x | docker on PATH |" in text
    assert "| dind | daemon via socket | not run | no --docker-socket given | — |" in text
    assert "never shown" not in text


def test_long_output_keeps_its_end_on_one_line() -> None:
    row = judged(Mode.DEFAULT, "run.sh --version", False, "x" * 1000 + "\nthe end", "one line")
    cell = report(row).render().splitlines()[-1].split(" | ")[3]
    assert cell.startswith("…")
    assert cell.endswith("the end")
    assert len(cell) <= 301


def test_the_verdict_is_the_table_or_an_error_holding_it() -> None:
    good = report(judged(Mode.DEFAULT, "WORKDIR", True, "/home/runner", ""))
    assert verdict(good) == good.render()
    assert "every check passed" in verdict(good)
    bad = report(judged(Mode.DEFAULT, "WORKDIR", False, "/", "/home/runner"))
    with pytest.raises(CheckError) as caught:
        verdict(bad)
    assert str(caught.value).startswith("check: r/i:t (linux/amd64): 1 of 1 checks failed\n\n")
    assert bad.render() in str(caught.value)


def test_every_mode_declares_its_rows() -> None:
    assert set(CHECKS) == set(Mode)
    assert all(CHECKS[mode] and len(set(CHECKS[mode])) == len(CHECKS[mode]) for mode in Mode)
