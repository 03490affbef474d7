"""Load the agent-text catalogue from ``messages_<LANG>.def`` files (DEF syntax).

The shipped files live in ``siebel_gateway/locale/``; a gateway file may name another
directory (``[Locale] Directory``), whose files replace the shipped ones language by
language.  Errors name the file and line, like every DEF problem.
"""

from __future__ import annotations

import re
from pathlib import Path

from .core.texts import Catalog
from .def_file import DefFileError, Severity
from .def_file.parser import parse_bytes
from .def_file.schema import SectionSchema, register_schemas

__all__ = ["SHIPPED_DIR", "load_catalog"]

SHIPPED_DIR = Path(__file__).parent / "locale"
MESSAGE_TYPES = register_schemas(SectionSchema("Messages", False, {}, open_prefixes=("",)))
_NAME = re.compile(r"messages_([A-Za-z]{3})\.def$")


def _read_dir(directory: Path, into: dict[str, dict[str, str]]) -> None:
    for path in sorted(directory.glob("messages_*.def")):
        m = _NAME.search(path.name)
        if m is None:
            continue
        result = parse_bytes(path.read_bytes(), str(path), MESSAGE_TYPES)
        errors = [p for p in result.problems if p.severity is Severity.ERROR]
        if errors:
            raise DefFileError(errors)
        texts: dict[str, str] = {}
        for section in result.model.of_type("Messages"):
            for p in section.params:
                texts[p.key] = p.value
        into[m.group(1).upper()] = texts


def load_catalog(directory: str | Path | None = None) -> Catalog:
    """Shipped texts, overlaid by ``directory``'s files; raises ``DefFileError``/``OSError``."""
    languages: dict[str, dict[str, str]] = {}
    _read_dir(SHIPPED_DIR, languages)
    if directory:
        d = Path(directory)
        if not d.is_dir():
            raise OSError(f"locale directory {d} does not exist")
        _read_dir(d, languages)
    return Catalog(languages)
