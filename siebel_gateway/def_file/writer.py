"""``DefModel`` -> normalised DEF text that reads back as the same model.

Stable layout: sections in model order, one blank line between them, parameters
in their order, ``key = "value"``.  The closing quote of every value is the last
character of its line, so any value without a line break reads back intact,
including values with raw quotes or ``;`` in them.
"""

from __future__ import annotations

from .model import DefModel, Param, Section

__all__ = ["UnwritableError", "write", "write_section"]


class UnwritableError(ValueError):
    """The model holds something DEF syntax has no way to express."""


def write(model: DefModel) -> str:
    return "\n".join(write_section(s) for s in model.sections)


def write_section(section: Section) -> str:
    if _bad_name(section.name) or "]" in section.name:
        raise UnwritableError(f"section name {section.name!r} cannot be written in a header")
    lines = [section.header]
    lines.extend(_param_line(p, section) for p in section.params)
    return "\n".join(lines) + "\n"


def _param_line(p: Param, section: Section) -> str:
    where = f"{section.header} {p.key}"
    if _bad_name(p.base) or "=" in p.base or "." in p.base or p.base[:1] in ("[", ";", ""):
        raise UnwritableError(f"{where}: parameter name {p.base!r} cannot be written")
    if p.sub is not None and (_bad_name(p.sub) or "=" in p.sub or (p.quote and p.quote in p.sub)
                              or (not p.quote and p.sub[:1] in ("'", '"'))):
        raise UnwritableError(f"{where}: subparameter name {p.sub!r} cannot be written")
    if any(c in p.value for c in "\r\n\x00"):
        raise UnwritableError(f"{where}: a DEF value cannot contain a line break or NUL")
    return f"{p.key} = \"{p.value}\""


def _bad_name(name: str) -> bool:
    return name != name.strip() or any(c in name for c in "\r\n\x00")
