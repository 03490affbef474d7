"""The layering docs/architecture.md promises: no function-local import in the core, no
module of the core importing one that imports it back, and ``gc`` never importing ``core``."""

from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[2] / "siebel_gateway"


def _imports(path: Path) -> tuple[set[str], list[int]]:
    """Sibling modules imported at top level (``from .x import``/``from . import x``), and
    the lines of imports anywhere else (functions, classes, ``if TYPE_CHECKING``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            top.update([node.module] if node.module else [a.name for a in node.names])
    nested = [n.lineno for outer in tree.body if not isinstance(outer, ast.Import | ast.ImportFrom)
              for n in ast.walk(outer) if isinstance(n, ast.Import | ast.ImportFrom)]
    return top, nested


def test_the_core_has_no_function_local_import_and_no_cycle() -> None:
    graph: dict[str, set[str]] = {}
    for path in sorted((PKG / "core").glob("*.py")):
        top, nested = _imports(path)
        assert nested == [], (f"{path.name} imports below the top level (in a function, a "
                              f"class or an if TYPE_CHECKING block) at lines {nested}")
        graph[path.stem] = top

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for nxt in graph.get(start, ()):
            if nxt == goal or (nxt not in seen and reaches(nxt, goal, seen | {nxt})):
                return True
        return False

    cyclic = sorted(m for m in graph if reaches(m, m, {m}))
    assert cyclic == [], f"core modules in an import cycle: {cyclic}"


def test_gc_does_not_import_core() -> None:
    for path in sorted((PKG / "gc").glob("*.py")):
        text = path.read_text(encoding="utf-8")
        assert "..core" not in text and "siebel_gateway.core" not in text, path.name
