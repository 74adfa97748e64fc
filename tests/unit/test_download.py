"""Download retry rules, engine-free: which engine errors are transient, the policy's bounds, the loop.

The engine's messages below are the ones Dagger 0.21.8 gave for each fault in
tests/engine/test_download_faults.py (core/http.go words them).
"""

from __future__ import annotations

import math

import anyio
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipelines.network.download import (
    DEFAULT_POLICY,
    MAX_ATTEMPTS,
    DownloadPolicy,
    GaveUp,
    current_policy,
    download_policy,
    is_transient,
    with_retries,
)
from pipelines.shared.errors import InvalidSpecError
from runner_image.client.flags import parser

TRANSIENT = [
    "invalid response status 503 Service Unavailable",
    "invalid response status 500 Internal Server Error",
    "invalid response status 502 Bad Gateway",
    "invalid response status 429 Too Many Requests",
    "invalid response status 408 Request Timeout",
    "file write failed: read tcp 127.0.0.1:53262->127.0.0.1:34463: read: connection reset by peer",
    "file write failed: unexpected EOF",
]
PERMANENT = [
    "invalid response status 404 Not Found",
    "invalid response status 403 Forbidden",
    "invalid response status 401 Unauthorized",
    'Get "http://127.0.0.1:9/x": dial tcp 127.0.0.1:9: connect: connection refused',
    'Get "http://mirror.invalid/x": dial tcp: lookup mirror.invalid: no such host',
    "http checksum mismatch: expected sha256:aa, got sha256:bb",
]


@pytest.mark.parametrize("error", TRANSIENT)
def test_transient_errors_are_retried(error: str) -> None:
    assert is_transient(error)


@pytest.mark.parametrize("error", PERMANENT)
def test_permanent_errors_are_not(error: str) -> None:
    assert not is_transient(error)


@given(st.integers(100, 599))
def test_only_5xx_408_and_429_statuses_are_transient(code: int) -> None:
    assert is_transient(f"invalid response status {code} Whatever") == (code >= 500 or code in {408, 429})


# --- the policy is bounded --------------------------------------------------------
@given(
    attempts=st.integers(1, MAX_ATTEMPTS),
    timeout=st.floats(0.001, 3600),
    backoff=st.floats(0, 30),
)
def test_every_valid_policy_bounds_the_whole_download(attempts: int, timeout: float, backoff: float) -> None:
    policy = DownloadPolicy(attempts=attempts, timeout=timeout, backoff=backoff)
    pauses = policy.pauses()
    assert len(pauses) == attempts - 1
    assert all(0 <= p <= policy.max_backoff for p in pauses)
    assert pauses == sorted(pauses)  # backoff grows, never shrinks
    assert math.isfinite(policy.longest)
    assert policy.longest <= attempts * timeout + (attempts - 1) * policy.max_backoff + 1e-6


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"attempts": 0}, "download attempts 0: expected 1 to 10"),
        ({"attempts": 11}, "download attempts 11: expected 1 to 10"),
        ({"timeout": 0}, "download timeout 0 s: expected more than 0"),
        ({"timeout": math.inf}, "download timeout inf s"),
        ({"timeout": math.nan}, "download timeout nan s"),
        ({"backoff": -1}, "download backoff -1/30 s"),
    ],
)
def test_unbounded_policies_are_refused(changes: dict[str, float], says: str) -> None:
    with pytest.raises(InvalidSpecError, match=says):
        DownloadPolicy(**changes)  # type: ignore[arg-type]


def test_cli_flags_set_the_policy_and_default_to_it() -> None:
    args = parser().parse_args(["build", "--download-attempts", "2", "--download-timeout", "7.5"])
    assert (args.download_attempts, args.download_timeout) == (2, 7.5)
    args = parser().parse_args(["publish", "--address", "o/r:1"])
    assert (args.download_attempts, args.download_timeout) == (DEFAULT_POLICY.attempts, DEFAULT_POLICY.timeout)


def test_download_policy_block_sets_and_restores() -> None:
    assert current_policy() is DEFAULT_POLICY
    quick = DownloadPolicy(attempts=1, timeout=1)
    with download_policy(quick):
        assert current_policy() is quick
    assert current_policy() is DEFAULT_POLICY


# --- the loop -----------------------------------------------------------------------
@pytest.mark.anyio
async def test_a_stalled_attempt_is_cut_at_the_limit_and_retried_a_bounded_number_of_times() -> None:
    calls: list[int] = []

    async def stalls() -> str:
        calls.append(1)
        await anyio.sleep_forever()
        return "never"

    policy = DownloadPolicy(attempts=3, timeout=0.01, backoff=0)
    with pytest.raises(GaveUp) as caught:
        await with_retries(stalls, what="x", policy=policy)
    assert len(calls) == 3
    assert caught.value.failures == ["no complete answer within the 0.01 s limit (--download-timeout)"] * 3
    assert "gave up after 3 attempt(s)" in str(caught.value)


@pytest.mark.anyio
async def test_a_later_success_is_returned() -> None:
    calls: list[int] = []

    async def second_time_lucky() -> str:
        calls.append(1)
        if len(calls) == 1:
            await anyio.sleep_forever()
        return "body"

    policy = DownloadPolicy(attempts=2, timeout=0.01, backoff=0)
    assert await with_retries(second_time_lucky, what="x", policy=policy) == "body"
    assert len(calls) == 2


@pytest.mark.anyio
async def test_other_errors_are_not_retried() -> None:
    calls: list[int] = []

    async def broken() -> str:
        calls.append(1)
        msg = "not a download failure"
        raise KeyError(msg)

    with pytest.raises(KeyError):
        await with_retries(broken, what="x", policy=DownloadPolicy(attempts=5, backoff=0))
    assert len(calls) == 1
