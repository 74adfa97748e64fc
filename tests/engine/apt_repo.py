"""A signed apt repository laid out like Docker's, made by the tests and served on 127.0.0.1.

It stands in for Docker's repository: ``<root>/<name>/<os id>/gpg`` (the
armored public key), ``dists/<codename>/{Release,InRelease}`` signed with a
test key made here, ``dists/<codename>/stable/binary-<arch>/Packages`` and
``pool/stable/*.deb``. The packages hold real tools: ``docker-ce-cli`` the
Docker CLI of Debian's ``docker.io`` (the test environment's own client), and
``docker-buildx-plugin`` a buildx built from the Go module proxy. Versions
follow Docker's scheme (``5:<v>-1~<id>.<version_id>~<codename>``).

Several repositories are written, one good and one per way of being bad,
so that each failure test points the pipeline at its own URL.
"""

from __future__ import annotations

import dataclasses
import email.utils
import hashlib
import os
import re
import shutil
import subprocess
from pathlib import Path

BUILDX_MODULE = "github.com/docker/buildx"
# buildx release built for the fixture (newest at writing; its go.mod has no
# replace directive, so `go install ...@version` works through the proxy).
BUILDX_FIXTURE_VERSION = "0.38.2"
DOCKER_CLIENT = Path("/usr/bin/docker")  # Debian's docker.io client, installed by ci/testenv.sh
OS_ID, VERSION_ID, CODENAME = "debian", "12", "bookworm"  # the test base images
ARCH = "amd64"  # only the test environment's own docker client is at hand: amd64


@dataclasses.dataclass(frozen=True, kw_only=True)
class AptRepos:
    """Where the repositories are, and what they hold."""

    base_url: str
    """<base_url>/<name> is a --docker-apt-url; names: good, bad-signature, wrong-key, bad-sum."""
    fingerprint: str
    """The key the good repository is signed with (the one to pin)."""
    other_fingerprint: str
    """A key nobody should trust (signs bad-signature; served by wrong-key)."""
    docker_version: str
    buildx_version: str

    def url(self, name: str) -> str:
        return f"{self.base_url}/{name}"


def client_version() -> str:
    """MAJOR.MINOR.PATCH of DOCKER_CLIENT ("Docker version 20.10.24+dfsg1, build ..." -> 20.10.24)."""
    out = run(str(DOCKER_CLIENT), "--version")
    match = re.search(r"(\d+\.\d+\.\d+)", out)
    if match is None:
        msg = f"{DOCKER_CLIENT} --version: expected a version, found {out!r}"
        raise RuntimeError(msg)
    return match[1]


def run(*args: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(args, capture_output=True, text=True, check=False, env=env)
    if done.returncode != 0:
        msg = f"{' '.join(args)} failed ({done.returncode}): {done.stderr[-2000:]}"
        raise RuntimeError(msg)
    return done.stdout


def build_buildx(cache: Path, version: str = BUILDX_FIXTURE_VERSION) -> Path:
    """A real docker-buildx for linux/amd64, built once per version and cached."""
    target = cache / f"buildx-v{version}-linux-{ARCH}" / "docker-buildx"
    if target.exists():
        return target
    go = shutil.which("go") or next((p for p in ("/usr/local/go/bin/go",) if Path(p).exists()), None)
    if go is None:
        msg = "building the buildx fixture: expected a Go toolchain on PATH, found none (.ci/run installs Go)"
        raise RuntimeError(msg)
    gobin = target.parent / "bin"
    env = {**os.environ, "CGO_ENABLED": "0", "GOOS": "linux", "GOARCH": ARCH, "GOBIN": str(gobin)}
    ldflags = f"-s -w -X {BUILDX_MODULE}/version.Version=v{version}"
    run(go, "install", "-trimpath", "-ldflags", ldflags, f"{BUILDX_MODULE}/cmd/buildx@v{version}", env=env)
    (gobin / "buildx").rename(target)
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


def build_deb(out: Path, *, package: str, version: str, files: dict[str, Path]) -> Path:
    """A .deb of package holding files {path in the image: source}, mode 0755, owned by root."""
    root = out / f"{package}-root"
    for dest, source in files.items():
        target = root / dest.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        target.chmod(0o755)
    (root / "DEBIAN").mkdir(parents=True, exist_ok=True)
    (root / "DEBIAN" / "control").write_text(
        f"Package: {package}\nVersion: {version}\nArchitecture: {ARCH}\n"
        "Maintainer: runner-image tests <tests@example.invalid>\n"
        f"Description: {package} fixture for the runner-image tests\n"
    )
    deb = out / f"{package}_{version.replace(':', '%3a')}_{ARCH}.deb"
    run("dpkg-deb", "--root-owner-group", "-Zgzip", "--build", str(root), str(deb))
    shutil.rmtree(root)
    return deb


def packages_entry(deb: Path, *, package: str, version: str, filename: str, sha256: str | None = None) -> str:
    data = deb.read_bytes()
    return (
        f"Package: {package}\nVersion: {version}\nArchitecture: {ARCH}\n"
        "Maintainer: runner-image tests <tests@example.invalid>\n"
        f"Filename: {filename}\nSize: {len(data)}\nSHA256: {sha256 or hashlib.sha256(data).hexdigest()}\n"
        f"Description: {package} fixture\n"
    )


def write_repo(
    root: Path, debs: dict[str, tuple[str, Path]], *, signer: Gpg, served_key: Gpg, corrupt: str | None = None
) -> None:
    """One repository at root/<os id>/: debs {package: (version, .deb)}, signed by signer.

    served_key is the key published at <os id>/gpg; corrupt names a package
    whose SHA-256 in the (signed) index is wrong.
    """
    repo = root / OS_ID
    pool = repo / "pool" / "stable"
    pool.mkdir(parents=True)
    entries = []
    for package, (version, deb) in debs.items():
        shutil.copyfile(deb, pool / deb.name)
        wrong = "0" * 64 if package == corrupt else None
        entries.append(
            packages_entry(deb, package=package, version=version, filename=f"pool/stable/{deb.name}", sha256=wrong)
        )
    dist = repo / "dists" / CODENAME
    index = dist / "stable" / f"binary-{ARCH}" / "Packages"
    index.parent.mkdir(parents=True)
    index.write_text("\n".join(entries))
    rel = index.relative_to(dist).as_posix()
    data = index.read_bytes()
    (dist / "Release").write_text(
        f"Origin: runner-image tests\nLabel: Docker CE fixture\nSuite: {CODENAME}\nCodename: {CODENAME}\n"
        f"Architectures: {ARCH}\nComponents: stable\nDate: {email.utils.formatdate(usegmt=True)}\n"
        f"SHA256:\n {hashlib.sha256(data).hexdigest()} {len(data)} {rel}\n"
    )
    signer.clearsign(dist / "Release", dist / "InRelease")
    (repo / "gpg").write_bytes(served_key.public_key())


def write_apt_repos(root: Path, base_url: str, *, buildx: Path, docker_version: str) -> AptRepos:
    """The good repository and one per failure, under root/<name>/."""
    good, other = Gpg(root / "gnupg-good", "good"), Gpg(root / "gnupg-other", "other")
    try:
        debs_dir = root / "debs"
        debs_dir.mkdir()
        buildx_version = BUILDX_FIXTURE_VERSION
        suffix = f"-1~{OS_ID}.{VERSION_ID}~{CODENAME}"
        cli_version, plugin_version = f"5:{docker_version}{suffix}", f"{buildx_version}{suffix}"
        cli_files = {"/usr/bin/docker": DOCKER_CLIENT}
        debs = {
            "docker-ce-cli": (
                cli_version,
                build_deb(debs_dir, package="docker-ce-cli", version=cli_version, files=cli_files),
            ),
            "docker-buildx-plugin": (
                plugin_version,
                build_deb(
                    debs_dir,
                    package="docker-buildx-plugin",
                    version=plugin_version,
                    files={"/usr/libexec/docker/cli-plugins/docker-buildx": buildx},
                ),
            ),
        }
        write_repo(root / "good", debs, signer=good, served_key=good)
        write_repo(root / "bad-signature", debs, signer=other, served_key=good)
        write_repo(root / "wrong-key", debs, signer=other, served_key=other)
        write_repo(root / "bad-sum", debs, signer=good, served_key=good, corrupt="docker-ce-cli")
        return AptRepos(
            base_url=base_url,
            fingerprint=good.fingerprint,
            other_fingerprint=other.fingerprint,
            docker_version=docker_version,
            buildx_version=buildx_version,
        )
    finally:
        good.close()
        other.close()
