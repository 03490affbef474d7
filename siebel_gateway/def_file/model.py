"""The typed, immutable DEF model.

A file is an ordered tuple of sections; a section is an ordered tuple of
parameters.  The order is kept because it matters twice: event handlers with the
same ``Order`` are tie-broken by file position, and the writer must give back
what it was given.  Typed views (``Command``, ``EventHandler`` ...) read their
documented parameters as properties; whatever a view does not document stays
reachable through ``params`` and ``extra``.

Positions (line, column) are carried for messages but never compared, so a model
written out and parsed again is equal to the original.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from .schema import ALL_SCHEMAS, LOG_KEYS, Form, SectionSchema

__all__ = [
    "CmdData",
    "Command",
    "ConfigurationParameters",
    "DefModel",
    "Driver",
    "DriverParameters",
    "EventHandler",
    "EventLog",
    "EventResponse",
    "Param",
    "Profile",
    "Section",
    "SiebelSection",
    "parse_bool",
    "section_class",
]

_TRUE = frozenset({"true", "y", "yes", "1"})
_FALSE = frozenset({"false", "n", "no", "0"})


def parse_bool(value: str) -> bool | None:
    """Siebel booleans: ``TRUE``/``True``/``FALSE``..., and ``Y``/``N`` flags."""
    v = value.strip().casefold()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    return None


def parse_int(value: str) -> int | None:
    v = value.strip()
    if v[:1] in "+-":
        return int(v) if v[1:].isdigit() and v.isascii() else None
    return int(v) if v.isdigit() and v.isascii() else None


@dataclass(frozen=True, slots=True)
class Param:
    """``base[.sub] = "value"``; ``quote`` records how ``sub`` was written."""

    base: str
    value: str
    sub: str | None = None
    quote: str = ""
    line: int = field(default=0, compare=False)
    column: int = field(default=0, compare=False)
    value_column: int = field(default=0, compare=False)

    @property
    def key(self) -> str:
        if self.sub is None:
            return self.base
        return f"{self.base}.{self.quote}{self.sub}{self.quote}"


@dataclass(frozen=True)
class Section:
    """One ``[Type:Name]`` block.  ``name`` is ``""`` for unnamed types."""

    type: str
    name: str
    params: tuple[Param, ...] = ()
    line: int = field(default=0, compare=False)

    @property
    def schema(self) -> SectionSchema:
        return ALL_SCHEMAS[self.type]

    @property
    def header(self) -> str:
        return f"[{self.type}:{self.name}]" if self.schema.named else f"[{self.type}]"

    def params_named(self, base: str) -> Iterator[Param]:
        folded = base.casefold()
        return (p for p in self.params if p.sub is None and p.base.casefold() == folded)

    def get(self, base: str, default: str | None = None) -> str | None:
        """The first value of a single parameter (names compare case-insensitively)."""
        return next((p.value for p in self.params_named(base)), default)

    def get_param(self, base: str) -> Param | None:
        return next(self.params_named(base), None)

    def text(self, base: str) -> str:
        return self.get(base) or ""

    def flag(self, base: str, default: bool = False) -> bool:
        value = self.get(base)
        parsed = parse_bool(value) if value is not None else None
        return default if parsed is None else parsed

    def group(self, base: str) -> tuple[tuple[str, str], ...]:
        """``Base.sub`` pairs in file order: ``(("ANI", "*"), ...)``."""
        folded = base.casefold()
        return tuple(
            (p.sub, p.value)
            for p in self.params
            if p.sub is not None and p.base.casefold() == folded
        )

    @property
    def extra(self) -> tuple[Param, ...]:
        """Parameters this section type does not document (kept, never dropped)."""
        schema = self.schema
        return tuple(p for p in self.params if not _documented(schema, p))


def _documented(schema: SectionSchema, p: Param) -> bool:
    if any(p.base.startswith(prefix) for prefix in schema.open_prefixes):
        return True
    base = p.base
    if p.sub is None and "_" in base:
        stem, _, number = base.rpartition("_")
        spec = schema.lookup(stem)
        if spec is not None and number.isdigit():
            return True
    spec = schema.lookup(base)
    if spec is None:
        return False
    return (spec.form is Form.GROUP) == (p.sub is not None)


class SiebelSection(Section):
    @property
    def comm_server_version(self) -> str | None:
        return self.get("CommServerVersion")


class ConfigurationParameters(Section):
    @property
    def dialing_rules(self) -> tuple[tuple[str, str], ...]:
        """``DialingFilter.RuleN`` in Siebel's order: by string comparison of the name."""
        return tuple(sorted(self.group("DialingFilter")))


class Profile(Section):
    @property
    def driver(self) -> str:
        return self.text("Driver")

    @property
    def overrides(self) -> tuple[tuple[str, str], ...]:
        return tuple((p.key, p.value) for p in self.params if p.base.startswith(
            ("Driver:", "Service:")))


class Driver(Section):
    @property
    def channel_string(self) -> str:
        return self.text("Channel String")

    @property
    def library_name(self) -> str:
        return self.text("Library Name")


class DriverParameters(Section):
    @property
    def values(self) -> tuple[tuple[str, str], ...]:
        return tuple((p.key, p.value) for p in self.params)


class Command(Section):
    @property
    def device_command(self) -> str:
        """Siebel falls back to a device command named like the command itself."""
        return self.get("DeviceCommand") or self.name

    @property
    def cmd_data(self) -> str | None:
        return self.get("CmdData")

    @property
    def subcommands(self) -> tuple[tuple[int, str], ...]:
        """``SubCommand_N`` children sorted by N (gaps are allowed)."""
        found = []
        for p in self.params:
            stem, _, number = p.base.rpartition("_")
            if p.sub is None and stem.casefold() == "subcommand" and number.isdigit():
                found.append((int(number), p.value))
        return tuple(sorted(found))

    @property
    def execute_all(self) -> bool:
        return self.flag("ExecuteAll")

    @property
    def exec_until_ok(self) -> bool:
        return self.flag("ExecUntilOK")

    @property
    def hidden(self) -> bool:
        return self.flag("Hidden")

    @property
    def title(self) -> str:
        return self.text("Title")

    @property
    def description(self) -> str:
        return self.text("Description")

    @property
    def profile(self) -> str:
        return self.text("Profile")


class CmdData(Section):
    @property
    def params_out(self) -> tuple[tuple[str, str], ...]:
        """``Param.X`` pairs: what reaches ``InvokeCommand`` after macro expansion."""
        return self.group("Param")

    @property
    def required_fields(self) -> tuple[tuple[str, str], ...]:
        return self.group("RequiredField")


class EventHandler(Section):
    @property
    def device_event(self) -> str:
        return self.text("DeviceEvent")

    @property
    def filters(self) -> tuple[tuple[str, str], ...]:
        return self.group("Filter")

    @property
    def filter_spec(self) -> str | None:
        return self.get("FilterSpec") or None

    @property
    def order(self) -> int | None:
        value = self.get("Order")
        return None if value is None else parse_int(value)

    @property
    def profile(self) -> str:
        return self.text("Profile")

    @property
    def response(self) -> str:
        return self.text("Response")


class EventResponse(Section):
    @property
    def log_refs(self) -> tuple[tuple[str, str], ...]:
        """``(key, log name)`` for Log/SingleLog/MultiLog/FindLog/AddLog/ContextLog."""
        keys = {k.casefold() for k in LOG_KEYS}
        return tuple(
            (p.base, p.value)
            for p in self.params
            if p.sub is None and p.base.casefold() in keys and p.value
        )

    @property
    def command(self) -> str | None:
        return self.get("Command") or None


class EventLog(Section):
    @property
    def log_fields(self) -> tuple[tuple[str, str], ...]:
        return self.group("LogField")

    @property
    def after_work(self) -> tuple[tuple[str, str], ...]:
        return self.group("AfterWork")


_CLASSES: Mapping[str, type[Section]] = MappingProxyType({
    "Siebel": SiebelSection,
    "Configuration Parameters": ConfigurationParameters,
    "Profile": Profile,
    "Driver": Driver,
    "Driver Parameters": DriverParameters,
    "Command": Command,
    "CmdData": CmdData,
    "EventHandler": EventHandler,
    "EventResponse": EventResponse,
    "EventLog": EventLog,
})


def section_class(section_type: str) -> type[Section]:
    return _CLASSES.get(section_type, Section)


@dataclass(frozen=True)
class DefModel:
    """A whole DEF file.  Lookups by name return the first section of that name."""

    sections: tuple[Section, ...] = ()
    path: str = field(default="<memory>", compare=False)

    def of_type(self, section_type: str) -> tuple[Section, ...]:
        return self._by_type.get(section_type, ())

    def count(self, section_type: str) -> int:
        return len(self.of_type(section_type))

    @functools.cached_property
    def _by_type(self) -> dict[str, tuple[Section, ...]]:
        grouped: dict[str, list[Section]] = {}
        for s in self.sections:
            grouped.setdefault(s.type, []).append(s)
        return {k: tuple(v) for k, v in grouped.items()}

    def _named(self, section_type: str) -> Mapping[str, Section]:
        out: dict[str, Section] = {}
        for s in self.of_type(section_type):
            out.setdefault(s.name, s)
        return MappingProxyType(out)

    @functools.cached_property
    def commands(self) -> Mapping[str, Command]:
        return self._named("Command")  # type: ignore[return-value]

    @functools.cached_property
    def cmd_data(self) -> Mapping[str, CmdData]:
        return self._named("CmdData")  # type: ignore[return-value]

    @functools.cached_property
    def handlers(self) -> Mapping[str, EventHandler]:
        return self._named("EventHandler")  # type: ignore[return-value]

    @functools.cached_property
    def responses(self) -> Mapping[str, EventResponse]:
        return self._named("EventResponse")  # type: ignore[return-value]

    @functools.cached_property
    def logs(self) -> Mapping[str, EventLog]:
        return self._named("EventLog")  # type: ignore[return-value]

    @functools.cached_property
    def profiles(self) -> Mapping[str, Profile]:
        return self._named("Profile")  # type: ignore[return-value]

    @functools.cached_property
    def drivers(self) -> Mapping[str, Driver]:
        return self._named("Driver")  # type: ignore[return-value]

    @functools.cached_property
    def driver_parameters(self) -> Mapping[str, DriverParameters]:
        return self._named("Driver Parameters")  # type: ignore[return-value]

    @property
    def configuration(self) -> tuple[tuple[str, str], ...]:
        return tuple(
            (p.key, p.value)
            for s in self.of_type("Configuration Parameters")
            for p in s.params
        )

    @property
    def dialing_rules(self) -> tuple[tuple[str, str], ...]:
        """Every ``DialingFilter.RuleN`` of the file, in Siebel's order (string order of N)."""
        return tuple(sorted(rule for s in self.of_type("Configuration Parameters")
                            if isinstance(s, ConfigurationParameters)
                            for rule in s.dialing_rules))
