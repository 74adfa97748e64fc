"""check: any runner image against what ARC's chart, or the ADR's pod spec, does with it, mode by mode.

Each check runs what the chart runs (pipelines/audit/chart.py), in throwaway
containers of the image, as its user (pipelines/audit/modes.py): no push, no
install, nothing that leaves the engine. The result is one row per mode and
check (pipelines/audit/report.py); a failure says what was found and what the
chart needs.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import dagger

from pipelines.audit.chart import (
    CHART_RUN_SH,
    MINIMAL_DIR,
    MODES_OF_LAYOUT,
    Mode,
    parse_mode,
)
from pipelines.audit.modes import check_default, check_dind, check_hooks, check_minimal
from pipelines.audit.probes import Config, has_file, read_config
from pipelines.audit.report import Report, verdict
from pipelines.shared.concurrently import gather
from pipelines.shared.contract import Layout
from pipelines.shared.errors import CheckError, RunnerImageError, reach_hint, refused
from pipelines.shared.labels import LAYOUT_LABEL
from pipelines.shared.reference import parse_reference
from pipelines.shared.validators import valid_arch


async def image_layout(ctr: dagger.Container, config: Config) -> Layout:
    """Our layout label when there is one; else minimal when only /actions-runner/run.sh exists."""
    label = config.labels.get(LAYOUT_LABEL, "")
    if label in {layout.value for layout in Layout}:
        return Layout(label)
    if not await has_file(ctr, CHART_RUN_SH) and await has_file(ctr, f"{MINIMAL_DIR}/run.sh"):
        return Layout.MINIMAL
    return Layout.HOSTED


async def check_image(
    client: dagger.Client,
    ctr: dagger.Container,
    *,
    name: str,
    modes: Sequence[Mode] | None = None,
    docker_socket: dagger.Socket | None = None,
) -> Report:
    """Every asked mode (default: each of the image's layout) checked at once; the report, failed or not."""
    config = await read_config(ctr)
    layout = await image_layout(ctr, config)
    wanted = set(modes or ())  # already Modes: check_table() parsed them before pulling anything
    asked = tuple(mode for mode in Mode if mode in wanted) if wanted else MODES_OF_LAYOUT[layout]
    checks = {
        Mode.DEFAULT: functools.partial(check_default, ctr, config),
        Mode.DIND: functools.partial(check_dind, ctr, config, docker_socket),
        Mode.KUBERNETES: functools.partial(check_hooks, ctr, Mode.KUBERNETES),
        Mode.KUBERNETES_NOVOLUME: functools.partial(check_hooks, ctr, Mode.KUBERNETES_NOVOLUME),
        Mode.MINIMAL: functools.partial(check_minimal, client, ctr, config),
    }
    results = await gather(*(checks[mode] for mode in asked), steps=[f"checking {mode.value} mode" for mode in asked])
    return Report(image=name, layout=layout, rows=tuple(row for rows in results for row in rows))


async def image_to_check(
    client: dagger.Client,
    *,
    image: str | None,
    container: dagger.Container | None,
    arch: str,
    username: str | None = None,
    password: dagger.Secret | None = None,
    error: type[RunnerImageError] = CheckError,
) -> tuple[dagger.Container, str]:
    """The container to check (or scan: error is its class of error) and its name in the report: --image pulled
    for arch (logged in if asked), or --container as given."""
    if (image is None) == (container is None):
        msg = "image: expected exactly one of --image REF (a registry's image) and --container (e.g. build's)"
        raise error(msg)
    if container is not None:
        return container, f"the container given ({await container.platform()})"
    ref = str(parse_reference(image, name="image"))
    valid_arch(arch)  # refuses an unknown arch, naming the two
    platform = f"linux/{arch}"
    ctr = client.container(platform=dagger.Platform(platform))
    if username is not None and password is not None:
        ctr = ctr.with_registry_auth(ref, username, password)
    ctr = ctr.from_(ref)
    try:
        await ctr.sync()
    except dagger.QueryError as e:
        said = f"; the engine said: {e}{reach_hint(str(e), '--image')}"
        msg = refused("image", image, f"an image the engine can pull for {platform}") + said
        raise error(msg) from e
    return ctr, f"{ref} ({platform})"


async def check_table(
    client: dagger.Client,
    *,
    image: str | None = None,
    container: dagger.Container | None = None,
    modes: Sequence[Mode | str] | None = None,
    arch: str = "amd64",
    docker_socket: dagger.Socket | None = None,
    username: str | None = None,
    password: dagger.Secret | None = None,
) -> str:
    """`check` through either door: the report's table, or a CheckError holding it when a check failed."""
    asked = [parse_mode(m) for m in modes] if modes else None  # a bad mode is refused before the pull
    ctr, name = await image_to_check(
        client, image=image, container=container, arch=arch, username=username, password=password
    )
    return verdict(await check_image(client, ctr, name=name, modes=asked, docker_socket=docker_socket))
