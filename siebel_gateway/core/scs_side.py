"""The SCS side of the gateway core: drivers and agent services created, released and
asked for things by SCS requests (docs/scs-protocol.md), sans-IO."""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from ..gc.codec import GcCodec
from . import machine
from .agent import AgentSession, Phase
from .driver import DriverConfigError, DriverSettings, parse_driver_params, service_values
from .effects import CancelTimer, Effect, Log, StartTimer, ToScs
from .limits import driver_refusal, service_refusal
from .reattach import DETACHED, PROTOCOL, grace_key, tokens_match
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
    ResumeDriverInstance,
    ResumeWorkItem,
    SuspendWorkItem,
)
from .scs_wire import Request, RpcError, ScError, WireError, error_message, result_message
from .texts import Catalog
from .views import CoreView, core_view
from .vocabulary import COMMANDS, EVENTS

API_VERSION = 2



@dataclass(frozen=True)
class GatewayOptions:
    command_timeout: float = 10.0
    heartbeat: float = 30.0
    #: Warn (once per link) when a GC timestamp is this far from the local clock.
    clock_skew_warning: float = 2.0
    media_types: tuple[str, ...] = ("Voice",)
    #: Driver parameters from the Siebel DEF, the defaults a request's values override.
    driver_defaults: tuple[tuple[str, str], ...] = ()
    #: How long a driver whose SCS connection dropped waits for ResumeDriverInstance
    #: before its services are released (0: released at once, as protocol v1).
    resume_grace: float = 60.0
    #: Driver instances one connection / the gateway may hold, services per driver
    #: (core/limits.py).
    max_drivers_per_connection: int = 32
    max_drivers: int = 10_000
    max_services_per_driver: int = 20_000


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
    #: The ResumeDriverInstance token ("" when the shell gave no entropy: no resume).
    session: str = ""


class ScsSide:
    """The gateway's state (drivers, services, agents, GC availability) and its SCS side:
    one typed handler per request class, each returning the ``Result`` and the service it
    reached.  ``gateway.GatewayCore`` adds the broker side."""

    def __init__(self, codec: GcCodec, catalog: Catalog, options: GatewayOptions | None = None,
                 *, encrypt: Callable[[str], str] | None = None) -> None:
        self.codec, self.catalog = codec, catalog
        self.options = options or GatewayOptions()
        self._encrypt = encrypt
        self.drivers: dict[str, DriverInstance] = {}
        self.services: dict[str, AgentSession] = {}
        self.agents: dict[str, AgentSession] = {}
        #: Services that entered AWAIT_SERVICE (a LogIn's Hello) since the last GC system
        #: event: the only ones an IN_SERVICE answer is for (gateway._system).
        self._awaiting: dict[str, AgentSession] = {}
        self.link_up = False
        self.gc_in_service = False
        self._counter = 0
        self._entropy = ""
        self._requests: Mapping[type[Any], Callable[[int, Any, float, list[Effect]], tuple[
                Result, AgentSession | tuple[AgentSession, ...] | None]]] = {
            APIVersion: self._api_version,
            CreateISCDriverInstance: self._create_driver,
            RequestCommandEventList: self._command_event_list,
            RequestService: self._request_service,
            InvokeCommand: self._of_service(self._invoke_command),
            InvokeCommandEx: self._of_service(self._invoke_command_ex),
            NotifyEventHandlingFinished: self._of_service(self._notify_finished),
            AcceptWorkItem: self._of_service(self._work_item),
            ReleaseWorkItem: self._of_service(self._work_item),
            SuspendWorkItem: self._of_service(self._work_item),
            ResumeWorkItem: self._of_service(self._work_item),
            HandleQueuedWorkItem: self._of_service(self._queued_work_item),
            ReleaseISCServiceInstance: self._of_service(self._release_service_request),
            ReleaseISCDriverInstance: self._release_driver_request,
            ResumeDriverInstance: self._resume_driver,
        }

    def snapshot(self) -> CoreView:
        """A frozen view of the link, the GC and every agent service (for a monitor)."""
        return core_view(self.link_up, self.gc_in_service, len(self.drivers),
                         self.services.values())

    # -- context for sessions ----------------------------------------------------------------

    @property
    def gc_available(self) -> bool:
        return self.link_up and self.gc_in_service

    def agent_owner(self, agent_id: str) -> AgentSession | None:
        return self.agents.get(agent_id)

    def claim_agent(self, agent_id: str, session: object) -> bool:
        assert isinstance(session, AgentSession)
        owner = self.agents.setdefault(agent_id, session)
        return owner is session

    def codec_for(self, agent_id: str) -> GcCodec:
        """The codec (GC queue, client destination) of the GC serving agent ``agent_id``
        (one GC: always the same; ``duplex.DuplexGateway`` decides among two)."""
        return self.codec

    def release_agent(self, agent_id: str, session: object) -> None:
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
                if s.phase is Phase.AWAIT_SERVICE:
                    self._awaiting[s.handle] = s
        return out

    @staticmethod
    def _log(out: list[Effect], level: str, text: str, **fields: Any) -> None:
        out.append(Log(level, text, fields))

    # -- SCS side ----------------------------------------------------------------------------

    def request(self, connection: int, item: Request | WireError, now: float, *,
                entropy: str = "") -> list[Effect]:
        """One SCS request.  ``entropy`` is the shell's fresh randomness (a
        ``CreateISCDriverInstance`` makes it the driver's session token; none: no token)."""
        self._entropy = entropy
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
        return self._reached(out, () if session is None else
                             (session,) if isinstance(session, AgentSession) else session)

    def _new_handle(self, kind: str) -> str:
        self._counter += 1
        return f"{kind}-{self._counter}"

    def _service(self, connection: int, handle: str) -> AgentSession | None:
        s = self.services.get(handle)
        return s if s is not None and s.connection == connection else None

    def _of_service(self, handler: Callable[[AgentSession, Any, float, list[Effect]],
                                            tuple[Result, AgentSession | None]]
                    ) -> Callable[[int, Any, float, list[Effect]],
                                  tuple[Result, AgentSession | None]]:
        """A request about one service (``m.service``): refused with INVALID_HANDLE unless
        that service exists on connection ``c``; else ``handler`` runs with it."""
        def run(c: int, m: Any, now: float, out: list[Effect]
                ) -> tuple[Result, AgentSession | None]:
            s = self._service(c, m.service)
            if s is None:
                return self._bad_handle("service", m.service)
            return handler(s, m, now, out)
        return run

    @staticmethod
    def _bad_handle(kind: str, handle: str) -> tuple[Result, None]:
        return Result(int(ScError.INVALID_HANDLE), f"{kind} handle {handle!r} is unknown on "
                      f"this connection (never created, or already released)"), None

    def _api_version(self, c: int, m: APIVersion, now: float, out: list[Effect]
                     ) -> tuple[Result, None]:
        return Result(extra={"version": API_VERSION, "protocol": PROTOCOL}), None

    def _create_driver(self, c: int, m: CreateISCDriverInstance, now: float,
                       out: list[Effect]) -> tuple[Result, None]:
        if m.media_type not in self.options.media_types:
            return Result(int(ScError.MEDIA_TYPE_NOT_SUPPORTED), f"media type "
                          f"{m.media_type!r} is not served; this gateway serves "
                          f"{', '.join(self.options.media_types)}"), None
        limit = driver_refusal(sum(d.connection == c for d in self.drivers.values()),
                               len(self.drivers),
                               per_connection=self.options.max_drivers_per_connection,
                               overall=self.options.max_drivers)
        if limit is not None:
            self._log(out, "warn", "CreateISCDriverInstance refused on connection "
                      "{connection}: {reason}", connection=c, reason=limit[1])
            return Result(*limit), None
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
        self.drivers[handle] = DriverInstance(handle, c, settings, session=self._entropy)
        self._log(out, "info", "driver {driver} created ({flavour}, {language})", driver=handle,
                  flavour=settings.flavour, language=settings.language)
        if not self._entropy:
            return Result(extra={"driver": handle}), None
        return Result(extra={"driver": handle, "session": self._entropy}), None

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
        limit = service_refusal(d.handle, len(d.services),
                                per_driver=self.options.max_services_per_driver)
        if limit is not None:
            self._log(out, "warn", "RequestService refused on connection {connection}: "
                      "{reason}", connection=c, reason=limit[1])
            return Result(*limit), None
        handle = self._new_handle("svc")
        session = AgentSession(handle, c, d.settings, service_values(m.params), self,
                               command_timeout=self.options.command_timeout)
        self.services[handle] = session
        d.services.append(handle)
        machine.service_created(session, now)
        return Result(extra={"service": handle}), session

    def _invoke_command(self, s: AgentSession, m: InvokeCommand, now: float, out: list[Effect]
                        ) -> tuple[Result, AgentSession | None]:
        code, error = machine.invoke(s, m.cmd_track_id, m.name, m.string_param, m.params, now)
        return Result(code, error), s

    def _invoke_command_ex(self, s: AgentSession, m: InvokeCommandEx, now: float, out: list[Effect]
                           ) -> tuple[Result, AgentSession | None]:
        if m.command_type != 1:
            return Result(int(ScError.CMD_NOT_SUPPORTED), f"command type {m.command_type} is "
                          "not supported (1 = make call is; 2 = send message is not, this is "
                          "a voice driver)"), s
        code, error = machine.invoke(s, m.cmd_track_id, "MakeCall", "", m.params, now)
        return Result(code, error), s

    def _notify_finished(self, s: AgentSession, m: NotifyEventHandlingFinished, now: float,
                         out: list[Effect]) -> tuple[Result, AgentSession | None]:
        code, error = machine.notify_finished(s, m.tracking_id)
        return Result(code, error), s

    _WORK_ITEM_COMMANDS: Mapping[type[Any], str] = MappingProxyType({
        AcceptWorkItem: "AnswerCall", ReleaseWorkItem: "ReleaseCall",
        SuspendWorkItem: "HoldCall", ResumeWorkItem: "RetrieveCall"})

    def _work_item(self, s: AgentSession,
                   m: AcceptWorkItem | ReleaseWorkItem | SuspendWorkItem | ResumeWorkItem,
                   now: float, out: list[Effect]) -> tuple[Result, AgentSession | None]:
        if m.tracking_id not in s.calls.calls:
            return Result(int(ScError.INVALID_ITEM_TRACKING_ID), f"no call has the tracking id "
                          f"{m.tracking_id!r}"), s
        code, error = machine.invoke(s, "0", self._WORK_ITEM_COMMANDS[type(m)], "",
                                     [("TrackingID", m.tracking_id)], now)
        return Result(code, error), s

    def _queued_work_item(self, s: AgentSession, m: HandleQueuedWorkItem, now: float,
                          out: list[Effect]) -> tuple[Result, AgentSession | None]:
        return Result(int(ScError.CMD_NOT_SUPPORTED), "queued work items (Universal Queuing) "
                      "are not handled: calls are routed by the contact centre, not by "
                      "Siebel"), s

    def _release_service_request(self, s: AgentSession, m: ReleaseISCServiceInstance, now: float,
                                 out: list[Effect]) -> tuple[Result, None]:
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

    def _resume_driver(self, c: int, m: ResumeDriverInstance, now: float, out: list[Effect]
                       ) -> tuple[Result, tuple[AgentSession, ...] | None]:
        """Protocol v1.1: bind driver ``m.driver`` and its services to connection ``c``
        (from a dropped connection, or from one still open that SCS gave up on); each
        service then resyncs (``reattach.resync_service``)."""
        d = self.drivers.get(m.driver)
        if d is None or not tokens_match(m.session, d.session):
            self._log(out, "warn", "ResumeDriverInstance refused for driver {driver}",
                      driver=m.driver)
            return Result(int(ScError.INVALID_HANDLE), f"driver {m.driver!r} cannot be resumed "
                          "with that session token: the token is wrong, or the driver was "
                          "released (its grace period expired or it was never created); "
                          "create a new driver instance"), None
        was, d.connection = d.connection, c
        out.append(CancelTimer(grace_key(d.handle)))
        reached = tuple(s for h in d.services if (s := self.services.get(h)) is not None)
        for s in reached:
            s.connection = c
            machine.resumed(s, now)
        self._log(out, "info", "driver {driver} resumed on connection {connection} "
                  "({count} services)", driver=d.handle, connection=c, count=len(reached),
                  previous=was)
        return Result(extra={"services": [{"service": s.handle, "agentId": s.agent_id}
                                          for s in reached]}), reached

    def grace_expired(self, driver: str, now: float) -> list[Effect]:
        """No ResumeDriverInstance within the grace: released as at a connection loss."""
        out: list[Effect] = []
        d = self.drivers.get(driver)
        if d is not None and d.connection == DETACHED:
            self._log(out, "warn", "driver {driver} not resumed within {seconds:g} s; "
                      "releasing its services", driver=driver,
                      seconds=self.options.resume_grace)
            self._release_driver(d, now, out)
        return out

    def connection_lost(self, connection: int, now: float) -> list[Effect]:
        """The SCS side went away: a driver with a session token waits ``resume_grace``
        seconds for ``ResumeDriverInstance`` (its services go on, unbound); others are
        released at once (force logout as configured), as the grace timer releases later."""
        out: list[Effect] = []
        grace = self.options.resume_grace
        for d in [d for d in self.drivers.values() if d.connection == connection]:
            if d.session and grace > 0:
                d.connection = DETACHED
                for h in d.services:
                    if (s := self.services.get(h)) is not None:
                        s.connection = DETACHED
                out.append(StartTimer(grace_key(d.handle), grace))
                self._log(out, "info", "driver {driver} lost its SCS connection; kept "
                          "{seconds:g} s for ResumeDriverInstance", driver=d.handle,
                          seconds=grace)
                continue
            self._release_driver(d, now, out)
        for s in [s for s in self.services.values() if s.connection == connection]:
            self._release_service(s, now, out)
        return out

