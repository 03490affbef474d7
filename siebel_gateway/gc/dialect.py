"""The Generic Connector dialect: command and event shapes, loaded from a DEF-syntax file.

The default file is ``def_templates/gc-dialect.def``.  Field positions live there, not in
code, so a site whose GC differs can correct them without a release.

    [Dialect]            separators, forbidden characters, destinations
    [GCCommand:Login]    Type = "Login#{AgentId}"   Body = "{Password},{Extension}"
    [GCEvent:State]      Field.2 = "State"   Field.3 = "ReasonCode:int" ...
                         Catalogue = "2,3,7,9"   (positions the public catalogue documents)

Event field types: ``text`` (default), ``int``, ``bool`` (true/false), ``list`` (items
split on the list separator ``|``), ``csv`` (items split on ``,`` inside one field),
``map`` (``name=value`` items split on ``|``), ``key`` (``key:<id>``), ``count``
(``x:<n>``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from ..def_file import DefFileError, Problem, Severity
from ..def_file.parser import parse_bytes
from ..def_file.schema import Form, ParamSpec, SectionSchema, register_schemas
from ..def_file.validate import check_structure
from ..resources import template_path

__all__ = ["CommandShape", "Dialect", "EventShape", "FieldSpec", "load_dialect"]

FIELD_TYPES = frozenset({"text", "int", "bool", "list", "csv", "map", "key", "count"})
_PLACEHOLDER = re.compile(r"\{([A-Za-z][A-Za-z0-9_]*)\}")

_DOC = (ParamSpec("Purpose"), ParamSpec("Choice"), ParamSpec("Comments"))
DIALECT_TYPES = register_schemas(
    SectionSchema("Dialect", False, {s.name: s for s in (
        ParamSpec("Name"), ParamSpec("CommandSeparator"), ParamSpec("EventSeparator"),
        ParamSpec("ListSeparator"), ParamSpec("Forbidden"), ParamSpec("CommandDestination"),
        ParamSpec("EventDestination"), ParamSpec("SystemAgent"), *_DOC)}),
    SectionSchema("GCCommand", True, {s.name: s for s in (
        ParamSpec("Type"), ParamSpec("Body"), ParamSpec("Reply"), *_DOC)}),
    SectionSchema("GCEvent", True, {s.name: s for s in (
        ParamSpec("Field", Form.GROUP), ParamSpec("Reply"), ParamSpec("Catalogue"), *_DOC)}),
)


@dataclass(frozen=True)
class FieldSpec:
    position: int
    name: str
    type: str = "text"


@dataclass(frozen=True)
class CommandShape:
    name: str
    type_template: str
    body_template: str
    #: Placeholders in the order they appear (type first, then body).
    placeholders: tuple[str, ...]


@dataclass(frozen=True)
class EventShape:
    name: str
    fields: tuple[FieldSpec, ...]
    #: Positions the public GC event catalogue documents (reference/finesse.md 6.5); the
    #: other fields are ours, and a GC may leave them out.
    catalogue: tuple[int, ...] = ()

    @property
    def width(self) -> int:
        """Number of ``#``-separated parts, counting agent id and event name."""
        return max((f.position for f in self.fields), default=1) + 1

    @property
    def catalogue_width(self) -> int:
        """Parts of the event as a GC that sends only the catalogue's fields sends it."""
        return max(self.catalogue, default=1) + 1


@dataclass(frozen=True)
class Dialect:
    name: str
    command_separator: str
    event_separator: str
    list_separator: str
    forbidden: str
    command_destination: str
    event_destination: str
    system_agent: str
    commands: Mapping[str, CommandShape]
    events: Mapping[str, EventShape]
    path: str = "<memory>"


def load_dialect(path: str | Path | None = None, *, data: bytes | None = None) -> Dialect:
    """Read and check a dialect file (or ``data``, the text of the file named ``path``, as a
    trace carries it); raises ``DefFileError`` naming every problem."""
    file = Path(path) if path is not None else template_path("gc-dialect.def")
    result = parse_bytes(file.read_bytes() if data is None else data, str(file), DIALECT_TYPES)
    problems = [*result.problems, *check_structure(result.model)]
    model = result.model

    def err(line: int, column: int, message: str) -> None:
        problems.append(Problem(file=str(file), line=line, column=column,
                                severity=Severity.ERROR, message=message))

    head = model.of_type("Dialect")
    if not head:
        err(1, 1, "dialect file has no [Dialect] section")
        raise DefFileError(problems)
    d = head[0]
    settings = {k: d.get(k) or default for k, default in (
        ("Name", "unnamed"), ("CommandSeparator", ","), ("EventSeparator", "#"),
        ("ListSeparator", "|"), ("Forbidden", ",#|"), ("CommandDestination", "/queue/{Queue}"),
        ("EventDestination", "/topic/{ClientDestination}"), ("SystemAgent", "system"))}

    commands: dict[str, CommandShape] = {}
    for s in model.of_type("GCCommand"):
        type_t, body_t = s.text("Type"), s.text("Body")
        if not type_t:
            err(s.line, 1, f"[GCCommand:{s.name}] has no Type (the JMSType template)")
            continue
        names = tuple(dict.fromkeys(_PLACEHOLDER.findall(type_t + "\n" + body_t)))
        commands[s.name] = CommandShape(s.name, type_t, body_t, names)

    events: dict[str, EventShape] = {}
    for s in model.of_type("GCEvent"):
        specs: list[FieldSpec] = []
        for p in s.params:
            if p.sub is None or p.base.casefold() != "field":
                continue
            name, _, ftype = p.value.partition(":")
            ftype = ftype or "text"
            if not p.sub.isdigit() or int(p.sub) < 2:
                err(p.line, p.column, f"[GCEvent:{s.name}] {p.key}: field positions are numbers "
                                      "from 2 (0 is the agent id, 1 the event name)")
            elif ftype not in FIELD_TYPES:
                err(p.line, p.value_column, f"[GCEvent:{s.name}] {p.key}: unknown field type "
                                            f"{ftype!r} (one of {', '.join(sorted(FIELD_TYPES))})")
            elif not name:
                err(p.line, p.value_column, f"[GCEvent:{s.name}] {p.key}: field needs a name")
            else:
                specs.append(FieldSpec(int(p.sub), name, ftype))
        catalogue: list[int] = []
        listed = s.get("Catalogue")
        for raw in (listed.split(",") if listed else []):
            item = raw.strip()
            if not item.isascii() or not item.isdigit() \
                    or int(item) not in {f.position for f in specs}:
                err(s.line, 1, f"[GCEvent:{s.name}] Catalogue: {item!r} is not the position of "
                               "one of the event's fields")
            else:
                catalogue.append(int(item))
        events[s.name] = EventShape(s.name, tuple(sorted(specs, key=lambda f: f.position)),
                                    tuple(sorted(set(catalogue))))

    if any(p.severity is Severity.ERROR for p in problems):
        raise DefFileError(problems)
    return Dialect(
        name=settings["Name"], command_separator=settings["CommandSeparator"],
        event_separator=settings["EventSeparator"], list_separator=settings["ListSeparator"],
        forbidden=settings["Forbidden"], command_destination=settings["CommandDestination"],
        event_destination=settings["EventDestination"], system_agent=settings["SystemAgent"],
        commands=MappingProxyType(commands), events=MappingProxyType(events), path=str(file))
