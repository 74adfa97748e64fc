"""Push built images: one address, one manifest for every arch, all or none (release builds and tests them first)."""

from __future__ import annotations

import re
from collections.abc import Sequence

import dagger

from pipelines.network.download import GaveUp, current_policy, with_retries
from pipelines.shared.errors import InvalidSpecError, PublishError, reach_hint, refused
from pipelines.shared.reference import ImageRef, parse_reference


def valid_address(address: str) -> ImageRef:
    """A pushable reference: valid, and naming a tag rather than a digest."""
    try:
        ref = parse_reference(address, name="address")
    except InvalidSpecError as e:
        raise PublishError(e.args[0]) from None
    if ref.digest:
        msg = (
            f'address "{address}": expected a repository and tag to push to, found a digest; drop the @sha256:... part'
        )
        raise PublishError(msg)
    return ref


# A registry user name: visible ASCII without ":" (HTTP basic auth splits user
# from password at the first ":"), e.g. me, github-actions[bot], robot$ci+push.
_USERNAME = re.compile(r"[!-9;-~]{1,255}")


def valid_username(username: str) -> str:
    """A user name the registry login can carry unchanged."""
    if not isinstance(username, str) or not _USERNAME.fullmatch(username):
        msg = refused("username", username, "1 to 255 visible ASCII characters without spaces or ':'")
        raise PublishError(msg)
    return username


def check_credentials(username: str | None, password: dagger.Secret | None) -> None:
    if (username is None) != (password is None):
        given, missing = ("username", "password") if password is None else ("password", "username")
        msg = f"{given} given without {missing}: pass both --username and --password, or neither"
        raise PublishError(msg)
    if username is not None:
        valid_username(username)


async def publish(
    client: dagger.Client,
    containers: Sequence[dagger.Container],
    address: str,
    username: str | None = None,
    password: dagger.Secret | None = None,
) -> str:
    """Push containers (one per platform) as one image; return reference@digest."""
    del client  # same signature as every stage; the containers carry the session
    valid_address(address)
    check_credentials(username, password)
    if not containers:
        msg = f'address "{address}": expected at least one container to publish, found none'
        raise PublishError(msg)
    first, *rest = containers
    if username is not None and password is not None:
        first = first.with_registry_auth(address, username, password)
    try:
        # Dagger 0.21.8 does not retry a failed blob or manifest upload; pushing
        # again re-sends only what the registry lacks. It pushes the platform
        # manifests before the index and the tag comes last, with the index:
        # a failed push never leaves the tag on a partial image.
        return await with_retries(
            lambda: first.publish(address, platform_variants=rest or None),
            what=f"push to {address}",
            policy=current_policy(),
            limit_flag="--download-timeout",
        )
    except (dagger.QueryError, GaveUp) as e:
        who = f" as {username!r}" if username else " without credentials"
        hint = _login_hint(str(e), username) or reach_hint(str(e), "--address")
        msg = f'pushing {len(containers)} platform(s) to "{address}"{who} failed: {e}{hint}'
        raise PublishError(msg) from e


def _login_hint(error: str, username: str | None) -> str:
    """What to do when the registry answered 401/403: the login, not the image, is wrong."""
    if not any(word in error.lower() for word in ("401", "403", "unauthorized", "denied", "forbidden")):
        return ""
    if username is None:
        return ". The registry wants a login: pass --username and --password (a secret, e.g. env://TOKEN)"
    return (
        ". The registry refused the login: check --username and the --password secret "
        "(for ghcr.io, a token allowed to write packages)"
    )
