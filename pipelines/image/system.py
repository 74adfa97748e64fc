"""The final stage's system part: packages (Docker's too if asked), group and user, sudo rule, CA certificates.

One apt step: the hosted packages, --extra-package and Docker's CLI are
downloaded together (pipelines/image/apt.py, Docker's repository from
pipelines/image/docker_repo.py) and installed in one exec that also adds the
group and the user. It does not depend on the runner, so the build works on
it while the archives are still being checked.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable

import dagger

from pipelines.image import apt, certificates, docker_repo
from pipelines.shared.contract import ImageContract, Layout
from pipelines.shared.errors import PackageError
from pipelines.shared.os_release import parse_os_release, read_os_release
from pipelines.shared.spec import RunnerSpec

# Hosted layout packages. sudo is the contract (passwordless sudoer). The rest
# is the upstream image's list minus lsb-release (/etc/os-release says the
# same): git (actions/checkout clones with it, else falls back to a tarball),
# curl/jq/unzip (used by countless run: steps and setup-* actions), and
# ca-certificates (already in runtime-deps; listed so a slimmer base works).
# Each is small next to the ~100 MB runner and installed without recommends.
HOSTED_PACKAGES = ("sudo", "ca-certificates", "curl", "git", "jq", "unzip")
SUDOERS_FILE = "/etc/sudoers.d/runner"  # no dot in the name, or sudo skips it
# As upstream: passwordless sudo, and DEBIAN_FRONTEND kept so `sudo apt-get
# install` in a job does not stop at a prompt (sudo resets the env otherwise).
SUDOERS_RULE = '%sudo ALL=(ALL:ALL) NOPASSWD:ALL\nDefaults env_keep += "DEBIAN_FRONTEND"\n'


def user_script(contract: ImageContract) -> str:
    """Group (fixed gid), then user (fixed uid) in it and in sudo, with a home."""
    q = shlex.quote
    return (
        f"groupadd --gid {contract.gid} {q(contract.group)}"
        f" && useradd --create-home --home-dir {q(contract.home)} --uid {contract.uid}"
        f" --groups sudo,{q(contract.group)} --shell /bin/bash {q(contract.user)}"
    )


async def system(
    client: dagger.Client, spec: RunnerSpec, base: dagger.Container, docker_apt_repo: dagger.Directory | None = None
) -> dagger.Container:
    """The final stage's system part: packages (Docker's too if asked), group and user, sudo rule; CA certificates.

    Hosted only, but for --extra-package and --ca-certificate (minimal: the
    base). It does not depend on the runner, so the build works on it while
    the archives are still being checked.
    docker_apt_repo: a local copy of Docker's apt repository, used instead of --docker-apt-url.
    """
    # After the packages: the store is taken from the image as they left it (they may add or upgrade it).
    ctr = await system_packages(client, spec, base, docker_apt_repo)
    return await certificates.with_ca_certificates(client, spec, ctr)


async def system_packages(
    client: dagger.Client, spec: RunnerSpec, base: dagger.Container, docker_apt_repo: dagger.Directory | None
) -> dagger.Container:
    """system without the CA certificates."""
    if spec.layout is Layout.MINIMAL:
        if not spec.extra_packages:
            return base
        return apt.with_packages(
            base, await extras_checked(spec, apt.downloaded(client, spec, base, spec.extra_packages))
        )
    ctr = base.with_env_variable("DEBIAN_FRONTEND", spec.contract.env["DEBIAN_FRONTEND"])
    user = user_script(spec.contract)  # run in the packages' step, after them: one container start less
    if spec.with_docker_cli:
        os_release = parse_os_release(await read_os_release(base, reference=spec.base_image))
        ctr = await _with_docker_packages(client, spec, ctr, os_release, docker_apt_repo, then=user)
    else:
        fetched = apt.downloaded(client, spec, ctr, HOSTED_PACKAGES + spec.extra_packages)
        ctr = apt.with_packages(ctr, await extras_checked(spec, fetched) if spec.extra_packages else fetched, then=user)
    return ctr.with_new_file(SUDOERS_FILE, SUDOERS_RULE, permissions=0o440)


async def fetched_or_refused(fetched: dagger.Directory, refusal: Callable[[dagger.ExecError], str]) -> dagger.Directory:
    """fetched, once apt has downloaded it; apt's refusal is a PackageError in refusal's words, then apt's own."""
    try:
        await fetched.sync()
    except dagger.ExecError as e:
        said = f"{e.stdout or ''}\n{e.stderr or ''}".strip()[-3000:]
        msg = f"{refusal(e)} apt said:\n{said}"
        raise PackageError(msg) from e
    return fetched


async def extras_checked(spec: RunnerSpec, fetched: dagger.Directory) -> dagger.Directory:
    """fetched, once apt has downloaded it: a package apt does not know fails here, naming --extra-package."""
    return await fetched_or_refused(
        fetched,
        lambda e: (
            f"{spec.name}: --extra-package {' '.join(spec.extra_packages)}: expected packages of the base's "
            f"distribution, apt could not download them (exit {e.exit_code}); nothing was installed. Check "
            "each name (and version) exists for the base (apt-cache policy NAME in it)."
        ),
    )


async def _with_docker_packages(
    client: dagger.Client,
    spec: RunnerSpec,
    ctr: dagger.Container,
    os_release: dict[str, str],
    local_repo: dagger.Directory | None = None,
    then: str | None = None,
) -> dagger.Container:
    """The hosted packages plus Docker's CLI and buildx, apt verifying Docker's repository; then as with_packages.

    The download step is run here (not lazily) so that apt's refusal becomes a PackageError naming the repository.
    """
    repo = docker_repo.docker_repo(spec, os_release, local=local_repo is not None)
    key_file = (
        await docker_repo.download_key(client, repo) if local_repo is None else local_repo.file(f"{repo.os_id}/gpg")
    )
    keyring = await docker_repo.docker_keyring(spec, docker_repo.key_tools(client, spec), repo, key_file)
    fetched = apt.downloaded(
        client,
        spec,
        ctr,
        HOSTED_PACKAGES + spec.extra_packages + docker_repo.packages(spec, repo),
        with_sources=lambda stage: docker_repo.with_docker_repo(stage, repo, keyring, local_repo),
        strict_update=True,
    )
    fetched = await fetched_or_refused(
        fetched,
        lambda e: (
            f"{spec.name}: installing {', '.join(docker_repo.packages(spec, repo) + spec.extra_packages)} "
            f"from {repo.where} and the base's repositories "
            f"(key {spec.docker_key_fingerprint}) failed (exit {e.exit_code}); apt checks the repository's "
            "signature and each package's SHA-256 before installing, so nothing was installed. Check "
            "--docker-apt-url (or --docker-apt-repo), --docker-version and --buildx-version (they must exist for "
            f"{repo.os_id} {repo.codename}) and each --extra-package, or pass --docker-cli=false."
        ),
    )
    return apt.with_packages(docker_repo.with_kept_repo(ctr, repo, keyring), fetched, then=then)
