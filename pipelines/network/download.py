"""Bounded retries and a time limit for downloads through the engine.

What Dagger 0.21.8 does itself (read in core/http.go, ``HTTPState.Resolve``
and ``writeHTTPStateSnapshot``; tried in tests/engine/test_download_faults.py):
one GET per call, no retry; any status but 200/304 fails the call with
"invalid response status 503 Service Unavailable"; a reset or a body shorter
than its Content-Length fails it with "file write failed: ..."; a body cut
short *without* a Content-Length is accepted as it is (only a checksum
catches it); and no timeout at all, so a stalled server holds the call
forever. A failed call is not cached: calling again asks the server again,
and cancelling the call on our side ends the engine's request too.

Publishing (``Container.publish``; engine/server/resolver/resolver.go,
``PushImage``) does not retry either: a 5xx or a dropped connection on a blob
or manifest upload fails the call (a 5xx shows as "short read: ... unexpected
EOF"), and calling again pushes what the registry still lacks.

So this module adds only what is missing: a time limit per attempt, and
retries with exponential backoff for failures that a second try can fix (5xx,
408, 429, reset, cut body, timeout). A 404, a refused connection, an unknown
host and a checksum mismatch are not retried: trying again gives the same
answer. Attempts and pauses are bounded, so the whole download is too.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import hashlib
import logging
import re
from collections.abc import Awaitable, Callable, Iterator
from typing import TypeVar

import anyio
import dagger

from pipelines.shared.errors import InvalidSpecError

logger = logging.getLogger(__name__)
T = TypeVar("T")

MAX_ATTEMPTS = 10
MAX_TIMEOUT = 3600.0  # seconds; one attempt, a ~130 MB tarball over a very slow link
# The engine's wording for an HTTP answer other than 200/304, with the status text when it gives one.
_STATUS = re.compile(r"invalid response status (?P<code>[0-9]{3})\b(?: (?P<text>[A-Za-z ]+))?")
_RETRY_STATUS = frozenset({408, 429})  # timeout and rate limit: the server asks to come back
# Go's net/http wording for a connection that died or a body that ended early.
_DROPPED = ("connection reset", "unexpected EOF", "broken pipe", "i/o timeout", "TLS handshake timeout")


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class DownloadPolicy:
    """How hard to try one download: attempts, a time limit for each, pauses between them."""

    attempts: int = 4
    """Tries in all, the first included (1 = no retry)."""
    timeout: float = 900.0
    """Seconds one attempt may take, from request to last byte."""
    backoff: float = 2.0
    """Seconds before the first retry; doubled for each next one."""
    max_backoff: float = 30.0
    """No pause is longer than this."""

    def __post_init__(self) -> None:
        if not 1 <= self.attempts <= MAX_ATTEMPTS:
            msg = f"download attempts {self.attempts}: expected 1 to {MAX_ATTEMPTS} (1 means no retry)"
            raise InvalidSpecError(msg)
        if not 0 < self.timeout <= MAX_TIMEOUT:
            msg = f"download timeout {self.timeout:g} s: expected more than 0 and at most {MAX_TIMEOUT:g} seconds"
            raise InvalidSpecError(msg)
        if not 0 <= self.backoff <= self.max_backoff <= 300:
            msg = f"download backoff {self.backoff:g}/{self.max_backoff:g} s: expected 0 <= backoff <= max <= 300"
            raise InvalidSpecError(msg)

    def pauses(self) -> list[float]:
        """The pause before each retry, in order (one fewer than attempts)."""
        return [min(self.backoff * 2**n, self.max_backoff) for n in range(self.attempts - 1)]

    @property
    def longest(self) -> float:
        """The most time a download can take under this policy, in seconds."""
        return self.attempts * self.timeout + sum(self.pauses())


def http_status(error: str) -> tuple[int, str] | None:
    """The HTTP status code and text (possibly empty) an engine error about a download reports, if any."""
    status = _STATUS.search(error)
    return None if status is None else (int(status["code"]), (status["text"] or "").strip())


def is_transient(error: str) -> bool:
    """Whether an engine error about an HTTP download may go away if tried again."""
    status = http_status(error)
    if status is not None:
        code = status[0]
        return code >= 500 or code in _RETRY_STATUS
    return any(word in error for word in _DROPPED)


class GaveUp(Exception):  # noqa: N818 - reads as what happened
    """Every attempt failed transiently; the message lists what each one got."""

    def __init__(self, failures: list[str], policy: DownloadPolicy) -> None:
        self.failures = failures
        summary = "; ".join(f"attempt {n}: {reason}" for n, reason in enumerate(failures, 1))
        super().__init__(f"{failures[-1]} (gave up after {len(failures)} attempt(s): {summary})")
        self.policy = policy


async def with_retries(
    attempt: Callable[[], Awaitable[T]],
    *,
    what: str,
    policy: DownloadPolicy,
    limit_flag: str = "--download-timeout",
) -> T:
    """attempt() until it succeeds; retried only on transient failures, within the policy's bounds.

    A permanent dagger.QueryError is raised at once; GaveUp when the attempts are spent.
    limit_flag names the setting of the time limit in the message of a timeout.
    """
    failures: list[str] = []
    pauses = [*policy.pauses(), 0.0]
    for number in range(1, policy.attempts + 1):
        try:
            with anyio.fail_after(policy.timeout):
                return await attempt()
        except TimeoutError:
            failures.append(f"no complete answer within the {policy.timeout:g} s limit ({limit_flag})")
        except dagger.QueryError as e:
            if not is_transient(str(e)):
                raise
            failures.append(str(e).strip())
        if number < policy.attempts:
            logger.warning(
                "%s: attempt %d of %d failed (%s); retrying in %g s",
                what,
                number,
                policy.attempts,
                failures[-1],
                pauses[number - 1],
            )
            await anyio.sleep(pauses[number - 1])
    raise GaveUp(failures, policy)


DEFAULT_POLICY = DownloadPolicy()
# A context variable for the reason upstream.py gives for the token: the policy is a setting of the
# whole call (client mode's --download-attempts and --download-timeout; the defaults through `dagger
# call`), read only where a download starts, several stages down; tasks started inside inherit it.
_POLICY: contextvars.ContextVar[DownloadPolicy] = contextvars.ContextVar("download_policy", default=DEFAULT_POLICY)


def current_policy() -> DownloadPolicy:
    """The policy set by the innermost ``download_policy`` block, else the defaults."""
    return _POLICY.get()


@contextlib.contextmanager
def download_policy(policy: DownloadPolicy) -> Iterator[DownloadPolicy]:
    """Use policy for every download started inside the block (tasks started inside inherit it)."""
    token = _POLICY.set(policy)
    try:
        yield policy
    finally:
        _POLICY.reset(token)


# How the engine hashes a download (read in the 0.21.8 engine, core/file.go): with
# exclude_metadata=True, File.digest hashes the content with SHA-256, then returns
# digest.FromBytes(sum), the SHA-256 *of the 32-byte sum*. Without exclude_metadata it is
# BuildKit's content hash, which mixes in file metadata and is useless here. Dagger documents
# the format as unstable between releases, so the plain sha256:S is accepted too.
def engine_digest(sha256_hex: str) -> str:
    """What ``File.digest(exclude_metadata=True)`` answers in Dagger 0.21.8 for this content sum."""
    return "sha256:" + hashlib.sha256(bytes.fromhex(sha256_hex)).hexdigest()


def digest_matches(found: str, sha256_hex: str) -> bool:
    """Whether an engine digest is that of content with SHA-256 ``sha256_hex``."""
    return found in {engine_digest(sha256_hex), f"sha256:{sha256_hex}"}


async def downloaded(
    client: dagger.Client, url: str, *, what: str, policy: DownloadPolicy | None = None
) -> tuple[dagger.File, str]:
    """url's File and its engine digest, retried within policy (else the current one). Awaiting the digest is
    what makes the engine fetch; a failed fetch is not cached, so each attempt asks the server again."""

    async def attempt() -> tuple[dagger.File, str]:
        file = client.http(url)
        return file, await file.digest(exclude_metadata=True)

    return await with_retries(attempt, what=what, policy=policy or current_policy())
