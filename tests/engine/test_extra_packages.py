"""--extra-package: a package of the base's distribution, downloaded off the emulator, verified by apt, installed."""

from __future__ import annotations

import dagger
import pytest

from pipelines.release.tested import build_and_test
from pipelines.shared.contract import Layout
from pipelines.shared.labels import EXTRA_PACKAGES_LABEL
from tests.engine.fixtures import ReleaseMirror
from tests.engine.test_dagger_call import dagger as dagger_cli
from tests.engine.test_dagger_call import local_settings
from tests.engine.test_pipeline import make_spec, sh

pytestmark = pytest.mark.anyio
EXTRA = "tree"  # small, in Debian 12 for both arches, and nothing the image has already


@pytest.mark.parametrize(("arch", "layout"), [("arm64", Layout.MINIMAL), ("amd64", Layout.HOSTED)])
async def test_an_extra_package_is_installed_for_the_images_arch_and_labelled(
    dag: dagger.Client, mirror: ReleaseMirror, base_image: str, arch: str, layout: Layout
) -> None:
    spec = make_spec(mirror, base_image, arch, layout, extra_packages=(EXTRA,))
    passed = await build_and_test(dag, spec)  # the smoke test still passes

    ctr = passed.container
    assert (await sh(ctr, f"{EXTRA} --version")).startswith(f"{EXTRA} v")
    assert await sh(ctr, f"dpkg-query -W -f '${{Architecture}}' {EXTRA}") == arch
    assert await ctr.label(EXTRA_PACKAGES_LABEL) == EXTRA
    assert await sh(ctr, "ls /var/lib/apt/lists | grep -v -e '^lock$' -e '^partial$' -e '^auxfiles$' || true") == ""
    assert await ctr.user() == spec.contract.user


@pytest.mark.long
async def test_the_readme_line_through_dagger_call(mirror: ReleaseMirror, base_image: str) -> None:
    """`dagger call --extra-package tree smoke-test --arch arm64 --layout minimal`, with the local settings."""
    done = await dagger_cli(
        "call", *local_settings(mirror, base_image), "--extra-package", EXTRA,
        "smoke-test", "--arch", "arm64", "--layout", "minimal",
    )  # fmt: skip
    assert done.returncode == 0, done
    assert done.stdout.strip() == mirror.runner_version, done
    # The flag was not ignored: the same image (the engine's cache) holds the package, for its arch, and says so.
    settings = [*local_settings(mirror, base_image), "--extra-package", EXTRA]
    image = [*settings, "build", "--arch", "arm64", "--layout", "minimal"]
    query = ["with-exec", "--args", f"dpkg-query,-W,-f=${{Package}} ${{Architecture}},{EXTRA}", "stdout"]
    installed = await dagger_cli("call", *image, *query)
    assert installed.returncode == 0, installed
    assert installed.stdout.strip() == f"{EXTRA} arm64", installed
    label = await dagger_cli("call", *image, "label", "--name", EXTRA_PACKAGES_LABEL)
    assert label.stdout.strip() == EXTRA, label


async def test_an_unknown_extra_package_fails_naming_it(mirror: ReleaseMirror, base_image: str) -> None:
    done = await dagger_cli(
        "call", *local_settings(mirror, base_image), "--extra-package", "no-such-package-runner-image",
        "smoke-test", "--arch", "amd64", "--layout", "minimal",
    )  # fmt: skip
    assert done.returncode != 0, done
    assert "--extra-package no-such-package-runner-image: expected packages of the base's distribution" in done.stderr
    assert "Unable to locate package no-such-package-runner-image" in done.stderr, done
    assert "Traceback" not in done.stderr
