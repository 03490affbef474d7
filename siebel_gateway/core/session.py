"""One agent service (one ``RequestService``): the agent's state machine, sans-IO.

Inputs: device commands from SCS (``invoke``), work-item requests, GC events for this
agent (``gc_event``), GC availability changes, timer expiries, failed publishes.  Outputs
are appended to ``out`` (``ToScs`` callbacks, ``Publish``, timers, ``Log``) and taken by
the gateway core after each input.  ``now`` (epoch seconds) is passed with every input.

Theory of operation:

Rule 1 -- the GC is the authority.  A command is checked against what the gateway knows
(state, calls, reason lists) so the agent gets an immediate, readable refusal, then sent;
the state changes only when the GC's events say so.
Rule 2 -- every command sent is answered.  Each GC command that has a reply is kept in
``pending`` until an event of the expected kind arrives; an Error event is matched to the
pending command by name and reported with that command's ``cmdTrackId``; a command still
unanswered after the command timeout, or lost with the link, is reported too.
Rule 3 -- the toolbar never lies.  After each input, a ``CacheCommandInformation`` is sent
when the possible commands differ from the last one sent, and an
``UpdateObjectInformation`` when logged-on / not-ready / busy differ.

Phases of the service (the agent state proper is the GC's ``State``):

    LOGGED_OUT --LogIn--> AWAIT_SERVICE --IN_SERVICE--> LOGGING_IN --State--> LOGGED_IN
        ^                      |  OUT_OF_SERVICE / Error / link lost  |            |
        +----------------------+-------------------------------------+  State LOGOUT
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from ..gc.codec import GcCodec, GcEncodeError, GcEvent
from .calls import Call, CallBook, Change
from .driver import DriverSettings
from .effects import CancelTimer, Effect, Log, Publish, StartTimer, ToScs
from .scs_wire import ScError, notification_message
from .texts import Catalog
from .toolbar import ON_CALL_STATES, Snapshot, command_statuses
from .vocabulary import AGENT_EVENT, DESCRIPTIONS, NOTIFY_EVENTS

__all__ = ["AgentSession", "Phase", "Refused", "SessionContext"]

CALL_EVENTS = frozenset({"NewInboundCall", "InboundCall", "ConsultCall", "DialogStatus"})
STATE_REPLY = frozenset({"State"})
#: What answers each GC command (None: nothing does; only an Error can follow).
REPLIES: Mapping[str, frozenset[str] | None] = {
    "Hello": frozenset({"IN_SERVICE", "OUT_OF_SERVICE"}), "Connect": None,
    "Login": STATE_REPLY, "Logout": STATE_REPLY, "MakeReady": STATE_REPLY,
    "MakeNotReady": STATE_REPLY, "MakeNotReadyWithReason": STATE_REPLY,
    "MakeWorkReady": STATE_REPLY, "GetState": STATE_REPLY, "ForceLogout": STATE_REPLY,
    "GetNotReadyReasons": frozenset({"ReasonCodes"}),
    "GetLogoutReasons": frozenset({"ReasonCodes"}),
    "GetWrapUpReasons": frozenset({"ReasonCodes"}),
    "MakeCall": CALL_EVENTS, "AnswerCall": CALL_EVENTS, "HoldCall": CALL_EVENTS,
    "RetrieveCall": CALL_EVENTS, "ReleaseCall": CALL_EVENTS, "ConsultCall": CALL_EVENTS,
    "TransferCall": CALL_EVENTS, "ConferenceCall": CALL_EVENTS,
    "SingleStepTransfer": CALL_EVENTS, "SendDTMF": None,
    "UpdateCallData": frozenset({"DialogStatus"}), "GetDialogState": frozenset({"DialogStatus"}),
}
GC_COMMAND_NAMES = {"force_logout": "ForceLogout"}


class Phase(enum.Enum):
    #: No agent signed in through this service.
    LOGGED_OUT = "logged out"
    #: Hello sent, waiting for the GC's IN_SERVICE.
    AWAIT_SERVICE = "awaiting service"
    #: Connect + Login sent, waiting for the first State.
    LOGGING_IN = "logging in"
    #: Signed in; the GC's State events drive the agent state.
    LOGGED_IN = "logged in"


class Refused(Exception):  # noqa: N818 - a refusal the agent reads, not a fault
    def __init__(self, code: ScError, key: str, **values: object) -> None:
        super().__init__(key)
        self.code, self.key, self.values = code, key, values


class SessionContext(Protocol):
    codec: GcCodec
    catalog: Catalog
    command_timeout: float

    @property
    def gc_available(self) -> bool: ...
    def claim_agent(self, agent_id: str, session: AgentSession) -> bool: ...
    def release_agent(self, agent_id: str, session: AgentSession) -> None: ...
    def encrypt(self, password: str) -> str: ...


class Secret:
    """A password kept for resynchronisation; never shown."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret(***)"


@dataclass
class Pending:
    seq: int
    gc_command: str
    cmd_track_id: str
    command: str
    expects: frozenset[str]


#: The order of ``AgentSession._situation``'s tuple.
_SITUATION = ("gc_available", "logged_in", "logging_in", "ucce", "state", "pending",
              "ringing", "active", "held", "dialing", "calls", "consult_up", "consult_placed",
              "not_ready_reason_required", "logout_reason_required")


@functools.lru_cache(maxsize=4096)
def _statuses(situation: tuple[Any, ...]) -> tuple[tuple[str, int], ...]:
    """``command_statuses`` by the situation tuple (hashed in C, unlike the dataclass)."""
    return command_statuses(Snapshot(**dict(zip(_SITUATION, situation, strict=True))))


@functools.lru_cache(maxsize=1024)
def _toolbar_lists(statuses: tuple[tuple[str, int], ...]
                   ) -> tuple[list[str], list[str], list[int]]:
    """The three parallel lists of ``CacheCommandInformation`` (shared, never mutated)."""
    return ([n for n, _ in statuses], [DESCRIPTIONS[n] for n, _ in statuses],
            [f for _, f in statuses])


def _params(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in pairs:
        out.setdefault(k.casefold(), v)
    return out


class AgentSession:
    def __init__(self, handle: str, connection: int, driver: DriverSettings,
                 service_params: Mapping[str, str], ctx: SessionContext) -> None:
        self.handle, self.connection, self.driver, self.ctx = handle, connection, driver, ctx
        self.service_params = service_params
        self.out: list[Effect] = []
        self.phase = Phase.LOGGED_OUT
        self.agent_id = ""
        self.extension = ""
        self.full_name = ""
        self.state = "LOGOUT"
        self.pending_state = ""
        self.reason_code = ""
        self.reason_label = ""
        self.calls = CallBook()
        self.reasons: dict[str, tuple[tuple[str, str], ...]] = {}
        self.pending: list[Pending] = []
        self.untracked: dict[str, tuple[str, str]] = {}  # gc command -> (cmd id, command)
        self.notify_waiting: dict[str, str] = {}  # tracking id -> event name
        self.wrap_item = ""
        self.login_cmd = "0"
        self.credential: Secret | None = None
        self.resyncing = False
        self._seq = 0
        self._callbacks: list[dict[str, Any]] = []
        self._last_cache: tuple[tuple[str, int], ...] | None = None
        self._last_object: tuple[str, ...] | None = None
        self.released = False

    # -- output helpers -------------------------------------------------------------------

    def t(self, key: str, **values: object) -> str:
        return self.ctx.catalog.text(self.driver.language, key, **values)

    def cb(self, method: str, **params: Any) -> None:
        if not self.released:
            self._callbacks.append(notification_message(method, {"service": self.handle,
                                                                 **params}))

    def log(self, level: str, text: str, **fields: Any) -> None:
        self.out.append(Log(level, text, {"service": self.handle, "agent": self.agent_id,
                                          **fields}))

    def flush(self) -> None:
        """End of one input: toolbar refresh, then the callbacks (batched when several)."""
        if self.released:
            self._callbacks.clear()
            return
        self._refresh_toolbar()
        batch = self._callbacks
        self._callbacks = []
        if len(batch) > 1:
            batch = [notification_message("BeginBatch", {"service": self.handle}), *batch,
                     notification_message("EndBatch", {"service": self.handle})]
        self.out.extend(ToScs(self.connection, m) for m in batch)

    def take(self) -> list[Effect]:
        self.flush()
        out, self.out = self.out, []
        return out

    def _situation(self) -> tuple[Any, ...]:
        """The agent's situation as the toolbar rules see it, as a plain tuple in the
        order of ``_SITUATION`` (cheap to hash: it is looked up after every input)."""
        ringing = active = held = dialing = 0
        consult_up = consult_placed = False
        for x in self.calls.calls.values():
            state = x.state
            if state == "ALERTING":
                ringing += 1
            elif state == "ACTIVE":
                active += 1
            elif state == "HELD":
                held += 1
            elif state in ("INITIATING", "INITIATED"):
                dialing += 1
            if x.placed and x.call_type == "CONSULT":
                consult_placed = True
                consult_up = consult_up or state == "ACTIVE"
        phase, driver = self.phase, self.driver
        return (self.ctx.gc_available, phase is Phase.LOGGED_IN,
                phase is Phase.AWAIT_SERVICE or phase is Phase.LOGGING_IN, driver.ucce,
                self.state, self.pending_state, ringing, active, held, dialing,
                len(self.calls.calls), consult_up, consult_placed,
                driver.not_ready_reason_required, driver.logout_reason_required)

    def _refresh_toolbar(self) -> None:
        statuses = _statuses(self._situation())
        # Usually the very same (cached) object; equal after an eviction from the cache.
        if statuses is not self._last_cache and statuses != self._last_cache:
            self._last_cache = statuses
            commands, descriptions, flags = _toolbar_lists(statuses)
            self._callbacks.append(notification_message("CacheCommandInformation", {
                "service": self.handle, "commands": commands, "descriptions": descriptions,
                "statuses": flags}))
        logged = self.phase is Phase.LOGGED_IN
        busy = logged and (bool(self.calls.calls) or self.state in ON_CALL_STATES)
        obj = (self.agent_id, "TRUE" if logged else "FALSE",
               "TRUE" if logged and self.state in ("NOT_READY", "WORK") else "FALSE",
               "TRUE" if busy else "FALSE")
        if obj != self._last_object and (logged or self._last_object is not None):
            self._last_object = obj
            self._callbacks.append(notification_message("UpdateObjectInformation", {
                "service": self.handle, "trackingId": "", "mediaTargetAddr": self.extension,
                "info": [["2", obj[0]], ["13", obj[1]], ["4", obj[2]], ["5", obj[3]]]}))

    # -- GC sends ----------------------------------------------------------------------------

    def encode(self, gc_command: str, values: Mapping[str, str], now: float,
               command: str) -> Any:
        try:
            return self.ctx.codec.encode(gc_command, {"AgentId": self.agent_id, **values},
                                         now_ms=int(now * 1000))
        except GcEncodeError as exc:
            text = str(exc)
            field = text.split(": ", 1)[1].split(" contains", 1)[0] if ": " in text else "?"
            raise Refused(ScError.ERROR, "error.bad_value", Command=command,
                          Param=field) from None

    def send(self, messages: list[tuple[str, Any]], cmd_track_id: str, command: str) -> None:
        """Publish already-encoded commands in order and remember what answers them."""
        for gc_command, message in messages:
            self._seq += 1
            expects = REPLIES.get(gc_command)
            ref = f"{self.handle}:cmd:{self._seq}"
            if expects is None:
                self.untracked[gc_command] = (cmd_track_id, command)
            else:
                self.pending.append(Pending(self._seq, gc_command, cmd_track_id, command,
                                            expects))
                self.out.append(StartTimer(ref, self.ctx.command_timeout))
            self.out.append(Publish(message, ref))

    def _resolve(self, event: str) -> None:
        for p in self.pending:
            if event in p.expects:
                self.pending.remove(p)
                self.out.append(CancelTimer(f"{self.handle}:cmd:{p.seq}"))
                return

    def _report(self, p: Pending, text: str) -> None:
        self.out.append(CancelTimer(f"{self.handle}:cmd:{p.seq}"))
        self.cb("HandleError", cmdTrackId=p.cmd_track_id, error=text)
        if p.gc_command in ("Hello", "Login") and self.phase in (Phase.AWAIT_SERVICE,
                                                                 Phase.LOGGING_IN):
            self._login_failed()

    # -- entry points from the gateway ---------------------------------------------------

    def started(self) -> None:
        self._refresh_toolbar()

    def invoke(self, cmd_track_id: str, name: str, string_param: str,
               params: Iterable[tuple[str, str]], now: float) -> tuple[int, str]:
        from .commands import Cmd, dispatch  # the command table lives beside the session

        try:
            dispatch(self, Cmd(cmd_track_id, name, string_param.strip(), _params(params), now))
        except Refused as exc:
            return int(exc.code), self.t(exc.key, **{"Command": name, **exc.values})
        return 0, ""

    def timer(self, key: str, now: float) -> None:
        _, kind, rest = key.split(":", 2)
        if kind == "cmd":
            p = next((p for p in self.pending if str(p.seq) == rest), None)
            if p is not None:
                self.pending.remove(p)
                self.log("warn", "GC did not answer {gc_command} within {seconds} s",
                         gc_command=p.gc_command, seconds=self.ctx.command_timeout)
                self._report(p, self.t("error.no_answer", Command=p.command,
                                       Seconds=f"{self.ctx.command_timeout:g}"))
        elif kind == "notify":
            event = self.notify_waiting.pop(rest, None)
            if event is not None:
                self.log("warn", "SCS did not finish handling {event} for {tracking_id} "
                         "within {seconds} s; the call goes on", event=event,
                         tracking_id=rest, seconds=self.driver.notify_timeout)

    def publish_failed(self, ref: str, why: str) -> None:
        seq = ref.rsplit(":", 1)[1]
        p = next((p for p in self.pending if str(p.seq) == seq), None)
        if p is not None:
            self.pending.remove(p)
            self.log("warn", "GC command {gc_command} was not sent: {why}",
                     gc_command=p.gc_command, why=why)
            self._report(p, self.t("error.network", Command=p.command))

    def notify_finished(self, tracking_id: str) -> tuple[int, str]:
        if self.notify_waiting.pop(tracking_id, None) is None:
            return (int(ScError.INVALID_ITEM_TRACKING_ID),
                    f"no event with tracking id {tracking_id!r} is waiting for "
                    "NotifyEventHandlingFinished")
        self.out.append(CancelTimer(f"{self.handle}:notify:{tracking_id}"))
        return 0, ""

    def release(self, now: float) -> None:
        """ReleaseISCServiceInstance: no callback after this."""
        if self.phase is Phase.LOGGED_IN and self.driver.force_logout_on_release \
                and self.ctx.gc_available:
            self.send([("ForceLogout", self.encode("ForceLogout", {}, now, "Release"))], "0",
                      "ReleaseISCServiceInstance")
        for p in self.pending:
            self.out.append(CancelTimer(f"{self.handle}:cmd:{p.seq}"))
        for tid in self.notify_waiting:
            self.out.append(CancelTimer(f"{self.handle}:notify:{tid}"))
        self.pending.clear()
        self.notify_waiting.clear()
        if self.agent_id:
            self.ctx.release_agent(self.agent_id, self)
        self.released = True
        self._callbacks.clear()

    # -- GC availability ---------------------------------------------------------------------

    def gc_lost(self, status_key: str, now: float) -> None:
        for p in list(self.pending):
            self.pending.remove(p)
            self._report(p, self.t("error.network", Command=p.command))
        self.cb("HandleEvent", name="EventLinkDisconnected", fields=self.base_fields(now),
                notifyWhenDone=False, trackingId="")
        self.cb("ShowStatusText", text=self.t(status_key))

    def gc_back(self, now: float) -> None:
        self.cb("HandleEvent", name="EventLinkConnected", fields=self.base_fields(now),
                notifyWhenDone=False, trackingId="")
        self.cb("ShowStatusText", text=self.t("status.link_up"))
        if self.phase is Phase.LOGGED_IN and self.credential is not None:
            self._resync(now)

    def _resync(self, now: float) -> None:
        """Work items can no longer be trusted: drop them, sign in again (Finesse keeps the
        state on a forced sign-in) and rebuild calls from the DialogStatus that follows."""
        self.cb("CleanAllWorkItem")
        self.calls.clear()
        for tid in list(self.notify_waiting):
            self.out.append(CancelTimer(f"{self.handle}:notify:{tid}"))
        self.notify_waiting.clear()
        self.resyncing = True
        self.phase = Phase.LOGGING_IN
        self._connect_and_login(now, "0")

    def _connect_and_login(self, now: float, cmd_track_id: str) -> None:
        assert self.credential is not None
        values = {"Password": self.credential.reveal(), "Extension": self.extension}
        messages = [("Connect", self.encode("Connect", values, now, "LogIn")),
                    ("Login", self.encode("Login", values, now, "LogIn"))]
        self.send(messages, cmd_track_id, "LogIn")

    def _login_failed(self) -> None:
        if self.agent_id and not self.resyncing:
            self.ctx.release_agent(self.agent_id, self)
        if not self.resyncing:
            self.phase, self.credential = Phase.LOGGED_OUT, None
        self.resyncing = False

    # -- GC events ---------------------------------------------------------------------------

    def gc_system(self, event: GcEvent, now: float) -> None:
        self._resolve(event.name)
        if self.phase is not Phase.AWAIT_SERVICE:
            return
        if event.name == "IN_SERVICE":
            self.phase = Phase.LOGGING_IN
            self._connect_and_login(now, self.login_cmd)
        else:
            self.cb("HandleError", cmdTrackId=self.login_cmd,
                    error=self.t("status.gc_out_of_service"))
            self._login_failed()

    def gc_event(self, event: GcEvent, now: float) -> None:
        from .events import handle_gc_event

        handle_gc_event(self, event, now)

    # -- fields for HandleEvent ---------------------------------------------------------------

    def base_fields(self, now: float) -> list[list[str]]:
        from .events import iso_time

        return [["AgentId", self.agent_id], ["Extension", self.extension],
                ["Timestamp", iso_time(now)]]

    def agent_fields(self, now: float) -> list[list[str]]:
        return [*self.base_fields(now), ["AgentState", self.state],
                ["PendingState", self.pending_state], ["ReasonCode", self.reason_code],
                ["ReasonLabel", self.reason_label]]

    def event(self, name: str, fields: list[list[str]], tracking_id: str = "") -> None:
        notify = self.driver.notify_when_done and name in NOTIFY_EVENTS and bool(tracking_id)
        if notify:
            self.notify_waiting[tracking_id] = name
            self.out.append(StartTimer(f"{self.handle}:notify:{tracking_id}",
                                       self.driver.notify_timeout))
        self.cb("HandleEvent", name=name, fields=fields, notifyWhenDone=notify,
                trackingId=tracking_id)

    def agent_event(self, now: float) -> None:
        name = AGENT_EVENT.get(self.state)
        if name is not None:
            self.event(name, self.agent_fields(now))

    def call_changed(self, change: Change, now: float) -> None:
        from .events import call_change

        call_change(self, change, now)

    def find_call(self, tracking_id: str) -> Call:
        call = self.calls.calls.get(tracking_id)
        if call is None:
            raise Refused(ScError.INVALID_ITEM_TRACKING_ID, "error.unknown_call",
                          TrackingID=tracking_id)
        return call
