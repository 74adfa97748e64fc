"""Stand-ins for the few Dagger objects the engine-free tests touch.

They record what the pipeline asked for, so the tests can check the calls
without an engine. Only the methods the pipeline uses are provided.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import dagger
from dagger._exceptions import QueryErrorValue


def query_error(message: str) -> dagger.QueryError:
    """A dagger.QueryError as the client raises it for a failed query."""

    class _Request:
        document = None

    return dagger.QueryError([QueryErrorValue(message=message)], _Request())


def engine_digest_of(data: bytes) -> str:
    """What Dagger 0.21.8's File.digest(exclude_metadata=True) answers for data."""
    return "sha256:" + hashlib.sha256(hashlib.sha256(data).digest()).hexdigest()


@dataclass
class FakeFile:
    data: bytes = b""
    error: str | None = None

    async def digest(self, *, exclude_metadata: bool = False) -> str:
        assert exclude_metadata, "the pipeline must hash contents, not metadata"
        if self.error:
            raise query_error(self.error)
        return engine_digest_of(self.data)

    async def size(self) -> int:
        return len(self.data)

    async def contents(self) -> str:
        if self.error:
            raise query_error(self.error)
        return self.data.decode()


@dataclass
class FakeContainer:
    """Chains return self; stdout answers sha256sum of the last mounted file."""

    name: str = "ctr"
    calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = field(default_factory=list)
    mounted: FakeFile | None = None
    publish_error: str | None = None

    def _record(self, method: str, *args: Any, **kwargs: Any) -> FakeContainer:
        self.calls.append((method, args, kwargs))
        return self

    def from_(self, address: str) -> FakeContainer:
        return self._record("from_", address)

    def with_mounted_file(self, path: str, source: FakeFile, **kwargs: Any) -> FakeContainer:
        self.mounted = source
        return self._record("with_mounted_file", path, **kwargs)

    def with_exec(self, args: list[str], **kwargs: Any) -> FakeContainer:
        return self._record("with_exec", args, **kwargs)

    def with_registry_auth(self, address: str, username: str, secret: Any) -> FakeContainer:
        return self._record("with_registry_auth", address, username, secret)

    async def stdout(self) -> str:
        data = self.mounted.data if self.mounted else b""
        return f"{hashlib.sha256(data).hexdigest()}  /tmp/file\n"

    async def publish(self, address: str, **kwargs: Any) -> str:
        self._record("publish", address, **kwargs)
        if self.publish_error:
            raise query_error(self.publish_error)
        return f"{address}@sha256:{'d' * 64}"


@dataclass
class FakeClient:
    """http(url) serves bodies by URL; anything else is a 404 error."""

    bodies: dict[str, bytes] = field(default_factory=dict)
    http_calls: list[str] = field(default_factory=list)

    def http(self, url: str, **kwargs: Any) -> FakeFile:
        assert not kwargs, f"unexpected http options {kwargs}"
        self.http_calls.append(url)
        if url in self.bodies:
            return FakeFile(self.bodies[url])
        return FakeFile(error=f"invalid response status 404 Not Found ({url})")

    def container(self, **kwargs: Any) -> FakeContainer:
        return FakeContainer()
