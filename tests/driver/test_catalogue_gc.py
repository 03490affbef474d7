"""A GC that sends only what the public event catalogue documents (issue 13 item 1): no
field of ours in any event, trailing ones left out.  A whole shift still works."""

from __future__ import annotations

from typing import Any

import pytest

from siebel_gateway.core.broker_messages import BrokerMessage

from .harness import DIALECT, Agent, Rig

CALL = {"action": "inbound-call", "agent": "1001", "ani": "4155550100", "dnis": "8005550100",
        "callVariables": {"callVariable1": "1-23456"}}


def handle_events(a: Agent) -> list[tuple[str, dict[str, str]]]:
    return [(c["params"]["name"], dict(c["params"]["fields"])) for c in a.take()
            if c["method"] == "HandleEvent"]


def one(events: list[tuple[str, dict[str, str]]], name: str) -> dict[str, str]:
    found = [f for n, f in events if n == name]
    assert found, [n for n, _ in events]
    return found[-1]


def catalogue_form(body: str) -> bool:
    """Nothing but catalogue fields: the event stops after its last one, others empty."""
    parts = body.split(DIALECT.event_separator)
    shape = DIALECT.events[parts[1]]
    return len(parts) == shape.catalogue_width and all(
        not value for position, value in enumerate(parts)
        if position >= 2 and position not in shape.catalogue)


@pytest.mark.parametrize("flavour", ["ucce", "uccx"])
def test_a_whole_shift_against_a_gc_that_sends_only_catalogue_fields(flavour: str) -> None:
    rig = Rig(flavour=flavour, catalogue_only=True)
    seen: list[str] = []
    tap = rig.broker.link()
    tap.subscribe("/topic/gw1", lambda m: seen.append(m.body))
    tap.start()
    params = [("NotReadyReasonRequired", "TRUE"), ("LogoutReasonRequired", "TRUE")]
    a = rig.agent(params=params)
    assert a.invoke("LogIn", AgentId="1001", AgentPin="secret1001", Extension="2001") == {
        "code": 0}
    rig.pump()
    events = handle_events(a)
    assert one(events, "EventAgentLogin")["AgentState"] == "NOT_READY"
    assert one(events, "EventAgentInfo")["FullName"] == "Chris Smith"
    lists = {f["Category"]: f["Codes"] for n, f in events if n == "EventReasonCodes"}
    assert lists == {"NOT_READY": "1,2,3,4", "LOGOUT": "10,11",
                     "WRAP_UP": "Sales Call,Support,Complaint"}
    b = rig.logged_in("1002", "2002")
    assert b.invoke("ChangeReadyState") == {"code": 0}
    assert a.invoke("ChangeReadyState") == {"code": 0}
    assert one(handle_events(a), "EventAgentReady")["AgentState"] == "READY"

    # An inbound call: ring, answer, hold, retrieve.
    rig.control(**CALL)
    ring = one(handle_events(a), "EventRinging")
    assert (ring["ANI"], ring["CallType"]) == ("4155550100", "INBOUND")
    main = ring["TrackingID"]
    assert a.invoke("AnswerCall") == {"code": 0}
    assert "EventEstablished" in [n for n, _ in handle_events(a)]
    assert a.invoke("HoldCall") == {"code": 0}
    assert one(handle_events(a), "EventHeld")["TrackingID"] == main
    assert not a.flags["RetrieveCall"] & 2
    assert a.invoke("RetrieveCall") == {"code": 0}
    assert one(handle_events(a), "EventRetrieved")["TrackingID"] == main

    # Consult 1002 and transfer the call to it.
    assert a.invoke("TransferInit", PhoneNumber="2002") == {"code": 0}
    dialing = one(handle_events(a), "EventDialing")
    assert dialing["ParentTrackingID"] == main  # inferred: the GC sent no parent
    assert a.flags["AnswerCall"] & 2  # our own consult is dialling, not ringing at us
    assert b.invoke("AnswerCall") == {"code": 0}
    b.take()
    assert a.invoke("TransferComplete") == {"code": 0}
    assert rig.sent[-1].body == f"2002,{main}"
    events = handle_events(a)
    released = [f["TrackingID"] for n, f in events if n == "EventReleased"]
    assert sorted(released) == sorted([main, dialing["TrackingID"]])
    wrap = one(events, "EventWrapUp")
    assert (wrap["TrackingID"], wrap["AgentState"]) == (
        main, "WORK_READY" if flavour == "ucce" else "WORK")
    assert one(handle_events(b), "EventEstablished")["TrackingID"] == main

    # Wrap-up, a reason, then Not Ready with a reason, shown with its label.
    assert a.invoke("SetWrapUpReason", "Support") == {"code": 0}
    assert rig.sent[-1].body == f"{main},Support"
    assert a.invoke("ChangeNotReadyState", ReasonCode="2") == {"code": 0}
    nr = one(handle_events(a), "EventAgentNotReady")
    assert (nr["AgentState"], nr["ReasonCode"], nr["ReasonLabel"]) == ("NOT_READY", "2",
                                                                       "Lunch")

    # An outbound call, the far end answers, the agent hangs up.
    assert a.invoke("MakeCall", PhoneNumber="5551234") == {"code": 0}
    assert a.flags["AnswerCall"] & 2
    rig.pump(1)
    out = one(handle_events(a), "EventEstablished")
    assert a.invoke("ReleaseCall") == {"code": 0}
    assert one(handle_events(a), "EventReleased")["TrackingID"] == out["TrackingID"]

    # A GC refusal reaches the agent against the command that caused it.
    rig.control(action="cti-error", agent="1001", code="34")
    assert a.invoke("ChangeReadyState") == {"code": 0}
    errors = [c["params"] for c in a.take() if c["method"] == "HandleError"]
    assert [e["cmdTrackId"] for e in errors] == [f"c{a.cmd}"]

    # Logout with a reason.
    assert a.invoke("LogOut", ReasonCode="10") == {"code": 0}
    assert one(handle_events(a), "EventAgentLogout")["AgentState"] == "LOGOUT"

    assert rig.codec.rejected == {}
    assert seen and all(catalogue_form(body) for body in seen), [
        body for body in seen if not catalogue_form(body)]
    assert any("#InboundCall#HELD#" in body for body in seen)


def test_the_catalogue_form_is_what_the_simulator_option_sends() -> None:
    rig = Rig(catalogue_only=True)
    seen: list[Any] = []
    tap = rig.broker.link()
    tap.subscribe("/topic/gw1", seen.append)
    tap.start()
    rig.logged_in()
    bodies = [m.body for m in seen if isinstance(m, BrokerMessage)]
    assert "1001#State#NOT_READY#-1####Chris Smith##2001" in bodies
    assert "system#IN_SERVICE" in bodies
    assert "1001#ReasonCodes##Sales Call,Support,Complaint#Sales Call,Support,Complaint" \
        in bodies
