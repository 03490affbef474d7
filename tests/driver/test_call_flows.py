"""Call control and work items through the whole gateway: the callbacks SCS sees, in
order, with the call data Siebel's event handlers filter on."""

from __future__ import annotations

from typing import Any

from .harness import Agent, Rig

CALL = {"action": "inbound-call", "agent": "1001", "ani": "4155550100", "dnis": "8005550100",
        "ced": "12345", "callVariables": {"callVariable1": "1-23456", "callVariable10": "vip"},
        "ecc": {"AccountId": "A-9"}}


def names(cbs: list[dict[str, Any]]) -> list[str]:
    skip = ("ShowStatusText", "CacheCommandInformation", "UpdateObjectInformation")
    return [c["params"]["name"] if c["method"] == "HandleEvent" else c["method"]
            for c in cbs if c["method"] not in skip]


def event(cbs: list[dict[str, Any]], name: str) -> dict[str, Any]:
    found = [c["params"] for c in cbs if c["method"] == "HandleEvent"
             and c["params"]["name"] == name]
    assert found, names(cbs)
    return {**found[-1], "fields": dict(found[-1]["fields"])}


def ready(rig: Rig, *ids: str) -> list[Agent]:
    agents = []
    for i in ids:
        a = rig.logged_in(i, f"20{i[2:]}")
        assert a.invoke("ChangeReadyState") == {"code": 0}
        a.take()
        agents.append(a)
    return agents


def test_inbound_call_ring_answer_hold_retrieve_release() -> None:
    rig = Rig()
    [a] = ready(rig, "1001")
    rig.control(**CALL)
    cbs = a.take()
    assert names(cbs) == ["IndicateNewWorkItem", "EventRinging"]
    tid = cbs[[c["method"] for c in cbs].index("IndicateNewWorkItem")]["params"]["trackingId"]
    ring = event(cbs, "EventRinging")
    assert ring["trackingId"] == tid
    f = ring["fields"]
    assert {k: f[k] for k in ("AgentId", "Extension", "TrackingID", "CallType", "CallState",
                              "ANI", "DNIS", "CED", "CallVariable1", "CallVariable10",
                              "user.AccountId")} == {
        "AgentId": "1001", "Extension": "2001", "TrackingID": tid, "CallType": "INBOUND",
        "CallState": "Ringing", "ANI": "4155550100", "DNIS": "8005550100", "CED": "12345",
        "CallVariable1": "1-23456", "CallVariable10": "vip", "user.AccountId": "A-9"}
    assert f["Timestamp"] == "2025-11-21T04:40:00.000Z"
    assert a.flags["AnswerCall"] == 16 | 8  # enabled, blinking
    assert a.invoke("AnswerCall") == {"code": 0}
    cbs = a.take()
    assert names(cbs) == ["WorkItemStarted", "EventEstablished"]
    started = cbs[0]["params"] if cbs[0]["method"] == "WorkItemStarted" else \
        next(c["params"] for c in cbs if c["method"] == "WorkItemStarted")
    assert started["startTime"] == 1763700000 and started["trackingId"] == tid
    assert a.flags["AnswerCall"] & 2 and not a.flags["HoldCall"] & 2
    assert a.invoke("HoldCall", TrackingID=tid) == {"code": 0}
    assert names(a.take()) == ["WorkItemSuspended", "EventHeld"]
    assert a.invoke("UnHoldCall") == {"code": 0}
    assert names(a.take()) == ["WorkItemResumed", "EventRetrieved"]
    rig.pump(42)
    assert a.invoke("ReleaseCall") == {"code": 0}
    cbs = a.take()
    assert names(cbs)[:2] == ["EventReleased", "WorkItemReleased"]
    released = next(c["params"] for c in cbs if c["method"] == "WorkItemReleased")
    assert released == {"service": a.service, "trackingId": tid, "stopTime": 1763700042}
    assert "EventWrapUp" in names(cbs)  # the sample agent wraps up incoming calls


def test_consult_transfer_pops_the_screen_on_the_consulted_agent() -> None:
    rig = Rig()
    a, b = ready(rig, "1001", "1002")
    rig.control(**CALL)
    a.invoke("AnswerCall")
    a.take()
    assert a.flags["TransferComplete"] & 2
    assert a.invoke("TransferInit", PhoneNumber="2002") == {"code": 0}
    cbs = a.take()
    assert names(cbs) == ["WorkItemSuspended", "EventHeld", "WorkItemStarted", "EventDialing"]
    dialing = event(cbs, "EventDialing")
    main = dialing["fields"]["ParentTrackingID"]
    consult = dialing["trackingId"]
    assert dialing["fields"]["CallType"] == "CONSULT"
    assert next(c["params"]["oldTrackingId"] for c in cbs
                if c["method"] == "WorkItemStarted") == main
    cbs = b.take()
    assert names(cbs) == ["IndicateNewWorkItem", "EventRinging"]
    pop = event(cbs, "EventRinging")["fields"]
    assert (pop["CallType"], pop["ANI"], pop["CallVariable1"], pop["user.AccountId"],
            pop["ParentTrackingID"]) == ("CONSULT", "4155550100", "1-23456", "A-9", main)
    assert b.invoke("AnswerCall") == {"code": 0}
    b.take()
    assert names(a.take()) == ["EventEstablished"]
    assert not a.flags["TransferComplete"] & 2  # a consult call is up
    assert a.invoke("TransferComplete") == {"code": 0}
    cbs = a.take()
    assert names(cbs)[:4] == ["EventReleased", "WorkItemReleased", "EventReleased",
                              "WorkItemReleased"]
    cbs = b.take()
    assert names(cbs) == ["EventReleased", "WorkItemReleased", "WorkItemStarted",
                          "EventPartyChanged"]
    joined = next(c["params"] for c in cbs if c["method"] == "WorkItemStarted")
    assert (joined["trackingId"], joined["oldTrackingId"]) == (main, consult)
    assert event(cbs, "EventPartyChanged")["fields"]["CallType"] == "TRANSFER"


def test_conference_keeps_both_agents_on_the_original_call() -> None:
    rig = Rig()
    a, b = ready(rig, "1001", "1002")
    rig.control(**CALL)
    a.invoke("AnswerCall")
    a.invoke("ConferenceInit", "2002")  # number from the edit box
    b.invoke("AnswerCall")
    a.take()
    b.take()
    assert a.invoke("ConferenceComplete") == {"code": 0}
    cbs = a.take()
    assert names(cbs) == ["EventReleased", "WorkItemReleased", "WorkItemResumed",
                          "EventRetrieved", "EventPartyChanged"]
    assert event(cbs, "EventPartyChanged")["fields"]["CallType"] == "CONFERENCE"
    assert names(b.take())[-1] == "EventPartyChanged"


def test_outbound_call_only_from_not_ready_then_dialing_established() -> None:
    rig = Rig()
    [a] = ready(rig, "1001")
    r = a.invoke("MakeCall", PhoneNumber="4085550199")
    assert r == {"code": 1, "error": "MakeCall needs the Not Ready state; the agent is Ready"}
    a.invoke("ChangeNotReadyState", ReasonCode="1")
    a.take()
    assert a.invoke("MakeCall", "4085550199") == {"code": 0}
    cbs = a.take()
    assert names(cbs) == ["WorkItemStarted", "EventDialing"]
    f = event(cbs, "EventDialing")["fields"]
    assert (f["CallType"], f["CallState"], f["OtherParty"]) == ("OUTBOUND", "Dialing",
                                                                "4085550199")
    assert not a.flags["ReleaseCall"] & 2
    rig.pump(1)  # the far end answers after the simulator's answer delay
    assert names(a.take()) == ["EventEstablished"]
    a.invoke("ReleaseCall")
    cbs = a.take()
    assert names(cbs)[:2] == ["EventReleased", "WorkItemReleased"]


def test_internal_call_is_outbound_for_the_caller_and_inbound_for_the_callee() -> None:
    rig = Rig()
    a = rig.logged_in("1001", "2001")
    b = rig.logged_in("1002", "2002")
    a.invoke("MakeCall", PhoneNumber="2002")
    assert event(a.take(), "EventDialing")["fields"]["CallType"] == "OUTBOUND"
    assert event(b.take(), "EventRinging")["fields"]["CallType"] == "INBOUND"


def test_single_step_transfer_on_ucce_rings_the_target_with_transfer_type() -> None:
    rig = Rig()
    a, b = ready(rig, "1001", "1002")
    rig.control(**CALL)
    a.invoke("AnswerCall")
    a.take()
    assert a.invoke("TransferMute", PhoneNumber="2002") == {"code": 0}
    assert names(a.take())[:2] == ["EventReleased", "WorkItemReleased"]
    f = event(b.take(), "EventRinging")["fields"]
    assert (f["CallType"], f["ANI"], f["CallVariable1"]) == ("TRANSFER", "4155550100",
                                                             "1-23456")


def test_dtmf_and_its_refusal_by_the_gc_come_back_with_the_command_id() -> None:
    rig = Rig()
    [a] = ready(rig, "1001")
    rig.control(**CALL)
    a.invoke("AnswerCall")
    a.take()
    assert a.invoke("SendDTMF", Digits="1234*") == {"code": 0}
    assert rig.sent[-1].body.startswith("1234*,")
    assert names(a.take()) == []  # the GC answers DTMF only when it fails
    assert a.invoke("SendDTMF", Digits="12#") == {
        "code": 1, "error": "SendDTMF: Digits contains a character the telephony link cannot "
                            "carry (, # and | are the Generic Connector's delimiters; a DTMF # "
                            "cannot be sent)"}
    a.invoke("SendDTMF", Digits="9X")
    [err] = [c["params"] for c in a.take() if c["method"] == "HandleError"]
    assert err["cmdTrackId"] == f"c{a.cmd}"
    assert "DTMF digits must be" in err["error"]


def consult_answered() -> tuple[Rig, Agent, Agent]:
    """Agent 1001 on an inbound call, consulting 1002, who has answered."""
    rig = Rig()
    a, b = ready(rig, "1001", "1002")
    rig.control(**CALL)
    a.invoke("AnswerCall")
    a.invoke("TransferInit", PhoneNumber="2002")
    b.invoke("AnswerCall")
    return rig, a, b


def test_switch_calls_holds_the_active_one_and_retrieves_the_chosen_one() -> None:
    _, a, _ = consult_answered()
    cbs = a.take()
    consult = event(cbs, "EventDialing")["trackingId"]
    main = event(cbs, "EventDialing")["fields"]["ParentTrackingID"]
    assert not a.flags["SetCurrentWorkItem"] & 2
    assert a.invoke("SetCurrentWorkItem", TrackingID=main) == {"code": 0}
    cbs = a.take()
    assert names(cbs) == ["WorkItemSuspended", "EventHeld", "WorkItemResumed",
                          "EventRetrieved"]
    assert [c["params"]["trackingId"] for c in cbs if c["method"].startswith("WorkItem")] == \
        [consult, main]


def test_commands_without_tracking_id_never_pick_an_arbitrary_call() -> None:
    _, a, _ = consult_answered()
    a.invoke("HoldCall")  # holds the consult (the only active call)
    a.take()
    r = a.invoke("RetrieveCall")  # two held calls: which one?
    assert r == {"code": 18, "error": "RetrieveCall: several calls qualify; select the call "
                                      "first"}
    r = a.invoke("HoldCall", TrackingID="999")
    assert r == {"code": 13, "error": "HoldCall: no call has the tracking id 999"}
    r = a.invoke("AnswerCall")
    assert r == {"code": 18, "error": "AnswerCall: there is no ringing call"}


def test_uccx_one_regular_call_and_consult_calls() -> None:
    rig = Rig(flavour="uccx")
    a, b = ready(rig, "1001", "1002")
    rig.control(**CALL)
    a.invoke("AnswerCall")
    assert a.invoke("MakeCall", PhoneNumber="5551234") == {
        "code": 1, "error": "MakeCall needs the Not Ready state; the agent is Talking"}
    assert a.invoke("TransferInit", PhoneNumber="2002") == {"code": 0}
    b.invoke("AnswerCall")
    assert a.invoke("TransferComplete") == {"code": 0}
    assert "EventPartyChanged" in names(b.take())


def test_work_item_methods_map_to_call_control() -> None:
    rig = Rig()
    [a] = ready(rig, "1001")
    rig.control(**CALL)
    tid = event(a.take(), "EventRinging")["trackingId"]
    c = a.client
    assert c.call("AcceptWorkItem", service=a.service, trackingId=tid) == {"code": 0}
    assert c.call("SuspendWorkItem", service=a.service, trackingId=tid) == {"code": 0}
    assert c.call("ResumeWorkItem", service=a.service, trackingId=tid) == {"code": 0}
    assert names(a.take()) == ["WorkItemStarted", "EventEstablished", "WorkItemSuspended",
                               "EventHeld", "WorkItemResumed", "EventRetrieved"]
    r = c.call("ReleaseWorkItem", service=a.service, trackingId="nope")
    assert r["code"] == 13
    r = c.call("HandleQueuedWorkItem", service=a.service, name="x", fields=[], trackingId="1")
    assert r["code"] == 2 and "Universal Queuing" in r["error"]
    assert c.call("ReleaseWorkItem", service=a.service, trackingId=tid) == {"code": 0}


def test_notify_when_done_handshake_and_timeout_never_block_the_agent() -> None:
    rig = Rig()
    a = rig.logged_in(params=[("NotifyWhenDone", "TRUE"), ("NotifyTimeoutSeconds", "5")])
    a.invoke("ChangeReadyState")
    rig.control(**CALL)
    ring = event(a.take(), "EventRinging")
    assert ring["notifyWhenDone"] is True
    c = a.client
    assert c.call("NotifyEventHandlingFinished", service=a.service,
                  trackingId=ring["trackingId"], result=True) == {"code": 0}
    r = c.call("NotifyEventHandlingFinished", service=a.service,
               trackingId=ring["trackingId"], result=True)
    assert r["code"] == 13
    a.invoke("ReleaseCall")
    a.invoke("ChangeReadyState")
    a.take()
    rig.control(**CALL)
    a.take()
    rig.pump(6)  # SCS never answers: logged, and the call goes on
    assert a.invoke("AnswerCall") == {"code": 0}


def test_reset_timer_on_wrap_up_restarts_the_work_item() -> None:
    rig = Rig()
    a = rig.logged_in(params=[("ResetTimerOnWrapUp", "TRUE")])
    a.invoke("ChangeReadyState")
    rig.control(**CALL)
    a.invoke("AnswerCall")
    tid = event(a.take(), "EventEstablished")["trackingId"]
    a.invoke("ReleaseCall")
    cbs = a.take()
    assert names(cbs) == ["EventReleased", "WorkItemReleased", "EventWrapUp",
                          "WorkItemStarted", "EventAgentWorkReady"]
    started = next(c["params"] for c in cbs if c["method"] == "WorkItemStarted")
    assert (started["trackingId"], started["oldTrackingId"]) == (f"{tid}-wrapup", tid)
    a.invoke("ChangeReadyState")
    cbs = a.take()
    assert names(cbs) == ["WorkItemReleased", "EventAgentReady"]


def two_consults(flavour: str) -> tuple[Rig, Agent, Agent, Agent, str, str]:
    """1001 on a call consults 1002 (answered), goes back to the caller (SetCurrentWorkItem
    holds the consult), and asks for a second consult."""
    rig = Rig(flavour=flavour)
    a, b, c = ready(rig, "1001", "1002", "1003")
    rig.control(**CALL)
    a.invoke("AnswerCall")
    assert a.invoke("TransferInit", PhoneNumber="2002") == {"code": 0}
    first = event(a.take(), "EventDialing")
    main, consult1 = first["fields"]["ParentTrackingID"], first["trackingId"]
    assert b.invoke("AnswerCall") == {"code": 0}
    a.take()
    assert a.flags["TransferInit"] & 2  # talking to the consulted agent: no consult from it
    r = a.invoke("TransferInit", PhoneNumber="2003")
    assert r["code"] == 18
    assert a.invoke("SetCurrentWorkItem", TrackingID=main) == {"code": 0}
    a.take()
    return rig, a, b, c, main, consult1


def test_uccx_one_regular_call_and_several_consult_calls_then_transfer_to_either() -> None:
    rig, a, b, c, main, consult1 = two_consults("uccx")
    assert not a.flags["TransferInit"] & 2 and not a.flags["ConferenceInit"] & 2
    assert a.invoke("ConferenceInit", PhoneNumber="2003") == {"code": 0}
    consult2 = event(a.take(), "EventDialing")["trackingId"]
    assert consult2 not in (main, consult1)
    assert c.invoke("AnswerCall") == {"code": 0}
    a.take()
    # Three calls: the caller and the first consult held, the second consult active.
    assert a.flags["TransferInit"] & 2
    assert not a.flags["TransferComplete"] & 2
    # Without TrackingID, completing acts on the consult the agent is talking to.
    assert a.invoke("TransferComplete") == {"code": 0}
    assert rig.sent[-1].type == "TransferCall#1001"
    assert rig.sent[-1].body == f"2003,{main}"
    assert event(c.take(), "EventPartyChanged")["fields"]["CallType"] == "TRANSFER"
    # The first consult is still there, held; 1001 picks it up and ends it.
    assert a.invoke("RetrieveCall", TrackingID=consult1) == {"code": 0}
    assert a.invoke("ReleaseCall") == {"code": 0}
    assert "EventReleased" in names(b.take())


def test_uccx_a_consult_is_placed_from_the_regular_call_not_from_a_consult() -> None:
    _, a, _, _, _, consult1 = two_consults("uccx")
    a.invoke("SetCurrentWorkItem", TrackingID=consult1)
    a.take()
    r = a.invoke("TransferInit", PhoneNumber="2003", TrackingID=consult1)
    assert r == {"code": 18, "error": "TransferInit: the call is a consult call"}


def test_ucce_keeps_one_consult_per_call() -> None:
    a = two_consults("ucce")[1]
    assert a.flags["TransferInit"] & 2
    r = a.invoke("TransferInit", PhoneNumber="2003")
    assert r == {"code": 18, "error": "TransferInit: the call is already consulting"}
