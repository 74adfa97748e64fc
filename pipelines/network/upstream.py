"""Reading upstream's sources through the engine: GitHub's REST API and plain index files.

Every read goes through ``Client.http`` (the engine makes the request, so a
mirror or fixture on the engine's loopback works as github.com does), with the
download module's bounded retries for 5xx, 429 and dropped connections.

GitHub allows 60 anonymous API requests an hour per IP, and hosted runners
share IPs: a token (``--github-token``, a Dagger secret) is sent as the
Authorization header of every API read when given. When a read fails, the
error names the URL, what went wrong (unknown host, refused, rate limit and
when it resets, not found, server errors) and the ways out.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime
import json
from collections.abc import Iterator

import dagger

from pipelines.network.download import GaveUp, current_policy, http_status, with_retries
from pipelines.shared.errors import UpstreamError

# The token travels as a context variable, set once around a whole call (RunnerImage.handled, in
# either door): every GitHub API read sits at the leaves of the call tree (a build's published sums,
# updates' release lists), several stages below the function that was given it, and none of the stages
# between has any other use for it. Threading it through their signatures would add a parameter to
# each stage for one leaf; tasks started inside the block inherit it, as the concurrent stages are.
_TOKEN: contextvars.ContextVar[dagger.Secret | None] = contextvars.ContextVar("github_token", default=None)
RATE_LIMIT_PATH = "/rate_limit"  # GitHub answers it without counting it against the limit
API_WAYS_OUT = (
    "pass --github-token env://GITHUB_TOKEN (5,000 requests an hour instead of 60 per IP), "
    "or point --github-api-url at a reachable mirror of the API"
)


@contextlib.contextmanager
def github_token(secret: dagger.Secret | None) -> Iterator[None]:
    """Send secret as the token of every GitHub API read started inside the block."""
    reset = _TOKEN.set(secret)
    try:
        yield
    finally:
        _TOKEN.reset(reset)


async def _auth_header(client: dagger.Client) -> dagger.Secret | None:
    token = _TOKEN.get()
    if token is None:
        return None
    # The engine sends the secret as the whole header value; the plaintext stays in this process's memory.
    return client.set_secret("runner-image-github-authorization", f"Bearer {(await token.plaintext()).strip()}")


def cause(error: BaseException) -> str:
    """What went wrong with one read, in words a reader can act on (from the engine's Go error text)."""
    text = str(error).strip()
    if isinstance(error, GaveUp):
        return f"no answer after {len(error.failures)} attempt(s); last: {_short(error.failures[-1])}"
    if status := http_status(text):
        code, words = status
        return f"HTTP {code}{' ' + words if words else ''}"
    if "no such host" in text or "server misbehaving" in text:
        return f"the host name could not be resolved (DNS: {_short(text)})"
    if "connection refused" in text:
        return f"the connection was refused ({_short(text)})"
    if "network is unreachable" in text or "no route to host" in text:
        return f"the network is unreachable ({_short(text)})"
    return _short(text)


def _short(text: str) -> str:
    line = text.strip().splitlines()[-1] if text.strip() else ""
    return line[-300:]


def status_of(error: BaseException) -> int | None:
    status = http_status(str(error))
    return status[0] if status else None


async def read_text(client: dagger.Client, url: str, *, api: bool = False, fix: str = "") -> str:
    """The body of url (HTTP 200), retried within the current download policy; UpstreamError naming the cause.

    fix, when given, is what to do, said after the cause (the caller knows which setting named the URL).
    """
    header = await _auth_header(client) if api else None
    try:
        return await with_retries(
            lambda: client.http(url, auth_header=header).contents(), what=url, policy=current_policy()
        )
    except (dagger.QueryError, GaveUp) as e:
        why, status = cause(e), status_of(e)
        if api and status in {403, 429}:
            why = f"{why}; {await rate_limit_note(client, url, header)}"
        msg = f"could not read {url}: {why}{'. ' + fix if fix else ''}"
        raise UpstreamError(msg, url=url, status=status) from e


async def read_json(client: dagger.Client, url: str, *, api: bool = True, fix: str = "") -> object:
    """url's body parsed as JSON; malformed JSON is an UpstreamError naming the URL."""
    text = await read_text(client, url, api=api, fix=fix)
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        msg = f"{url}: expected JSON from the API, found {text[:80]!r}... ({e})"
        raise UpstreamError(msg, url=url) from None


def api_root(url: str) -> str:
    """The API's root for one of its URLs: everything before /repos/."""
    return url.split("/repos/", 1)[0]


async def rate_limit_note(client: dagger.Client, url: str, header: dagger.Secret | None) -> str:
    """Whether a 403/429 is GitHub's rate limit, and when it resets (asked of /rate_limit, once)."""
    limit_url = api_root(url) + RATE_LIMIT_PATH
    try:
        answer = json.loads(await client.http(limit_url, auth_header=header).contents())
        core = answer["resources"]["core"]
        remaining, reset = int(core["remaining"]), int(core["reset"])
    except (dagger.QueryError, ValueError, KeyError, TypeError):
        return "if it is the rate limit (60 anonymous requests an hour per IP), wait or use a token"
    if remaining > 0:
        return f"not the rate limit ({remaining} requests left): the token may lack access"
    when = datetime.datetime.fromtimestamp(reset, tz=datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"rate limit reached (0 requests left; it resets at {when})"
