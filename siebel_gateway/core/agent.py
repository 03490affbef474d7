"""One agent service (one ``RequestService``): its state and the outputs it builds.

This module is the bottom of the agent layer: the session's data (phase, agent state,
calls, commands awaiting the GC's answer) and the helpers every rule uses to produce
output (callbacks, GC commands, timers, log lines).  The rules themselves are in
``commands.py`` (device commands), ``events.py`` (GC events) and ``lifecycle.py`` (link,
timers, release); ``machine.py`` holds the table that says which rule runs for which
(phase, input) and refuses everything else.  Nothing here imports those modules.

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
"""

from __future__ import annotations

import datetime
import enum
import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from ..errors import ScsFaultError
from ..gc.codec import GcCodec, GcEncodeError
from ..gc.states import ON_CALL_STATES, AgentState, CallState
from .broker_messages import BrokerMessage
from .calls import Call, CallBook
from .driver import DriverSettings
from .effects import CancelTimer, Effect, Key, Log, Publish, StartTimer, ToScs
from .scs_messages import (
    BeginBatch,
    CacheCommandInformation,
    Callback,
    EndBatch,
    HandleError,
    HandleEvent,
    UpdateObjectInformation,
)
from .scs_wire import ScError, callback_message
from .texts import Catalog
from .toolbar import Snapshot, command_statuses
from .vocabulary import AGENT_EVENT, DESCRIPTIONS, NOTIFY_EVENTS

__all__ = ["AgentSession", "Held", "Pending", "Phase", "Refused", "Secret", "SessionContext",
           "iso_time"]

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


class Phase(enum.Enum):
    """Where the service is in signing its agent in (the agent state proper is the GC's
    ``State``).  ``machine.TRANSITIONS`` lists which inputs each phase takes::

        LOGGED_OUT --LogIn--> AWAIT_SERVICE --IN_SERVICE--> LOGGING_IN --State--> LOGGED_IN
            ^                      |  OUT_OF_SERVICE / Error / link lost  |            |
            +----------------------+-------------------------------------+  State LOGOUT
    """

    #: No agent signed in through this service.
    LOGGED_OUT = "logged out"
    #: Hello sent, waiting for the GC's IN_SERVICE.
    AWAIT_SERVICE = "awaiting service"
    #: Connect + Login sent, waiting for the first State.
    LOGGING_IN = "logging in"
    #: Signed in; the GC's State events drive the agent state.
    LOGGED_IN = "logged in"


class Refused(ScsFaultError):  # noqa: N818 - a refusal the agent reads
    """A device command that cannot run now: its SCAPI code and the text key for the agent."""

    def __init__(self, code: ScError, key: str, **values: object) -> None:
        super().__init__(key)
        self.code, self.key, self.values = code, key, values


class SessionContext(Protocol):
    codec: GcCodec
    catalog: Catalog

    @property
    def command_timeout(self) -> float: ...
    @property
    def gc_available(self) -> bool: ...
    def claim_agent(self, agent_id: str, session: AgentSession) -> bool: ...
    def release_agent(self, agent_id: str, session: AgentSession) -> None: ...
    def codec_for(self, session: AgentSession) -> GcCodec: ...
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


@dataclass
class Held:
    """A device command that arrived while a resync waits for the GC (core/resync.py)."""

    seq: int
    cmd_track_id: str
    command: str
    string_param: str
    params: tuple[tuple[str, str], ...]


#: The order of ``AgentSession._situation``'s tuple.
_SITUATION = ("gc_available", "logged_in", "logging_in", "ucce", "state", "pending",
              "ringing", "active", "held", "dialing", "calls", "consult_up", "consult_placed",
              "not_ready_reason_required", "logout_reason_required", "regular_active")


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


def iso_time(now: float) -> str:
    """``2025-11-21T04:40:00.123Z`` (UTC, milliseconds)."""
    frac, whole = math.modf(now)  # rounded as datetime.fromtimestamp rounds
    us = round(frac * 1e6)
    if us >= 1_000_000:
        whole, us = whole + 1, us - 1_000_000
    elif us < 0:
        whole, us = whole - 1, us + 1_000_000
    return f"{_iso_second(int(whole))}.{us // 1000:03d}Z"


@functools.lru_cache(maxsize=8)
def _iso_second(second: int) -> str:
    return datetime.datetime.fromtimestamp(second, tz=datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S")


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
        self.state = AgentState.LOGOUT
        self.pending_state = AgentState.NONE
        self.reason_code = ""
        self.reason_label = ""
        self.calls = CallBook()
        self.reasons: dict[str, tuple[tuple[str, str], ...]] = {}
        self.pending: list[Pending] = []
        #: The command the GC event being handled answers (set by ``resolve``), so a rule
        #: can tell what an event means when the GC leaves our fields out.
        self.answered: Pending | None = None
        self.untracked: dict[str, tuple[str, str]] = {}  # gc command -> (cmd id, command)
        self.notify_waiting: dict[str, str] = {}  # tracking id -> event name
        self.wrap_item = ""
        self.login_cmd = "0"
        self.credential: Secret | None = None
        self.resyncing = False
        self.held: list[Held] = []
        #: A restarted gateway asking the GC for this agent (core/recover.py).
        self.recovering = False
        self.held_seq = 0
        self._seq = 0
        self._callbacks: list[dict[str, Any]] = []
        self._last_cache: tuple[tuple[str, int], ...] | None = None
        self._last_object: tuple[str, ...] | None = None
        self.released = False

    # -- output helpers -------------------------------------------------------------------

    def t(self, key: str, **values: object) -> str:
        return self.ctx.catalog.text(self.driver.language, key, **values)

    def cb(self, callback: Callback) -> None:
        """Queue a callback for the end of this input (none once the service is released)."""
        if not self.released:
            self._callbacks.append(callback_message(callback))

    def log(self, level: str, text: str, **fields: Any) -> None:
        self.out.append(Log(level, text, {"service": self.handle, "agent": self.agent_id,
                                          **fields}))

    def flush(self) -> None:
        """End of one input: toolbar refresh, then the callbacks (batched when several)."""
        if self.released:
            self._callbacks.clear()
            return
        self.refresh_toolbar()
        batch = self._callbacks
        self._callbacks = []
        if len(batch) > 1:
            batch = [callback_message(BeginBatch(self.handle)), *batch,
                     callback_message(EndBatch(self.handle))]
        self.out.extend(ToScs(self.connection, m) for m in batch)

    def forget_toolbar(self) -> None:
        """The next flush sends the toolbar and object information even if unchanged
        (a new SCS connection has not seen them)."""
        self._last_cache = self._last_object = None

    def take(self) -> list[Effect]:
        self.flush()
        out, self.out = self.out, []
        return out

    def _situation(self) -> tuple[Any, ...]:
        """The agent's situation as the toolbar rules see it, as a plain tuple in the
        order of ``_SITUATION`` (cheap to hash: it is looked up after every input)."""
        ringing = active = held = dialing = 0
        consult_up = consult_placed = regular_active = False
        for x in self.calls.calls.values():
            state = x.state
            if state is CallState.ALERTING:
                ringing += 1
            elif state is CallState.ACTIVE:
                active += 1
                regular_active = regular_active or not (x.placed and x.call_type == "CONSULT")
            elif state is CallState.HELD:
                held += 1
            elif state is CallState.INITIATING or state is CallState.INITIATED:
                dialing += 1
            if x.placed and x.call_type == "CONSULT":
                consult_placed = True
                consult_up = consult_up or state is CallState.ACTIVE
        phase, driver = self.phase, self.driver
        return (self.ctx.gc_available, phase is Phase.LOGGED_IN,
                phase is Phase.AWAIT_SERVICE or phase is Phase.LOGGING_IN, driver.ucce,
                self.state, self.pending_state, ringing, active, held, dialing,
                len(self.calls.calls), consult_up, consult_placed,
                driver.not_ready_reason_required, driver.logout_reason_required,
                regular_active)

    def refresh_toolbar(self) -> None:
        statuses = _statuses(self._situation())
        # Usually the very same (cached) object; equal after an eviction from the cache.
        if statuses is not self._last_cache and statuses != self._last_cache:
            self._last_cache = statuses
            commands, descriptions, flags = _toolbar_lists(statuses)
            self._callbacks.append(callback_message(CacheCommandInformation(
                self.handle, commands, descriptions, flags)))
        logged = self.phase is Phase.LOGGED_IN
        busy = logged and (bool(self.calls.calls) or self.state in ON_CALL_STATES)
        obj = (self.agent_id, "TRUE" if logged else "FALSE",
               "TRUE" if logged and self.state in (AgentState.NOT_READY, AgentState.WORK)
               else "FALSE",
               "TRUE" if busy else "FALSE")
        if obj != self._last_object and (logged or self._last_object is not None):
            self._last_object = obj
            self._callbacks.append(callback_message(UpdateObjectInformation(
                self.handle, "", self.extension,
                [["2", obj[0]], ["13", obj[1]], ["4", obj[2]], ["5", obj[3]]])))

    # -- GC sends ----------------------------------------------------------------------------

    def encode(self, gc_command: str, values: Mapping[str, str], now: float,
               command: str) -> BrokerMessage:
        try:
            return self.ctx.codec_for(self).encode(
                gc_command, {"AgentId": self.agent_id, **values}, now_ms=int(now * 1000))
        except GcEncodeError as exc:
            raise Refused(ScError.ERROR, "error.bad_value", Command=command,
                          Param=exc.field or "?") from None

    def send(self, messages: list[tuple[str, BrokerMessage]], cmd_track_id: str,
             command: str) -> None:
        """Publish already-encoded commands in order and remember what answers them."""
        for gc_command, message in messages:
            self._seq += 1
            expects = REPLIES.get(gc_command)
            ref = self.command_key(self._seq)
            if expects is None:
                self.untracked[gc_command] = (cmd_track_id, command)
            else:
                self.pending.append(Pending(self._seq, gc_command, cmd_track_id, command,
                                            expects))
                self.out.append(StartTimer(ref, self.ctx.command_timeout))
            self.out.append(Publish(message, ref))

    def resolve(self, event: str) -> None:
        self.answered = None
        for p in self.pending:
            if event in p.expects:
                self.pending.remove(p)
                self.out.append(CancelTimer(self.command_key(p.seq)))
                self.answered = p
                return

    def command_key(self, seq: int) -> Key:
        """Timer and publish reference of this service's GC command number ``seq``."""
        return Key(self.handle, "cmd", str(seq))

    def notify_key(self, tracking_id: str) -> Key:
        """Timer of an event awaiting NotifyEventHandlingFinished."""
        return Key(self.handle, "notify", tracking_id)

    def report(self, p: Pending, text: str) -> Phase | None:
        """Tell the agent command ``p`` failed; a failed sign-in returns the phase to enter
        (rules never assign the phase: the machine does, with what they return)."""
        self.out.append(CancelTimer(self.command_key(p.seq)))
        self.cb(HandleError(self.handle, cmd_track_id=p.cmd_track_id, error=text))
        if p.gc_command in ("Hello", "Login") and self.phase in (Phase.AWAIT_SERVICE,
                                                                 Phase.LOGGING_IN):
            return self.login_failed()
        return None

    def connect_and_login(self, now: float, cmd_track_id: str) -> None:
        assert self.credential is not None
        values = {"Password": self.credential.reveal(), "Extension": self.extension}
        messages = [("Connect", self.encode("Connect", values, now, "LogIn")),
                    ("Login", self.encode("Login", values, now, "LogIn"))]
        self.send(messages, cmd_track_id, "LogIn")

    def login_failed(self) -> Phase | None:
        """A sign-in failed: LOGGED_OUT (agent id freed) -- unless it was a resync, which
        keeps the phase it has."""
        resyncing, self.resyncing = self.resyncing, False
        if resyncing:
            return None
        if self.agent_id:
            self.ctx.release_agent(self.agent_id, self)
        self.credential = None
        return Phase.LOGGED_OUT

    # -- fields for HandleEvent ---------------------------------------------------------------

    def base_fields(self, now: float) -> list[list[str]]:
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
            self.out.append(StartTimer(self.notify_key(tracking_id),
                                       self.driver.notify_timeout))
        self.cb(HandleEvent(self.handle, name=name, fields=fields, notify_when_done=notify,
                tracking_id=tracking_id))

    def agent_event(self, now: float) -> None:
        name = AGENT_EVENT.get(self.state)
        if name is not None:
            self.event(name, self.agent_fields(now))

    def find_call(self, tracking_id: str) -> Call:
        call = self.calls.calls.get(tracking_id)
        if call is None:
            raise Refused(ScError.INVALID_ITEM_TRACKING_ID, "error.unknown_call",
                          TrackingID=tracking_id)
        return call
