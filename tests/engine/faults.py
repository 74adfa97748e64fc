"""A file server on 127.0.0.1 that misbehaves on purpose, per path, by script.

Each path gets a list of faults, one used per request, in order; once the list
is spent the file is served normally (or 404 if there is none). Every request
is counted, so a test can tell a retry from a cached answer or a give-up.

Faults: an HTTP status (503, 404...), a connection reset after K bytes of the
body, a body cut short (with or without a Content-Length saying otherwise),
and a stall (headers and K bytes, then silence) that ends on its own after a
bounded time or when the server shuts down, so no thread outlives a test.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import http.server
import socket
import struct
import threading
from pathlib import Path
from typing import Literal

FaultKind = Literal["status", "reset", "short", "stall"]
MAX_STALL = 120.0  # seconds; a stall never holds a server thread longer than this


@dataclasses.dataclass(frozen=True, kw_only=True)
class Fault:
    """What one request gets instead of the file."""

    kind: FaultKind
    status: int = 200
    after: int = 0
    """Bytes of the body sent before the fault (reset, short, stall)."""
    sized: bool = True
    """Whether the response announces the file's full Content-Length (short)."""
    seconds: float = 0.0
    """How long a stall lasts (at most MAX_STALL)."""


def fail(status: int) -> Fault:
    """Answer with this status and a small body, as a proxy or a CDN would."""
    return Fault(kind="status", status=status)


def reset_after(after: int) -> Fault:
    """Send the headers and `after` bytes of the body, then reset the connection (RST)."""
    return Fault(kind="reset", after=after)


def short(after: int, *, sized: bool = True) -> Fault:
    """Send `after` bytes and close cleanly; sized=True announces the full length first."""
    return Fault(kind="short", after=after, sized=sized)


def stall(seconds: float, after: int = 0) -> Fault:
    """Send the headers and `after` bytes, then nothing for `seconds`, then close."""
    return Fault(kind="stall", after=after, seconds=min(seconds, MAX_STALL))


class FaultServer:
    """ThreadingHTTPServer on 127.0.0.1, an ephemeral port, serving root with scripted faults."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._scripts: dict[str, collections.deque[Fault]] = {}
        self._hits: collections.Counter[str] = collections.Counter()
        self._lock = threading.Lock()
        self.stopping = threading.Event()
        server = self

        class Handler(_FaultHandler):
            owner = server

        self._server = _QuietServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def script(self, path: str, *faults: Fault) -> None:
        """The next requests for path (URL path, e.g. /runner/v1.2.3/x.tar.gz) get these faults."""
        with self._lock:
            self._scripts[path] = collections.deque(faults)

    def hits(self, path: str) -> int:
        """How many requests for path arrived."""
        with self._lock:
            return self._hits[path]

    def next_fault(self, path: str) -> Fault | None:
        with self._lock:
            self._hits[path] += 1
            queue = self._scripts.get(path)
            return queue.popleft() if queue else None

    def __enter__(self) -> FaultServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()  # releases stalled handlers
        self._server.shutdown()
        self._server.server_close()


class _QuietServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # resets and cut bodies are the point; no tracebacks on stderr


class _FaultHandler(http.server.BaseHTTPRequestHandler):
    owner: FaultServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        pass

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        fault = self.owner.next_fault(path)
        file = (self.owner.root / path.lstrip("/")).resolve()
        inside = self.owner.root.resolve() in file.parents
        body = file.read_bytes() if inside and file.is_file() else None
        if fault is not None and fault.kind == "status":
            self._answer(fault.status, f"{fault.status} injected fault\n".encode())
        elif body is None:
            self._answer(404, b"Not Found")
        elif fault is None:
            self._answer(200, body)
        else:
            self._misbehave(fault, body)

    def _answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _misbehave(self, fault: Fault, body: bytes) -> None:
        self.close_connection = True
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        if fault.kind != "short" or fault.sized:
            self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body[: fault.after])
        self.wfile.flush()
        if fault.kind == "stall":
            self.owner.stopping.wait(fault.seconds)
        elif fault.kind == "reset":
            # SO_LINGER 0: close() sends RST instead of FIN, as a dropped connection does.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()

    def finish(self) -> None:
        with contextlib.suppress(OSError, ValueError):  # the socket was reset on purpose
            super().finish()


class ConnectionCutter:
    """A TCP forwarder on 127.0.0.1 to a local port or Unix socket; cut() drops every connection and stops listening.

    Between a client and its engine session, cut() is what the client sees
    when the engine goes away mid-run, without stopping a shared engine. To
    an engine's Unix socket, it gives that engine a tcp:// address.
    """

    def __init__(self, target: int | str) -> None:
        self._target = target
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._cut = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def port(self) -> int:
        return self._listener.getsockname()[1]

    @property
    def connections(self) -> int:
        """How many connections it has forwarded."""
        with self._lock:
            return len(self._sockets) // 2

    def _accept(self) -> None:
        while not self._cut.is_set():
            try:
                client, _ = self._listener.accept()
                upstream = _connect(self._target)
            except OSError:
                return
            with self._lock:
                self._sockets += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    def cut(self) -> None:
        self._cut.set()
        self._listener.close()
        with self._lock:
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()


def _connect(target: int | str) -> socket.socket:
    """A connection to a port on 127.0.0.1, or to the Unix socket at a path."""
    if isinstance(target, int):
        sock = socket.create_connection(("127.0.0.1", target), timeout=30)
    else:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(30)
        sock.connect(target)
    sock.settimeout(None)
    return sock
