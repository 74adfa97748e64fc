"""Telling "the engine went away" from every other failure, engine-free."""

from __future__ import annotations

import dagger
import pytest
from gql.transport.exceptions import TransportConnectionFailed

from pipelines.cli import engine_gone, engine_gone_message
from pipelines.errors import DownloadError


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
