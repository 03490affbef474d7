"""Semantic checks over a parsed ``DefModel``: what Siebel's import or an agent session refuses.

Errors: dangling references, duplicate names, a log used twice in one response,
subcommand cycles, repeated single parameters, wrong value types, unreadable
FilterSpecs.  Warnings: unknown parameter names (with the nearest known one),
orphan sections, handlers that can never fire, ties in ``Order``.

Policy choices the reference leaves open (def-format.md section 13) are made here:
object names compare exactly, with a hint when only the case differs.
"""

from __future__ import annotations

from collections.abc import Mapping

from .matching import FilterSpecError, compile_filter_spec
from .model import DefModel, EventHandler, Param, Section, parse_bool, parse_int
from .problems import NameIndex, Problem, Severity, did_you_mean
from .schema import LOG_KEYS, Form, SectionSchema, ValueType

__all__ = ["check_structure", "validate"]


def validate(model: DefModel) -> list[Problem]:
    """Every check for a Siebel communications configuration."""
    return _Validator(model).run()


def check_structure(model: DefModel) -> list[Problem]:
    """Checks for any DEF-syntax file: unique names, known parameters, forms, value types."""
    v = _Validator(model)
    v.unique_names()
    for section in model.sections:
        v.parameters(section)
    return v.problems


class _Validator:
    def __init__(self, model: DefModel) -> None:
        self.model = model
        self.problems: list[Problem] = []
        self._indexes: dict[int, NameIndex] = {}  # id of a target mapping -> its index

    def add(self, severity: Severity, line: int, column: int, message: str) -> None:
        self.problems.append(Problem(file=self.model.path, line=line, column=column,
                                     severity=severity, message=message))

    def error_at(self, p: Param | Section, message: str, *, value: bool = False) -> None:
        line, column = _pos(p, value)
        self.add(Severity.ERROR, line, column, message)

    def warn_at(self, p: Param | Section, message: str, *, value: bool = False) -> None:
        line, column = _pos(p, value)
        self.add(Severity.WARNING, line, column, message)

    def run(self) -> list[Problem]:
        self.unique_names()
        for section in self.model.sections:
            self.parameters(section)
        self.siebel_section()
        self.references()
        self.subcommand_cycles()
        self.orphans()
        self.handlers()
        return self.problems

    # -- names and parameters -------------------------------------------------------

    def unique_names(self) -> None:
        seen: dict[tuple[str, str], Section] = {}
        for s in self.model.sections:
            first = seen.setdefault((s.type, s.name), s)
            if first is s:
                continue
            if s.schema.named:
                self.error_at(s, f"duplicate section {s.header}: the name is already used at "
                                 f"line {first.line} (names must be unique within a type)")
            else:
                self.warn_at(s, f"section {s.header} appears again (first at line {first.line}); "
                                "its parameters are merged")

    def parameters(self, s: Section) -> None:
        schema = s.schema
        seen: dict[str, Param] = {}
        for p in s.params:
            if p.base.startswith("#"):
                continue  # the parser already explained these
            open_key = "" in schema.open_prefixes or any(
                p.base.startswith(pre) for pre in schema.open_prefixes if pre)
            key = p.key if open_key else self.known_parameter(s, schema, p)
            if key is None:
                continue
            folded = key.casefold()
            first = seen.setdefault(folded, p)
            if first is not p and not self.multivalue(schema, p):
                self.error_at(p, f"'{p.key}' is repeated in {s.header} (first at line "
                                 f"{first.line}); only one value is allowed")

    def multivalue(self, schema: SectionSchema, p: Param) -> bool:
        spec = schema.lookup(p.base)
        return spec is not None and spec.form is Form.MULTI

    def known_parameter(self, s: Section, schema: SectionSchema, p: Param) -> str | None:
        """Check name, form and type of one parameter; return its identity for duplicates."""
        base = p.base
        spec = schema.lookup(base)
        numbered = None
        if spec is None and p.sub is None and "_" in base:
            stem, _, number = base.rpartition("_")
            candidate = schema.lookup(stem)
            if candidate is not None and candidate.form is Form.NUMBERED:
                if not number.isdigit():
                    self.error_at(p, f"'{base}' must end in a number ({stem}_1, {stem}_2 ...)")
                    return None
                spec, numbered = candidate, int(number)
        if spec is None:
            self.warn_at(p, f"unknown parameter '{p.key}' in {s.header}"
                            f"{did_you_mean(base, schema.params)}")
            return None
        canonical = spec.name
        written = base if numbered is None else base.rpartition("_")[0]
        if written != canonical:
            self.warn_at(p, f"parameter '{written}' should be spelled '{canonical}'")
        if spec.form is Form.GROUP and p.sub is None:
            self.error_at(p, f"'{canonical}' needs a subparameter: {canonical}.<name>")
            return None
        if spec.form is not Form.GROUP and p.sub is not None:
            self.error_at(p, f"'{canonical}' takes no subparameter (found '{p.key}')")
            return None
        if spec.form is Form.NUMBERED and numbered is None:
            self.error_at(p, f"'{canonical}' needs a number: {canonical}_1, {canonical}_2 ...")
            return None
        self.value_type(s, p, canonical, spec.type)
        if numbered is not None:
            return f"{canonical}_{numbered}"
        return canonical if p.sub is None else f"{canonical}.{p.sub}"

    def value_type(self, s: Section, p: Param, name: str, vt: ValueType) -> None:
        v = p.value.strip()
        if vt is ValueType.BOOL and v.casefold() not in ("true", "false"):
            self.error_at(p, f"{name} must be TRUE or FALSE, not '{p.value}'", value=True)
        elif vt is ValueType.FLAG and parse_bool(v) is None:
            self.error_at(p, f"{name} must be Y or N, not '{p.value}'", value=True)
        elif vt is ValueType.INT and parse_int(v) is None:
            self.error_at(p, f"{name} must be a whole number, not '{p.value}'", value=True)

    def siebel_section(self) -> None:
        siebel = self.model.of_type("Siebel")
        if not siebel:
            self.add(Severity.WARNING, 1, 1, "no [Siebel] section with CommServerVersion: "
                                             "Siebel imports such a file as an old 6.x format")
            return
        p = siebel[0].get_param("CommServerVersion")
        if p is None:
            self.warn_at(siebel[0], "[Siebel] has no CommServerVersion: Siebel imports such "
                                    "a file as an old 6.x format")
        elif not _version_like(p.value):
            self.error_at(p, f"CommServerVersion must be a version such as \"7.0\", "
                             f"not '{p.value}'", value=True)

    # -- references -----------------------------------------------------------------

    def ref(self, p: Param | None, target_type: str, targets: Mapping[str, Section],
            owner: Section) -> None:
        if p is None or not p.value:
            return
        if p.value in targets:
            return
        index = self._indexes.get(id(targets))
        if index is None:  # one per kind of section, built at the first unresolved name
            index = self._indexes[id(targets)] = NameIndex(targets)
        twin = index.case_twin(p.value)
        hint = f" (did you mean '{twin}'? names are case-sensitive)" if twin else \
            index.hint(p.value)
        self.error_at(p, f"{owner.header} {p.key} refers to [{target_type}:{p.value}], "
                         f"which does not exist{hint}", value=True)

    def references(self) -> None:
        m = self.model
        for prof in m.profiles.values():
            driver = prof.get_param("Driver")
            if driver is None or not driver.value:
                self.error_at(prof, f"{prof.header} has no Driver")
            self.ref(driver, "Driver", m.drivers, prof)
        for dp in m.driver_parameters.values():
            if dp.name not in m.drivers:
                self.warn_at(dp, f"{dp.header} belongs to no [Driver:{dp.name}] in this file")
        for cmd in m.commands.values():
            self.ref(cmd.get_param("CmdData"), "CmdData", m.cmd_data, cmd)
            self.ref(cmd.get_param("AROnRejectCmd"), "Command", m.commands, cmd)
            self.ref(cmd.get_param("Profile"), "Profile", m.profiles, cmd)
            for p in cmd.params:
                if p.sub is None and p.base.casefold().startswith("subcommand_"):
                    self.ref(p, "Command", m.commands, cmd)
        for h in m.handlers.values():
            self.ref(h.get_param("Profile"), "Profile", m.profiles, h)
            self.ref(h.get_param("Response"), "EventResponse", m.responses, h)
        for r in m.responses.values():
            self.ref(r.get_param("Command"), "Command", m.commands, r)
            used: dict[str, Param] = {}
            for p in r.params:
                if p.sub is not None or p.base not in LOG_KEYS or not p.value:
                    continue
                self.ref(p, "EventLog", m.logs, r)
                first = used.setdefault(p.value, p)
                if first is not p:
                    self.error_at(p, f"{r.header} uses event log '{p.value}' twice ({first.base} "
                                     f"at line {first.line} and {p.base}); Siebel's import "
                                     "refuses a log used more than once in a response",
                                  value=True)
        for s in m.of_type("Configuration Parameters"):
            for key in ("AutoLoginCmd", "PreferenceLoginCmd", "PreferenceLogoutCmd"):
                self.ref(s.get_param(key), "Command", m.commands, s)

    def subcommand_cycles(self) -> None:
        commands = self.model.commands
        reported: set[str] = set()

        def visit(name: str, path: list[str]) -> None:
            cmd = commands.get(name)
            if cmd is None:
                return
            for _n, child in cmd.subcommands:
                if child in path:
                    cycle = [*path[path.index(child):], child]
                    if child not in reported:
                        reported.update(cycle)
                        start = commands[child]
                        self.error_at(start, "subcommand cycle " + " -> ".join(cycle) +
                                      ": Siebel disables the whole toolbar when it loads a "
                                      "recursive command")
                    continue
                visit(child, [*path, child])

        for name in commands:
            visit(name, [name])

    def orphans(self) -> None:
        m = self.model
        used_data = {c.cmd_data for c in m.commands.values()}
        used_responses = {h.response for h in m.handlers.values()}
        used_logs = {name for r in m.responses.values() for _k, name in r.log_refs}
        for kind, names, used, by in (
            ("CmdData", m.cmd_data, used_data, "command"),
            ("EventResponse", m.responses, used_responses, "event handler"),
            ("EventLog", m.logs, used_logs, "event response"),
        ):
            for name, section in names.items():
                if name not in used:
                    self.warn_at(section, f"[{kind}:{name}] is not used by any {by}")

    # -- event handlers -------------------------------------------------------------

    def handlers(self) -> None:
        handlers = list(self.model.handlers.values())
        for h in handlers:
            if not h.device_event:
                self.error_at(h, f"{h.header} has no DeviceEvent, so it can never fire")
            if h.get_param("Response") is None:
                self.warn_at(h, f"{h.header} has no Response: it matches but does nothing")
            if h.get_param("Order") is None:
                self.warn_at(h, f"{h.header} has no Order; it is evaluated after every "
                                "handler that has one")
            spec = h.get_param("FilterSpec")
            if spec is not None:
                self.filter_spec(spec)
        groups: dict[tuple[str, str], list[EventHandler]] = {}
        for h in handlers:
            if h.device_event:
                groups.setdefault((h.device_event, h.profile), []).append(h)
        for group in groups.values():
            self.compare_group(sorted(group, key=_sort_key))

    def filter_spec(self, p: Param) -> None:
        # Macros ({...}) are expanded before the predicate is read: stand in a value.
        text = _blank_macros(p.value)
        try:
            compile_filter_spec(text)
        except FilterSpecError as exc:
            self.add(Severity.ERROR, p.line, p.value_column + 1 + exc.offset,
                     f"FilterSpec cannot be read: {exc.message}")

    def compare_group(self, ordered: list[EventHandler]) -> None:
        """Ties and unreachable handlers among the handlers of one event and profile.

        Linear in the handlers times their distinct filter sets: a handler is shadowed
        when one with a strictly lower Order has a subset of its filters (and no other
        FilterSpec), so only the first handler of each distinct filter set matters.
        """
        shadowing: dict[tuple[frozenset[tuple[str, str]], str | None], EventHandler] = {}
        i = 0
        while i < len(ordered):
            order = ordered[i].order
            j = i + 1
            while j < len(ordered) and order is not None and ordered[j].order == order:
                j += 1
            block = ordered[i:j]
            for later in block[1:]:
                self.warn_at(later, f"{later.header} and {block[0].header} (line "
                                    f"{block[0].line}) handle {later.device_event} with the "
                                    f"same Order {order}; the one earlier in the file is tried "
                                    "first, but Siebel's database order may differ")
            for h in block:
                first = self.shadowed_by(h, shadowing)
                if first is not None:
                    self.warn_at(h, f"{h.header} can never fire: {first.header} (line "
                                    f"{first.line}) handles {h.device_event} with a lower "
                                    "Order and matches whenever it would")
            for h in block:
                shadowing.setdefault((frozenset(h.filters), h.filter_spec), h)
            i = j

    @staticmethod
    def shadowed_by(h: EventHandler, shadowing: dict[
            tuple[frozenset[tuple[str, str]], str | None], EventHandler]) -> EventHandler | None:
        mine = frozenset(h.filters)
        spec = h.filter_spec
        for (filters, other_spec), first in shadowing.items():
            if (other_spec is None or other_spec == spec) and filters <= mine:
                return first
        return None


def _sort_key(h: EventHandler) -> tuple[int, int]:
    order = h.order
    return (order if order is not None else 2**31, h.line)


def _blank_macros(text: str) -> str:
    out, depth = [], 0
    for c in text:
        if c == "{":
            if depth == 0:
                out.append("x")
            depth += 1
        elif c == "}" and depth:
            depth -= 1
        elif depth == 0:
            out.append(c)
    return "".join(out)


def _pos(p: Param | Section, value: bool) -> tuple[int, int]:
    if isinstance(p, Param):
        return p.line, (p.value_column if value else p.column)
    return p.line, 1


def _version_like(value: str) -> bool:
    parts = value.strip().split(".")
    return bool(value.strip()) and all(part.isdigit() for part in parts)

