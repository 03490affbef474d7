"""Device commands -> GC commands, one function per command (SCS-PROTOCOL.md table).

``machine.py`` decides *whether* a command may run in the service's phase (and refuses it
otherwise, in one place); each function here then checks what the gateway knows (state,
calls, reason lists) and either raises ``Refused`` (the code and readable text go back in
the InvokeCommand result) or returns the ``Outcome``: the GC commands to send (all encoded
before any is sent, so a value that cannot be carried never leaves half a sequence on the
broker) and the new state (the commands awaiting their answer; ``log_in`` also takes the
agent id and credential).  Each is a pure function ``(SessionState, Cmd, Env) -> Outcome``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import NamedTuple

from ..gc.states import AgentState, CallState
from .calls import Call
from .scs_messages import ShowStatusText
from .scs_wire import ScError
from .state import Env, Phase, Refused, Secret, SessionState
from .step import Outcome, Step
from .wrap_up import check_leaving_wrap_up

__all__ = ["Cmd", "answer", "blind_transfer", "complete", "consult", "dtmf", "hold",
           "log_in", "log_out", "login_values", "make_call", "not_ready", "params", "ready",
           "release", "retrieve", "switch", "work_ready", "wrap_up_reason"]

Params = Mapping[str, str]


class Cmd(NamedTuple):
    """One InvokeCommand: Siebel's cmdTrackId, the device command, its string parameter,
    its parameters (names folded to lower case) and the time it arrived."""

    cmd: str
    name: str
    sp: str
    p: Params
    now: float


def params(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """A command's parameters by lower-case name (the first of a repeated name wins)."""
    out: dict[str, str] = {}
    for k, v in pairs:
        out.setdefault(k.casefold(), v)
    return out

_STATE_KEYS = {AgentState.LOGOUT: "Logged out", AgentState.NOT_READY: "Not Ready",
               AgentState.READY: "Ready", AgentState.RESERVED: "Reserved",
               AgentState.TALKING: "Talking", AgentState.HOLD: "on Hold",
               AgentState.WORK: "in Wrap-up", AgentState.WORK_READY: "in Wrap-up"}


def _state_name(s: Step) -> str:
    return s.t(f"state.{s.st.state}") if s.env.has_text(f"state.{s.st.state}") \
        else _STATE_KEYS.get(s.st.state, s.st.state)


def _reason(s: Step, category: str, code: str, required: bool) -> str:
    known = s.st.reasons.get(category)
    choices = ", ".join(f"{c} ({lb})" if c != lb else c for c, lb in known or ()) or "-"
    if not code:
        if required:
            raise Refused(ScError.ERROR, "error.reason_required", Choices=choices)
        return ""
    if known and code not in {c for c, _ in known}:
        by_label = next((c for c, lb in known if lb.casefold() == code.casefold()), None)
        if by_label is None:
            raise Refused(ScError.ERROR, "error.bad_reason", Code=code, Category=category,
                          Choices=choices)
        return by_label
    return code


def _call(s: Step, p: Params, *, states: tuple[CallState, ...], what: str,
          pick: Callable[[], Call | None] | None = None) -> Call:
    tid = p.get("trackingid", "")
    if tid:
        call = s.find_call(tid.removesuffix("-wrapup"))
    else:
        candidates = s.st.calls.in_state(*states)
        if pick is not None:
            found = pick()
            if found is None:
                raise Refused(ScError.WORK_ITEM_WRONG_STATE,
                              "error.which_call" if len(candidates) > 1 else "error.no_call",
                              What=what)
            call = found
        elif len(candidates) == 1:
            call = candidates[0]
        else:
            raise Refused(ScError.WORK_ITEM_WRONG_STATE,
                          "error.which_call" if candidates else "error.no_call", What=what)
    if call.state not in states:
        raise Refused(ScError.WORK_ITEM_WRONG_STATE, "error.call_state",
                      CallState=call.state.lower())
    return call


def _number(p: Params, string_param: str, key: str = "phonenumber") -> str:
    number = p.get(key, "") or string_param
    if not number:
        raise Refused(ScError.ERROR, "error.missing_param",
                      Param={"phonenumber": "PhoneNumber", "digits": "Digits"}[key])
    return number


def _one(s: Step, c: Cmd, gc: str, values: Mapping[str, str]) -> Outcome:
    return s.send([(gc, s.encode(gc, values, c.now, c.name))], c.cmd, c.name).done()


# -- agent ----------------------------------------------------------------------------------

def login_values(s: Step, name: str, p: Params) -> tuple[str, str, Secret]:
    """A LogIn's agent id, extension and password (kept as a ``Secret``), checked."""
    agent = p.get("agentid", "") or s.env.service_params.get("agentid", "")
    ext = p.get("extension", "") or s.env.service_params.get("extension", "")
    pin = p.get("agentpin", "") or p.get("password", "")
    for label, value in (("AgentId", agent), ("AgentPin", pin), ("Extension", ext)):
        if not value:
            raise Refused(ScError.ERROR, "error.missing_param", Param=label)
    for label, value in (("AgentId", agent), ("Extension", ext)):
        try:
            s.env.codec.check_value(name, label, value)
        except ValueError:
            raise Refused(ScError.ERROR, "error.bad_value", Param=label) from None
    try:
        s.env.codec.check_value(name, "AgentPin", pin)
    except ValueError:
        if not s.env.driver.use_secure_password:  # encrypted text never holds a delimiter
            raise Refused(ScError.ERROR, "error.bad_value", Param="AgentPin") from None
    env = s.env
    return agent, ext, Secret(env.encrypt(pin) if env.driver.use_secure_password else pin)


def log_in(st: SessionState, c: Cmd, env: Env) -> Outcome:
    s = Step(st, env)
    cmd, name, _, p, now = c
    agent, ext, credential = login_values(s, name, p)
    if st.recovering and agent == st.agent_id:
        # a restarted gateway is asking the GC for this agent (core/recover.py): the
        # LogIn waits for the answer (taken over, or signed in then: recover.settle)
        s = s.set(extension=ext, login_cmd=cmd, credential=credential)
        return s.log("info", "LogIn for agent {agent} waits for the GC's answer about its "
                     "session").done()
    if not env.agent_free(agent):
        raise Refused(ScError.ERROR, "error.agent_in_use", AgentId=agent)
    s = s.claim(agent).set(agent_id=agent, extension=ext, full_name="", login_cmd=cmd,
                           resyncing=False, credential=credential)
    hello = s.encode("Hello", {}, now, name)
    s = s.cb(ShowStatusText(env.handle, text=s.t("status.logging_in", AgentId=agent,
                                                  Extension=ext)))
    return s.send([("Hello", hello)], cmd, name).enter(Phase.AWAIT_SERVICE).done()


def log_out(st: SessionState, c: Cmd, env: Env) -> Outcome:
    s = Step(st, env)
    _, _, sp, p, _ = c
    allowed = (AgentState.NOT_READY,) if s.env.driver.ucce \
        else (AgentState.NOT_READY, AgentState.READY)
    if s.st.state not in allowed or s.st.calls.calls:
        raise Refused(ScError.ERROR, "error.agent_state", State=_state_name(s))
    code = _reason(s, "LOGOUT", p.get("reasoncode", "") or sp, s.env.driver.logout_reason_required)
    return _one(s, c, "Logout", {"ReasonCode": code})


def ready(st: SessionState, c: Cmd, env: Env) -> Outcome:
    s = Step(st, env)
    on_call = bool(s.st.calls.calls) or s.st.state in (AgentState.TALKING, AgentState.HOLD)
    if s.st.state == AgentState.RESERVED or (on_call and not s.env.driver.ucce):
        raise Refused(ScError.ERROR, "error.agent_state", State=_state_name(s))
    check_leaving_wrap_up(s)
    return _one(s, c, "MakeReady", {})


def not_ready(st: SessionState, c: Cmd, env: Env) -> Outcome:
    s = Step(st, env)
    _, _, sp, p, _ = c
    if s.st.state == AgentState.RESERVED:
        raise Refused(ScError.ERROR, "error.agent_state", State=_state_name(s))
    code = _reason(s, "NOT_READY", p.get("reasoncode", "") or sp,
                   s.env.driver.not_ready_reason_required)
    check_leaving_wrap_up(s)
    if code:
        return _one(s, c, "MakeNotReadyWithReason", {"ReasonCode": code})
    else:
        return _one(s, c, "MakeNotReady", {})


def work_ready(st: SessionState, c: Cmd, env: Env) -> Outcome:
    s = Step(st, env)
    if not s.st.calls.calls or s.st.state == AgentState.RESERVED:
        raise Refused(ScError.ERROR, "error.agent_state", State=_state_name(s))
    return _one(s, c, "MakeWorkReady", {})


def wrap_up_reason(st: SessionState, c: Cmd, env: Env) -> Outcome:
    s = Step(st, env)
    _, _, sp, p, _ = c
    if s.st.state not in (AgentState.WORK, AgentState.WORK_READY):
        raise Refused(ScError.ERROR, "error.agent_state", State=_state_name(s))
    reason = _reason(s, "WRAP_UP", p.get("reasoncode", "") or sp, True)
    ended = s.st.calls.last_ended
    tid = p.get("trackingid", "").removesuffix("-wrapup")
    if ended is None or (tid and tid != ended.tracking_id):
        raise Refused(ScError.INVALID_ITEM_TRACKING_ID, "error.unknown_call",
                      TrackingID=tid or "-")
    return _one(s, c, "UpdateCallData", {"DialogId": ended.tracking_id,
                                  "WrapUpReason": reason})


# -- calls ----------------------------------------------------------------------------------

def make_call(st: SessionState, c: Cmd, env: Env) -> Outcome:
    s = Step(st, env)
    _, _, sp, p, _ = c
    number = _number(p, sp)
    if s.st.state != AgentState.NOT_READY or s.st.calls.calls:
        raise Refused(ScError.ERROR, "error.make_call_state", State=_state_name(s))
    return _one(s, c, "MakeCall", {"Number": number})


def answer(st: SessionState, c: Cmd, env: Env) -> Outcome:
    s = Step(st, env)
    _, _, _, p, _ = c
    call = _call(s, p, states=(CallState.ALERTING,), what="ringing")
    return _one(s, c, "AnswerCall", {"DialogId": call.tracking_id})


def release(st: SessionState, c: Cmd, env: Env) -> Outcome:
    s = Step(st, env)
    _, _, _, p, _ = c
    call = _call(s, p, states=(CallState.ACTIVE, CallState.HELD, CallState.INITIATING,
                         CallState.INITIATED, CallState.ALERTING),
                 what="current", pick=s.st.calls.current)
    return _one(s, c, "ReleaseCall", {"DialogId": call.tracking_id})


def hold(st: SessionState, c: Cmd, env: Env) -> Outcome:
    s = Step(st, env)
    _, _, _, p, _ = c
    call = _call(s, p, states=(CallState.ACTIVE,), what="active")
    return _one(s, c, "HoldCall", {"DialogId": call.tracking_id})


def retrieve(st: SessionState, c: Cmd, env: Env) -> Outcome:
    s = Step(st, env)
    _, _, _, p, _ = c
    call = _call(s, p, states=(CallState.HELD,), what="held")
    return _one(s, c, "RetrieveCall", {"DialogId": call.tracking_id})


def consult(st: SessionState, c: Cmd, env: Env) -> Outcome:
    s = Step(st, env)
    _, _, sp, p, _ = c
    number = _number(p, sp)
    call = _call(s, p, states=(CallState.ACTIVE,), what="active")
    if s.env.driver.ucce and s.st.calls.consult_of(call.tracking_id) is not None:
        raise Refused(ScError.WORK_ITEM_WRONG_STATE, "error.call_state",
                      CallState="already consulting")
    if _is_consult_leg(call):  # consults are placed from the regular call (the toolbar too)
        raise Refused(ScError.WORK_ITEM_WRONG_STATE, "error.call_state",
                      CallState="a consult call")
    return _one(s, c, "ConsultCall", {"Destination": number,
                               "DialogId": call.tracking_id})


def _is_consult_leg(call: Call) -> bool:
    return call.placed and call.call_type == "CONSULT"


def complete(st: SessionState, c: Cmd, env: Env) -> Outcome:
    s = Step(st, env)
    _, name, _, p, _ = c
    tid = p.get("trackingid", "")
    main = s.find_call(tid) if tid else None
    if main is not None and _is_consult_leg(main):
        legs = [main]
    else:  # the consult legs of the chosen call, or of any call
        legs = [c for c in s.st.calls.calls.values() if _is_consult_leg(c)
                and (main is None or c.parent == main.tracking_id)]
    if len(legs) > 1:  # several (UCCX): the one the agent is talking to
        legs = [c for c in legs if c.state == CallState.ACTIVE]
        if len(legs) > 1:
            raise Refused(ScError.WORK_ITEM_WRONG_STATE, "error.which_call")
    consult_leg = legs[0] if legs else None
    if consult_leg is None or consult_leg.state != CallState.ACTIVE:
        raise Refused(ScError.WORK_ITEM_WRONG_STATE, "error.no_call",
                      What="answered consult")
    gc = "TransferCall" if name == "TransferComplete" else "ConferenceCall"
    return _one(s, c, gc, {"Extension": consult_leg.other_party,
                            "DialogId": consult_leg.parent})


def blind_transfer(st: SessionState, c: Cmd, env: Env) -> Outcome:
    s = Step(st, env)
    _, _, sp, p, _ = c
    number = _number(p, sp)
    call = _call(s, p, states=(CallState.ACTIVE,), what="active")
    return _one(s, c, "SingleStepTransfer", {"Destination": number,
                                              "DialogId": call.tracking_id})


def dtmf(st: SessionState, c: Cmd, env: Env) -> Outcome:
    s = Step(st, env)
    _, _, sp, p, _ = c
    digits = _number(p, sp, "digits")
    call = _call(s, p, states=(CallState.ACTIVE,), what="active")
    return _one(s, c, "SendDTMF", {"Digits": digits, "DialogId": call.tracking_id})


def switch(st: SessionState, c: Cmd, env: Env) -> Outcome:
    s = Step(st, env)
    _, name, sp, p, now = c
    tid = p.get("trackingid", "") or sp
    if not tid:
        raise Refused(ScError.ERROR, "error.missing_param", Param="TrackingID")
    target = s.find_call(tid)
    if target.state == CallState.ACTIVE:
        return s.done()
    if target.state != CallState.HELD:
        raise Refused(ScError.WORK_ITEM_WRONG_STATE, "error.call_state",
                      CallState=target.state.lower())
    messages = [("HoldCall", s.encode("HoldCall", {"DialogId": x.tracking_id}, now, name))
                for x in s.st.calls.in_state(CallState.ACTIVE)]
    messages.append(("RetrieveCall", s.encode("RetrieveCall", {"DialogId": tid}, now, name)))
    return s.send(messages, c.cmd, name).done()
