"""Final stage: the image, in Dockerfile order, reading like its contract.

ENV block, packages, group/user, WORKDIR, COPY with owner, labels, USER last,
and no ENTRYPOINT/CMD (the ADR: the pod spec sets the command).
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Mapping

import dagger

from pipelines import certificates, docker_cli, packages
from pipelines.contract import ImageContract, Layout
from pipelines.errors import InvalidSpecError, PackageError
from pipelines.spec import RunnerSpec

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
# os-release(5): /etc first, else the vendor file it usually links to.
OS_RELEASE_FILES = ("/etc/os-release", "/usr/lib/os-release")

OCI = "org.opencontainers.image"
HOOKS_LABEL = "dev.runner-image.hooks.version"  # k8s/
HOOKS_NOVOLUME_LABEL = "dev.runner-image.hooks-novolume.version"  # k8s-novolume/, when shipped
DOCKER_LABEL = "dev.runner-image.docker.version"  # docker-ce-cli, when shipped
BUILDX_LABEL = "dev.runner-image.buildx.version"  # docker-buildx-plugin, when shipped
LAYOUT_LABEL = "dev.runner-image.layout"
EXTRA_PACKAGES_LABEL = "dev.runner-image.extra-packages"  # what --extra-package added, when any
CA_CERTIFICATES_LABEL = "dev.runner-image.ca-certificates"  # SHA-256 of each --ca-certificate, when any
LICENSE = "MIT"  # the runner's and the hooks' license


def parse_os_release(text: str) -> dict[str, str]:
    """KEY=value lines of os-release(5), quotes removed."""
    fields: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        fields[key.strip()] = value.strip().strip("\"'")
    return fields


def image_os(os_release: str, *, base_image: str) -> str:
    """ImageOS as GitHub-hosted runners set it: ID + major VERSION_ID, e.g. ubuntu24."""
    fields = parse_os_release(os_release)
    os_id = fields.get("ID", "")
    major = fields.get("VERSION_ID", "").split(".")[0]
    if not os_id or not major.isdigit():
        msg = (
            f'base_image "{base_image}": expected /etc/os-release with ID and a numeric '
            f"VERSION_ID to derive ImageOS (e.g. ubuntu24), found ID={os_id!r} "
            f"VERSION_ID={fields.get('VERSION_ID', '')!r}; use a Debian or Ubuntu based image"
        )
        raise InvalidSpecError(msg)
    return f"{os_id}{major}"


def labels(spec: RunnerSpec) -> dict[str, str]:
    """OCI labels; source/revision/created only when given (keeps builds reproducible)."""
    found = {
        f"{OCI}.version": spec.runner_version,
        f"{OCI}.licenses": LICENSE,
        f"{OCI}.base.name": spec.base_image,
        f"{OCI}.source": spec.source,
        f"{OCI}.revision": spec.revision,
        f"{OCI}.created": spec.created,
        HOOKS_LABEL: spec.hooks_version,
        HOOKS_NOVOLUME_LABEL: spec.hooks_novolume_version if spec.novolume_hooks else None,
        DOCKER_LABEL: spec.docker_version if spec.with_docker_cli else None,
        BUILDX_LABEL: spec.buildx_version if spec.with_docker_cli else None,
        EXTRA_PACKAGES_LABEL: ",".join(spec.extra_packages),
        CA_CERTIFICATES_LABEL: ",".join(spec.ca_fingerprints),
        LAYOUT_LABEL: spec.layout.value,
    }
    return {key: value for key, value in found.items() if value}


def user_script(contract: ImageContract) -> str:
    """Group (fixed gid), then user (fixed uid) in it and in sudo, with a home."""
    q = shlex.quote
    return (
        f"groupadd --gid {contract.gid} {q(contract.group)}"
        f" && useradd --create-home --home-dir {q(contract.home)} --uid {contract.uid}"
        f" --groups sudo,{q(contract.group)} --shell /bin/bash {q(contract.user)}"
    )


def with_env(ctr: dagger.Container, env: Mapping[str, str]) -> dagger.Container:
    for key, value in env.items():
        ctr = ctr.with_env_variable(key, value)
    return ctr


def with_labels(ctr: dagger.Container, spec: RunnerSpec) -> dagger.Container:
    for key, value in labels(spec).items():
        ctr = ctr.with_label(key, value)
    return ctr


def with_runner(ctr: dagger.Container, contract: ImageContract, runner_dir: dagger.Directory) -> dagger.Container:
    """WORKDIR, then the runner (plus an empty _work) owned by the image user."""
    tree = runner_dir.with_new_directory("_work", permissions=0o755)
    return ctr.with_workdir(contract.workdir).with_directory(
        contract.runner_dir, tree, owner=f"{contract.uid}:{contract.gid}"
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
        return packages.with_packages(
            base, await extras_checked(spec, packages.downloaded(client, spec, base, spec.extra_packages))
        )
    ctr = with_env(base, {"DEBIAN_FRONTEND": spec.contract.env["DEBIAN_FRONTEND"]})
    user = user_script(spec.contract)  # run in the packages' step, after them: one container start less
    if spec.with_docker_cli:
        os_release = parse_os_release(await read_os_release(base))
        ctr = await _with_docker_packages(client, spec, ctr, os_release, docker_apt_repo, then=user)
    else:
        fetched = packages.downloaded(client, spec, ctr, HOSTED_PACKAGES + spec.extra_packages)
        ctr = packages.with_packages(
            ctr, await extras_checked(spec, fetched) if spec.extra_packages else fetched, then=user
        )
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
    repo = docker_cli.docker_repo(spec, os_release, local=local_repo is not None)
    key_file = (
        await docker_cli.download_key(client, repo) if local_repo is None else local_repo.file(f"{repo.os_id}/gpg")
    )
    keyring = await docker_cli.docker_keyring(spec, docker_cli.key_tools(client, spec), repo, key_file)
    fetched = packages.downloaded(
        client,
        spec,
        ctr,
        HOSTED_PACKAGES + spec.extra_packages + docker_cli.packages(spec, repo),
        with_sources=lambda stage: docker_cli.with_docker_repo(stage, repo, keyring, local_repo),
        strict_update=True,
    )
    fetched = await fetched_or_refused(
        fetched,
        lambda e: (
            f"{spec.name}: installing {', '.join(docker_cli.packages(spec, repo) + spec.extra_packages)} "
            f"from {repo.where} and the base's repositories "
            f"(key {spec.docker_key_fingerprint}) failed (exit {e.exit_code}); apt checks the repository's "
            "signature and each package's SHA-256 before installing, so nothing was installed. Check "
            "--docker-apt-url (or --docker-apt-repo), --docker-version and --buildx-version (they must exist for "
            f"{repo.os_id} {repo.codename}) and each --extra-package, or pass --docker-cli=false."
        ),
    )
    return packages.with_packages(docker_cli.with_kept_repo(ctr, repo, keyring), fetched, then=then)


async def read_os_release(base: dagger.Container) -> str:
    """The base's os-release text, read as a file (no exec: nothing runs under emulation); "" if absent."""
    for path in OS_RELEASE_FILES:
        try:
            return await base.file(path).contents()
        except dagger.QueryError:
            continue
    return ""


async def read_image_os(base: dagger.Container, spec: RunnerSpec) -> str | None:
    """ImageOS for the hosted layout, from the base's os-release; None for minimal."""
    if spec.layout is Layout.MINIMAL:
        return None
    return image_os(await read_os_release(base), base_image=spec.base_image)


def assemble(
    spec: RunnerSpec, system_part: dagger.Container, runner_dir: dagger.Directory, imageos: str | None
) -> dagger.Container:
    """The final image for spec's layout: env, the runner owned by the image user, labels, USER last."""
    contract = spec.contract
    env = dict(contract.env) if imageos is None else {**contract.env, "ImageOS": imageos}
    ctr = with_runner(with_env(system_part, env), contract, runner_dir)
    ctr = with_labels(ctr, spec).without_entrypoint().without_default_args()
    return ctr.with_user(contract.user)
