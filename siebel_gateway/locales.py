"""Load the agent-text catalogue from ``messages_<LANG>.def`` files (DEF syntax).

The shipped files live in ``siebel_gateway/locale/``; a gateway file may name another
directory (``[Locale] Directory``), whose files are overlaid on the shipped ones key by
key: a site file that changes one German text keeps every other shipped German text, and a
file for a new language adds it (what it does not say falls back to ENU).  Errors name the
file and line, like every DEF problem.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from .core.texts import Catalog
from .def_file import DefFileError, Severity
from .def_file.parser import parse_bytes
from .def_file.schema import SectionSchema, register_schemas

__all__ = ["SHIPPED_DIR", "load_catalog", "locale_files"]

SHIPPED_DIR = Path(__file__).parent / "locale"
MESSAGE_TYPES = register_schemas(SectionSchema("Messages", False, {}, open_prefixes=("",)))
_NAME = re.compile(r"messages_([A-Za-z]{3})\.def$")


def locale_files(directory: str | Path) -> dict[str, bytes]:
    """A site's text files by name, as a trace carries them (``OSError`` when unreadable)."""
    d = Path(directory)
    if not d.is_dir():
        raise OSError(f"locale directory {d} does not exist")
    return {p.name: p.read_bytes() for p in sorted(d.glob("messages_*.def"))}


def _read_files(files: Mapping[str, bytes], into: dict[str, dict[str, str]]) -> None:
    for name, data in files.items():
        m = _NAME.search(name)
        if m is None:
            continue
        result = parse_bytes(data, name, MESSAGE_TYPES)
        errors = [p for p in result.problems if p.severity is Severity.ERROR]
        if errors:
            raise DefFileError(errors)
        texts: dict[str, str] = {}
        for section in result.model.of_type("Messages"):
            for p in section.params:
                texts[p.key] = p.value
        into.setdefault(m.group(1).upper(), {}).update(texts)  # per key, never per language


def load_catalog(directory: str | Path | None = None, *,
                 files: Mapping[str, bytes] | None = None) -> Catalog:
    """Shipped texts, overlaid by ``directory``'s files (or ``files``, name -> text);
    raises ``DefFileError``/``OSError``."""
    languages: dict[str, dict[str, str]] = {}
    _read_files({str(SHIPPED_DIR / n): d for n, d in locale_files(SHIPPED_DIR).items()},
                languages)
    if files:
        _read_files(files, languages)
    if directory:
        _read_files({str(Path(directory) / name): data
                     for name, data in locale_files(directory).items()}, languages)
    return Catalog(languages)
