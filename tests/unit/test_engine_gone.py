"""Telling "the engine went away" from every other failure, engine-free.

The last test runs `python -m pipelines` against an address where nothing
listens: it needs the dagger CLI (the SDK starts its session through it) but
no engine. The CLI is the one the test environment exports, or `dagger` on
PATH; missing, it fails the run under CI=true and is skipped elsewhere.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import dagger
import pytest
from gql.transport.exceptions import TransportConnectionFailed

from pipelines.shared.errors import DownloadError
from runner_image.client.flags import parser
from runner_image.client.session import (
    ENGINE_GONE_EXIT,
    EngineUnreachable,
    engine_gone,
    engine_gone_message,
    engine_unreachable_message,
)
from tests.tools import found_or_stop


@pytest.mark.parametrize(
    "error",
    [
        TransportConnectionFailed("connection refused"),
        dagger.ClientConnectionError("could not connect"),
        dagger.SessionError("session ended"),
        ExceptionGroup("build", [ExceptionGroup("fetch", [TransportConnectionFailed("reset")])]),
    ],
    ids=["gql-transport", "client-connection", "session", "nested-group"],
)
def test_transport_failures_are_engine_gone(error: Exception) -> None:
    gone = engine_gone(error)
    assert gone is not None
    assert not isinstance(gone, BaseExceptionGroup)


@pytest.mark.parametrize(
    "error",
    [
        DownloadError("x: could not read y"),
        ValueError("a bug"),
        ExceptionGroup("g", [KeyError("k"), ValueError("v")]),
    ],
    ids=["our-error", "a-bug", "group-of-bugs"],
)
def test_other_failures_are_not(error: Exception) -> None:
    assert engine_gone(error) is None


def test_message_says_what_happened_and_what_to_do() -> None:
    message = engine_gone_message(TransportConnectionFailed("connection reset by peer\nmore"))
    assert message.startswith("error: engine: lost the connection to the Dagger engine (TransportConnectionFailed: ")
    assert "connection reset by peer" in message
    assert "more" not in message  # one line
    assert "run the same command again" in message
    assert "dagger core version" in message


def test_an_unreachable_engine_names_the_limit_the_address_and_what_to_check(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("_EXPERIMENTAL_DAGGER_RUNNER_HOST", "tcp://127.0.0.1:9")
    message = engine_unreachable_message(5.0, EngineUnreachable(5.0))
    assert message.startswith("error: engine: expected a Dagger engine to answer within 5 s (--engine-timeout)")
    assert "found none at _EXPERIMENTAL_DAGGER_RUNNER_HOST=tcp://127.0.0.1:9." in message
    assert "raise --engine-timeout" in message
    exited = engine_unreachable_message(60.0, EngineUnreachable("dagger session exited with code 1"))
    assert "(dagger session exited with code 1; its own error is above)" in exited


def test_engine_timeout_is_checked_by_the_parser() -> None:
    assert parser().parse_args(["--engine-timeout", "5", "ci"]).engine_timeout == 5.0
    assert parser().parse_args(["ci"]).engine_timeout == 60.0
    for bad in ("0", "-1", "soon", "3601"):
        with pytest.raises(SystemExit):
            parser().parse_args(["--engine-timeout", bad, "ci"])


def dagger_cli() -> str:
    found = os.environ.get("_EXPERIMENTAL_DAGGER_CLI_BIN") or shutil.which("dagger")
    reason = "no dagger CLI: set _EXPERIMENTAL_DAGGER_CLI_BIN or put dagger on PATH (testenv.sh up builds one)"
    return found_or_stop(found, reason)


def test_an_engine_unreachable_from_the_start_fails_within_the_limit() -> None:
    """Nothing listens at the runner host: the run ends after --engine-timeout, not after dagger's ~10 minutes."""
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DAGGER_SESSION_PORT", "DAGGER_SESSION_TOKEN")},
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
        "_EXPERIMENTAL_DAGGER_CLI_BIN": dagger_cli(),
        "_EXPERIMENTAL_DAGGER_RUNNER_HOST": "tcp://127.0.0.1:9",
    }
    command = [sys.executable, "-m", "pipelines", "--engine-timeout", "5", "smoke-test", "--no-docker-cli"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == ENGINE_GONE_EXIT, done.stderr[-3000:]
    expected = "error: engine: expected a Dagger engine to answer within 5 s (--engine-timeout)"
    assert expected in done.stderr, done.stderr[-3000:]
    assert "_EXPERIMENTAL_DAGGER_RUNNER_HOST=tcp://127.0.0.1:9" in done.stderr
    assert "Traceback" not in done.stderr
