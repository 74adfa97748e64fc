"""Final stage: the image, in Dockerfile order, reading like its contract.

ENV block, then on the system part (pipelines/image/system.py: packages,
group/user, sudo rule, CA certificates) WORKDIR, COPY with owner, labels,
USER last, and no ENTRYPOINT/CMD (the ADR: the pod spec sets the command).
"""

from __future__ import annotations

from collections.abc import Mapping

import dagger

from pipelines.shared.contract import ImageContract, Layout
from pipelines.shared.errors import InvalidSpecError
from pipelines.shared.labels import (
    BUILDX_LABEL,
    CA_CERTIFICATES_LABEL,
    DOCKER_LABEL,
    EXTRA_PACKAGES_LABEL,
    HOOKS_LABEL,
    HOOKS_NOVOLUME_LABEL,
    LAYOUT_LABEL,
    OCI,
    VERSION_LABEL,
)
from pipelines.shared.os_release import parse_os_release, read_os_release
from pipelines.shared.spec import RunnerSpec

LICENSE = "MIT"  # the runner's and the hooks' license


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
        VERSION_LABEL: spec.runner_version,
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


async def read_image_os(base: dagger.Container, spec: RunnerSpec) -> str | None:
    """ImageOS for the hosted layout, from the base's os-release; None for minimal."""
    if spec.layout is Layout.MINIMAL:
        return None
    return image_os(await read_os_release(base, reference=spec.base_image), base_image=spec.base_image)


def assemble(
    spec: RunnerSpec, system_part: dagger.Container, runner_dir: dagger.Directory, imageos: str | None
) -> dagger.Container:
    """The final image for spec's layout: env, the runner owned by the image user, labels, USER last."""
    contract = spec.contract
    env = dict(contract.env) if imageos is None else {**contract.env, "ImageOS": imageos}
    ctr = with_runner(with_env(system_part, env), contract, runner_dir)
    ctr = with_labels(ctr, spec).without_entrypoint().without_default_args()
    return ctr.with_user(contract.user)
