"""Docker's CLI and buildx plugin for ARC's dind mode, from Docker's apt repository.

ARC's dind mode runs dockerd in a ``docker:dind`` sidecar and points the
runner at its socket, so the image needs the client and the buildx plugin
only. Upstream's image downloads Docker's static tarball (CLI, dockerd and
containerd, unverified). We take ``docker-ce-cli`` and
``docker-buildx-plugin`` from Docker's apt repository instead: apt checks
the repository's signature and every package's SHA-256 against the signed
index before it unpacks anything, and the one key it may use is Docker's,
pinned here by fingerprint (a key file with another key is refused before
apt runs; extra keys in it are never exported to apt).

The repository line follows the base's os-release (``<url>/<ID> <CODENAME>
stable``), as Docker's install guide does, and the versions are pinned in
Docker's version scheme (``5:<v>-1~<ID>.<VERSION_ID>~<CODENAME>``).

Air-gapped sites (and the tests) can give a local copy of the repository
instead, a folder laid out as under the URL (``<ID>/gpg``, ``<ID>/dists/``,
``<ID>/pool/``): apt reads it through a ``copy:`` source mounted for the
download step only (pipelines/image/apt.py), and checks it exactly as it checks the remote one.
"""

from __future__ import annotations

import dataclasses
import shlex

import dagger

from pipelines.image.base import tools_stage
from pipelines.network.download import GaveUp, current_policy, with_retries
from pipelines.network.upstream import cause
from pipelines.shared.errors import ChecksumError, DownloadError, InvalidSpecError
from pipelines.shared.spec import RunnerSpec

KEYRING = "/etc/apt/keyrings/docker.gpg"
SOURCES = "/etc/apt/sources.list.d/docker.list"
CLI_PACKAGE = "docker-ce-cli"
BUILDX_PACKAGE = "docker-buildx-plugin"
CLI_EPOCH = "5:"  # docker-ce-cli versions carry epoch 5 in Docker's repository
GNUPG_HOME = "/tmp/runner-image-gnupg"  # noqa: S108 - inside a throwaway container
KEY_FILE = "/tmp/runner-image-docker-key"  # noqa: S108
KEY_OUT = "/tmp/runner-image-docker.gpg"  # noqa: S108
LOCAL_REPO = "/run/runner-image-docker-apt"  # a local repository copy, mounted for the download step only
LOCAL_REPO_FLAG = "--docker-apt-repo"


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class DockerRepo:
    """Docker's apt repository for one base OS and arch."""

    url: str
    os_id: str
    version_id: str
    codename: str
    arch: str
    local: bool = False
    """The repository is a local copy (mounted at LOCAL_REPO), not the URL."""

    @property
    def key_url(self) -> str:
        """Where the key comes from, as messages name it."""
        if self.local:
            return f"{self.os_id}/gpg of the directory given as {LOCAL_REPO_FLAG}"
        return f"{self.url}/{self.os_id}/gpg"

    @property
    def where(self) -> str:
        """The repository, as messages name it."""
        return f"the directory given as {LOCAL_REPO_FLAG} ({self.os_id}/)" if self.local else f"{self.url}/{self.os_id}"

    @property
    def source_line(self) -> str:
        # copy:, not file:, so apt copies the packages into the download's output instead of using them in place.
        root = f"copy:{LOCAL_REPO}" if self.local else self.url
        return f"deb [arch={self.arch} signed-by={KEYRING}] {root}/{self.os_id} {self.codename} stable\n"

    def package_version(self, version: str) -> str:
        """Docker's package revision for this OS: <v>-1~<id>.<version_id>~<codename>."""
        return f"{version}-1~{self.os_id}.{self.version_id}~{self.codename}"


def docker_repo(spec: RunnerSpec, os_release: dict[str, str], *, local: bool = False) -> DockerRepo:
    """The repository for spec's arch on the base whose os-release fields are given."""
    fields = {key: os_release.get(key, "") for key in ("ID", "VERSION_ID", "VERSION_CODENAME")}
    if not all(fields.values()):
        msg = (
            f'base_image "{spec.base_image}": expected ID, VERSION_ID and VERSION_CODENAME in '
            f"/etc/os-release to pick Docker's apt repository, found {fields}; use a Debian or "
            "Ubuntu base, or pass --docker-cli=false"
        )
        raise InvalidSpecError(msg)
    return DockerRepo(
        url=spec.docker_apt_url,
        os_id=fields["ID"],
        version_id=fields["VERSION_ID"],
        codename=fields["VERSION_CODENAME"],
        arch=spec.arch,
        local=local,
    )


def packages(spec: RunnerSpec, repo: DockerRepo) -> tuple[str, ...]:
    """apt-get install arguments with exact versions: a bump is a deliberate one-line diff."""
    return (
        f"{CLI_PACKAGE}={CLI_EPOCH}{repo.package_version(spec.docker_version)}",
        f"{BUILDX_PACKAGE}={repo.package_version(spec.buildx_version)}",
    )


def primary_fingerprints(colons: str) -> list[str]:
    """Fingerprints of the primary keys in ``gpg --with-colons`` output (not of subkeys)."""
    found: list[str] = []
    after_pub = False
    for line in colons.splitlines():
        record = line.split(":")
        if record[0] == "pub":
            after_pub = True
        elif record[0] == "fpr" and after_pub and len(record) > 9:
            found.append(record[9].upper())
            after_pub = False
        elif record[0] in {"sub", "uid"}:
            after_pub = False
    return found


def check_key(found: list[str], expected: str, key_url: str, *, gpg_said: str = "") -> None:
    """Refuse a key file that does not hold the pinned key."""
    if expected not in found:
        said = f" (gpg: {gpg_said[-500:]})" if gpg_said else ""
        msg = (
            f"Docker's apt key from {key_url}: expected the key with fingerprint {expected}, "
            f"found {', '.join(found) or 'no OpenPGP key'}{said}. Nothing was installed. Check the URL "
            "(--docker-apt-url), or pass --docker-key-fingerprint if the repository really changed keys"
        )
        raise ChecksumError(msg)


def gpg_script(fingerprint: str) -> str:
    """Import the key file in a private keyring, list it, export only the pinned key for apt."""
    home, q = GNUPG_HOME, shlex.quote
    return "\n".join(
        [
            "set -eu",
            f"mkdir -p -m 700 {home}",
            f"gpg --batch --quiet --homedir {home} --import {KEY_FILE}",
            f"gpg --batch --homedir {home} --with-colons --fingerprint --list-keys",
            f"gpg --batch --homedir {home} --export {q(fingerprint)} > {KEY_OUT}",
        ]
    )


async def docker_keyring(
    spec: RunnerSpec, tools: dagger.Container, repo: DockerRepo, key_file: dagger.File
) -> dagger.File:
    """Docker's key as an apt keyring holding the pinned key only; refused if the file lacks it.

    tools: the base with gpg (key_tools); nothing of it reaches the image.
    key_file: the repository's key file (downloaded, or from the local copy).
    """
    key = tools.with_mounted_file(KEY_FILE, key_file)
    ran = key.with_exec(["sh", "-c", gpg_script(spec.docker_key_fingerprint)], expect=dagger.ReturnType.ANY)
    try:
        out, err, code = await ran.stdout(), await ran.stderr(), await ran.exit_code()
    except dagger.QueryError as e:
        msg = f"Docker's apt key: could not read {repo.key_url}: {e}. Check --docker-apt-url or {LOCAL_REPO_FLAG}"
        raise DownloadError(msg) from e
    found = primary_fingerprints(out)
    check_key(found, spec.docker_key_fingerprint, repo.key_url, gpg_said="" if found else err.strip())
    if code != 0:
        msg = f"Docker's apt key from {repo.key_url}: exporting {spec.docker_key_fingerprint} failed: {err.strip()}"
        raise ChecksumError(msg)
    return ran.file(KEY_OUT)


async def download_key(client: dagger.Client, repo: DockerRepo) -> dagger.File:
    """The repository's key file, fetched by the engine with the bounded retries of every other download."""

    async def attempt() -> dagger.File:
        file = client.http(repo.key_url)  # a failed fetch is not cached: each attempt asks the server again
        await file.size()  # makes the engine fetch it now, inside the attempt's time limit
        return file

    try:
        return await with_retries(attempt, what=f"Docker's apt key from {repo.key_url}", policy=current_policy())
    except (dagger.QueryError, GaveUp) as e:
        msg = (
            f"Docker's apt key: could not read {repo.key_url}: {cause(e)}. Check --docker-apt-url or {LOCAL_REPO_FLAG}"
        )
        raise DownloadError(msg) from e


def key_tools(client: dagger.Client, spec: RunnerSpec) -> dagger.Container:
    """The base on the engine's own platform, with gpg (its import needs the agent): not arch specific."""
    return tools_stage(client, spec.base_image, ("gpg", "gpg-agent"))


def with_docker_repo(
    ctr: dagger.Container, repo: DockerRepo, keyring: dagger.File, local_repo: dagger.Directory | None = None
) -> dagger.Container:
    """The keyring and the source line (and a local copy mounted): what apt needs to fetch Docker's packages."""
    ctr = ctr.with_file(KEYRING, keyring, permissions=0o644).with_new_file(SOURCES, repo.source_line, permissions=0o644)
    return ctr if local_repo is None else ctr.with_mounted_directory(LOCAL_REPO, local_repo)


def with_kept_repo(ctr: dagger.Container, repo: DockerRepo, keyring: dagger.File) -> dagger.Container:
    """What the image keeps: the keyring, and the source line unless it names a local copy (no job could read it)."""
    ctr = ctr.with_file(KEYRING, keyring, permissions=0o644)
    return ctr if repo.local else ctr.with_new_file(SOURCES, repo.source_line, permissions=0o644)
