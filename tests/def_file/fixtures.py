"""Render a checked DEF file as the text stored in ``*.expected`` beside each fixture."""

from __future__ import annotations

from pathlib import Path

from siebel_gateway.def_file import check_bytes
from siebel_gateway.def_file.writer import write

DATA = Path(__file__).parent / "data"


def render(path: Path) -> str:
    result = check_bytes(path.read_bytes(), path.name)
    problems = [p.format() for p in sorted(result.problems, key=lambda p: (p.line, p.column))]
    parts = ["problems:", *problems, "", "model:", write(result.model)]
    return "\n".join(parts)


if __name__ == "__main__":  # regenerate after a deliberate change, then review the diff
    for fixture in sorted(DATA.glob("*/*.def")):
        fixture.with_suffix(".expected").write_text(render(fixture))
