"""A stand-in for upstream on 127.0.0.1: GitHub's releases API, the release downloads, Docker's apt index.

Routes are exact paths (the query string is ignored, as `?per_page=100` is for
us); each path may be given a script of bad answers that are used up, one per
request, before its route answers. Every request is counted, so a test can
tell a retry from a give-up. The releases are built by the functions below in
the shape GitHub's API gives them (tag_name, draft, prerelease, published_at,
body with CRLF line ends, assets with digest).
"""

from __future__ import annotations

import collections
import dataclasses
import datetime
import gzip
import hashlib
import http.server
import json
import tarfile
import threading
from collections.abc import Mapping
from pathlib import Path

from tests.engine import fixtures
from tests.engine.fixtures import hooks_release_notes, hooks_zip, runner_tarball, sha256

RUNNER_ARCHES = ("x64", "arm64")


@dataclasses.dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    headers: Mapping[str, str] = dataclasses.field(default_factory=dict)


def json_answer(value: object, status: int = 200, headers: Mapping[str, str] | None = None) -> Answer:
    return Answer(status, json.dumps(value).encode(), {"Content-Type": "application/json", **(headers or {})})


def iso(when: datetime.datetime) -> str:
    return when.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def runner_notes(version: str, sums: Mapping[str, str]) -> str:
    """A runner release body: its SHA markers per arch, among other 64-hex strings that are not sums."""
    lines = ["## What's Changed", f"- Bump node (commit {sha256(version.encode())})", ""]
    lines += ["## SHA-256 Checksums", ""]
    lines += [
        f"- actions-runner-linux-{arch}-{version}.tar.gz "
        f"<!-- BEGIN SHA linux-{arch} -->{sha}<!-- END SHA linux-{arch} -->"
        for arch, sha in sums.items()
    ]
    return "\r\n".join(lines) + "\r\n"


def runner_release(
    version: str,
    sums: Mapping[str, str],
    published: datetime.datetime,
    *,
    api_sums: Mapping[str, str] | None = None,
    prerelease: bool = False,
    draft: bool = False,
) -> dict[str, object]:
    """One actions/runner release as the API lists it; api_sums (arch -> sum) replace the asset digests."""
    digests = {**sums, **(api_sums or {})}
    return {
        "tag_name": f"v{version}",
        "draft": draft,
        "prerelease": prerelease,
        "published_at": iso(published),
        "body": runner_notes(version, sums),
        "assets": [
            {"name": f"actions-runner-linux-{arch}-{version}.tar.gz", "digest": f"sha256:{digests[arch]}"}
            for arch in RUNNER_ARCHES
        ],
    }


def hooks_release(version: str, sha: str, published: datetime.datetime, *, prerelease: bool = False) -> dict:
    name = f"actions-runner-hooks-k8s-{version}.zip"
    return {
        "tag_name": f"v{version}",
        "draft": False,
        "prerelease": prerelease,
        "published_at": iso(published),
        "body": hooks_release_notes(version, {name: sha}),
        "assets": [{"name": name, "digest": f"sha256:{sha}"}],
    }


def tool_release(
    version: str, published: datetime.datetime, *, prerelease: bool = False, assets: list[dict] | None = None
) -> dict:
    """One anchore/<tool> release as the API lists it; assets as FakeUpstream.tool_assets serves them."""
    return {"tag_name": f"v{version}", "draft": False, "prerelease": prerelease, "published_at": iso(published),
            "body": "## Changes\r\n", "assets": assets or []}  # fmt: skip


TOOL_ARCHES = ("amd64", "arm64")


def checksums_file(sums: Mapping[str, str]) -> str:
    """goreleaser's <tool>_<version>_checksums.txt: "<sha256>  <file>" per line, sorted by file."""
    return "".join(f"{sha}  {name}\n" for name, sha in sorted(sums.items()))


def packages_index(versions: Mapping[str, list[str]], codename: str = "bookworm", os_tag: str = "debian.12") -> str:
    """An apt Packages index in Docker's version scheme: package -> upstream versions."""
    stanzas = []
    for package, found in versions.items():
        for version in found:
            epoch = "5:" if package == "docker-ce-cli" else ""
            stanzas.append(
                f"Package: {package}\nArchitecture: amd64\nVersion: {epoch}{version}-1~{os_tag}~{codename}\n"
                f"Filename: pool/stable/{package}_{version}.deb\nSHA256: {sha256(version.encode())}\n"
            )
    return "\n".join(stanzas)


class FakeUpstream:
    """http.server on 127.0.0.1 answering from routes, with scripted bad answers first."""

    def __init__(self) -> None:
        self.routes: dict[str, Answer] = {}
        self._scripts: dict[str, collections.deque[Answer]] = {}
        self.hits: collections.Counter[str] = collections.Counter()
        self.authorization: dict[str, str] = {}
        """Path -> the Authorization header of its last request that had one."""
        self._lock = threading.Lock()
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                with owner._lock:
                    owner.hits[path] += 1
                    if auth := self.headers.get("Authorization"):
                        owner.authorization[path] = auth
                    script = owner._scripts.get(path)
                    answer = script.popleft() if script else owner.routes.get(path)
                if answer is None:
                    answer = json_answer({"message": "Not Found"}, 404)
                self.send_response(answer.status)
                for key, value in answer.headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def api(self) -> str:
        return f"{self.url}/api"

    def put(self, path: str, answer: Answer | bytes | str) -> None:
        if isinstance(answer, str):
            answer = answer.encode()
        self.routes[path] = answer if isinstance(answer, Answer) else Answer(200, answer)

    def script(self, path: str, *answers: Answer) -> None:
        """Answer path with these, one per request, before its route."""
        with self._lock:
            self._scripts[path] = collections.deque(answers)

    def releases(self, repo: str, releases: list[dict]) -> str:
        """Serve repo's release list (and each release by tag); return the list's path."""
        path = f"/api/repos/{repo}/releases"
        self.put(path, json_answer(releases))
        for release in releases:
            self.put(f"{path}/tags/{release['tag_name']}", json_answer(release))
        return path

    def runner_assets(self, version: str) -> dict[str, str]:
        """Serve the runner fixture tarballs of version under /runner/v<version>/; arch -> SHA-256."""
        sums = {}
        for arch in RUNNER_ARCHES:
            data = runner_tarball(version, arch)
            self.put(f"/runner/v{version}/actions-runner-linux-{arch}-{version}.tar.gz", data)
            sums[arch] = sha256(data)
        return sums

    def tool_assets(
        self, tool: str, version: str, *, listed: Mapping[str, str] | None = None
    ) -> tuple[list[dict], dict[str, str]]:
        """A tool release's assets, as the API lists them: the linux tarballs (with made-up bytes' sums as their
        digests) and the checksums file, served under /anchore/<tool>/releases/download/v<version>/, which
        lists them (and a darwin asset, as goreleaser's does), with listed's sums (arch -> sum) instead.
        Returns the assets and arch -> the API's digest."""
        download = f"/anchore/{tool}/releases/download/v{version}"
        names = {arch: f"{tool}_{version}_linux_{arch}.tar.gz" for arch in TOOL_ARCHES}
        digests = {arch: sha256(f"{tool} {version} {arch}".encode()) for arch in TOOL_ARCHES}
        in_file = {names[arch]: (listed or {}).get(arch, digests[arch]) for arch in TOOL_ARCHES}
        in_file[f"{tool}_{version}_darwin_arm64.tar.gz"] = sha256(b"darwin")
        checksums = f"{tool}_{version}_checksums.txt"
        text = checksums_file(in_file)
        self.put(f"{download}/{checksums}", text)
        assets = [{"name": names[arch], "digest": f"sha256:{digests[arch]}",
                   "browser_download_url": f"{self.url}{download}/{names[arch]}"} for arch in TOOL_ARCHES]  # fmt: skip
        assets.append({"name": checksums, "digest": f"sha256:{sha256(text.encode())}",
                       "browser_download_url": f"{self.url}{download}/{checksums}"})  # fmt: skip
        return assets, digests

    def hooks_asset(self, version: str) -> str:
        data = hooks_zip(version)
        self.put(f"/hooks/v{version}/actions-runner-hooks-k8s-{version}.zip", data)
        return sha256(data)

    def __enter__(self) -> FakeUpstream:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def release_asset(cache: Path, binary: Path, name: str) -> Path:
    """binary packed as its release asset name (a tar.gz holding it at the root, as goreleaser packs it), with
    fixed times so the same binary gives the same bytes; kept in cache by the binary's SHA-256."""
    digest = hashlib.sha256(binary.read_bytes()).hexdigest()[:12]
    packed = cache / f"release-{digest}" / name
    with fixtures.filling(cache):
        if not packed.exists():
            packed.parent.mkdir(parents=True, exist_ok=True)
            info = tarfile.TarInfo(binary.name)
            info.size, info.mode, info.mtime = binary.stat().st_size, 0o755, 0
            with (
                packed.with_suffix(".tmp").open("wb") as raw,
                gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, compresslevel=1) as gz,
                tarfile.open(fileobj=gz, mode="w") as tar,
                binary.open("rb") as data,
            ):
                tar.addfile(info, data)
            packed.with_suffix(".tmp").rename(packed)
    return packed


def serve_tool_release(github: FakeUpstream, cache: Path, name: str, version: str, binary: Path) -> str:
    """Serve binary as anchore/<name>'s release asset for amd64, and its digest in the releases API, as GitHub
    does: the asset under /anchore/<name>/releases/download/v<version>/, the release under /api/repos/.

    Returns the asset's SHA-256, for --<name>-checksum: it is not the release's (the binary is built here), so
    a call that checks it against pins.toml's sum, once bump has filled that, refuses it.
    """
    asset = f"{name}_{version}_linux_amd64.tar.gz"
    packed = release_asset(cache, binary, asset).read_bytes()
    github.put(f"/anchore/{name}/releases/download/v{version}/{asset}", packed)
    release = {"tag_name": f"v{version}", "assets": [{"name": asset, "digest": f"sha256:{sha256(packed)}"}]}
    github.put(f"/api/repos/anchore/{name}/releases/tags/v{version}", json_answer(release))
    return sha256(packed)
