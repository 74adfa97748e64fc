"""docs/faults.md's fault matrix is the real-engine test's own table, and that table covers the whole module."""

from __future__ import annotations

from tests.engine.fault_matrix import CANNOT, CELLS, FUNCTIONS, PAGE, THINGS, page_with_matrix
from tests.unit.test_module_surface import FUNCTIONS as MODULE_FUNCTIONS


def test_the_page_shows_the_tests_table() -> None:
    page = PAGE.read_text(encoding="utf-8")
    assert page_with_matrix(page) == page, (
        "docs/faults.md's fault matrix differs from tests/engine/fault_matrix.py: "
        "write it again with `python3 -m tests.engine.fault_matrix`"
    )


def test_every_function_of_the_module_is_a_row() -> None:
    assert set(FUNCTIONS) == {name.replace("_", "-") for name in MODULE_FUNCTIONS}


def test_every_cell_is_tested_or_said_to_be_impossible_never_both() -> None:
    tested = {(cell.function, cell.thing) for cell in CELLS}
    assert len(tested) == len(CELLS), "a cell is listed twice"
    every = {(function, thing) for function in FUNCTIONS for thing in THINGS}
    assert tested | set(CANNOT) == every, sorted(every - tested - set(CANNOT))
    assert not tested & set(CANNOT), sorted(tested & set(CANNOT))
