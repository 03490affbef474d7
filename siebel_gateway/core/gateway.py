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
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..gc.codec import GcCodec, GcDecodeError, GcEncodeError, GcEvent
from . import machine
from .agent import AgentSession
from .broker_messages import BrokerMessage
from .driver import DriverConfigError, DriverSettings, parse_driver_params, service_values
from .effects import CancelTimer, Effect, Key, Log, Publish, StartTimer, ToScs
from .scs_wire import Request, ScError, WireError, error_message, result_message
from .texts import Catalog
from .vocabulary import COMMANDS, EVENTS

__all__ = ["API_VERSION", "GatewayCore", "GatewayOptions"]

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


@dataclass
class DriverInstance:
    handle: str
    connection: int
    settings: DriverSettings
    services: list[str] = field(default_factory=list)


class GatewayCore:
    def __init__(self, codec: GcCodec, catalog: Catalog, options: GatewayOptions | None = None,
                 *, encrypt: Callable[[str], str] | None = None) -> None:
        self.codec, self.catalog = codec, catalog
        self.options = options or GatewayOptions()
        self._encrypt = encrypt
        self.out: list[Effect] = []
        self.drivers: dict[str, DriverInstance] = {}
        self.services: dict[str, AgentSession] = {}
        self.agents: dict[str, AgentSession] = {}
        self.link_up = False
        self.gc_in_service = False
        self._skew_warned = False
        self._counter = 0
        self._hello_outstanding = False
        self._touched: list[AgentSession] = []

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

    def take(self) -> list[Effect]:
        """Effects of the last input: the core's own, then those of each session the input
        reached (only those: the toolbar check is per touched session, not per agent)."""
        for s in self._touched:
            if s.handle in self.services:
                self.out.extend(s.take())
        self._touched.clear()
        out, self.out = self.out, []
        return out

    def _touch(self, s: AgentSession) -> AgentSession:
        if s not in self._touched:
            self._touched.append(s)
        return s

    def _touch_all(self) -> None:
        for s in self.services.values():
            self._touch(s)

    def log(self, level: str, text: str, **fields: Any) -> None:
        self.out.append(Log(level, text, fields))

    # -- SCS side ----------------------------------------------------------------------------

    def request(self, connection: int, item: Request | WireError, now: float) -> list[Effect]:
        if isinstance(item, WireError):
            self.out.append(ToScs(connection, error_message(item.id, item.code, item.message)))
            return self.take()
        handler = getattr(self, f"_m_{item.method}")
        try:
            code, error, extra = handler(connection, item.params, now)
        except Exception as exc:  # a gateway bug must not cost the connection or others
            self.log("error", "internal error on {method}: {error!r}\n{traceback}",
                     method=item.method, error=exc, traceback=traceback.format_exc())
            self.out.append(ToScs(connection, error_message(
                item.id, -32603, f"internal error while handling {item.method}; the gateway "
                                 "log has the details")))
            return self.take()
        self.out.append(ToScs(connection, result_message(item.id, code, error, **extra)))
        return self.take()

    def _new_handle(self, kind: str) -> str:
        self._counter += 1
        return f"{kind}-{self._counter}"

    def _service(self, connection: int, handle: str) -> AgentSession | None:
        s = self.services.get(handle)
        return self._touch(s) if s is not None and s.connection == connection else None

    def _bad_handle(self, kind: str, handle: str) -> tuple[int, str, dict[str, Any]]:
        return (int(ScError.INVALID_HANDLE), f"{kind} handle {handle!r} is unknown on this "
                f"connection (never created, or already released)", {})

    def _m_APIVersion(self, c: int, p: Any, now: float) -> Any:  # noqa: N802
        return 0, "", {"version": API_VERSION}

    def _m_CreateISCDriverInstance(self, c: int, p: Any, now: float) -> Any:  # noqa: N802
        if p["mediaType"] not in self.options.media_types:
            return (int(ScError.MEDIA_TYPE_NOT_SUPPORTED), f"media type {p['mediaType']!r} "
                    f"is not served; this gateway serves {', '.join(self.options.media_types)}",
                    {})
        try:
            settings = parse_driver_params(p["params"], media_type=p["mediaType"],
                                           language=p["language"],
                                           defaults=self.options.driver_defaults)
        except DriverConfigError as exc:
            return int(ScError.DRIVER_CREATION_ERR), str(exc), {}
        if settings.use_secure_password and self._encrypt is None:
            return (int(ScError.DRIVER_CREATION_ERR), "UseSecurePassword is TRUE but the "
                    "gateway has no Triple-DES key ([Security] in the gateway file)", {})
        if not self.catalog.has(settings.language):
            self.log("warn", "no texts for language {language}; using ENU",
                     language=settings.language)
        handle = self._new_handle("drv")
        self.drivers[handle] = DriverInstance(handle, c, settings)
        self.log("info", "driver {driver} created ({flavour}, {language})", driver=handle,
                 flavour=settings.flavour, language=settings.language)
        return 0, "", {"driver": handle}

    def _m_RequestCommandEventList(self, c: int, p: Any, now: float) -> Any:  # noqa: N802
        if p["mediaType"] and p["mediaType"] not in self.options.media_types:
            return (int(ScError.MEDIA_TYPE_NOT_SUPPORTED),
                    f"media type {p['mediaType']!r} is not served", {})
        return 0, "", {"commands": list(COMMANDS), "events": list(EVENTS)}

    def _m_RequestService(self, c: int, p: Any, now: float) -> Any:  # noqa: N802
        d = self.drivers.get(p["driver"])
        if d is None or d.connection != c:
            return self._bad_handle("driver", p["driver"])
        handle = self._new_handle("svc")
        session = AgentSession(handle, c, d.settings, service_values(p["params"]), self)
        self.services[handle] = self._touch(session)
        d.services.append(handle)
        session.refresh_toolbar()
        if not self.gc_available:
            session.cb("ShowStatusText", text=session.t("status.gc_out_of_service"))
        return 0, "", {"service": handle}

    def _m_InvokeCommand(self, c: int, p: Any, now: float) -> Any:  # noqa: N802
        s = self._service(c, p["service"])
        if s is None:
            return self._bad_handle("service", p["service"])
        code, error = machine.invoke(s, p["cmdTrackId"], p["name"], p["stringParam"],
                                     p["params"], now)
        return code, error, {}

    def _m_InvokeCommandEx(self, c: int, p: Any, now: float) -> Any:  # noqa: N802
        s = self._service(c, p["service"])
        if s is None:
            return self._bad_handle("service", p["service"])
        if p["commandType"] != 1:
            return (int(ScError.CMD_NOT_SUPPORTED), f"command type {p['commandType']} is not "
                    "supported (1 = make call is; 2 = send message is not, this is a voice "
                    "driver)", {})
        code, error = machine.invoke(s, p["cmdTrackId"], "MakeCall", "", p["params"], now)
        return code, error, {}

    def _m_NotifyEventHandlingFinished(self, c: int, p: Any, now: float) -> Any:  # noqa: N802
        s = self._service(c, p["service"])
        if s is None:
            return self._bad_handle("service", p["service"])
        code, error = machine.notify_finished(s, p["trackingId"])
        return code, error, {}

    def _work_item(self, c: int, p: Any, now: float, command: str) -> Any:
        s = self._service(c, p["service"])
        if s is None:
            return self._bad_handle("service", p["service"])
        if p["trackingId"] not in s.calls.calls:
            return (int(ScError.INVALID_ITEM_TRACKING_ID), f"no call has the tracking id "
                    f"{p['trackingId']!r}", {})
        code, error = machine.invoke(s, "0", command, "", [("TrackingID", p["trackingId"])], now)
        return code, error, {}

    def _m_AcceptWorkItem(self, c: int, p: Any, now: float) -> Any:  # noqa: N802
        return self._work_item(c, p, now, "AnswerCall")

    def _m_ReleaseWorkItem(self, c: int, p: Any, now: float) -> Any:  # noqa: N802
        return self._work_item(c, p, now, "ReleaseCall")

    def _m_SuspendWorkItem(self, c: int, p: Any, now: float) -> Any:  # noqa: N802
        return self._work_item(c, p, now, "HoldCall")

    def _m_ResumeWorkItem(self, c: int, p: Any, now: float) -> Any:  # noqa: N802
        return self._work_item(c, p, now, "RetrieveCall")

    def _m_HandleQueuedWorkItem(self, c: int, p: Any, now: float) -> Any:  # noqa: N802
        if self._service(c, p["service"]) is None:
            return self._bad_handle("service", p["service"])
        return (int(ScError.CMD_NOT_SUPPORTED), "queued work items (Universal Queuing) are "
                "not handled: calls are routed by the contact centre, not by Siebel", {})

    def _m_ReleaseISCServiceInstance(self, c: int, p: Any, now: float) -> Any:  # noqa: N802
        s = self._service(c, p["service"])
        if s is None:
            return self._bad_handle("service", p["service"])
        self._release_service(s, now)
        return 0, "", {}

    def _m_ReleaseISCDriverInstance(self, c: int, p: Any, now: float) -> Any:  # noqa: N802
        d = self.drivers.get(p["driver"])
        if d is None or d.connection != c:
            return self._bad_handle("driver", p["driver"])
        self._release_driver(d, now)
        return 0, "", {}

    def _release_service(self, s: AgentSession, now: float) -> None:
        machine.release(s, now)
        self.out.extend(s.take())
        self.services.pop(s.handle, None)
        for d in self.drivers.values():
            if s.handle in d.services:
                d.services.remove(s.handle)

    def _release_driver(self, d: DriverInstance, now: float) -> None:
        for handle in list(d.services):
            s = self.services.get(handle)
            if s is not None:
                self._release_service(s, now)
        self.drivers.pop(d.handle, None)

    def connection_lost(self, connection: int, now: float) -> list[Effect]:
        """The SCS side went away: release what it held (force logout as configured)."""
        for d in [d for d in self.drivers.values() if d.connection == connection]:
            self._release_driver(d, now)
        for s in [s for s in self.services.values() if s.connection == connection]:
            self._release_service(s, now)
        return self.take()

    # -- broker side ---------------------------------------------------------------------------

    def _send_gc(self, command: str, now: float) -> None:
        try:
            message = self.codec.encode(command, {}, now_ms=int(now * 1000))
        except GcEncodeError as exc:
            self.log("error", "cannot send {command}: {error}", command=command, error=str(exc))
            return
        self.out.append(Publish(message, Key(GATEWAY, command)))

    def link_status(self, up: bool, reason: str, now: float, *,
                    recovered: bool = False) -> list[Effect]:
        was = self.gc_available
        self.link_up = up
        if up:
            self._skew_warned = False
            self._hello(now, "Hello")
        else:
            self.gc_in_service = False
            self._hello_outstanding = False
            self.out.extend([CancelTimer(BEAT), CancelTimer(ANSWER)])
        self.log("info" if up else "warn", "broker link {state}: {reason}",
                 state="up" if up else "down", reason=reason)
        self._availability_changed(was, now, "status.link_down")
        return self.take()

    def _hello(self, now: float, command: str) -> None:
        self._send_gc(command, now)
        self._hello_outstanding = True
        self.out.append(StartTimer(ANSWER, self.command_timeout))

    def broker_message(self, message: BrokerMessage, now: float) -> list[Effect]:
        self._check_skew(message, now)
        try:
            event = self.codec.decode(message.body)
        except GcDecodeError as exc:
            self.log("warn", "GC event refused: {reason}", reason=str(exc))
            return self.take()
        if event.agent_id == self.codec.dialect.system_agent:
            self._system(event, now)
        else:
            s = self.agents.get(event.agent_id)
            if s is None:
                self.log("debug", "GC event {event} for agent {agent} that no service has "
                         "logged in", event=event.name, agent=event.agent_id)
            else:
                machine.gc_event(self._touch(s), event, now)
        return self.take()

    def _check_skew(self, message: BrokerMessage, now: float) -> None:
        stamp = message.headers.get("gcTimestamp", "")
        if self._skew_warned or not stamp.isdigit():
            return
        skew = now - int(stamp) / 1000
        if abs(skew) > self.options.clock_skew_warning:
            self._skew_warned = True
            self.log("warn", "the GC's clock is {seconds:.1f} s {direction} this gateway's "
                     "(warning bound {bound:g} s): call times in Siebel will be off; "
                     "synchronise both with NTP", seconds=abs(skew),
                     direction="behind" if skew > 0 else "ahead of",
                     bound=self.options.clock_skew_warning)

    def _system(self, event: GcEvent, now: float) -> None:
        was = self.gc_available
        if event.name in ("IN_SERVICE", "OUT_OF_SERVICE"):
            self.gc_in_service = event.name == "IN_SERVICE"
            if self._hello_outstanding:
                self._hello_outstanding = False
                self.out.append(CancelTimer(ANSWER))
                self.out.append(StartTimer(BEAT, self.options.heartbeat))
        self._touch_all()
        for s in list(self.services.values()):
            machine.gc_system(s, event, now)
        self._availability_changed(was, now, "status.gc_out_of_service")

    def _availability_changed(self, was: bool, now: float, down_key: str) -> None:
        now_up = self.gc_available
        if was == now_up:
            return
        self.log("info" if now_up else "warn", "Generic Connector {state}",
                 state="available" if now_up else "unavailable")
        self._touch_all()
        for s in list(self.services.values()):
            if now_up:
                machine.link_back(s, now)
            else:
                machine.link_lost(s, down_key, now)

    def timer(self, key: Key, now: float) -> list[Effect]:
        if key == BEAT:
            if self.link_up:
                self._hello(now, "Beat")
        elif key == ANSWER:
            was = self.gc_available
            self._hello_outstanding = False
            self.gc_in_service = False
            self.log("warn", "the GC did not answer Hello/Beat within {seconds:g} s",
                     seconds=self.command_timeout)
            self._availability_changed(was, now, "status.gc_out_of_service")
            if self.link_up:
                self.out.append(StartTimer(BEAT, self.options.heartbeat))
        else:
            s = self.services.get(key.owner)
            if s is not None:
                machine.timer(self._touch(s), key, now)
        return self.take()

    def publish_failed(self, ref: Key | None, why: str, now: float) -> list[Effect]:
        s = self.services.get(ref.owner) if ref is not None else None
        if s is not None and ref is not None:
            machine.publish_failed(self._touch(s), ref, why)
        else:
            self.log("warn", "GC command {ref} was not sent: {why}",
                     ref="" if ref is None else str(ref), why=why)
        return self.take()
