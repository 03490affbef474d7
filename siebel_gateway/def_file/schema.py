"""What each DEF section type documents: its parameters, their forms and types.

The lists come from ``reference/def-format.md`` (Oracle's Communications Server /
CTI Administration guides).  Parameters not listed here are kept as raw key/values
and reported as warnings, never refused: drivers and Siebel releases add names.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = [
    "ALL_SCHEMAS",
    "LOG_KEYS",
    "SECTION_SCHEMAS",
    "SECTION_TYPES",
    "Form",
    "ParamSpec",
    "SectionSchema",
    "ValueType",
    "register_schemas",
]


class Form(enum.Enum):
    #: One value; the name may appear once in its section.
    SINGLE = "single"
    #: The name may repeat, each line adding a value (``View``).
    MULTI = "multivalue"
    #: ``Base.sub`` pairs; each ``sub`` may appear once (``Filter.ANI``).
    GROUP = "group"
    #: ``Base_N`` numbered names (``SubCommand_1``); N is the order.
    NUMBERED = "numbered"


class ValueType(enum.Enum):
    CHAR = "char"
    BOOL = "bool"  # TRUE/FALSE, any case
    INT = "int"
    FLAG = "flag"  # Y/N on the driver record


@dataclass(frozen=True)
class ParamSpec:
    name: str
    form: Form = Form.SINGLE
    type: ValueType = ValueType.CHAR
    macros: bool = False


@dataclass(frozen=True)
class SectionSchema:
    #: Canonical spelling of the type, as Siebel exports it.
    type: str
    #: Whether the header carries a name (``[Command:X]``) or not (``[Siebel]``).
    named: bool
    params: Mapping[str, ParamSpec]
    #: Parameter-name prefixes accepted as they are (``Driver:`` / ``Service:`` keys).
    open_prefixes: tuple[str, ...] = ()

    def lookup(self, base: str) -> ParamSpec | None:
        return self.params.get(base) or _lookup_folded(self.params, base)


def _lookup_folded(params: Mapping[str, ParamSpec], base: str) -> ParamSpec | None:
    folded = base.casefold()
    for name, spec in params.items():
        if name.casefold() == folded:
            return spec
    return None


def _specs(*specs: ParamSpec) -> dict[str, ParamSpec]:
    return {s.name: s for s in specs}


def _p(name: str, form: Form = Form.SINGLE, vt: ValueType = ValueType.CHAR,
       macros: bool = False) -> ParamSpec:
    return ParamSpec(name, form, vt, macros)


S, M, G, N = Form.SINGLE, Form.MULTI, Form.GROUP, Form.NUMBERED
B, INT, F = ValueType.BOOL, ValueType.INT, ValueType.FLAG

#: Event-log references of an event response; all values must be distinct.
LOG_KEYS = ("Log", "SingleLog", "MultiLog", "FindLog", "AddLog", "ContextLog")

_SIEBEL = SectionSchema("Siebel", False, _specs(_p("CommServerVersion")))

_CONFIG = SectionSchema(
    "Configuration Parameters",
    False,
    _specs(
        _p("AutoLoadDriver", vt=B), _p("AutoLogin"), _p("AutoLoginCmd"),
        _p("BackupCommSessionMgr"), _p("ChannelCleanupTimer", vt=INT), _p("CommSessionMgr"),
        _p("DialingFilter", G), _p("MultiTenancy", vt=B), _p("PreferenceLoginCmd"),
        _p("PreferenceLogoutCmd"), _p("UpdateChannelStatusTable", vt=B),
        _p("UQConfigurationName"),
    ),
)

_PROFILE = SectionSchema(
    "Profile", True, _specs(_p("Driver")), open_prefixes=("Driver:", "Service:"),
)

_DRIVER = SectionSchema(
    "Driver",
    True,
    _specs(
        _p("Library Name"), _p("Channel Type"), _p("Channel String"),
        _p("Inbound Flag", vt=F), _p("Outbound Flag", vt=F), _p("Interactive", vt=F),
        _p("Icon File"),
    ),
)

_DRIVER_PARAMS = SectionSchema(
    "Driver Parameters", True, {}, open_prefixes=("Driver:", "Service:", ""),
)

_COMMAND = SectionSchema(
    "Command",
    True,
    _specs(
        _p("DeviceCommand"), _p("CmdData"), _p("SubCommand", N), _p("ExecuteAll", vt=B),
        _p("ExecUntilOK", vt=B), _p("Description", macros=True), _p("Title", macros=True),
        _p("Hidden", vt=B), _p("MenuPosition"), _p("LocalMenu", vt=B), _p("HotKey"),
        _p("HotKeyText"), _p("OnEditControl", vt=B), _p("CmdChannelOnFocus", vt=B),
        _p("AllViews", vt=B), _p("View", M), _p("FilterSpec", macros=True), _p("Profile"),
        _p("ServiceMethod"), _p("ServiceParam", G, macros=True), _p("Script"),
        _p("ScriptParam", G, macros=True), _p("AcceptReject", vt=B), _p("ARTitle"),
        _p("ARWorkItemID", macros=True), _p("AROnRejectCmd"), _p("Comments"),
        _p("MatchWorkType"), _p("Order", vt=INT),
    ),
)

_CMDDATA = SectionSchema(
    "CmdData",
    True,
    _specs(
        _p("Param", G, macros=True), _p("BusComp"), _p("BusObj"), _p("OnField"),
        _p("RequiredField", G, macros=True), _p("AttachContext", vt=B), _p("SelectApplet"),
        _p("SelectBusObj"), _p("SelectBusComp"), _p("SelectQuerySpec", macros=True),
        _p("SelectTitle"), _p("SelectParam", vt=B), _p("ServiceParam", G, macros=True),
        _p("WorkTrackingObj", G, macros=True), _p("PostInvokeCommand"), _p("Comments"),
    ),
)

_HANDLER = SectionSchema(
    "EventHandler",
    True,
    _specs(
        _p("DeviceEvent"), _p("Filter", G), _p("FilterSpec", macros=True), _p("Order", vt=INT),
        _p("Profile"), _p("Response"), _p("Comments"), _p("WorkTrackingObj", G, macros=True),
    ),
)

_RESPONSE = SectionSchema(
    "EventResponse",
    True,
    _specs(
        _p("QueryBusObj"), _p("QueryBusComp"), _p("QuerySpec", macros=True), _p("SingleView"),
        _p("SingleApplet"), _p("SingleField", G, macros=True), _p("MultiView"),
        _p("FindDialog"), _p("FindField", G, macros=True), _p("OpenView"), _p("AddBusObj"),
        _p("AddBusComp"), _p("AddField", G, macros=True), _p("AddRecordView"),
        _p("AddRecordApplet"), _p("Command"), _p("ServiceMethod"),
        _p("ServiceParam", G, macros=True), _p("Script"), _p("ScriptParam", G, macros=True),
        _p("SmartScript", G), _p("UseCtxData", vt=B), _p("WorkObject", G, macros=True),
        *(_p(k) for k in LOG_KEYS), _p("Comments"),
    ),
)

_LOG = SectionSchema(
    "EventLog",
    True,
    _specs(
        _p("BusObj"), _p("BusComp"), _p("LogField", G, macros=True),
        _p("AfterWork", G, macros=True), _p("Display", vt=B), _p("QuerySpec", macros=True),
        _p("ServiceMethod"), _p("ServiceParam", G, macros=True),
        _p("WorkTrackingObj", G, macros=True), _p("Comments"),
    ),
)

SECTION_SCHEMAS: Mapping[str, SectionSchema] = {  # the Siebel section types
    s.type: s
    for s in (_SIEBEL, _CONFIG, _PROFILE, _DRIVER, _DRIVER_PARAMS, _COMMAND, _CMDDATA,
              _HANDLER, _RESPONSE, _LOG)
}

#: Canonical type names in the order the writer emits and reports count them.
SECTION_TYPES: tuple[str, ...] = tuple(SECTION_SCHEMAS)

#: Every known section type: Siebel's plus the gateway's own DEF-syntax files
#: (GC dialect, gateway settings), which register theirs with ``register_schemas``.
ALL_SCHEMAS: dict[str, SectionSchema] = dict(SECTION_SCHEMAS)


def register_schemas(*schemas: SectionSchema) -> tuple[str, ...]:
    """Make section types known to the model; returns their names for ``parse_text(types=)``."""
    for s in schemas:
        existing = ALL_SCHEMAS.setdefault(s.type, s)
        if existing is not s and existing != s:
            raise ValueError(f"section type {s.type!r} is already registered differently")
    return tuple(s.type for s in schemas)
