"""Multi-image checks, error unwrapping, and publishing's input checks (pure; pushes are in tests/engine)."""

from __future__ import annotations

import pytest

from pipelines.image.build import Archives
from pipelines.release.publish import check_credentials, publish, valid_address
from pipelines.release.tested import check_specs, release
from pipelines.shared.concurrently import unwrap
from pipelines.shared.errors import (
    BaseImageError,
    ChecksumError,
    EngineError,
    InvalidSpecError,
    PublishError,
    RunnerImageError,
    SmokeTestError,
)
from pipelines.shared.spec import RunnerSpec

SECRET = object()


def test_check_specs_refuses_empty_and_duplicates() -> None:
    with pytest.raises(InvalidSpecError, match="expected at least one arch"):
        check_specs([])
    with pytest.raises(InvalidSpecError, match="expected each arch/layout once, found amd64/hosted, amd64/hosted"):
        check_specs([RunnerSpec(), RunnerSpec()])
    check_specs([RunnerSpec(), RunnerSpec(layout="minimal")])  # type: ignore[arg-type]


def test_one_runner_archive_cannot_serve_two_arches() -> None:
    specs = [RunnerSpec(arch="amd64"), RunnerSpec(arch="arm64")]
    with pytest.raises(InvalidSpecError, match=r"runner_archive: expected one arch.*found amd64, arm64"):
        check_specs(specs, Archives(runner=object()))  # type: ignore[arg-type]
    check_specs(specs, Archives(hooks=object()))  # type: ignore[arg-type]


def test_unwrap_single_error_keeps_its_type_and_cause() -> None:
    cause = ValueError("inner")
    err = ChecksumError("x.tar.gz: bad")
    err.__cause__ = cause
    out = unwrap(ExceptionGroup("g", [err]))
    assert out is err
    assert out.__cause__ is cause


def test_unwrap_several_errors_of_one_stage() -> None:
    out = unwrap(ExceptionGroup("g", [SmokeTestError("amd64: a"), ExceptionGroup("h", [SmokeTestError("arm64: b")])]))
    assert type(out) is SmokeTestError
    assert str(out) == "smoke-test: amd64: a | arm64: b"


def test_unwrap_says_one_message_of_several_images_once() -> None:
    same = "api.example: connection refused"
    out = unwrap(ExceptionGroup("g", [ChecksumError(same), ChecksumError(same), ChecksumError("other")]))
    assert str(out) == f"checksum: {same} | other"
    mixed = unwrap(ExceptionGroup("g", [ChecksumError(same), SmokeTestError("a"), ChecksumError(same)]))
    assert str(mixed) == f"runner-image: checksum: {same} | smoke-test: a"


def test_unwrap_mixed_stages_and_foreign_errors() -> None:
    out = unwrap(ExceptionGroup("g", [SmokeTestError("a"), ChecksumError("b")]))
    assert type(out) is RunnerImageError
    assert "smoke-test: a" in str(out)
    assert "checksum: b" in str(out)
    group = ExceptionGroup("g", [SmokeTestError("a"), KeyError("k")])
    assert unwrap(group) is group


# --- publish -------------------------------------------------------------------------
@pytest.mark.parametrize("address", ["ghcr.io/o/actions-runner:2.337.0", "localhost:5000/runner", "o/r:latest"])
def test_good_addresses(address: str) -> None:
    assert str(valid_address(address)) == address


@pytest.mark.parametrize(
    ("address", "found"),
    [
        ("ghcr.io/Owner/repo:tag", "expected a docker reference"),
        ("ghcr.io/o/r@sha256:" + "a" * 64, "found a digest"),
        ("", "expected a docker reference"),
    ],
)
def test_bad_addresses(address: str, found: str) -> None:
    with pytest.raises(PublishError) as e:
        valid_address(address)
    assert f'address "{address}"' in str(e.value)
    assert found in str(e.value)


def test_credentials_come_in_pairs() -> None:
    check_credentials(None, None)
    check_credentials("me", SECRET)  # type: ignore[arg-type]
    with pytest.raises(PublishError, match="username given without password"):
        check_credentials("me", None)
    with pytest.raises(PublishError, match="password given without username"):
        check_credentials(None, SECRET)  # type: ignore[arg-type]


@pytest.mark.anyio
async def test_publish_refuses_nothing_to_push() -> None:
    with pytest.raises(PublishError, match="expected at least one container"):
        await publish(None, [], "ghcr.io/o/r:1")  # type: ignore[arg-type]


@pytest.mark.anyio
async def test_release_checks_inputs_before_building() -> None:
    # No client is needed: every refusal below happens before anything is built.
    with pytest.raises(PublishError, match="found a digest"):
        await release(None, [RunnerSpec()], "o/r@sha256:" + "a" * 64)  # type: ignore[arg-type]
    with pytest.raises(PublishError, match="expected one image per arch, found arches amd64, amd64"):
        await release(None, [RunnerSpec(), RunnerSpec(layout="minimal")], "o/r:1")  # type: ignore[arg-type]
    with pytest.raises(PublishError, match="username given without password"):
        await release(None, [RunnerSpec()], "o/r:1", "me")  # type: ignore[arg-type]


def test_unwrap_tells_the_base_image_alone_and_one_engine_cause_once() -> None:
    """Every stage stands on the base: when it could not be pulled, the steps that failed with it are not news."""
    said = 'failed to resolve source metadata for "127.0.0.1:9/no/base:1": connection refused'
    base = BaseImageError("no pull")
    out = unwrap(ExceptionGroup("g", [EngineError("installing unzip", said), base, SmokeTestError("a")]))
    assert out is base
    twice = unwrap(ExceptionGroup("g", [EngineError("installing unzip", said), EngineError("apt's download", said)]))
    assert type(twice) is EngineError
    assert str(twice).startswith(f"engine: installing unzip: the engine said: {said}. If it names an address")
    other = unwrap(ExceptionGroup("g", [EngineError("a", said), EngineError("b", "exec format error")]))
    assert type(other) is RunnerImageError
    assert str(other).count("engine: ") == 2
