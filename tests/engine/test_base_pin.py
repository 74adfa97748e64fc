"""The base image by digest: bump follows its tag to the index every arch resolves in, and base-fixes says what
the tag's new digest fixes (the update PR's body).

A new digest behind a tag is made here as a rebuild makes one: an index pushed
to the test environment's registry under the tag of an earlier one. The rest
of upstream is tests/engine/test_updates.py's stand-in.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import pytest
from dagger import Client, Platform

from pipelines.audit.base_fixes import HEADING
from pipelines.audit.scan import DPKG_STATUS
from pipelines.shared.pins import PINS, parse
from pipelines.shared.reference import parse_reference
from tests.engine import test_updates, vulnerability_db
from tests.engine.fake_upstream import FakeUpstream, serve_tool_release
from tests.engine.fixtures import FileServer
from tests.engine.registry import Registry
from tests.engine.test_dagger_call import dagger
from tests.engine.test_updates import bump, settings
from tests.engine.vulnerability_db import Advisory
from tests.tools import found_or_stop

pytestmark = pytest.mark.anyio
upstream = test_updates.upstream  # the fixture: GitHub's API and Docker's index, every other pin moved


@pytest.mark.long
async def test_the_base_follows_its_tag_and_an_index_without_an_arch_is_not_proposed(
    upstream: FakeUpstream, base_image: str, tmp_path: Path
) -> None:
    """A new digest pushed behind the pinned base's tag (the base's index, re-pushed with an annotation, as a
    rebuild with security fixes would be): updates shows it and bump rewrites that one line. An index without
    arm64 behind a tag is not proposed, and says so."""
    ref = parse_reference(base_image)
    registry, index = Registry(str(ref.host)), Registry(str(ref.host)).manifest(ref.path, str(ref.tag))
    tag = f"{ref.host}/{ref.path}:bump-{uuid.uuid4().hex[:12]}"
    old = registry.put_index(ref.path, tag.rsplit(":", 1)[1], index)
    pinned = tmp_path / "pinned.toml"  # everything else current: what the first bump of this base wrote
    code, err = await bump(upstream, tag, pinned)
    assert code == 0, err
    assert parse(pinned.read_text()).base_image == f"{tag}@{old}"

    new = registry.put_index(ref.path, tag.rsplit(":", 1)[1], {**index, "annotations": {"org.example.rebuilt": "1"}})
    assert new != old
    given = [*settings(upstream, f"{tag}@{old}"), "updates", "--pins-file", str(pinned)]
    done = await dagger("call", *given)
    assert done.returncode == 0, done
    assert done.stdout.startswith(f"Update base image to {new[:19]}\n"), done.stdout
    assert f"| base image | {tag}@{old} | {new} | update | {ref.host} |" in done.stdout
    moved = tmp_path / "moved.toml"
    code, err = await bump(upstream, f"{tag}@{old}", moved, "--pins-file", str(pinned))
    assert code == 0, err
    changed = [(a, b) for a, b in zip(pinned.read_text().splitlines(), moved.read_text().splitlines(), strict=True)
               if a != b]  # fmt: skip
    assert changed == [(f'image = "{tag}@{old}"', f'image = "{tag}@{new}"')], changed

    one_arch = {**index, "manifests": [m for m in index["manifests"] if m["platform"]["architecture"] == "amd64"]}
    amd64_only = f"{ref.host}/{ref.path}:amd64-only-{uuid.uuid4().hex[:12]}"
    registry.put_index(ref.path, amd64_only.rsplit(":", 1)[1], one_arch)
    done = await dagger("call", *settings(upstream, amd64_only), "updates", "--pins-file", str(pinned))
    assert done.returncode == 0, done
    expected = f"NOT proposed: {amd64_only}: its index has no image for linux/arm64; every arch (amd64, arm64)"
    assert f"| base image | {amd64_only} | — | {expected}" in done.stdout, done.stdout
    # A pinned digest the registry does not have: named, with what to do, and nothing written.
    missing = f"{tag}@sha256:{'0' * 64}"
    code, err = await bump(upstream, missing, tmp_path / "not-written.toml", "--pins-file", str(pinned))
    assert code != 0, err
    assert f'base image: "{missing}": the engine could not pull it' in err, err
    assert "Check --base-image, and that the engine reaches its registry" in err
    assert not (tmp_path / "not-written.toml").exists()

    kept = tmp_path / "kept.toml"
    code, err = await bump(upstream, amd64_only, kept, "--pins-file", str(pinned))
    assert code == 0, err
    assert kept.read_bytes() == pinned.read_bytes()


# A Debian package the test says is vulnerable, fixed in a version above this one: the old base's only extra.
VULNERABLE = Advisory("CVE-2099-0301", "example-vulnerable", "1.0-2", "High")
UNFIXED = Advisory("CVE-2099-0302", "tar", "", "Critical")  # both digests hold tar: not gone
STANZA = (
    "Package: example-vulnerable\nStatus: install ok installed\nPriority: optional\nSection: misc\n"
    "Installed-Size: 1\nMaintainer: Test <test@example.invalid>\nArchitecture: all\nVersion: 1.0-1\n"
    "Description: a package this test says is vulnerable\n"
)


@pytest.mark.long
async def test_base_fixes_lists_what_the_tags_new_digest_no_longer_has(
    dag: Client, base_image: str, tools_cache: Path, tmp_path: Path
) -> None:
    """The pinned digest: the base with one more (vulnerable) package; the tag's new digest: the base itself.
    base-fixes, through `dagger call` as the update workflow runs it (grype from its release asset, the database
    from its listing: local stand-ins), lists that package's vulnerability as gone, and tar's, in both, not."""
    grype = found_or_stop(shutil.which("grype"), "grype not found on PATH (.ci/run builds it)")
    ref = parse_reference(base_image)
    tag = f"fixes-{uuid.uuid4().hex[:12]}"
    moving = f"{ref.host}/{ref.path}:{tag}"
    variants = []
    for platform in ("linux/amd64", "linux/arm64"):
        ctr = dag.container(platform=Platform(platform)).from_(base_image)
        status = await ctr.file(DPKG_STATUS).contents()
        variants.append(ctr.with_new_file(DPKG_STATUS, f"{status.rstrip()}\n\n{STANZA}"))
    old = (await dag.container().publish(moving, platform_variants=variants)).rsplit("@", 1)[1]
    registry = Registry(str(ref.host))
    new = registry.put_index(ref.path, tag, registry.manifest(ref.path, str(ref.tag)))  # the fixed base, same tag

    database = vulnerability_db.database(tools_cache, tmp_path / "grype-db", [VULNERABLE, UNFIXED])
    with FakeUpstream() as github, FileServer(vulnerability_db.listing(tmp_path / "databases", database)) as host:
        checksum = serve_tool_release(github, tools_cache, "grype", PINS.grype_version, Path(grype))
        grype_flags = ["--grype-base-url", f"{github.url}/anchore/grype/releases/download",
                       "--grype-checksum", checksum, "--grype-db-url", host.url]  # fmt: skip
        done = await dagger("call", "--base-image", f"{moving}@{old}", "--github-api-url", github.api,
                            "base-fixes", *grype_flags)  # fmt: skip
    assert done.returncode == 0, done
    out = done.stdout
    assert out.startswith(f"{HEADING}\n\n`{moving}@{old}` → `{moving}@{new}` (linux/amd64, grype's database built 20")
    assert ": 1 known vulnerability of the old digest gone in the new one." in out, out
    assert f"| example-vulnerable | 1.0-1 | {VULNERABLE.cve} | High |" in out, out
    assert UNFIXED.cve not in out

    # Pinned at the digest the tag names: nothing moved, nothing fetched (no stand-ins given), no section.
    same = await dagger("call", "--base-image", f"{moving}@{new}", "base-fixes")
    assert (same.returncode, same.stdout.strip()) == (0, ""), same
