"""The whole gateway as one sans-IO object: SCS requests, broker messages, link status and
timer expiries in; effects out.  The Twisted shell (``adapters/gateway_service.py``) and
the trace replayer drive the same object.

    connection n --Request--> GatewayCore --Publish--> broker
                 <--ToScs----     |  routes GC events by agent id to the AgentSession
                                  |  that logged that agent in; system events to all

Handles are opaque strings; a handle is valid only on the connection that created it, so
two SCS processes can never act on each other's agents.  GC availability is the link
being up *and* the GC answering Hello/Beat with IN_SERVICE; while it is not, every
command is refused at once with SC_EC_NETWORK_ERROR.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from ..gc.codec import GcCodec, GcDecodeError, GcEncodeError, GcEvent
from . import machine
from .agent import AgentSession
from .broker_messages import BrokerMessage
from .driver import DriverConfigError, DriverSettings, parse_driver_params, service_values
from .effects import CancelTimer, Effect, Key, Log, Publish, StartTimer, ToScs
from .scs_messages import (
    AcceptWorkItem,
    APIVersion,
    CreateISCDriverInstance,
    HandleQueuedWorkItem,
    InvokeCommand,
    InvokeCommandEx,
    NotifyEventHandlingFinished,
    ReleaseISCDriverInstance,
    ReleaseISCServiceInstance,
    ReleaseWorkItem,
    RequestCommandEventList,
    RequestService,
    ResumeWorkItem,
    ShowStatusText,
    SuspendWorkItem,
)
from .scs_wire import Request, RpcError, ScError, WireError, error_message, result_message
from .texts import Catalog
from .views import CoreView, core_view
from .vocabulary import COMMANDS, EVENTS

__all__ = ["ANSWER", "API_VERSION", "BEAT", "GATEWAY", "GatewayCore", "GatewayOptions",
           "Result"]

API_VERSION = 2
#: Owner of the gateway's own timers and publishes.
GATEWAY = "gateway"
BEAT = Key(GATEWAY, "beat")
ANSWER = Key(GATEWAY, "answer")


@dataclass(frozen=True)
class GatewayOptions:
    command_timeout: float = 10.0
    heartbeat: float = 30.0
    #: Warn (once per link) when a GC timestamp is this far from the local clock.
    clock_skew_warning: float = 2.0
    media_types: tuple[str, ...] = ("Voice",)
    #: Driver parameters from the Siebel DEF, the defaults a request's values override.
    driver_defaults: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Result:
    """What a request is answered with: SCAPI ``code``, the ``error`` text when it is not
    0, and the method's own result members (``driver``, ``service``, ``version``...)."""

    code: int = 0
    error: str = ""
    extra: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


OK = Result()


@dataclass
class DriverInstance:
    handle: str
    connection: int
    settings: DriverSettings
    services: list[str] = field(default_factory=list)


class GatewayCore:
    """Every input is a method returning the effects it decided, in order: the core's own
    (log lines, GC heartbeats, the request's result), then the callbacks and publishes of
    each agent service the input reached.  Which services an input reaches is decided by
    the method itself (one service for a request or an agent's event, all of them for a
    system event or a change of GC availability); nothing is left buffered between inputs.
    """

    def __init__(self, codec: GcCodec, catalog: Catalog, options: GatewayOptions | None = None,
                 *, encrypt: Callable[[str], str] | None = None) -> None:
        self.codec, self.catalog = codec, catalog
        self.options = options or GatewayOptions()
        self._encrypt = encrypt
        self.drivers: dict[str, DriverInstance] = {}
        self.services: dict[str, AgentSession] = {}
        self.agents: dict[str, AgentSession] = {}
        self.link_up = False
        self.gc_in_service = False
        self._skew_warned = False
        self._counter = 0
        self._hello_outstanding = False
        self._requests: Mapping[type[Any], Callable[[int, Any, float, list[Effect]],
                                                    tuple[Result, AgentSession | None]]] = {
            APIVersion: self._api_version,
            CreateISCDriverInstance: self._create_driver,
            RequestCommandEventList: self._command_event_list,
            RequestService: self._request_service,
            InvokeCommand: self._invoke_command,
            InvokeCommandEx: self._invoke_command_ex,
            NotifyEventHandlingFinished: self._notify_finished,
            AcceptWorkItem: self._work_item,
            ReleaseWorkItem: self._work_item,
            SuspendWorkItem: self._work_item,
            ResumeWorkItem: self._work_item,
            HandleQueuedWorkItem: self._queued_work_item,
            ReleaseISCServiceInstance: self._release_service_request,
            ReleaseISCDriverInstance: self._release_driver_request,
        }

    def snapshot(self) -> CoreView:
        """A frozen view of the link, the GC and every agent service (for a monitor)."""
        return core_view(self.link_up, self.gc_in_service, len(self.drivers),
                         self.services.values())

    # -- context for sessions ----------------------------------------------------------------

    @property
    def command_timeout(self) -> float:
        return self.options.command_timeout

    @property
    def gc_available(self) -> bool:
        return self.link_up and self.gc_in_service

    def claim_agent(self, agent_id: str, session: AgentSession) -> bool:
        owner = self.agents.setdefault(agent_id, session)
        return owner is session

    def release_agent(self, agent_id: str, session: AgentSession) -> None:
        if self.agents.get(agent_id) is session:
            del self.agents[agent_id]

    def encrypt(self, password: str) -> str:
        if self._encrypt is None:  # refused at CreateISCDriverInstance; kept as a guard
            raise RuntimeError("UseSecurePassword without a Triple-DES key")
        return self._encrypt(password)

    def _reached(self, out: list[Effect], sessions: Iterable[AgentSession]) -> list[Effect]:
        """``out``, then the effects of each of ``sessions`` still in service."""
        for s in sessions:
            if s.handle in self.services:
                out.extend(s.take())
        return out

    @staticmethod
    def _log(out: list[Effect], level: str, text: str, **fields: Any) -> None:
        out.append(Log(level, text, fields))

    # -- SCS side ----------------------------------------------------------------------------

    def request(self, connection: int, item: Request | WireError, now: float) -> list[Effect]:
        if isinstance(item, WireError):
            return [ToScs(connection, error_message(item.id, item.code, item.message))]
        out: list[Effect] = []
        body = item.body
        try:
            result, session = self._requests[type(body)](connection, body, now, out)
        except Exception as exc:  # a gateway bug must not cost the connection or others
            self._log(out, "error", "internal error on {method}: {error!r}\n{traceback}",
                      method=item.method, error=exc, traceback=traceback.format_exc())
            out.append(ToScs(connection, error_message(
                item.id, RpcError.INTERNAL, f"internal error while handling {item.method}; "
                                            "the gateway log has the details")))
            return out
        out.append(ToScs(connection, result_message(item.id, result.code, result.error,
                                                    **result.extra)))
        return self._reached(out, () if session is None else (session,))

    def _new_handle(self, kind: str) -> str:
        self._counter += 1
        return f"{kind}-{self._counter}"

    def _service(self, connection: int, handle: str) -> AgentSession | None:
        s = self.services.get(handle)
        return s if s is not None and s.connection == connection else None

    @staticmethod
    def _bad_handle(kind: str, handle: str) -> tuple[Result, None]:
        return Result(int(ScError.INVALID_HANDLE), f"{kind} handle {handle!r} is unknown on "
                      f"this connection (never created, or already released)"), None

    def _api_version(self, c: int, m: APIVersion, now: float, out: list[Effect]
                     ) -> tuple[Result, None]:
        return Result(extra={"version": API_VERSION}), None

    def _create_driver(self, c: int, m: CreateISCDriverInstance, now: float,
                       out: list[Effect]) -> tuple[Result, None]:
        if m.media_type not in self.options.media_types:
            return Result(int(ScError.MEDIA_TYPE_NOT_SUPPORTED), f"media type "
                          f"{m.media_type!r} is not served; this gateway serves "
                          f"{', '.join(self.options.media_types)}"), None
        try:
            settings = parse_driver_params(m.params, media_type=m.media_type,
                                           language=m.language,
                                           defaults=self.options.driver_defaults)
        except DriverConfigError as exc:
            return Result(int(ScError.DRIVER_CREATION_ERR), str(exc)), None
        if settings.use_secure_password and self._encrypt is None:
            return Result(int(ScError.DRIVER_CREATION_ERR), "UseSecurePassword is TRUE but the "
                          "gateway has no Triple-DES key ([Security] in the gateway file)"), None
        if not self.catalog.has(settings.language):
            self._log(out, "warn", "no texts for language {language}; using ENU",
                      language=settings.language)
        handle = self._new_handle("drv")
        self.drivers[handle] = DriverInstance(handle, c, settings)
        self._log(out, "info", "driver {driver} created ({flavour}, {language})", driver=handle,
                  flavour=settings.flavour, language=settings.language)
        return Result(extra={"driver": handle}), None

    def _command_event_list(self, c: int, m: RequestCommandEventList, now: float,
                            out: list[Effect]) -> tuple[Result, None]:
        if m.media_type and m.media_type not in self.options.media_types:
            return Result(int(ScError.MEDIA_TYPE_NOT_SUPPORTED),
                          f"media type {m.media_type!r} is not served"), None
        return Result(extra={"commands": list(COMMANDS), "events": list(EVENTS)}), None

    def _request_service(self, c: int, m: RequestService, now: float, out: list[Effect]
                         ) -> tuple[Result, AgentSession | None]:
        d = self.drivers.get(m.driver)
        if d is None or d.connection != c:
            return self._bad_handle("driver", m.driver)
        handle = self._new_handle("svc")
        session = AgentSession(handle, c, d.settings, service_values(m.params), self)
        self.services[handle] = session
        d.services.append(handle)
        session.refresh_toolbar()
        if not self.gc_available:
            session.cb(ShowStatusText(session.handle, text=session.t("status.gc_out_of_service")))
        return Result(extra={"service": handle}), session

    def _invoke_command(self, c: int, m: InvokeCommand, now: float, out: list[Effect]
                        ) -> tuple[Result, AgentSession | None]:
        s = self._service(c, m.service)
        if s is None:
            return self._bad_handle("service", m.service)
        code, error = machine.invoke(s, m.cmd_track_id, m.name, m.string_param, m.params, now)
        return Result(code, error), s

    def _invoke_command_ex(self, c: int, m: InvokeCommandEx, now: float, out: list[Effect]
                           ) -> tuple[Result, AgentSession | None]:
        s = self._service(c, m.service)
        if s is None:
            return self._bad_handle("service", m.service)
        if m.command_type != 1:
            return Result(int(ScError.CMD_NOT_SUPPORTED), f"command type {m.command_type} is "
                          "not supported (1 = make call is; 2 = send message is not, this is "
                          "a voice driver)"), s
        code, error = machine.invoke(s, m.cmd_track_id, "MakeCall", "", m.params, now)
        return Result(code, error), s

    def _notify_finished(self, c: int, m: NotifyEventHandlingFinished, now: float,
                         out: list[Effect]) -> tuple[Result, AgentSession | None]:
        s = self._service(c, m.service)
        if s is None:
            return self._bad_handle("service", m.service)
        code, error = machine.notify_finished(s, m.tracking_id)
        return Result(code, error), s

    _WORK_ITEM_COMMANDS: Mapping[type[Any], str] = MappingProxyType({
        AcceptWorkItem: "AnswerCall", ReleaseWorkItem: "ReleaseCall",
        SuspendWorkItem: "HoldCall", ResumeWorkItem: "RetrieveCall"})

    def _work_item(self, c: int,
                   m: AcceptWorkItem | ReleaseWorkItem | SuspendWorkItem | ResumeWorkItem,
                   now: float, out: list[Effect]) -> tuple[Result, AgentSession | None]:
        s = self._service(c, m.service)
        if s is None:
            return self._bad_handle("service", m.service)
        if m.tracking_id not in s.calls.calls:
            return Result(int(ScError.INVALID_ITEM_TRACKING_ID), f"no call has the tracking id "
                          f"{m.tracking_id!r}"), s
        code, error = machine.invoke(s, "0", self._WORK_ITEM_COMMANDS[type(m)], "",
                                     [("TrackingID", m.tracking_id)], now)
        return Result(code, error), s

    def _queued_work_item(self, c: int, m: HandleQueuedWorkItem, now: float,
                          out: list[Effect]) -> tuple[Result, AgentSession | None]:
        s = self._service(c, m.service)
        if s is None:
            return self._bad_handle("service", m.service)
        return Result(int(ScError.CMD_NOT_SUPPORTED), "queued work items (Universal Queuing) "
                      "are not handled: calls are routed by the contact centre, not by "
                      "Siebel"), s

    def _release_service_request(self, c: int, m: ReleaseISCServiceInstance, now: float,
                                 out: list[Effect]) -> tuple[Result, None]:
        s = self._service(c, m.service)
        if s is None:
            return self._bad_handle("service", m.service)
        self._release_service(s, now, out)
        return OK, None

    def _release_driver_request(self, c: int, m: ReleaseISCDriverInstance, now: float,
                                out: list[Effect]) -> tuple[Result, None]:
        d = self.drivers.get(m.driver)
        if d is None or d.connection != c:
            return self._bad_handle("driver", m.driver)
        self._release_driver(d, now, out)
        return OK, None

    def _release_service(self, s: AgentSession, now: float, out: list[Effect]) -> None:
        machine.release(s, now)
        out.extend(s.take())
        self.services.pop(s.handle, None)
        for d in self.drivers.values():
            if s.handle in d.services:
                d.services.remove(s.handle)

    def _release_driver(self, d: DriverInstance, now: float, out: list[Effect]) -> None:
        for handle in list(d.services):
            s = self.services.get(handle)
            if s is not None:
                self._release_service(s, now, out)
        self.drivers.pop(d.handle, None)

    def connection_lost(self, connection: int, now: float) -> list[Effect]:
        """The SCS side went away: release what it held (force logout as configured)."""
        out: list[Effect] = []
        for d in [d for d in self.drivers.values() if d.connection == connection]:
            self._release_driver(d, now, out)
        for s in [s for s in self.services.values() if s.connection == connection]:
            self._release_service(s, now, out)
        return out

    # -- broker side ---------------------------------------------------------------------------

    def _send_gc(self, command: str, now: float, out: list[Effect]) -> None:
        try:
            message = self.codec.encode(command, {}, now_ms=int(now * 1000))
        except GcEncodeError as exc:
            self._log(out, "error", "cannot send {command}: {error}", command=command,
                      error=str(exc))
            return
        out.append(Publish(message, Key(GATEWAY, command)))

    def link_status(self, up: bool, reason: str, now: float, *,
                    recovered: bool = False) -> list[Effect]:
        out: list[Effect] = []
        was = self.gc_available
        self.link_up = up
        if up:
            self._skew_warned = False
            self._hello(now, "Hello", out)
        else:
            self.gc_in_service = False
            self._hello_outstanding = False
            out.extend([CancelTimer(BEAT), CancelTimer(ANSWER)])
        self._log(out, "info" if up else "warn", "broker link {state}: {reason}",
                  state="up" if up else "down", reason=reason)
        return self._reached(out, self._availability_changed(was, now, "status.link_down", out))

    def _hello(self, now: float, command: str, out: list[Effect]) -> None:
        self._send_gc(command, now, out)
        self._hello_outstanding = True
        out.append(StartTimer(ANSWER, self.command_timeout))

    def broker_message(self, message: BrokerMessage, now: float) -> list[Effect]:
        out: list[Effect] = []
        self._check_skew(message, now, out)
        try:
            event = self.codec.decode(message.body)
        except GcDecodeError as exc:
            self._log(out, "warn", "GC event refused: {reason}", reason=str(exc))
            return out
        if event.agent_id == self.codec.dialect.system_agent:
            return self._reached(out, self._system(event, now, out))
        s = self.agents.get(event.agent_id)
        if s is None:
            self._log(out, "debug", "GC event {event} for agent {agent} that no service has "
                      "logged in", event=event.name, agent=event.agent_id)
            return out
        machine.gc_event(s, event, now)
        return self._reached(out, (s,))

    def _check_skew(self, message: BrokerMessage, now: float, out: list[Effect]) -> None:
        stamp = message.headers.get("gcTimestamp", "")
        if self._skew_warned or not stamp.isdigit():
            return
        skew = now - int(stamp) / 1000
        if abs(skew) > self.options.clock_skew_warning:
            self._skew_warned = True
            self._log(out, "warn", "the GC's clock is {seconds:.1f} s {direction} this "
                      "gateway's (warning bound {bound:g} s): call times in Siebel will be "
                      "off; synchronise both with NTP", seconds=abs(skew),
                      direction="behind" if skew > 0 else "ahead of",
                      bound=self.options.clock_skew_warning)

    def _system(self, event: GcEvent, now: float, out: list[Effect]) -> list[AgentSession]:
        """A system event; every service hears it (the returned list)."""
        was = self.gc_available
        if event.name in ("IN_SERVICE", "OUT_OF_SERVICE"):
            self.gc_in_service = event.name == "IN_SERVICE"
            if self._hello_outstanding:
                self._hello_outstanding = False
                out.append(CancelTimer(ANSWER))
                out.append(StartTimer(BEAT, self.options.heartbeat))
        reached = list(self.services.values())
        for s in reached:
            machine.gc_system(s, event, now)
        self._availability_changed(was, now, "status.gc_out_of_service", out)
        return reached

    def _availability_changed(self, was: bool, now: float, down_key: str,
                              out: list[Effect]) -> list[AgentSession]:
        """Tells every service when the GC became (un)available; returns those told."""
        now_up = self.gc_available
        if was == now_up:
            return []
        self._log(out, "info" if now_up else "warn", "Generic Connector {state}",
                  state="available" if now_up else "unavailable")
        reached = list(self.services.values())
        for s in reached:
            if now_up:
                machine.link_back(s, now)
            else:
                machine.link_lost(s, down_key, now)
        return reached

    def timer(self, key: Key, now: float) -> list[Effect]:
        out: list[Effect] = []
        if key == BEAT:
            if self.link_up:
                self._hello(now, "Beat", out)
            return out
        if key == ANSWER:
            was = self.gc_available
            self._hello_outstanding = False
            self.gc_in_service = False
            self._log(out, "warn", "the GC did not answer Hello/Beat within {seconds:g} s",
                      seconds=self.command_timeout)
            reached = self._availability_changed(was, now, "status.gc_out_of_service", out)
            if self.link_up:
                out.append(StartTimer(BEAT, self.options.heartbeat))
            return self._reached(out, reached)
        s = self.services.get(key.owner)
        if s is None:
            return out
        machine.timer(s, key, now)
        return self._reached(out, (s,))

    def publish_failed(self, ref: Key | None, why: str, now: float) -> list[Effect]:
        out: list[Effect] = []
        s = self.services.get(ref.owner) if ref is not None else None
        if s is None or ref is None:
            self._log(out, "warn", "GC command {ref} was not sent: {why}",
                      ref="" if ref is None else str(ref), why=why)
            return out
        machine.publish_failed(s, ref, why)
        return self._reached(out, (s,))
