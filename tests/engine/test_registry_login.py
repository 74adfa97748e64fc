"""Publishing to a registry that wants a login: accepted, refused, missing; the password never leaks."""

from __future__ import annotations

import uuid

import dagger
import pytest

from pipelines.release.tested import release
from pipelines.shared.contract import Layout
from pipelines.shared.errors import PublishError
from tests.engine.fixtures import ReleaseMirror
from tests.engine.registry import Registry, read_index
from tests.engine.test_pipeline import make_spec

pytestmark = pytest.mark.anyio


def target(address: str) -> tuple[str, str, str]:
    repository, tag = "runner-image-test/runner-login", uuid.uuid4().hex[:12]
    return f"{address}/{repository}:{tag}", repository, tag


async def test_login_accepted_publishes_both_arches(
    dag: dagger.Client, mirror: ReleaseMirror, base_image: str, auth_registry: tuple[str, str, str]
) -> None:
    address, user, password = auth_registry
    ref, repository, tag = target(address)
    specs = [make_spec(mirror, base_image, arch, Layout.HOSTED) for arch in ("amd64", "arm64")]

    published = await release(dag, specs, ref, user, dag.set_secret("auth-ok", password))

    assert published.startswith(f"{ref}@sha256:")
    registry = Registry(address, auth=(user, password))
    assert registry.has_tag(repository, tag)
    assert sorted(read_index(registry, published)) == ["linux/amd64", "linux/arm64"]


async def test_no_login_is_a_clear_error_and_nothing_is_published(
    mirror: ReleaseMirror, base_image: str, auth_registry: tuple[str, str, str]
) -> None:
    """A wrong password is refused through `dagger call` (test_dagger_call.py); here, none at all.

    In a session of its own: an engine session keeps a registry login it was
    given (the test above gives one), so the shared session would push.
    """
    address, user, password = auth_registry
    ref, repository, tag = target(address)
    spec = make_spec(mirror, base_image, "amd64", Layout.MINIMAL)

    async with dagger.Connection(dagger.Config(retry=None)) as fresh:
        with pytest.raises(PublishError) as caught:
            await release(fresh, [spec], ref, None, None)

    message = str(caught.value)
    assert ref in message
    assert "wants a login" in message
    assert password not in message
    assert not Registry(address, auth=(user, password)).has_tag(repository, tag)
