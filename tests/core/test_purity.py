"""Every rule of the table is a pure function of (state, input, env): called twice on the
same arguments it returns equal outcomes, it leaves the state it was given, the session
and the gateway's agent registry as they were, and the state it returns holds nothing
mutable.  Sessions are brought into each phase through the core's own inputs (with calls,
commands awaiting answers, reason lists, an event awaiting NotifyEventHandlingFinished,
held commands), then each rule of that phase is called directly."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable
from types import MappingProxyType
from typing import Any

import pytest

from siebel_gateway.core import commands as c
from siebel_gateway.core.agent import AgentSession
from siebel_gateway.core.effects import Key
from siebel_gateway.core.machine import TRANSITIONS, Input
from siebel_gateway.core.state import Phase, Refused, Secret, SessionState
from siebel_gateway.core.step import Outcome
from siebel_gateway.gc.codec import FieldValue, GcEvent

from .driver import DIALECT, CoreDriver

NOW = 1_763_700_100.0


def _immutable(value: object, where: str) -> None:
    """Fails naming the first mutable thing inside ``value``."""
    if value is None or isinstance(value, str | int | float | bool | enum.Enum | Secret):
        return
    if isinstance(value, tuple | frozenset):
        for i, x in enumerate(value):
            _immutable(x, f"{where}[{i}]")
        return
    if isinstance(value, MappingProxyType):
        for k, v in value.items():
            _immutable(v, f"{where}[{k!r}]")
        return
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        assert type(value).__dataclass_params__.frozen, f"{where} is a mutable dataclass"  # type: ignore[attr-defined]
        for f in dataclasses.fields(value):
            _immutable(getattr(value, f.name), f"{where}.{f.name}")
        return
    raise AssertionError(f"{where} is mutable: {type(value).__name__}")


def _event(d: CoreDriver, name: str, agent: str, **values: FieldValue) -> GcEvent:
    """As the codec decodes it (AgentInfo is built by hand: its catalogue has lists)."""
    if name == "AgentInfo":
        return GcEvent(name, agent, values)
    return d.codec.decode(d.codec.encode_event(name, agent, values))


def _sessions() -> list[tuple[str, CoreDriver, AgentSession]]:
    """Services in every phase, some with a lot going on."""
    out = []
    d = CoreDriver()
    d.available()
    out.append(("signed out", d, d.core.services[d.service("1009", "2009")]))
    svc = d.service("1002", "2002")
    d.request("InvokeCommand", service=svc, cmdTrackId="l", name="LogIn",
              params=[["AgentPin", "pin"]])
    out.append(("awaiting service", d, d.core.services[svc]))

    d = CoreDriver()
    d.available()
    svc = d.service("1003", "2003")
    d.request("InvokeCommand", service=svc, cmdTrackId="l", name="LogIn",
              params=[["AgentPin", "pin"]])
    d.gc("IN_SERVICE", DIALECT.system_agent, Reason="up")
    out.append(("logging in", d, d.core.services[svc]))

    d = CoreDriver()
    d.available()
    driver, _ = d.request("CreateISCDriverInstance", mediaType="Voice", language="ENU",
                          params=[["Flavour", "UCCE"], ["NotifyWhenDone", "TRUE"],
                                  ["WrapUpReasonRequired", "TRUE"]])
    answer, _ = d.request("RequestService", driver=driver["result"]["driver"],
                          params=[["AgentId", "1001"], ["Extension", "2001"]])
    svc = answer["result"]["service"]
    d.gc("State", "1001", State="LOGOUT", ReasonCode=-1)
    d.request("InvokeCommand", service=svc, cmdTrackId="l", name="LogIn",
              params=[["AgentPin", "pin"]])
    d.gc("IN_SERVICE", DIALECT.system_agent, Reason="up")
    d.gc("State", "1001", State="NOT_READY", ReasonCode=-1)
    d.gc("ReasonCodes", "1001", Category="NOT_READY", Codes=("1", "2"), Labels=("Lunch", "Break"))
    d.gc("NewInboundCall", "1001", DialogId="d1", ANI="5551")
    d.gc("DialogStatus", "1001", DialogId="d1", DialogState="ACTIVE", ParticipantState="ACTIVE")
    d.gc("NewInboundCall", "1001", DialogId="d2", ANI="5552")
    d.request("InvokeCommand", service=svc, cmdTrackId="h", name="HoldCall",
              params=[["TrackingID", "d1"]])
    out.append(("signed in, two calls", d, d.core.services[svc]))

    d = CoreDriver()
    d.available()
    driver, _ = d.request("CreateISCDriverInstance", mediaType="Voice", language="ENU",
                          params=[["Flavour", "UCCE"]])
    answer, _ = d.request("RequestService", driver=driver["result"]["driver"],
                          params=[["AgentId", "1005"], ["Extension", "2005"]])
    svc = answer["result"]["service"]  # a restarted gateway's probe (core/recover.py) ...
    d.request("InvokeCommand", service=svc, cmdTrackId="l", name="LogIn",
              params=[["AgentPin", "pin"]])
    out.append(("signed out, LogIn waiting for the probe", d, d.core.services[svc]))
    answer, _ = d.request("RequestService", driver=driver["result"]["driver"],
                          params=[["AgentId", "1006"], ["Extension", "2006"]])
    svc = answer["result"]["service"]
    d.gc("State", "1006", State="READY", ReasonCode=-1)
    out.append(("taken over from the GC, no password", d, d.core.services[svc]))

    d = CoreDriver()
    d.available()
    svc = d.logged_in("1004", "2004")
    d.gc("NewInboundCall", "1004", DialogId="d3", ANI="5553")
    d.link(False)
    d.available()  # the resync: Connect + Login again
    d.request("InvokeCommand", service=svc, cmdTrackId="r", name="ChangeReadyState")  # held
    out.append(("signed in, resyncing", d, d.core.services[svc]))
    return out


def _inputs(d: CoreDriver, s: AgentSession) -> dict[str | Input, tuple[Any, ...]]:
    """One input of each kind the table knows, aimed at ``s``'s state."""
    agent = s.agent_id or "1001"
    calls = list(s.calls.calls)
    tid = calls[0] if calls else "d9"
    seq = str(s.st.pending[0].seq) if s.st.pending else "1"
    held = str(s.st.held[0].seq) if s.st.held else "1"
    notified = next(iter(s.st.notify_waiting), "d1")
    p = c.params
    cmds: dict[str | Input, tuple[Any, ...]] = {
        name: (c.Cmd("t1", name, "", p(params), NOW),) for name, params in (
            ("LogIn", [("AgentId", agent), ("AgentPin", "pin"), ("Extension", "2001")]),
            ("LogOut", []), ("ChangeReadyState", []),
            ("ChangeNotReadyState", [("ReasonCode", "1")]),
            ("ChangeWorkReadyState", []), ("SetWrapUpReason", [("ReasonCode", "1")]),
            ("MakeCall", [("PhoneNumber", "5559")]), ("AnswerCall", [("TrackingID", tid)]),
            ("ReleaseCall", [("TrackingID", tid)]), ("HoldCall", [("TrackingID", tid)]),
            ("RetrieveCall", []), ("UnHoldCall", []), ("TransferInit", [("PhoneNumber", "5559")]),
            ("ConferenceInit", [("PhoneNumber", "5559")]), ("TransferComplete", []),
            ("ConferenceComplete", []), ("TransferMute", [("PhoneNumber", "5559")]),
            ("SendDTMF", [("Digits", "12")]), ("SetCurrentWorkItem", [("TrackingID", tid)]))}
    return {
        **cmds,
        Input.STATE: (_event(d, "State", agent, State="READY", ReasonCode=-1), NOW),
        Input.ERROR: (_event(d, "Error", agent, ErrorType="Generic Error", Message="no",
                             ErrorCode="E1", Command="HoldCall"), NOW),
        Input.AGENT_INFO: (_event(d, "AgentInfo", agent, FirstName="Ann", LastName="Lee",
                                       IsSupervisor=False), NOW),
        Input.REASON_CODES: (_event(d, "ReasonCodes", agent, Category="LOGOUT", Codes=("9",),
                                    Labels=("Home",)), NOW),
        Input.CALL_EVENT: (_event(d, "DialogStatus", agent, DialogId=tid, DialogState="DROPPED",
                                  ParticipantState="DROPPED"), NOW),
        Input.SERVICE: (_event(d, "IN_SERVICE", DIALECT.system_agent, Reason="up"), NOW),
        Input.LINK_LOST: ("status.link_down", NOW),
        Input.LINK_BACK: (NOW,),
        Input.COMMAND_TIMEOUT: (Key(s.handle, "cmd", seq), NOW),
        Input.NOTIFY_TIMEOUT: (Key(s.handle, "notify", notified), NOW),
        Input.HELD_TIMEOUT: (Key(s.handle, "held", held), NOW),
        Input.PUBLISH_FAILED: (Key(s.handle, "cmd", seq), "broker gone"),
        Input.NOTIFY_FINISHED: (notified,),
        Input.RELEASE: (NOW,),
        Input.GC_SWITCH: ("Connector1", "Connector2", NOW),
    }


def _call(handler: Callable[..., Outcome], st: SessionState, args: tuple[Any, ...],
          s: AgentSession) -> Outcome | tuple[int, str, dict[str, object]]:
    try:
        return handler(st, *args, s.env)
    except Refused as exc:  # a refusal is a pure answer too
        return (int(exc.code), exc.key, exc.values)


SESSIONS = _sessions()


def test_the_sessions_cover_every_phase() -> None:
    assert {s.phase for _, _, s in SESSIONS} == set(Phase)


@pytest.mark.parametrize(("name", "d", "s"), SESSIONS, ids=[n for n, _, _ in SESSIONS])
def test_every_rule_is_a_pure_function_of_state_input_and_env(
        name: str, d: CoreDriver, s: AgentSession) -> None:
    st = s.st
    _immutable(st, "state")
    inputs = _inputs(d, s)
    rows = [(what, rule) for (phase, what), rule in TRANSITIONS.items() if phase is st.phase]
    assert rows
    for what, rule in rows:
        before, agents, out = repr(st), dict(d.core.agents), list(s.out)
        first = _call(rule.handler, st, inputs[what], s)
        second = _call(rule.handler, st, inputs[what], s)
        assert first == second, what
        assert repr(st) == before and s.st is st, f"{what} changed the state it was given"
        assert dict(d.core.agents) == agents and s.out == out, f"{what} changed the gateway"
        if isinstance(first, Outcome):
            _immutable(first.state, f"{what} -> state")
            assert first.state.phase in rule.may_lead_to, what


def test_a_rule_that_changes_something_returns_a_new_state() -> None:
    """The check above is not empty: rules do change the state they return."""
    _, d, s = SESSIONS[3]
    inputs = _inputs(d, s)
    rule = TRANSITIONS[s.phase, Input.CALL_EVENT]
    outcome = rule.handler(s.st, *inputs[Input.CALL_EVENT], s.env)
    assert outcome.state.calls != s.st.calls and outcome.callbacks
    assert s.st.calls.calls  # the session still holds the call until the machine applies
