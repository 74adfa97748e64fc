"""The library's rooms import only what their __init__ says they may: no cycles, nothing back up, few layers.

Read from the code's own imports, so a stage that reaches sideways (a label
constant taken from another stage, say) fails here rather than in review.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

LIBRARY = Path(__file__).resolve().parents[2] / "pipelines"

# Room -> the other rooms it may import; what each room's __init__ docstring says.
MAY_IMPORT = {
    "shared": set(),
    "network": {"shared"},
    "audit": {"shared"},
    "image": {"shared", "network"},
    "current": {"shared", "network"},
    "release": {"shared", "network", "image"},
}


def room_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "pipelines" else None


def imports(path: Path) -> set[str]:
    """The pipelines.* modules path imports (from X import Y counts as X.Y when that is a module)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("pipelines"):
            found.add(node.module)
            found.update(
                f"{node.module}.{a.name}"
                for a in node.names
                if (LIBRARY.parent / f"{node.module}.{a.name}".replace(".", "/")).with_suffix(".py").exists()
            )
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("pipelines"))
    return found


def module_graph() -> dict[str, set[str]]:
    """Each library module (by dotted name, a package by its own name) -> the library modules it imports."""
    return {
        ".".join(p.relative_to(LIBRARY.parent).with_suffix("").parts).removesuffix(".__init__"): imports(p)
        for p in LIBRARY.rglob("*.py")
    }


def rooms() -> list[Path]:
    return sorted(p for p in LIBRARY.iterdir() if p.is_dir() and (p / "__init__.py").exists())


def test_every_room_is_in_the_table() -> None:
    assert {p.name for p in rooms()} == set(MAY_IMPORT)


@pytest.mark.parametrize("room", sorted(MAY_IMPORT))
def test_room_imports_only_what_it_may(room: str) -> None:
    wrong = {
        f"{path.relative_to(LIBRARY.parent)} imports {module}"
        for path in (LIBRARY / room).rglob("*.py")
        for module in imports(path)
        if (target := room_of(module)) not in (None, room) and target not in MAY_IMPORT[room]
    }
    assert not wrong, sorted(wrong)


def test_no_room_imports_the_library_face() -> None:
    """pipelines/__init__ hands names on to users; a room importing it would import every room it names."""
    wrong = {
        str(path.relative_to(LIBRARY.parent))
        for room in rooms()
        for path in room.rglob("*.py")
        if "pipelines" in imports(path)
    }
    assert not wrong, sorted(wrong)


def test_no_module_imports_in_a_circle() -> None:
    graph = module_graph()
    done: set[str] = set()

    def visit(module: str, path: tuple[str, ...]) -> None:
        assert module not in path, " -> ".join((*path, module))
        if module in done or module not in graph:
            return
        for target in graph[module]:
            visit(target, (*path, module))
        done.add(module)

    for module in graph:
        visit(module, ())


MAX_LAYERS = 8  # modules in the longest chain of imports; a stage that is hard to follow has more


def test_the_longest_chain_of_imports_is_short() -> None:
    """A reader following a call down through the library crosses at most MAX_LAYERS modules.

    Kept short by what each module takes: the base's stages take the base's reference, not the whole
    spec (image/base.py), and the pinned versions live with the pins, so the validators' examples do not
    stack defaults on top of pins (shared/defaults.py imports nothing of the library).
    """
    graph = module_graph()
    chains: dict[str, tuple[str, ...]] = {}

    def longest(module: str) -> tuple[str, ...]:
        if module not in chains:
            below = [longest(t) for t in graph[module] if t in graph and t != module]
            chains[module] = (module, *max(below, key=len, default=()))
        return chains[module]

    chain = max((longest(m) for m in graph), key=len)
    assert len(chain) <= MAX_LAYERS, f"{len(chain)} layers: " + " -> ".join(chain)


def test_the_library_imports_no_front_door() -> None:
    """runner_image/ (the module object, client mode) imports the library, never the other way; only `python -m
    pipelines` (pipelines/__main__.py) hands over to client mode, under the name users type."""

    def front_doors(path: Path) -> set[str]:
        tree = ast.parse(path.read_text())
        named = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        named |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        return {name for name in named if name == "runner_image" or name.startswith("runner_image.")}

    wrong = {
        f"{path.relative_to(LIBRARY.parent)} imports {module}"
        for path in LIBRARY.rglob("*.py")
        if path.name != "__main__.py"
        for module in front_doors(path)
    }
    assert not wrong, sorted(wrong)
    assert front_doors(LIBRARY / "__main__.py") == {"runner_image.client.cli"}
