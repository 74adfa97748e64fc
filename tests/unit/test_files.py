"""One job per file: no Python file of the front doors or the library over 300 lines, each opening with its job."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MAX_LINES = 300  # past this a file is doing more than one job; split it by job, not by size
FOLDERS = ("runner_image", "pipelines")  # the front doors and the library
SOURCES = sorted(p for folder in FOLDERS for p in (ROOT / folder).rglob("*.py") if "sdk" not in p.parts)


def test_the_folders_hold_sources() -> None:
    assert len(SOURCES) > 20, [str(p) for p in SOURCES]


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_file_is_over_300_lines(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(ROOT)}: {lines} lines, more than {MAX_LINES}: split it by job"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_each_file_opens_with_a_sentence_saying_its_job(path: Path) -> None:
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    assert doc, f"{path.relative_to(ROOT)}: no module docstring saying its job"
    first = doc.splitlines()[0]
    assert len(first.split()) >= 3, f"{path.relative_to(ROOT)}: {first!r} is a title, not what the file does"
    assert first.endswith((".", ")", ":", "?")), f"{path.relative_to(ROOT)}: {first!r} runs on past its first line"
