"""The simulated Finesse's data: agents, dialogs and their parties, and the base of the
model (``ModelBase``): outputs, look-ups and the event each change produces.  The rules are
in ``agent_rules.py`` (sign-in, states, reasons, wrap-up) and ``dialogs.py`` (calls);
``model.py`` puts them together behind the entry points.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ..core.effects import CancelTimer, Key, StartTimer
from ..gc.codec import FieldValue, GcCodec
from ..gc.states import AgentState, CallState
from .data import Agent, SimulatorData

__all__ = ["MAX_CONFERENCE", "ON_CALL", "UCCE_DTMF", "UCCX_DTMF", "CancelTimer", "Dialog",
           "Emit", "Key", "ModelBase", "Output", "Party", "Refused", "SimAgent", "StartTimer"]

ON_CALL = (AgentState.TALKING, AgentState.HOLD)
_OWN_VIEW = (CallState.HELD, CallState.DROPPED, CallState.FAILED)
UCCE_DTMF = frozenset("0123456789*#ABCD")
UCCX_DTMF = frozenset("0123456789*#")
MAX_CONFERENCE = 4


@dataclass(frozen=True)
class Emit:
    destination: str  # client destination name (the topic is made by the runner)
    text: str


Output = Emit | StartTimer | CancelTimer


class Refused(Exception):  # noqa: N818 - a Finesse refusal, reported as an Error event
    """A request Finesse would refuse: becomes an Error event to the requester."""

    def __init__(self, error_type: str, message: str, code: str = "") -> None:
        super().__init__(message)
        self.error_type, self.message, self.code = error_type, message, code


@dataclass
class Party:
    address: str
    agent: str | None
    state: CallState
    gone: bool = False  # told about its own DROPPED: no further updates for it
    #: When the agent's leg started (placed, joined, or answered): DialogStatus StartTime.
    started: float = 0.0


@dataclass
class Dialog:
    id: str
    call_type: str
    from_addr: str
    to_addr: str
    ced: str = ""
    call_data: list[tuple[str, str]] = field(default_factory=list)
    state: CallState = CallState.ALERTING
    parties: list[Party] = field(default_factory=list)
    parent: str = ""
    secondary: str = ""
    wrap_up_reason: str = ""
    controller: str = ""
    dtmf: str = ""
    routed: bool = True
    consult_of: str = ""  # the agent who placed this consult leg

    def party(self, agent_id: str) -> Party | None:
        """The agent's newest leg: an agent who left and was conferenced back in has two."""
        return next((p for p in reversed(self.parties) if p.agent == agent_id), None)

    def live(self) -> list[Party]:
        return [p for p in self.parties if p.state not in (CallState.DROPPED, CallState.WRAP_UP)]


@dataclass
class SimAgent:
    cfg: Agent
    state: AgentState = AgentState.LOGOUT
    pending: AgentState = AgentState.NONE
    reason_code: int = -1
    reason_id: int = -1
    reason_label: str = ""
    extension: str = ""
    destination: str = ""
    state_time: float = 0.0
    before_call: AgentState = AgentState.NOT_READY
    pending_nr_set: bool = False
    wrap_ready: bool = False  # MakeWorkReady asked during the call
    wrap_dialogs: list[str] = field(default_factory=list)



class ModelBase:
    def __init__(self, data: SimulatorData, codec: GcCodec, *, flavour: str = "ucce",
                 seed: int = 0, now: Callable[[], float], ring_timeout: float = 15.0,
                 answer_delay: float = 1.0,
                 decrypt: Callable[[str], str] | None = None,
                 catalogue_only: bool = False) -> None:
        if flavour not in ("ucce", "uccx"):
            raise ValueError(f"flavour must be ucce or uccx, not {flavour!r}")
        self.data, self.codec, self.flavour, self.now = data, codec, flavour, now
        self.rng = random.Random(seed)
        self.ring_timeout, self.answer_delay = ring_timeout, answer_delay
        self.decrypt = decrypt
        #: Send only the public catalogue's event fields (a GC written from it alone).
        self.catalogue_only = catalogue_only
        self.agents = {a.id: SimAgent(a) for a in data.agents.values()}
        self.ready: dict[str, SimAgent] = {}
        self.dialogs: dict[str, Dialog] = {}
        #: agent id -> the dialogs that ever had a leg of that agent (``add_party``), so
        #: ``agent_dialogs`` does not scan every dialog of the run (dialogs are kept).
        self.dialogs_of: dict[str, dict[str, Dialog]] = {}
        self.next_dialog = 16_800_000 + (seed % 1000) * 1000
        self.in_service = True
        self.destinations: set[str] = set()
        self.out: list[Output] = []
        #: Faults armed by the control channel, consumed by the next matching request.
        self.fail_login: dict[str, tuple[str, str, str]] = {}
        self.fail_next: dict[str, tuple[str, str, str]] = {}

    # -- helpers ----------------------------------------------------------------------

    @property
    def ucce(self) -> bool:
        return self.flavour == "ucce"

    def iso(self, when: float | None = None) -> str:
        t = datetime.datetime.fromtimestamp(self.now() if when is None else when,
                                            tz=datetime.UTC)
        return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"

    def emit(self, destination: str, event: str, agent_id: str,
             values: dict[str, FieldValue]) -> None:
        if destination and (self.in_service or event in ("OUT_OF_SERVICE", "IN_SERVICE")):
            self.out.append(Emit(destination, self.codec.encode_event(
                event, agent_id, values, catalogue_only=self.catalogue_only)))

    def take(self) -> list[Output]:
        out, self.out = self.out, []
        return out

    def agent(self, agent_id: str) -> SimAgent:
        a = self.agents.get(agent_id)
        if a is None:
            raise Refused("User Not Found", f"agent {agent_id} does not exist", "USER_NOT_FOUND")
        return a

    def logged_in(self, agent_id: str) -> SimAgent:
        a = self.agent(agent_id)
        if a.state == AgentState.LOGOUT:
            raise Refused("Invalid State", f"agent {agent_id} is not logged in",
                          "CF_INVALID_OBJECT_STATE")
        return a

    def dialog_for(self, a: SimAgent, dialog_id: str) -> Dialog:
        d = self.dialogs.get(dialog_id)
        if d is None or d.party(a.cfg.id) is None:
            raise Refused("Not Found", f"dialog {dialog_id} is not a call of agent {a.cfg.id}",
                          "Invalid dialogId")
        return d

    def agent_dialogs(self, agent_id: str) -> list[Dialog]:
        """The agent's dialogs whose newest leg of the agent is not dropped, oldest first."""
        mine = self.dialogs_of.get(agent_id, {})
        return [d for d in (mine[k] for k in sorted(mine, key=int))
                if (p := d.party(agent_id)) is not None and p.state != CallState.DROPPED]

    def add_party(self, d: Dialog, party: Party) -> None:
        d.parties.append(party)
        if party.agent is not None:
            self.dialogs_of.setdefault(party.agent, {})[d.id] = d

    def publish_state(self, a: SimAgent) -> None:
        self.emit(a.destination, "State", a.cfg.id, {
            "State": a.state, "ReasonCode": a.reason_code, "ReasonLabel": a.reason_label,
            "PendingState": a.pending, "StateChangeTime": self.iso(),
            "FullName": a.cfg.full_name, "ReasonCodeId": a.reason_id,
            "Extension": a.extension})

    def set_state(self, a: SimAgent, state: AgentState, code: int = -1, label: str = "",
                  reason_id: int = -1) -> None:
        a.state, a.reason_code, a.reason_label, a.reason_id = state, code, label, reason_id
        a.state_time = self.now()
        # READY agents in the order they became READY: the longest-waiting one is the
        # first, found without looking at every agent (dialogs.place_inbound).
        self.ready.pop(a.cfg.id, None)
        if state == AgentState.READY:
            self.ready[a.cfg.id] = a
        self.publish_state(a)

    def call_fields(self, d: Dialog, agent_id: str) -> dict[str, FieldValue]:
        p = d.party(agent_id)
        # Field 2 of InboundCall / ConsultCall is the dialog state as the agent sees it (the
        # public catalogue): HELD while it holds, DROPPED / FAILED once its leg is gone.
        seen = p.state if p is not None and p.state in _OWN_VIEW else d.state
        return {"DialogState": seen, "DialogId": d.id, "FromAddress": d.from_addr,
                "ParticipantState": p.state if p else "", "ToAddress": d.to_addr,
                "CallType": d.call_type, "CED": d.ced, "CallData": tuple(d.call_data),
                "ParentDialogId": d.parent, "SecondaryId": d.secondary,
                "ANI": d.from_addr, "DNIS": d.to_addr, "OtherNumber": d.to_addr}

    def notify(self, d: Dialog, *, ringing: Iterable[str] = ()) -> None:
        """One event per agent party about a change of ``d``."""
        ringing = set(ringing)
        for p in d.parties:
            if p.agent is None or p.gone:
                continue
            p.gone = p.state == CallState.DROPPED
            a = self.agents[p.agent]
            fields = self.call_fields(d, p.agent)
            if p.agent in ringing:
                self.emit(a.destination, "NewInboundCall", p.agent, fields)
            elif d.consult_of == p.agent:
                self.emit(a.destination, "ConsultCall", p.agent, fields)
            else:
                self.emit(a.destination, "InboundCall", p.agent, fields)

    def dialog_status(self, a: SimAgent, d: Dialog) -> None:
        p = d.party(a.cfg.id)
        fields = self.call_fields(d, a.cfg.id)
        fields["Actions"] = tuple(self.actions(d, p.state if p else CallState.NONE))
        fields["WrapUpReason"] = d.wrap_up_reason
        fields["StartTime"] = self.iso(p.started) if p is not None and p.started else ""
        self.emit(a.destination, "DialogStatus", a.cfg.id, fields)

    def actions(self, d: Dialog, state: CallState) -> list[str]:
        if state == CallState.ALERTING:
            return ["ANSWER"]
        if state == CallState.ACTIVE:
            acts = ["HOLD", "DROP", "UPDATE_CALL_DATA", "CONSULT_CALL", "SEND_DTMF"]
            return [*acts, "TRANSFER_SST"] if self.ucce else acts
        if state == CallState.HELD:
            return ["RETRIEVE", "DROP", "UPDATE_CALL_DATA"]
        if state in (CallState.INITIATING, CallState.INITIATED):
            return ["DROP", "UPDATE_CALL_DATA"]
        if state == CallState.WRAP_UP:
            return ["UPDATE_CALL_DATA"]
        return []

    def new_dialog(self, **kw: object) -> Dialog:
        self.next_dialog += 1
        d = Dialog(id=str(self.next_dialog), **kw)  # type: ignore[arg-type]
        self.dialogs[d.id] = d
        return d

    def error(self, destination: str, agent_id: str, exc: Refused, command: str) -> None:
        def clean(text: str) -> str:  # our own texts must never break the wire format
            return "".join(" " if c in self.codec.dialect.forbidden or c in "\r\n" else c
                           for c in text).strip()
        self.emit(destination, "Error", agent_id, {
            "ErrorType": clean(exc.error_type), "Message": clean(exc.message),
            "ErrorCode": clean(exc.code), "Command": command})

