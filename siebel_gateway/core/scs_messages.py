"""The SCS protocol's messages as types (docs/scs-protocol.md): one frozen class per
request and per callback, each with its wire ``NAME`` and its parameters in wire order.

Requests (SCS -> gateway) are built by ``scs_wire.parse_line`` from checked JSON params
(``PARAMS`` says each one's wire name, kind and whether it may be absent; the texts of the
``-32602`` answers come from there).  Callbacks (gateway -> SCS) are built by the core
as these classes, so a misspelt field is a type error rather than a wrong JSON key;
``params()`` gives the JSON params, ``service`` first, in the order the table lists them.
``SENT_BY`` says which side sends which message.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, ClassVar

__all__ = [
    "CALLBACKS",
    "KV",
    "REQUESTS",
    "SENT_BY",
    "APIVersion",
    "AcceptWorkItem",
    "BeginBatch",
    "CacheCommandInformation",
    "Callback",
    "CleanAllWorkItem",
    "CreateISCDriverInstance",
    "EndBatch",
    "HandleError",
    "HandleEvent",
    "HandleQueuedWorkItem",
    "IndicateNewWorkItem",
    "InvokeCommand",
    "InvokeCommandEx",
    "NotifyEventHandlingFinished",
    "ReleaseISCDriverInstance",
    "ReleaseISCServiceInstance",
    "ReleaseWorkItem",
    "RequestCommandEventList",
    "RequestService",
    "ResumeDriverInstance",
    "ResumeWorkItem",
    "ScsRequest",
    "ShowStatusText",
    "SuspendWorkItem",
    "UpdateObjectInformation",
    "WorkItemReleased",
    "WorkItemResumed",
    "WorkItemStarted",
    "WorkItemSuspended",
    "request_params",
]

#: Ordered [key, value] string pairs (driver/service/command parameters).
KV = tuple[tuple[str, str], ...]
#: (wire name, kind): kind is str | bool | int | kv, with "?" when the param may be absent.
Spec = tuple[tuple[str, str], ...]


# -- requests (SCS -> gateway) ------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class APIVersion:
    NAME: ClassVar[str] = "APIVersion"
    PARAMS: ClassVar[Spec] = ()


@dataclass(frozen=True, slots=True)
class CreateISCDriverInstance:
    NAME: ClassVar[str] = "CreateISCDriverInstance"
    PARAMS: ClassVar[Spec] = (("mediaType", "str"), ("language", "str"),
                              ("connectString", "str?"), ("params", "kv?"))
    media_type: str
    language: str
    connect_string: str
    params: KV


@dataclass(frozen=True, slots=True)
class RequestCommandEventList:
    NAME: ClassVar[str] = "RequestCommandEventList"
    PARAMS: ClassVar[Spec] = (("mediaType", "str?"),)
    media_type: str


@dataclass(frozen=True, slots=True)
class RequestService:
    NAME: ClassVar[str] = "RequestService"
    PARAMS: ClassVar[Spec] = (("driver", "str"), ("connectString", "str?"), ("params", "kv?"))
    driver: str
    connect_string: str
    params: KV


@dataclass(frozen=True, slots=True)
class InvokeCommand:
    NAME: ClassVar[str] = "InvokeCommand"
    PARAMS: ClassVar[Spec] = (("service", "str"), ("cmdTrackId", "str"), ("name", "str"),
                              ("stringParam", "str?"), ("params", "kv?"))
    service: str
    cmd_track_id: str
    name: str
    string_param: str
    params: KV


@dataclass(frozen=True, slots=True)
class InvokeCommandEx:
    NAME: ClassVar[str] = "InvokeCommandEx"
    PARAMS: ClassVar[Spec] = (("service", "str"), ("cmdTrackId", "str"),
                              ("commandType", "int"), ("params", "kv?"))
    service: str
    cmd_track_id: str
    command_type: int
    params: KV


@dataclass(frozen=True, slots=True)
class NotifyEventHandlingFinished:
    NAME: ClassVar[str] = "NotifyEventHandlingFinished"
    PARAMS: ClassVar[Spec] = (("service", "str"), ("trackingId", "str"), ("result", "bool?"))
    service: str
    tracking_id: str
    result: bool


_WORK_ITEM: Spec = (("service", "str"), ("trackingId", "str"))


@dataclass(frozen=True, slots=True)
class AcceptWorkItem:
    NAME: ClassVar[str] = "AcceptWorkItem"
    PARAMS: ClassVar[Spec] = _WORK_ITEM
    service: str
    tracking_id: str


@dataclass(frozen=True, slots=True)
class ReleaseWorkItem:
    NAME: ClassVar[str] = "ReleaseWorkItem"
    PARAMS: ClassVar[Spec] = _WORK_ITEM
    service: str
    tracking_id: str


@dataclass(frozen=True, slots=True)
class SuspendWorkItem:
    NAME: ClassVar[str] = "SuspendWorkItem"
    PARAMS: ClassVar[Spec] = _WORK_ITEM
    service: str
    tracking_id: str


@dataclass(frozen=True, slots=True)
class ResumeWorkItem:
    NAME: ClassVar[str] = "ResumeWorkItem"
    PARAMS: ClassVar[Spec] = _WORK_ITEM
    service: str
    tracking_id: str


@dataclass(frozen=True, slots=True)
class HandleQueuedWorkItem:
    NAME: ClassVar[str] = "HandleQueuedWorkItem"
    PARAMS: ClassVar[Spec] = (("service", "str"), ("name", "str?"), ("fields", "kv?"),
                              ("trackingId", "str?"))
    service: str
    name: str
    fields: KV
    tracking_id: str


@dataclass(frozen=True, slots=True)
class ReleaseISCServiceInstance:
    NAME: ClassVar[str] = "ReleaseISCServiceInstance"
    PARAMS: ClassVar[Spec] = (("service", "str"),)
    service: str


@dataclass(frozen=True, slots=True)
class ReleaseISCDriverInstance:
    NAME: ClassVar[str] = "ReleaseISCDriverInstance"
    PARAMS: ClassVar[Spec] = (("driver", "str"),)
    driver: str


@dataclass(frozen=True, slots=True)
class ResumeDriverInstance:
    """Protocol v1.1: take a driver (and its services) over on a new connection with the
    ``session`` token its ``CreateISCDriverInstance`` answered (docs/scs-protocol.md)."""

    NAME: ClassVar[str] = "ResumeDriverInstance"
    PARAMS: ClassVar[Spec] = (("driver", "str"), ("session", "str"))
    driver: str
    session: str


ScsRequest = (APIVersion | CreateISCDriverInstance | RequestCommandEventList | RequestService
              | InvokeCommand | InvokeCommandEx | NotifyEventHandlingFinished | AcceptWorkItem
              | ReleaseWorkItem | SuspendWorkItem | ResumeWorkItem | HandleQueuedWorkItem
              | ReleaseISCServiceInstance | ReleaseISCDriverInstance | ResumeDriverInstance)

#: Request classes by method name, in the order of the protocol's table.
REQUESTS: Mapping[str, type[ScsRequest]] = MappingProxyType({cls.NAME: cls for cls in (
    APIVersion, CreateISCDriverInstance, RequestCommandEventList, RequestService,
    InvokeCommand, InvokeCommandEx, NotifyEventHandlingFinished, AcceptWorkItem,
    ReleaseWorkItem, SuspendWorkItem, ResumeWorkItem, HandleQueuedWorkItem,
    ReleaseISCServiceInstance, ReleaseISCDriverInstance, ResumeDriverInstance)})


def request_params(message: ScsRequest) -> dict[str, Any]:
    """The checked JSON params of a request (wire names, absent ones at their defaults)."""
    return {name: getattr(message, attr) for (name, _), attr
            in zip(message.PARAMS, message.__slots__, strict=True)}


# -- callbacks (gateway -> SCS) --------------------------------------------------------------------

class _Callback:
    __slots__ = ()
    NAME: ClassVar[str]

    def params(self) -> dict[str, Any]:
        """JSON params in field order (lists for tuples), as they go on the wire."""
        names: tuple[str, ...] = self.__slots__
        return {_WIRE.get(attr, attr): _json(getattr(self, attr)) for attr in names}


def _json(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_json(v) for v in value]
    return value


#: Field name -> wire name where they differ (snake_case here, camelCase on the wire).
_WIRE = {"tracking_id": "trackingId", "old_tracking_id": "oldTrackingId",
         "notify_when_done": "notifyWhenDone", "cmd_track_id": "cmdTrackId",
         "media_target_addr": "mediaTargetAddr", "start_time": "startTime",
         "stop_time": "stopTime"}


@dataclass(frozen=True, slots=True)
class HandleEvent(_Callback):
    NAME: ClassVar[str] = "HandleEvent"
    service: str
    name: str
    fields: Sequence[Sequence[str]]
    notify_when_done: bool
    tracking_id: str


@dataclass(frozen=True, slots=True)
class HandleError(_Callback):
    NAME: ClassVar[str] = "HandleError"
    service: str
    cmd_track_id: str
    error: str


@dataclass(frozen=True, slots=True)
class ShowStatusText(_Callback):
    NAME: ClassVar[str] = "ShowStatusText"
    service: str
    text: str


@dataclass(frozen=True, slots=True)
class CacheCommandInformation(_Callback):
    NAME: ClassVar[str] = "CacheCommandInformation"
    service: str
    commands: Sequence[str]
    descriptions: Sequence[str]
    statuses: Sequence[int]


@dataclass(frozen=True, slots=True)
class UpdateObjectInformation(_Callback):
    NAME: ClassVar[str] = "UpdateObjectInformation"
    service: str
    tracking_id: str
    media_target_addr: str
    info: Sequence[Sequence[str]]


@dataclass(frozen=True, slots=True)
class IndicateNewWorkItem(_Callback):
    NAME: ClassVar[str] = "IndicateNewWorkItem"
    service: str
    tracking_id: str
    old_tracking_id: str
    description: str
    mode: int


@dataclass(frozen=True, slots=True)
class WorkItemStarted(_Callback):
    NAME: ClassVar[str] = "WorkItemStarted"
    service: str
    tracking_id: str
    old_tracking_id: str
    description: str
    media_target_addr: str
    start_time: int


@dataclass(frozen=True, slots=True)
class WorkItemReleased(_Callback):
    NAME: ClassVar[str] = "WorkItemReleased"
    service: str
    tracking_id: str
    stop_time: int


@dataclass(frozen=True, slots=True)
class WorkItemSuspended(_Callback):
    NAME: ClassVar[str] = "WorkItemSuspended"
    service: str
    tracking_id: str


@dataclass(frozen=True, slots=True)
class WorkItemResumed(_Callback):
    NAME: ClassVar[str] = "WorkItemResumed"
    service: str
    tracking_id: str


@dataclass(frozen=True, slots=True)
class CleanAllWorkItem(_Callback):
    NAME: ClassVar[str] = "CleanAllWorkItem"
    service: str


@dataclass(frozen=True, slots=True)
class BeginBatch(_Callback):
    NAME: ClassVar[str] = "BeginBatch"
    service: str


@dataclass(frozen=True, slots=True)
class EndBatch(_Callback):
    NAME: ClassVar[str] = "EndBatch"
    service: str


Callback = (HandleEvent | HandleError | ShowStatusText | CacheCommandInformation
            | UpdateObjectInformation | IndicateNewWorkItem | WorkItemStarted | WorkItemReleased
            | WorkItemSuspended | WorkItemResumed | CleanAllWorkItem | BeginBatch | EndBatch)

CALLBACKS: tuple[type[Callback], ...] = (
    HandleEvent, HandleError, ShowStatusText, CacheCommandInformation, UpdateObjectInformation,
    IndicateNewWorkItem, WorkItemStarted, WorkItemReleased, WorkItemSuspended, WorkItemResumed,
    CleanAllWorkItem, BeginBatch, EndBatch)

#: Who sends each message: "SCS" (requests, answered with a result) or "gateway"
#: (callbacks, never answered).
SENT_BY: Mapping[str, str] = MappingProxyType({
    **{name: "SCS" for name in REQUESTS}, **{cls.NAME: "gateway" for cls in CALLBACKS}})
