"""A proxy on 127.0.0.1 in front of the local registry that fails chosen requests on purpose.

Rules pick requests by method and a path pattern (blob upload PUTs, manifest
PUTs...) and say which occurrences (1st, 2nd...) get a fault instead of
reaching the registry: an HTTP status with a registry-style error body, or
a dropped connection (reset, no answer). Everything else is forwarded as is,
with the Host header kept, so the registry's Location headers point back at
the proxy. Every request is logged (method, path, status) for the tests.
"""

from __future__ import annotations

import contextlib
import dataclasses
import http.client
import http.server
import re
import socket
import struct
import threading

UPSTREAM_TIMEOUT = 120  # seconds per forwarded request
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection"}
BLOB_PUT = ("PUT", r"/v2/.+/blobs/uploads/")
MANIFEST_PUT = ("PUT", r"/v2/.+/manifests/")


@dataclasses.dataclass(kw_only=True)
class Rule:
    """Fail the `nth` matching requests (1-based) with `status`, or by dropping the connection (status 0)."""

    method: str
    path: str
    """A regex searched in the request path."""
    nth: frozenset[int]
    status: int = 500
    seen: int = 0

    def hit(self, method: str, path: str) -> bool:
        if method != self.method or not re.search(self.path, path):
            return False
        self.seen += 1
        return self.seen in self.nth


def failing(what: tuple[str, str], *nth: int, status: int = 500) -> Rule:
    """A rule for BLOB_PUT or MANIFEST_PUT: fail these occurrences with status (0: drop the connection)."""
    method, path = what
    return Rule(method=method, path=path, nth=frozenset(nth), status=status)


class RegistryProxy:
    """ThreadingHTTPServer on 127.0.0.1 forwarding to upstream (host:port, plain HTTP)."""

    def __init__(self, upstream: str, *rules: Rule) -> None:
        self.upstream = upstream
        self.rules = list(rules)
        self.log: list[tuple[str, str, int]] = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(_ProxyHandler):
            owner = proxy

        self._server = _QuietServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def address(self) -> str:
        host, port = self._server.server_address[:2]
        return f"{host}:{port}"

    def fault_for(self, method: str, path: str) -> int | None:
        """The status to fail this request with (0 = drop), or None to forward it."""
        with self._lock:
            for rule in self.rules:
                if rule.hit(method, path):
                    return rule.status
        return None

    def record(self, method: str, path: str, status: int) -> None:
        with self._lock:
            self.log.append((method, path, status))

    def count(self, what: tuple[str, str], status: int | None = None) -> int:
        """How many requests like BLOB_PUT/MANIFEST_PUT arrived (with that answer, if given)."""
        method, path = what
        with self._lock:
            return sum(
                1 for m, p, s in self.log if m == method and re.search(path, p) and (status is None or s == status)
            )

    def __enter__(self) -> RegistryProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


class _QuietServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # dropped connections are the point


class _ProxyHandler(http.server.BaseHTTPRequestHandler):
    owner: RegistryProxy
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        pass

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _proxy(self) -> None:
        body = self._body()
        fault = self.owner.fault_for(self.command, self.path)
        if fault == 0:
            self.owner.record(self.command, self.path, 0)
            self.close_connection = True
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()  # RST: the request vanishes mid-push
            return
        if fault is not None:
            self.owner.record(self.command, self.path, fault)
            error = b'{"errors":[{"code":"UNKNOWN","message":"injected fault"}]}'
            self.send_response(fault)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(error)))
            self.end_headers()
            if self.command != "HEAD":  # a body after a HEAD's answer is read as the next answer on the connection
                self.wfile.write(error)
            return
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        headers["Content-Length"] = str(len(body))
        upstream = http.client.HTTPConnection(self.owner.upstream, timeout=UPSTREAM_TIMEOUT)
        try:
            send = body if body or self.command != "GET" else None
            upstream.request(self.command, self.path, body=send, headers=headers)
            response = upstream.getresponse()
            data = response.read()
        finally:
            upstream.close()
        self.owner.record(self.command, self.path, response.status)
        self.send_response(response.status)
        for key, value in response.getheaders():
            if key.lower() not in HOP_BY_HOP and (key.lower() != "content-length" or self.command == "HEAD"):
                self.send_header(key, value)
        if self.command != "HEAD":
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _proxy  # noqa: N815 - http.server's names

    def finish(self) -> None:
        with contextlib.suppress(OSError, ValueError):  # the socket was reset on purpose
            super().finish()
