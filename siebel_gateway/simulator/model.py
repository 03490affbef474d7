"""The Finesse agent and dialog model behind the simulated Generic Connector (pure, no I/O).

Inputs: GC commands (already parsed by the codec), control actions, timer expiries.
Outputs: ``Emit`` (an event text for a client destination), ``StartTimer``/``CancelTimer``.
Time comes in through ``now`` and randomness from a seeded generator, so a run is exact.

Rules follow reference/finesse.md sections 1-2 and 7 for the chosen flavour:

* UCCE: LOGOUT only from NOT_READY; HOLD is an agent state; WORK_READY exists; pending
  READY and repeated pending NOT_READY changes are accepted during a call; single-step
  transfer exists; DTMF 0-9 * # A-D.
* UCCX: LOGOUT also from READY; holding keeps TALKING; no WORK_READY (wrap-up is WORK);
  pending READY during a call is refused (265 CF_INVALID_AGENT_WORKMODE), a pending
  NOT_READY may be set once; no single-step transfer; a non-routed call leaves the agent
  NOT_READY; one regular call plus consult calls; DTMF 0-9 * #.
* Reason codes: the GC carries the CTI code; the State event also carries the Finesse id.
  Sign-in lands in NOT_READY with reason -1.  RONA -> NOT_READY 32767 (UCCE) / 32763 (UCCX).
* Wrap-up: at the end of an agent's last call, per the agent's wrapUpOnIncoming /
  wrapUpOnOutgoing: WORK_READY (UCCE, agent was or asked READY) or WORK (asked NOT_READY),
  ended by the wrap-up timer (WORK -> NOT_READY, WORK_READY -> READY) or by the agent.
* Consult/transfer/conference: the consult leg is its own dialog linked to the original
  (ParentDialogId); a completed transfer or conference keeps the original dialog, with the
  consult's id in SecondaryId; the consulted agent's first ring carries the original call
  data (screen pop on consult).  At most 4 conference parties (CUCM default).

Event choice (documented in docs/simulator.md): every change of a dialog produces one event
per agent party: ``NewInboundCall`` when it first rings at that agent, ``ConsultCall`` for
a consult leg the agent placed, ``InboundCall`` otherwise (field CallType tells inbound
from outbound); ``DialogStatus`` answers GetDialogState and follows a (re)login.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ..core.effects import CancelTimer, Key, StartTimer
from ..gc.codec import FieldValue, GcCodec
from .data import Agent, SimulatorData

__all__ = ["CancelTimer", "Emit", "FinesseModel", "Key", "Output", "StartTimer"]

ON_CALL = ("TALKING", "HOLD")
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
    state: str
    gone: bool = False  # told about its own DROPPED: no further updates for it


@dataclass
class Dialog:
    id: str
    call_type: str
    from_addr: str
    to_addr: str
    ced: str = ""
    call_data: list[tuple[str, str]] = field(default_factory=list)
    state: str = "ALERTING"
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
        return [p for p in self.parties if p.state not in ("DROPPED", "WRAP_UP")]


@dataclass
class AgentState:
    cfg: Agent
    state: str = "LOGOUT"
    pending: str = ""
    reason_code: int = -1
    reason_id: int = -1
    reason_label: str = ""
    extension: str = ""
    destination: str = ""
    state_time: float = 0.0
    before_call: str = "NOT_READY"
    pending_nr_set: bool = False
    wrap_ready: bool = False  # MakeWorkReady asked during the call
    wrap_dialogs: list[str] = field(default_factory=list)


class FinesseModel:
    def __init__(self, data: SimulatorData, codec: GcCodec, *, flavour: str = "ucce",
                 seed: int = 0, now: Callable[[], float], ring_timeout: float = 15.0,
                 answer_delay: float = 1.0,
                 decrypt: Callable[[str], str] | None = None) -> None:
        if flavour not in ("ucce", "uccx"):
            raise ValueError(f"flavour must be ucce or uccx, not {flavour!r}")
        self.data, self.codec, self.flavour, self.now = data, codec, flavour, now
        self.rng = random.Random(seed)
        self.ring_timeout, self.answer_delay = ring_timeout, answer_delay
        self.decrypt = decrypt
        self.agents = {a.id: AgentState(a) for a in data.agents.values()}
        self.dialogs: dict[str, Dialog] = {}
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

    def iso(self) -> str:
        t = datetime.datetime.fromtimestamp(self.now(), tz=datetime.UTC)
        return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"

    def emit(self, destination: str, event: str, agent_id: str,
             values: dict[str, FieldValue]) -> None:
        if destination and (self.in_service or event in ("OUT_OF_SERVICE", "IN_SERVICE")):
            self.out.append(Emit(destination, self.codec.encode_event(event, agent_id, values)))

    def take(self) -> list[Output]:
        out, self.out = self.out, []
        return out

    def agent(self, agent_id: str) -> AgentState:
        a = self.agents.get(agent_id)
        if a is None:
            raise Refused("User Not Found", f"agent {agent_id} does not exist", "USER_NOT_FOUND")
        return a

    def logged_in(self, agent_id: str) -> AgentState:
        a = self.agent(agent_id)
        if a.state == "LOGOUT":
            raise Refused("Invalid State", f"agent {agent_id} is not logged in",
                          "CF_INVALID_OBJECT_STATE")
        return a

    def dialog_for(self, a: AgentState, dialog_id: str) -> Dialog:
        d = self.dialogs.get(dialog_id)
        if d is None or d.party(a.cfg.id) is None:
            raise Refused("Not Found", f"dialog {dialog_id} is not a call of agent {a.cfg.id}",
                          "Invalid dialogId")
        return d

    def agent_dialogs(self, agent_id: str) -> list[Dialog]:
        return [d for d in self.dialogs.values()
                if (p := d.party(agent_id)) is not None and p.state != "DROPPED"]

    def publish_state(self, a: AgentState) -> None:
        self.emit(a.destination, "State", a.cfg.id, {
            "State": a.state, "ReasonCode": a.reason_code, "ReasonLabel": a.reason_label,
            "PendingState": a.pending, "StateChangeTime": self.iso(),
            "FullName": a.cfg.full_name, "ReasonCodeId": a.reason_id,
            "Extension": a.extension})

    def set_state(self, a: AgentState, state: str, code: int = -1, label: str = "",
                  reason_id: int = -1) -> None:
        a.state, a.reason_code, a.reason_label, a.reason_id = state, code, label, reason_id
        a.state_time = self.now()
        self.publish_state(a)

    def call_fields(self, d: Dialog, agent_id: str) -> dict[str, FieldValue]:
        p = d.party(agent_id)
        return {"DialogState": d.state, "DialogId": d.id, "FromAddress": d.from_addr,
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
            p.gone = p.state == "DROPPED"
            a = self.agents[p.agent]
            fields = self.call_fields(d, p.agent)
            if p.agent in ringing:
                self.emit(a.destination, "NewInboundCall", p.agent, fields)
            elif d.consult_of == p.agent:
                self.emit(a.destination, "ConsultCall", p.agent, fields)
            else:
                self.emit(a.destination, "InboundCall", p.agent, fields)

    def dialog_status(self, a: AgentState, d: Dialog) -> None:
        p = d.party(a.cfg.id)
        fields = self.call_fields(d, a.cfg.id)
        fields["Actions"] = tuple(self.actions(d, p.state if p else ""))
        fields["WrapUpReason"] = d.wrap_up_reason
        self.emit(a.destination, "DialogStatus", a.cfg.id, fields)

    def actions(self, d: Dialog, state: str) -> list[str]:
        if state == "ALERTING":
            return ["ANSWER"]
        if state == "ACTIVE":
            acts = ["HOLD", "DROP", "UPDATE_CALL_DATA", "CONSULT_CALL", "SEND_DTMF"]
            return [*acts, "TRANSFER_SST"] if self.ucce else acts
        if state == "HELD":
            return ["RETRIEVE", "DROP", "UPDATE_CALL_DATA"]
        if state in ("INITIATING", "INITIATED"):
            return ["DROP", "UPDATE_CALL_DATA"]
        if state == "WRAP_UP":
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

    # -- entry points --------------------------------------------------------------------

    def handle_command(self, command: str, values: dict[str, str]) -> list[Output]:
        agent_id = values.get("AgentId", "")
        reply_to = values.get("ClientDestination", "")
        if command in ("Hello", "Beat"):
            self.destinations.add(reply_to)
            status = "IN_SERVICE" if self.in_service else "OUT_OF_SERVICE"
            self.out.append(Emit(reply_to, self.codec.encode_event(
                status, self.codec.dialect.system_agent, {"Reason": ""})))
            return self.take()
        a = self.agents.get(agent_id)
        dest = reply_to or (a.destination if a else "")
        try:
            if not self.in_service:
                raise Refused("Service Unavailable", "Finesse is OUT_OF_SERVICE; try again "
                              "after IN_SERVICE", "503")
            fault = self.fail_next.pop(agent_id, None)
            if fault is not None:
                raise Refused(*fault)
            handler = getattr(self, f"cmd_{command}", None)
            if handler is None:
                raise Refused("Not Implemented", f"the simulator does not implement {command}",
                              "501")
            handler(agent_id, values)
        except Refused as exc:
            self.error(dest, agent_id, exc, command)
        return self.take()

    # -- agent commands --------------------------------------------------------------------

    def cmd_Connect(self, agent_id: str, v: dict[str, str]) -> None:  # noqa: N802
        a = self.agent(agent_id)
        a.destination = v["ClientDestination"]
        self.destinations.add(a.destination)

    def cmd_Login(self, agent_id: str, v: dict[str, str]) -> None:  # noqa: N802
        a = self.agent(agent_id)
        password, extension = v.get("Password", ""), v.get("Extension", "")
        if not a.destination:
            raise Refused("Invalid State", f"agent {agent_id} must Connect before Login",
                          "GENERAL_ERROR")
        if not password:
            raise Refused("Parameter Missing", "password is missing", "MISSING_PASSWORD")
        if password.startswith("3DES:"):
            if self.decrypt is None:
                raise Refused("Authorization Failure", "the password is encrypted but this "
                              "Generic Connector has no Triple-DES key", "GENERAL_ERROR")
            try:
                password = self.decrypt(password)
            except ValueError:
                raise Refused("Authorization Failure", "the encrypted password cannot be "
                              "decrypted with this Generic Connector's key",
                              "GENERAL_ERROR") from None
        if password != a.cfg.password:
            raise Refused("Authorization Failure", f"wrong password for agent {agent_id}",
                          "CF_GENERIC_UNSPECIFIED")
        if not extension:
            raise Refused("Parameter Missing", "extension is missing", "MISSING_EXTENSION")
        fault = self.fail_login.pop(extension, None)
        if fault is not None:
            raise Refused(*fault)
        if extension.startswith("+") and self.ucce:
            raise Refused("Invalid Device", f"UCCE cannot sign in on E.164 extension {extension}",
                          "CF_INVALID_LOGON_DEVICE_SPECIFIED")
        known = self.data.agent_on(extension)
        if known is None:
            raise Refused("Invalid Device", f"extension {extension} does not exist",
                          "WRONG_EXTENSION")
        other = next((o for o in self.agents.values() if o.extension == extension
                      and o.state != "LOGOUT" and o is not a), None)
        if other is not None:
            raise Refused("Device Busy", f"extension {extension} is in use by agent "
                          f"{other.cfg.id}", "CF_RESOURCE_BUSY")
        cfg = a.cfg
        self.emit(a.destination, "AgentInfo", agent_id, {
            "FirstName": cfg.first_name, "LastName": cfg.last_name,
            "IsSupervisor": cfg.supervisor, "WrapUpMode": cfg.wrap_up_incoming,
            "TeamCount": "1" if cfg.team else "0", "Teams": (cfg.team,) if cfg.team else (),
            "FullName": cfg.full_name})
        if a.state == "LOGOUT":  # a re-login keeps the current state (forced sign-in)
            a.extension = extension
            self.set_state(a, "NOT_READY")
        else:
            self.publish_state(a)
        for d in self.agent_dialogs(agent_id):
            self.dialog_status(a, d)

    def require_reason(self, category: str, code_text: str) -> tuple[int, str, int]:
        configured = self.data.category(category)
        if not code_text:
            if configured:
                raise Refused("Parameter Missing", f"a {category} reason code is required",
                              "finesse.api.reasoncode.require_reasoncode")
            return -1, "", -1
        try:
            code = int(code_text)
        except ValueError:
            raise Refused("Invalid Input", f"reason code {code_text!r} is not a number",
                          "finesse.api.reasoncode.not_valid") from None
        reason = self.data.reason(category, code)
        if reason is None:
            raise Refused("Invalid Input", f"{code} is not a {category} reason code",
                          "finesse.api.reasoncode.not_valid")
        return reason.code, reason.label, reason.id

    def cmd_Logout(self, agent_id: str, v: dict[str, str]) -> None:  # noqa: N802
        a = self.logged_in(agent_id)
        allowed = ("NOT_READY",) if self.ucce else ("NOT_READY", "READY")
        if a.state not in allowed:
            raise Refused("Invalid State", f"LOGOUT is not allowed from {a.state} on "
                          f"{self.flavour.upper()} (only from {' or '.join(allowed)})",
                          "CF_INVALID_OBJECT_STATE")
        code, label, rid = self.require_reason("LOGOUT", v.get("ReasonCode", ""))
        a.pending, a.extension = "", ""
        self.set_state(a, "LOGOUT", code, label, rid)

    def cmd_ForceLogout(self, agent_id: str, v: dict[str, str]) -> None:  # noqa: N802
        a = self.logged_in(agent_id)
        if a.state in ON_CALL or a.state == "RESERVED":
            a.pending = "LOGOUT"
            self.publish_state(a)
            return
        a.extension = ""
        self.set_state(a, "LOGOUT", 20002 if self.ucce else 255)

    def cmd_MakeReady(self, agent_id: str, v: dict[str, str]) -> None:  # noqa: N802
        a = self.logged_in(agent_id)
        if a.state in ON_CALL:
            if not self.ucce:
                raise Refused("Invalid State", "a pending READY is not allowed during a call "
                              "on UCCX", "265")
            a.pending = "READY"
            self.publish_state(a)
            return
        if a.state in ("RESERVED",):
            raise Refused("Invalid State", "READY is not allowed while a call is reserved",
                          "CF_INVALID_OBJECT_STATE")
        self.end_wrap_up(a)
        self.set_state(a, "READY")

    def cmd_MakeNotReady(self, agent_id: str, v: dict[str, str]) -> None:  # noqa: N802
        self.not_ready(agent_id, "")

    def cmd_MakeNotReadyWithReason(self, agent_id: str, v: dict[str, str]) -> None:  # noqa: N802
        self.not_ready(agent_id, v.get("ReasonCode", ""))

    def not_ready(self, agent_id: str, code_text: str) -> None:
        a = self.logged_in(agent_id)
        code, label, rid = self.require_reason("NOT_READY", code_text)
        if a.state in ON_CALL:
            if not self.ucce and a.pending_nr_set:
                raise Refused("Invalid State", "the pending NOT_READY reason can be set only "
                              "once per call on UCCX", "265")
            a.pending, a.pending_nr_set = "NOT_READY", True
            a.reason_code, a.reason_label, a.reason_id = code, label, rid
            self.publish_state(a)
            return
        if a.state == "RESERVED":
            raise Refused("Invalid State", "NOT_READY is not allowed while a call is reserved",
                          "CF_INVALID_OBJECT_STATE")
        self.end_wrap_up(a)
        self.set_state(a, "NOT_READY", code, label, rid)

    def cmd_MakeWorkReady(self, agent_id: str, v: dict[str, str]) -> None:  # noqa: N802
        a = self.logged_in(agent_id)
        if not self.ucce:
            raise Refused("Invalid State", "UCCX has no WORK_READY state", "265")
        if a.state not in ON_CALL:
            raise Refused("Invalid State", "WORK_READY can be requested only during a call",
                          "CF_INVALID_OBJECT_STATE")
        a.wrap_ready, a.pending = True, "READY"
        self.publish_state(a)

    def cmd_GetState(self, agent_id: str, v: dict[str, str]) -> None:  # noqa: N802
        self.publish_state(self.agent(agent_id))

    def reason_list(self, agent_id: str, category: str) -> None:
        a = self.agent(agent_id)
        if category == "WRAP_UP":
            codes = labels = self.data.wrap_up_reasons
        else:
            rs = self.data.category(category)
            codes, labels = tuple(str(r.code) for r in rs), tuple(r.label for r in rs)
        self.emit(a.destination, "ReasonCodes", agent_id,
                  {"Category": category, "Codes": codes, "Labels": labels})

    def cmd_GetNotReadyReasons(self, agent_id: str, v: dict[str, str]) -> None:  # noqa: N802
        self.reason_list(agent_id, "NOT_READY")

    def cmd_GetLogoutReasons(self, agent_id: str, v: dict[str, str]) -> None:  # noqa: N802
        self.reason_list(agent_id, "LOGOUT")

    def cmd_GetWrapUpReasons(self, agent_id: str, v: dict[str, str]) -> None:  # noqa: N802
        self.reason_list(agent_id, "WRAP_UP")

    # -- calls ---------------------------------------------------------------------------

    def ring(self, target: AgentState, d: Dialog, *, reserve: bool) -> None:
        d.parties.append(Party(target.extension, target.cfg.id, "ALERTING"))
        if reserve:
            target.before_call = target.state
            self.set_state(target, "RESERVED")
        self.notify(d, ringing=[target.cfg.id])
        self.out.append(StartTimer(Key(d.id, "rona", target.cfg.id), self.ring_timeout))

    def place_inbound(self, agent_id: str | None, ani: str, dnis: str, ced: str,
                      call_data: list[tuple[str, str]]) -> Dialog:
        if agent_id is None:
            ready = sorted((a for a in self.agents.values() if a.state == "READY"),
                           key=lambda a: (a.state_time, a.cfg.id))
            if not ready:
                raise Refused("Generic Error", "no READY agent for the call", "NO_AGENT")
            target = ready[0]
        else:
            target = self.logged_in(agent_id)
            if target.state != "READY":
                raise Refused("Invalid State", f"agent {agent_id} is {target.state}, not READY",
                              "CF_INVALID_OBJECT_STATE")
        for value in (ani, dnis, ced, *(x for kv in call_data for x in kv)):
            self.codec.check_value("inbound call", "call data", value)
        d = self.new_dialog(call_type="ACD_IN" if agent_id is None else "PREROUTE_DIRECT_AGENT",
                            from_addr=ani, to_addr=dnis, ced=ced, call_data=list(call_data))
        d.parties.append(Party(ani, None, "ACTIVE"))
        self.ring(target, d, reserve=True)
        return d

    def cmd_AnswerCall(self, agent_id: str, v: dict[str, str]) -> None:  # noqa: N802
        a = self.logged_in(agent_id)
        d = self.dialog_for(a, v["DialogId"])
        p = d.party(agent_id)
        assert p is not None
        if p.state != "ALERTING":
            raise Refused("Invalid State", f"dialog {d.id} is not ringing at agent {agent_id}",
                          "CF_INVALID_OBJECT_STATE")
        self.out.append(CancelTimer(Key(d.id, "rona", agent_id)))
        p.state, d.state = "ACTIVE", "ACTIVE"
        for other in d.parties:
            if other.state in ("INITIATED", "ALERTING") and other is not p:
                other.state = "ACTIVE"
        self.notify(d)
        self.start_talking(a, d)

    def start_talking(self, a: AgentState, d: Dialog) -> None:
        if a.state == "RESERVED" or (a.state in ("READY", "NOT_READY") and
                                     (self.ucce or d.routed)):
            if a.state != "RESERVED":
                a.before_call = a.state
            if not self.ucce and not d.routed:
                return  # UCCX: a non-routed call leaves the agent NOT_READY
            self.set_state(a, "TALKING", a.reason_code if a.state == "NOT_READY" else -1)
        elif a.state == "HOLD":
            self.set_state(a, "TALKING")

    def leg(self, a: AgentState, dialog_id: str, state: str) -> tuple[Dialog, Party]:
        d = self.dialog_for(a, dialog_id)
        p = d.party(a.cfg.id)
        assert p is not None
        if p.state != state:
            raise Refused("Invalid State", f"dialog {d.id} is {p.state} for agent {a.cfg.id}, "
                          f"not {state}", "CF_INVALID_OBJECT_STATE")
        return d, p

    def cmd_HoldCall(self, agent_id: str, v: dict[str, str]) -> None:  # noqa: N802
        a = self.logged_in(agent_id)
        d, p = self.leg(a, v["DialogId"], "ACTIVE")
        p.state = "HELD"
        self.notify(d)
        if self.ucce and not any(x.party(agent_id).state == "ACTIVE"  # type: ignore[union-attr]
                                 for x in self.agent_dialogs(agent_id)):
            self.set_state(a, "HOLD")

    def cmd_RetrieveCall(self, agent_id: str, v: dict[str, str]) -> None:  # noqa: N802
        a = self.logged_in(agent_id)
        d, p = self.leg(a, v["DialogId"], "HELD")
        if any(x.party(agent_id).state == "ACTIVE"  # type: ignore[union-attr]
               for x in self.agent_dialogs(agent_id)):
            raise Refused("Invalid State", "another call is active: hold it first",
                          "CF_INVALID_OBJECT_STATE")
        p.state = "ACTIVE"
        self.notify(d)
        if a.state == "HOLD":
            self.set_state(a, "TALKING")

    def cmd_ReleaseCall(self, agent_id: str, v: dict[str, str]) -> None:  # noqa: N802
        a = self.logged_in(agent_id)
        d = self.dialog_for(a, v["DialogId"])
        self.drop_party(d, agent_id)

    def drop_party(self, d: Dialog, agent_id: str | None, *, far_end: bool = False) -> None:
        leaving = [p for p in d.parties if (far_end and p.agent is None) or
                   (agent_id is not None and p.agent == agent_id)]
        for p in leaving:
            p.state = "DROPPED"
        live = d.live()
        if len(live) < 2:  # a call needs two parties: it ends for everyone
            for p in d.parties:
                p.state = "DROPPED"
            d.state = "DROPPED"
        self.notify(d)
        for p in d.parties:
            if p.agent is not None and p.state == "DROPPED":
                self.out.append(CancelTimer(Key(d.id, "rona", p.agent)))
                self.call_ended(self.agents[p.agent], d)
        # A consult leg outlives its original call: the two agents may still talk.

    def call_ended(self, a: AgentState, d: Dialog) -> None:
        """The agent's leg of d is gone: wrap-up or the next state, once no call is left."""
        if a.state == "RESERVED":  # the call never reached the agent (abandoned while ringing)
            self.set_state(a, a.before_call)
            return
        if self.agent_dialogs(a.cfg.id):
            return
        if a.state not in ON_CALL and not (not self.ucce and a.state == "NOT_READY"):
            return
        outbound = d.call_type in ("OUT", "AGENT_INSIDE") and d.consult_of == ""
        mode = a.cfg.wrap_up_outgoing if outbound else a.cfg.wrap_up_incoming
        wants_nr = a.pending == "NOT_READY" or (a.pending == "" and a.before_call == "NOT_READY")
        if a.pending == "LOGOUT":
            a.pending, a.extension = "", ""
            self.set_state(a, "LOGOUT", 255)
            return
        wrap = (mode != "NOT_ALLOWED" and not outbound) or a.wrap_ready
        code, label, rid = (a.reason_code, a.reason_label, a.reason_id) if wants_nr \
            else (-1, "", -1)
        a.pending, a.pending_nr_set, a.wrap_ready = "", False, False
        if wrap:
            p = d.party(a.cfg.id)
            if p is not None:
                p.state = "WRAP_UP"
            a.wrap_dialogs = [d.id]
            state = "WORK" if wants_nr or not self.ucce else "WORK_READY"
            self.set_state(a, state, code, label, rid)
            self.out.append(StartTimer(Key(a.cfg.id, "wrap"), float(a.cfg.wrap_up_timer)))
            return
        self.set_state(a, "NOT_READY" if wants_nr else "READY", code, label, rid)

    def end_wrap_up(self, a: AgentState) -> None:
        if a.state in ("WORK", "WORK_READY"):
            self.out.append(CancelTimer(Key(a.cfg.id, "wrap")))
            for did in a.wrap_dialogs:
                d = self.dialogs.get(did)
                p = d.party(a.cfg.id) if d else None
                if p is not None:
                    p.state = "DROPPED"
            a.wrap_dialogs = []

    def cmd_MakeCall(self, agent_id: str, v: dict[str, str]) -> None:  # noqa: N802
        a = self.logged_in(agent_id)
        number = v["Number"]
        if a.state != "NOT_READY":
            raise Refused("Invalid State", f"MakeCall needs NOT_READY; agent is {a.state}",
                          "CF_INVALID_OBJECT_STATE")
        if number == a.extension:
            raise Refused("Invalid Destination", "an agent cannot call its own extension",
                          "Invalid Destination")
        self.dial(a, number, call_type="AGENT_INSIDE" if self.data.agent_on(number) else "OUT")

    def dial(self, a: AgentState, number: str, *, call_type: str, parent: str = "",
             call_data: list[tuple[str, str]] | None = None, ced: str = "",
             caller: str = "", consult: bool = False) -> Dialog:
        d = self.new_dialog(call_type=call_type, from_addr=caller or a.extension, to_addr=number,
                            parent=parent, call_data=list(call_data or []), ced=ced,
                            routed=False, state="INITIATED",
                            consult_of=a.cfg.id if consult else "")
        d.parties.append(Party(a.extension, a.cfg.id, "INITIATED"))
        if not consult:
            a.before_call = a.state
        self.notify(d)
        target = next((o for o in self.agents.values() if o.extension == number
                       and o.state != "LOGOUT"), None)
        if target is not None:
            d.state = "ALERTING"
            self.ring(target, d, reserve=False)
        else:
            d.parties.append(Party(number, None, "ALERTING"))
            d.state = "ALERTING"
            self.notify(d)
            self.out.append(StartTimer(Key(d.id, "answer"), self.answer_delay))
        if not consult and self.ucce:
            self.set_state(a, "TALKING", a.reason_code, a.reason_label, a.reason_id)
        return d

    def cmd_ConsultCall(self, agent_id: str, v: dict[str, str]) -> None:  # noqa: N802
        a = self.logged_in(agent_id)
        d, p = self.leg(a, v["DialogId"], "ACTIVE")
        if any(c.parent == d.id and c.state != "DROPPED" for c in self.dialogs.values()):
            raise Refused("Generic Error", f"dialog {d.id} already has a consult call",
                          "20999")
        if v["Destination"] == a.extension:
            raise Refused("Invalid Destination", "cannot consult your own extension",
                          "Invalid Destination")
        p.state = "HELD"
        self.notify(d)
        self.dial(a, v["Destination"], call_type="CONSULT", parent=d.id, consult=True,
                  call_data=d.call_data, ced=d.ced, caller=d.from_addr)

    def consult_leg(self, a: AgentState, main_id: str) -> tuple[Dialog, Dialog]:
        main = self.dialog_for(a, main_id)
        consult = next((c for c in self.dialogs.values() if c.parent == main.id
                        and c.consult_of == a.cfg.id and c.state == "ACTIVE"), None)
        if consult is None:
            raise Refused("Generic Error", f"dialog {main.id} has no answered consult call",
                          "20999")
        return main, consult

    def merge_consult(self, agent_id: str, main: Dialog, consult: Dialog, *,
                      my_state: str, call_type: str) -> None:
        """End the consult leg and bring its far party into the original call, which
        survives with ``SecondaryId`` = the consult leg (finesse.md 2.6/2.7)."""
        target = next(p for p in consult.parties if p.agent != agent_id)
        consult.state = "DROPPED"
        for p in consult.parties:
            p.state = "DROPPED"
        self.notify(consult)
        mine = main.party(agent_id)
        assert mine is not None
        mine.state = my_state
        main.parties.append(Party(target.address, target.agent, "ACTIVE"))
        main.call_type, main.secondary = call_type, consult.id

    def cmd_TransferCall(self, agent_id: str, v: dict[str, str]) -> None:  # noqa: N802
        a = self.logged_in(agent_id)
        main, consult = self.consult_leg(a, v["DialogId"])
        self.merge_consult(agent_id, main, consult, my_state="DROPPED", call_type="TRANSFER")
        self.notify(main)
        self.call_ended(a, main)

    def cmd_ConferenceCall(self, agent_id: str, v: dict[str, str]) -> None:  # noqa: N802
        a = self.logged_in(agent_id)
        main, consult = self.consult_leg(a, v["DialogId"])
        if main.controller and main.controller != agent_id:
            raise Refused("Generic Error", "only the agent who created the conference may add "
                          "parties", "20999")
        if len(main.live()) + 1 > MAX_CONFERENCE:
            raise Refused("Call Operation Failure", f"a conference holds at most "
                          f"{MAX_CONFERENCE} parties", "20999")
        self.merge_consult(agent_id, main, consult, my_state="ACTIVE", call_type="CONFERENCE")
        main.controller = agent_id
        self.notify(main)

    def cmd_SingleStepTransfer(self, agent_id: str, v: dict[str, str]) -> None:  # noqa: N802
        a = self.logged_in(agent_id)
        if not self.ucce:
            raise Refused("Generic Error", "single-step transfer is not available on UCCX",
                          "CF_GENERIC_UNSPECIFIED")
        d, p = self.leg(a, v["DialogId"], "ACTIVE")
        number = v["Destination"]
        p.state = "DROPPED"
        target = next((o for o in self.agents.values() if o.extension == number
                       and o.state != "LOGOUT"), None)
        d.call_type = "TRANSFER"
        if target is not None:
            d.state = "ALERTING"
            self.notify(d)
            self.ring(target, d, reserve=target.state == "READY")
        else:
            d.parties.append(Party(number, None, "ACTIVE"))
            self.notify(d)
        self.call_ended(a, d)

    def cmd_SendDTMF(self, agent_id: str, v: dict[str, str]) -> None:  # noqa: N802
        a = self.logged_in(agent_id)
        d, _p = self.leg(a, v["DialogId"], "ACTIVE")
        allowed = UCCE_DTMF if self.ucce else UCCX_DTMF
        bad = sorted(set(v["Digits"]) - allowed)
        if not v["Digits"] or bad:
            raise Refused("Invalid Input", f"DTMF digits must be 0-9 * # "
                          f"{'A-D ' if self.ucce else ''}(refused: {''.join(bad) or 'empty'})",
                          "Invalid Input")
        d.dtmf += v["Digits"]

    def cmd_UpdateCallData(self, agent_id: str, v: dict[str, str]) -> None:  # noqa: N802
        a = self.logged_in(agent_id)
        d = self.dialog_for(a, v["DialogId"])
        reason = v.get("WrapUpReason", "")
        if reason and reason not in self.data.wrap_up_reasons:
            raise Refused("Invalid Input", f"{reason!r} is not a wrap-up reason",
                          "finesse.api.wrapupreason.not_valid")
        d.wrap_up_reason = reason
        self.dialog_status(a, d)

    def cmd_GetDialogState(self, agent_id: str, v: dict[str, str]) -> None:  # noqa: N802
        a = self.agent(agent_id)
        self.dialog_status(a, self.dialog_for(a, v["DialogId"]))

    # -- timers --------------------------------------------------------------------------

    def timer_fired(self, key: Key) -> list[Output]:
        if key.kind == "rona":
            self.rona(key.owner, key.id)
        elif key.kind == "answer":
            d = self.dialogs.get(key.owner)
            if d is not None and d.state == "ALERTING":
                for p in d.parties:
                    p.state = "ACTIVE"
                d.state = "ACTIVE"
                self.notify(d)
        elif key.kind == "wrap":
            a = self.agents[key.owner]
            if a.state in ("WORK", "WORK_READY"):
                nxt = "READY" if a.state == "WORK_READY" else "NOT_READY"
                code = -1 if nxt == "READY" else (a.reason_code if a.reason_code != -1 else
                                                  (-1 if self.ucce else 32758))
                self.end_wrap_up(a)
                self.set_state(a, nxt, code, a.reason_label if nxt == "NOT_READY" else "",
                               a.reason_id if nxt == "NOT_READY" else -1)
        return self.take()

    def rona(self, dialog_id: str, agent_id: str) -> None:
        d = self.dialogs.get(dialog_id)
        a = self.agents.get(agent_id)
        p = d.party(agent_id) if d and a else None
        if d is None or a is None or p is None or p.state != "ALERTING":
            return
        p.state = "DROPPED"
        if not d.live() or len(d.live()) < 2:
            d.state = "DROPPED"
        self.notify(d)
        if a.state == "RESERVED":  # a routed call: the agent is parked NOT_READY
            self.set_state(a, "NOT_READY", 32767 if self.ucce else 32763)
