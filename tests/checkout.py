"""The checkout as files: which of them are its source, and a copy for tests that edit or bump it."""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# What a checkout holds besides its source: caches, and the editable install's metadata.
CACHES = (".git", "__pycache__", ".pytest_cache", ".hypothesis", ".ruff_cache")
VENDORED_SDK = "sdk"  # what `dagger develop` vendors at the top (not tests/env/sdk, the runtime stand-in)


def is_source(relative: Path) -> bool:
    parts = relative.parts
    return parts[:1] != (VENDORED_SDK,) and not any(p in CACHES or p.endswith(".egg-info") for p in parts)


def source_files() -> list[Path]:
    """Every file of the tree (a checkout, or a copy of one without .git) but caches and the vendored SDK."""
    return [path for path in sorted(ROOT.rglob("*")) if path.is_file() and is_source(path.relative_to(ROOT))]


def copy_checkout(dest: Path) -> Path:
    """A copy of the checkout's source at dest, to edit without touching the checkout."""

    def ignored(folder: str, names: list[str]) -> set[str]:
        return {name for name in names if not is_source((Path(folder) / name).relative_to(ROOT))}

    shutil.copytree(ROOT, dest, ignore=ignored)
    return dest
