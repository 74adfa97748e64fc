"""The pinned defaults, read from pins.toml (the one copy), and rewritten in place by `bump`.

Values are read as strings here and checked where they are used (RunnerSpec
checks versions, sums and the base reference on construction; the unit tests
check the file itself), so this module needs nothing else of the package.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

from pipelines.shared.errors import InvalidSpecError

PINS_FILE = Path(__file__).parent.parent / "pins.toml"  # at the library's top, like a Dockerfile's ARG block
PINS_PATH = "pipelines/pins.toml"  # as a checkout names it, for messages and the workflow
RUNNER_SUM_KEY = "sha256_{runner_arch}"  # [runner] holds one sum per runner asset arch (x64, arm64)
TOOL_SUM_KEY = "{tool}_sha256_{arch}"  # [tools] holds one sum per tool and engine arch
TOOL_ARCHES = ("amd64", "arm64")  # the engine platforms a tool's release asset is pinned for

# (table, key) -> what it holds; every one must be in the file, as a string.
KEYS: Mapping[tuple[str, str], str] = MappingProxyType(
    {
        ("runner", "version"): "runner version",
        ("runner", "sha256_x64"): "SHA-256 of the linux-x64 runner tarball",
        ("runner", "sha256_arm64"): "SHA-256 of the linux-arm64 runner tarball",
        ("hooks", "version"): "hooks release for k8s/",
        ("hooks", "sha256"): "SHA-256 of its k8s zip, or empty",
        ("hooks", "hold"): "version prefix the hooks stay on, or empty",
        ("hooks_novolume", "version"): "hooks release for k8s-novolume/",
        ("hooks_novolume", "sha256"): "SHA-256 of its k8s zip, or empty",
        ("hooks_novolume", "hold"): "version prefix it stays on, or empty",
        ("docker", "cli"): "docker-ce-cli version",
        ("docker", "buildx"): "docker-buildx-plugin version",
        ("base", "image"): "base image reference",
        ("tools", "syft"): "syft version that sbom is tested with",
        ("tools", "syft_sha256_amd64"): "SHA-256 of syft's linux_amd64 release asset, or empty",
        ("tools", "syft_sha256_arm64"): "SHA-256 of syft's linux_arm64 release asset, or empty",
        ("tools", "grype"): "grype version that scan is tested with",
        ("tools", "grype_sha256_amd64"): "SHA-256 of grype's linux_amd64 release asset, or empty",
        ("tools", "grype_sha256_arm64"): "SHA-256 of grype's linux_arm64 release asset, or empty",
        ("tools", "actionlint"): "actionlint version that lints the workflows",
        ("tools", "crane"): "crane version that assembles the test environment's images",
    }
)


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Pins:
    """The values of pins.toml; an empty sum or hold is None."""

    runner_version: str
    runner_sha256: Mapping[str, str | None]
    """Runner asset arch (x64, arm64) -> SHA-256."""
    hooks_version: str
    hooks_sha256: str | None
    hooks_hold: str | None
    hooks_novolume_version: str
    hooks_novolume_sha256: str | None
    hooks_novolume_hold: str | None
    docker_version: str
    buildx_version: str
    base_image: str
    syft_version: str
    syft_sha256: Mapping[str, str | None]
    """Engine arch (amd64, arm64) -> SHA-256 of syft's release asset for it."""
    grype_version: str
    grype_sha256: Mapping[str, str | None]
    """Engine arch (amd64, arm64) -> SHA-256 of grype's release asset for it."""
    actionlint_version: str
    crane_version: str


def parse(text: str, *, where: str = PINS_PATH) -> Pins:
    """The pins of a pins.toml text; a missing table or key, or a non-string value, is refused by name."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        msg = f"{where}: expected TOML, found a syntax error ({e})"
        raise InvalidSpecError(msg) from None
    values: dict[tuple[str, str], str] = {}
    for (table, key), meaning in KEYS.items():
        value = data.get(table, {}).get(key) if isinstance(data.get(table), dict) else None
        if not isinstance(value, str):
            msg = f'{where}: expected [{table}] {key} = "..." ({meaning}), found {value!r}'
            raise InvalidSpecError(msg)
        values[table, key] = value

    def optional(table: str, key: str) -> str | None:
        return values[table, key] or None

    return Pins(
        runner_version=values["runner", "version"],
        runner_sha256=MappingProxyType(
            {arch: optional("runner", RUNNER_SUM_KEY.format(runner_arch=arch)) for arch in ("x64", "arm64")}
        ),
        hooks_version=values["hooks", "version"],
        hooks_sha256=optional("hooks", "sha256"),
        hooks_hold=optional("hooks", "hold"),
        hooks_novolume_version=values["hooks_novolume", "version"],
        hooks_novolume_sha256=optional("hooks_novolume", "sha256"),
        hooks_novolume_hold=optional("hooks_novolume", "hold"),
        docker_version=values["docker", "cli"],
        buildx_version=values["docker", "buildx"],
        base_image=values["base", "image"],
        syft_version=values["tools", "syft"],
        syft_sha256=MappingProxyType(
            {arch: optional("tools", TOOL_SUM_KEY.format(tool="syft", arch=arch)) for arch in TOOL_ARCHES}
        ),
        grype_version=values["tools", "grype"],
        grype_sha256=MappingProxyType(
            {arch: optional("tools", TOOL_SUM_KEY.format(tool="grype", arch=arch)) for arch in TOOL_ARCHES}
        ),
        actionlint_version=values["tools", "actionlint"],
        crane_version=values["tools", "crane"],
    )


def load(path: Path = PINS_FILE) -> Pins:
    return parse(path.read_text(encoding="utf-8"), where=str(path) if path != PINS_FILE else PINS_PATH)


_TABLE = re.compile(r"\[(?P<name>[A-Za-z0-9_]+)\]\s*(?:#.*)?")
_STRING = re.compile(r'(?P<key>[A-Za-z0-9_]+)(?P<eq>\s*=\s*)"(?P<value>[^"\\]*)"(?P<rest>\s*(?:#.*)?)')


def rewrite(text: str, changes: Mapping[tuple[str, str], str], *, where: str = PINS_PATH) -> str:
    """text with the quoted value of each (table, key) in changes replaced; every other byte kept.

    Only plain basic strings are rewritten (no escapes, which no pin needs);
    a change naming a key the file does not hold as such is refused.
    """
    for (table, key), value in changes.items():
        if (table, key) not in KEYS or not re.fullmatch(r'[^"\\\x00-\x1f]*', value):
            msg = f"{where}: cannot write [{table}] {key} = {value!r}: expected a known pin and a plain value"
            raise InvalidSpecError(msg)
    table = ""
    done: set[tuple[str, str]] = set()
    lines = text.splitlines(keepends=True)
    for index, line in enumerate(lines):
        body = line.rstrip("\r\n")
        if heading := _TABLE.fullmatch(body.strip()):
            table = heading["name"]
        elif (match := _STRING.fullmatch(body.strip())) and (table, match["key"]) in changes:
            indent = body[: len(body) - len(body.lstrip())]
            new = changes[table, match["key"]]
            lines[index] = f'{indent}{match["key"]}{match["eq"]}"{new}"{match["rest"]}{line[len(body) :]}'
            done.add((table, match["key"]))
    missing = [f"[{t}] {k}" for t, k in changes if (t, k) not in done]
    if missing:
        msg = f'{where}: expected a line key = "value" for {", ".join(missing)}, found none to rewrite'
        raise InvalidSpecError(msg)
    return "".join(lines)


PINS = load()

# The pinned defaults, by the names the settings and their messages use.
RUNNER_VERSION = PINS.runner_version
HOOKS_VERSION = PINS.hooks_version  # k8s/, as upstream's RUNNER_CONTAINER_HOOKS_VERSION
HOOKS_NOVOLUME_VERSION = PINS.hooks_novolume_version  # k8s-novolume/: the k8s asset of 0.8.0+ (no runner volume)
BASE_IMAGE = PINS.base_image
# Docker CLI + buildx for ARC's dind mode (hosted layout), from Docker's apt
# repository; apt checks it against Docker's release key, pinned by fingerprint.
DOCKER_VERSION = PINS.docker_version  # docker-ce-cli, as upstream's DOCKER_VERSION
BUILDX_VERSION = PINS.buildx_version  # docker-buildx-plugin, as upstream's BUILDX_VERSION
# The tools' install commands, as the messages and the tests give them (the SBOM's tool is not in the image).
SYFT_INSTALL = f"CGO_ENABLED=0 go install github.com/anchore/syft/cmd/syft@v{PINS.syft_version}"
GRYPE_INSTALL = f"CGO_ENABLED=0 go install github.com/anchore/grype/cmd/grype@v{PINS.grype_version}"
ACTIONLINT_INSTALL = f"go install github.com/rhysd/actionlint/cmd/actionlint@v{PINS.actionlint_version}"
