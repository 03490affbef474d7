"""One agent service's data as a value: ``SessionState`` (an immutable named tuple; every
collection in it immutable: tuples, read-only mappings, the ``CallBook``, frozen
dataclasses) and what the rules read beside it, ``Env`` (the service's fixed identity and
configuration, and read-only questions to the gateway).

A rule is a pure function ``(SessionState, input, Env) -> Outcome`` (``step.py``): it never
changes the state it is given (it cannot: the value is immutable) nor the session or the
gateway; it returns the new state and the effects.  ``machine._apply`` stores the state and
hands the effects on, in one place.

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
import hmac
import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, NamedTuple, Protocol, TypeVar

from ..errors import ScsFaultError
from ..gc.codec import GcCodec
from ..gc.states import AgentState
from .calls import NO_CALLS, CallBook
from .driver import DriverSettings
from .scs_wire import ScError
from .texts import Catalog

__all__ = ["EMPTY", "REPLIES", "Env", "Held", "Pending", "Phase", "Refused", "Secret",
           "SessionContext", "SessionState", "iso_time", "with_item", "without"]

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

K = TypeVar("K")
V = TypeVar("V")

#: The empty immutable mapping every new state shares.
EMPTY: Mapping[Any, Any] = MappingProxyType({})


def with_item(m: Mapping[K, V], key: K, value: V) -> Mapping[K, V]:
    """A new immutable mapping: ``m`` with ``key`` set."""
    return MappingProxyType({**m, key: value})


def without(m: Mapping[K, V], key: K) -> Mapping[K, V]:
    """A new immutable mapping: ``m`` without ``key`` (``m`` itself when it has none)."""
    if key not in m:
        return m
    return MappingProxyType({k: v for k, v in m.items() if k != key})


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


class Secret:
    """A password kept for resynchronisation; never shown.  Immutable; equal to another
    holding the same text (compared in constant time)."""

    __slots__ = ("_value",)
    _value: str

    def __init__(self, value: str) -> None:
        object.__setattr__(self, "_value", value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Secret is immutable")

    def reveal(self) -> str:
        return self._value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and hmac.compare_digest(self._value.encode(),
                                                                  other._value.encode())

    def __hash__(self) -> int:
        return hash(Secret)

    def __repr__(self) -> str:
        return "Secret(***)"


@dataclass(frozen=True, slots=True)
class Pending:
    """A GC command sent and awaiting its answer (``REPLIES``)."""

    seq: int
    gc_command: str
    cmd_track_id: str
    command: str
    expects: frozenset[str]


@dataclass(frozen=True, slots=True)
class Held:
    """A device command that arrived while a resync waits for the GC (core/resync.py)."""

    seq: int
    cmd_track_id: str
    command: str
    string_param: str
    params: tuple[tuple[str, str], ...]


class SessionState(NamedTuple):
    """Everything about one agent service that an input may change.  An immutable named
    tuple rather than a frozen dataclass: a rule makes several new states per input, and
    ``evolve`` costs a tenth of ``dataclasses.replace`` (docs/performance.md)."""

    phase: Phase = Phase.LOGGED_OUT
    agent_id: str = ""
    extension: str = ""
    full_name: str = ""
    state: AgentState = AgentState.LOGOUT
    pending_state: AgentState = AgentState.NONE
    reason_code: str = ""
    reason_label: str = ""
    calls: CallBook = NO_CALLS
    #: Reason lists the GC sent, by category: ((code, label), ...).
    reasons: Mapping[str, tuple[tuple[str, str], ...]] = EMPTY
    #: GC commands awaiting their answer, in the order sent.
    pending: tuple[Pending, ...] = ()
    #: The command the GC event being handled answers (set by ``step.resolve``), so a rule
    #: can tell what an event means when the GC leaves our fields out.
    answered: Pending | None = None
    #: GC command -> (cmdTrackId, device command) of commands nothing answers.
    untracked: Mapping[str, tuple[str, str]] = EMPTY
    #: Tracking id -> event name of events awaiting NotifyEventHandlingFinished.
    notify_waiting: Mapping[str, str] = EMPTY
    wrap_item: str = ""
    login_cmd: str = "0"
    credential: Secret | None = None
    resyncing: bool = False
    held: tuple[Held, ...] = ()
    #: A restarted gateway asking the GC for this agent (core/recover.py).
    recovering: bool = False
    held_seq: int = 0
    #: Number of the last GC command sent (its timer and publish reference).
    seq: int = 0
    #: The toolbar last sent (None: send it at the end of the next input).
    last_cache: tuple[tuple[str, int], ...] | None = None
    last_object: tuple[str, ...] | None = None
    released: bool = False

    def evolve(self, **changes: Any) -> SessionState:
        """A copy with ``changes`` (what ``_replace`` does, in half the time for the few
        fields a rule changes of many; an unknown name is a ``KeyError``)."""
        values = list(self)
        for name, value in changes.items():
            values[_INDEX[name]] = value
        return SessionState._make(values)


_INDEX = {name: i for i, name in enumerate(SessionState._fields)}


class SessionContext(Protocol):
    """What a session asks the gateway (``scs_side.ScsSide`` is one)."""

    codec: GcCodec
    catalog: Catalog

    @property
    def gc_available(self) -> bool: ...
    def agent_owner(self, agent_id: str) -> object | None: ...
    def claim_agent(self, agent_id: str, session: object) -> bool: ...
    def release_agent(self, agent_id: str, session: object) -> None: ...
    def codec_for(self, agent_id: str) -> GcCodec: ...
    def encrypt(self, password: str) -> str: ...


@dataclass(frozen=True, slots=True)
class Env:
    """What a rule reads beside the state and never changes: the service's handle, driver
    settings, RequestService parameters and command timeout, and read-only questions to
    the gateway (GC availability, which codec, whether an agent id is free)."""

    handle: str
    driver: DriverSettings
    service_params: Mapping[str, str]
    command_timeout: float
    ctx: SessionContext
    #: The session this environment belongs to (who owns an agent id, for ``agent_free``).
    session: object

    def t(self, key: str, **values: object) -> str:
        return self.ctx.catalog.text(self.driver.language, key, **values)

    def has_text(self, key: str) -> bool:
        return bool(self.ctx.catalog.lookup(self.driver.language, key))

    @property
    def gc_available(self) -> bool:
        return self.ctx.gc_available

    @property
    def codec(self) -> GcCodec:
        return self.ctx.codec

    def codec_for(self, agent_id: str) -> GcCodec:
        return self.ctx.codec_for(agent_id)

    def agent_free(self, agent_id: str) -> bool:
        """Whether no other service has signed ``agent_id`` in."""
        owner = self.ctx.agent_owner(agent_id)
        return owner is None or owner is self.session

    def encrypt(self, password: str) -> str:
        return self.ctx.encrypt(password)


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
