"""A signed apt repository laid out like Docker's, made by the tests and served on 127.0.0.1.

It stands in for Docker's repository: ``<root>/<name>/<os id>/gpg`` (the
armored public key), ``dists/<codename>/{Release,InRelease}`` signed with a
test key made here, ``dists/<codename>/stable/binary-<arch>/Packages`` and
``pool/stable/*.deb``. The packages hold real tools, for amd64 and arm64:
``docker-ce-cli`` the Docker CLI of Debian's ``docker.io`` package (fetched
with apt-get download, the machine's own sources, into a private apt state),
and ``docker-buildx-plugin`` a buildx built from the Go module proxy.
Versions follow Docker's scheme (``5:<v>-1~<id>.<version_id>~<codename>``).

Several repositories are written, one good and one per way of being bad,
so that each failure test points the pipeline at its own URL.
"""

from __future__ import annotations

import dataclasses
import email.utils
import hashlib
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

from tests.engine.fixtures import filling

BUILDX_MODULE = "github.com/docker/buildx"
# buildx release built for the fixture (newest at writing; its go.mod has no
# replace directive, so `go install ...@version` works through the proxy).
BUILDX_FIXTURE_VERSION = "0.38.2"
DEBIAN_DOCKER_PACKAGE = "docker.io"  # Debian's docker, whose /usr/bin/docker is the client
OS_ID, VERSION_ID, CODENAME = "debian", "12", "bookworm"  # the test base images
ARCHES = ("amd64", "arm64")


@dataclasses.dataclass(frozen=True, kw_only=True)
class AptRepos:
    """Where the repositories are, and what they hold."""

    root: Path
    """<root>/<name> is a --docker-apt-repo; names: good, bad-signature, wrong-key, bad-sum."""
    fingerprint: str
    """The key the good repository is signed with (the one to pin)."""
    other_fingerprint: str
    """A key nobody should trust (signs bad-signature; served by wrong-key)."""
    docker_version: str
    buildx_version: str

    def path(self, name: str) -> Path:
        return self.root / name


def debian_version(deb_version: str) -> str:
    """MAJOR.MINOR.PATCH of a Debian version ("20.10.24+dfsg1-1+deb12u1+b6" -> "20.10.24")."""
    match = re.match(r"^(?:\d+:)?(\d+\.\d+\.\d+)", deb_version)
    if match is None:
        msg = f"{DEBIAN_DOCKER_PACKAGE} version {deb_version!r}: expected MAJOR.MINOR.PATCH first"
        raise RuntimeError(msg)
    return match[1]


def download_debs(state: Path, arch: str, *packages: str) -> Path:
    """Download Debian's packages for arch into <state>/<arch>/deb, and return that folder.

    apt-get runs with its own architecture, lists and status under state,
    reading the machine's configured sources: the machine's apt state is untouched.
    """
    for sub in ("lists/partial", "cache/archives/partial", f"{arch}/deb"):
        (state / sub).mkdir(parents=True, exist_ok=True)
    (state / "status").touch()
    options = [
        f"-oAPT::Architecture={arch}",
        f"-oAPT::Architectures::={arch}",
        f"-oDir::State::Lists={state / 'lists'}",
        f"-oDir::Cache={state / 'cache'}",
        f"-oDir::State::status={state / 'status'}",
        "-oAPT::Sandbox::User=root",
    ]
    run("apt-get", *options, "-q", "update")
    debs = state / arch / "deb"
    run("apt-get", *options, "-q", "download", *packages, cwd=debs)
    return debs


def docker_clients(cache: Path) -> tuple[str, dict[str, Path]]:
    """Debian's docker client for each arch, and its version; downloaded once, then cached (download_debs)."""
    state = cache / "apt-docker"
    clients: dict[str, Path] = {}
    versions: set[str] = set()
    for arch in ARCHES:
        target = state / arch / "docker"
        if not target.exists():
            debs = download_debs(state, arch, DEBIAN_DOCKER_PACKAGE)
            deb = next(debs.glob("*.deb"))
            run("dpkg-deb", "-x", str(deb), str(state / arch / "root"))
            (state / arch / "root" / "usr" / "bin" / "docker").rename(target)
            (state / arch / "version").write_text(run("dpkg-deb", "-f", str(deb), "Version").strip())
            shutil.rmtree(state / arch / "root")
            shutil.rmtree(debs)
        clients[arch] = target
        versions.add(debian_version((state / arch / "version").read_text()))
    if len(versions) != 1:
        msg = f"{DEBIAN_DOCKER_PACKAGE}: expected one version for {', '.join(ARCHES)}, found {sorted(versions)}"
        raise RuntimeError(msg)
    return versions.pop(), clients


def run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> str:
    done = subprocess.run(args, capture_output=True, text=True, check=False, env=env, cwd=cwd)
    if done.returncode != 0:
        msg = f"{' '.join(args)} failed ({done.returncode}): {done.stderr[-2000:]}"
        raise RuntimeError(msg)
    return done.stdout


def build_buildx(cache: Path, arch: str, version: str = BUILDX_FIXTURE_VERSION) -> Path:
    """A real docker-buildx for linux/<arch>, built once per version and arch, then cached."""
    target = cache / f"buildx-v{version}-linux-{arch}" / "docker-buildx"
    if target.exists():
        return target
    go = shutil.which("go")
    if go is None:
        msg = "building the buildx fixture: expected a Go toolchain on PATH, found none (.ci/run installs Go)"
        raise RuntimeError(msg)
    # go install puts a cross-compiled binary under $GOPATH/bin/linux_<arch>/ (GOBIN refuses
    # cross-compiling): a private GOPATH, the shared module cache.
    gopath = target.parent / "gopath"
    env = {k: v for k, v in os.environ.items() if k != "GOBIN"}
    env |= {"CGO_ENABLED": "0", "GOOS": "linux", "GOARCH": arch, "GOPATH": str(gopath)}
    env["GOMODCACHE"] = run(go, "env", "GOMODCACHE").strip()
    ldflags = f"-s -w -X {BUILDX_MODULE}/version.Version=v{version}"
    run(go, "install", "-trimpath", "-ldflags", ldflags, f"{BUILDX_MODULE}/cmd/buildx@v{version}", env=env)
    built = next(p for p in (gopath / "bin" / f"linux_{arch}" / "buildx", gopath / "bin" / "buildx") if p.exists())
    built.rename(target)
    shutil.rmtree(gopath, ignore_errors=True)
    return target


class Gpg:
    """A throwaway GnuPG home holding one signing key."""

    def __init__(self, home: Path, name: str) -> None:
        self.home = home
        home.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.env = {**os.environ, "GNUPGHOME": str(home)}
        uid = f"runner-image test {name} <test-{name}@example.invalid>"
        run("gpg", "--batch", "--passphrase", "", "--quick-gen-key", uid, "ed25519", "sign", "never", env=self.env)
        colons = run("gpg", "--batch", "--with-colons", "--list-keys", env=self.env)
        self.fingerprint = next(line.split(":")[9] for line in colons.splitlines() if line.startswith("fpr:"))

    def public_key(self) -> bytes:
        return run("gpg", "--batch", "--armor", "--export", self.fingerprint, env=self.env).encode()

    def clearsign(self, src: Path, dst: Path) -> None:
        run(
            "gpg", "--batch", "--yes", "--local-user", self.fingerprint, "--digest-algo", "SHA256",
            "--clearsign", "--output", str(dst), str(src), env=self.env,
        )  # fmt: skip

    def close(self) -> None:
        """Stop the gpg-agent this home started (ours only, by its home)."""
        subprocess.run(["gpgconf", "--kill", "gpg-agent"], env=self.env, capture_output=True, check=False)


def build_deb(out: Path, *, package: str, version: str, arch: str, files: dict[str, Path]) -> Path:
    """A .deb of package holding files {path in the image: source}, mode 0755, owned by root."""
    root = out / f"{package}-{arch}-root"
    for dest, source in files.items():
        target = root / dest.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        target.chmod(0o755)
    (root / "DEBIAN").mkdir(parents=True, exist_ok=True)
    (root / "DEBIAN" / "control").write_text(
        f"Package: {package}\nVersion: {version}\nArchitecture: {arch}\n"
        "Maintainer: runner-image tests <tests@example.invalid>\n"
        f"Description: {package} fixture for the runner-image tests\n"
    )
    deb = out / f"{package}_{version.replace(':', '%3a')}_{arch}.deb"
    run("dpkg-deb", "--root-owner-group", "-Zgzip", "--build", str(root), str(deb))
    shutil.rmtree(root)
    return deb


def packages_entry(
    deb: Path, *, package: str, version: str, arch: str, filename: str, sha256: str | None = None
) -> str:
    data = deb.read_bytes()
    return (
        f"Package: {package}\nVersion: {version}\nArchitecture: {arch}\n"
        "Maintainer: runner-image tests <tests@example.invalid>\n"
        f"Filename: {filename}\nSize: {len(data)}\nSHA256: {sha256 or hashlib.sha256(data).hexdigest()}\n"
        f"Description: {package} fixture\n"
    )


def write_repo(
    root: Path,
    debs: dict[tuple[str, str], tuple[str, Path]],
    *,
    signer: Gpg,
    served_key: Gpg,
    corrupt: str | None = None,
) -> None:
    """One repository at root/<os id>/: debs {(package, arch): (version, .deb)}, signed by signer.

    served_key is the key published at <os id>/gpg; corrupt names a package
    whose SHA-256 in the (signed) index is wrong.
    """
    repo = root / OS_ID
    pool = repo / "pool" / "stable"
    pool.mkdir(parents=True)
    dist = repo / "dists" / CODENAME
    sums = []
    for arch in ARCHES:
        entries = []
        for (package, deb_arch), (version, deb) in debs.items():
            if deb_arch != arch:
                continue
            shutil.copyfile(deb, pool / deb.name)
            wrong = "0" * 64 if package == corrupt else None
            filename = f"pool/stable/{deb.name}"
            entries.append(
                packages_entry(deb, package=package, version=version, arch=arch, filename=filename, sha256=wrong)
            )
        index = dist / "stable" / f"binary-{arch}" / "Packages"
        index.parent.mkdir(parents=True)
        index.write_text("\n".join(entries))
        data = index.read_bytes()
        sums.append(f" {hashlib.sha256(data).hexdigest()} {len(data)} {index.relative_to(dist).as_posix()}\n")
    (dist / "Release").write_text(
        f"Origin: runner-image tests\nLabel: Docker CE fixture\nSuite: {CODENAME}\nCodename: {CODENAME}\n"
        f"Architectures: {' '.join(ARCHES)}\nComponents: stable\nDate: {email.utils.formatdate(usegmt=True)}\n"
        f"SHA256:\n{''.join(sums)}"
    )
    signer.clearsign(dist / "Release", dist / "InRelease")
    (repo / "gpg").write_bytes(served_key.public_key())


def write_apt_repos(root: Path, *, buildx: dict[str, Path], docker: dict[str, Path], docker_version: str) -> AptRepos:
    """The good repository and one per failure, under root/<name>/; buildx and docker per arch."""
    good, other = Gpg(root / "gnupg-good", "good"), Gpg(root / "gnupg-other", "other")
    try:
        debs_dir = root / "debs"
        debs_dir.mkdir()
        buildx_version = BUILDX_FIXTURE_VERSION
        suffix = f"-1~{OS_ID}.{VERSION_ID}~{CODENAME}"
        cli_version, plugin_version = f"5:{docker_version}{suffix}", f"{buildx_version}{suffix}"
        debs: dict[tuple[str, str], tuple[str, Path]] = {}
        for arch in ARCHES:
            cli = {"/usr/bin/docker": docker[arch]}
            plugin = {"/usr/libexec/docker/cli-plugins/docker-buildx": buildx[arch]}
            debs["docker-ce-cli", arch] = (
                cli_version,
                build_deb(debs_dir, package="docker-ce-cli", version=cli_version, arch=arch, files=cli),
            )
            debs["docker-buildx-plugin", arch] = (
                plugin_version,
                build_deb(debs_dir, package="docker-buildx-plugin", version=plugin_version, arch=arch, files=plugin),
            )
        write_repo(root / "good", debs, signer=good, served_key=good)
        write_repo(root / "bad-signature", debs, signer=other, served_key=good)
        write_repo(root / "wrong-key", debs, signer=other, served_key=other)
        write_repo(root / "bad-sum", debs, signer=good, served_key=good, corrupt="docker-ce-cli")
        return AptRepos(
            root=root,
            fingerprint=good.fingerprint,
            other_fingerprint=other.fingerprint,
            docker_version=docker_version,
            buildx_version=buildx_version,
        )
    finally:
        good.close()
        other.close()


def cached_apt_repos(cache: Path) -> AptRepos:
    """The repositories of write_apt_repos, made once in cache (under its lock) and then reused.

    The same bytes in every test worker and every run: the engine keys an apt
    install on what it reads, so one install from them serves every test that
    makes the same one. Keyed by the buildx and docker versions and this
    file's text, so a change to how they are made makes them again.
    """
    with filling(cache):
        buildx = {arch: build_buildx(cache, arch) for arch in ARCHES}
        docker_version, docker = docker_clients(cache)
        made = [BUILDX_FIXTURE_VERSION, docker_version, Path(__file__).read_text()]
        root = cache / f"apt-repos-{hashlib.sha256(json.dumps(made).encode()).hexdigest()[:12]}"
        record = root / "apt-repos.json"
        if not record.is_file():
            shutil.rmtree(root, ignore_errors=True)
            root.mkdir(parents=True)
            repos = write_apt_repos(root, buildx=buildx, docker=docker, docker_version=docker_version)
            fields = dataclasses.asdict(repos)
            del fields["root"]
            record.write_text(json.dumps(fields))
        return AptRepos(root=root, **json.loads(record.read_text()))
