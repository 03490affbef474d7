"""The simulator as a GC client sees it, with exact event sequences (finesse.md 1-3)."""

from __future__ import annotations

import pytest

from siebel_gateway.crypto import decrypt_password, encrypt_password, parse_key
from siebel_gateway.gc.codec import GcEvent

from .harness import Sim, brief

KEY = parse_key("0123456789abcdeffedcba98765432100011223344556677", "test key")


def test_hello_gets_in_service_and_login_gives_info_and_not_ready() -> None:
    sim = Sim()
    assert brief(sim.send("Hello")) == ["IN_SERVICE system"]
    events = sim.login("1001")
    assert brief(events) == ["AgentInfo 1001", "State 1001 NOT_READY"]
    info, state = events
    assert (info.fields["FullName"], info.fields["Teams"], info.fields["WrapUpMode"]) == (
        "Chris Smith", ("Sales",), "OPTIONAL")
    assert (state.fields["ReasonCode"], state.fields["ReasonCodeId"],
            state.fields["Extension"]) == (-1, -1, "2001")


@pytest.mark.parametrize(("values", "error"), [
    ({"Password": "wrong", "Extension": "2001"}, "Authorization Failure: wrong password"),
    ({"Password": "secret1001", "Extension": ""}, "Parameter Missing: extension is missing"),
    ({"Password": "secret1001", "Extension": "9999"},
     "Invalid Device: extension 9999 does not exist"),
    ({"Password": "secret1001", "Extension": "+14155550100"},
     "Invalid Device: UCCE cannot sign in on E.164 extension"),
])
def test_login_failures(values: dict[str, str], error: str) -> None:
    sim = Sim()
    sim.send("Connect", AgentId="1001", Password="x")
    [event] = sim.send("Login", AgentId="1001", **values)
    assert brief([event])[0].startswith(f"Error 1001 {error}")
    assert event.fields["Command"] == "Login"


def test_device_busy_and_injected_faults() -> None:
    sim = Sim()
    sim.login("1001")
    sim.send("Connect", AgentId="1002", Password="x")
    [busy] = sim.send("Login", AgentId="1002", Password="secret1002", Extension="2001")
    assert brief([busy]) == ["Error 1002 Device Busy: extension 2001 is in use by agent 1001"]
    assert sim.control(action="invalid-extension", extension="2002")[0]["ok"]
    [bad] = sim.send("Login", AgentId="1002", Password="secret1002", Extension="2002")
    assert bad.fields["ErrorType"] == "Invalid Device"
    assert sim.control(action="cti-error", agent="1001", code="34")[0]["ok"]
    [cti] = sim.send("MakeReady", AgentId="1001")
    assert (cti.fields["ErrorType"], cti.fields["ErrorCode"]) == ("Call Operation Failure", "34")
    assert brief(sim.send("MakeReady", AgentId="1001")) == ["State 1001 READY"]


def test_encrypted_password_is_decrypted_by_the_simulator() -> None:
    sim = Sim(decrypt=lambda token: decrypt_password(token, KEY))
    token = encrypt_password("secret1001", KEY)
    sim.send("Connect", AgentId="1001", Password=token)
    assert brief(sim.send("Login", AgentId="1001", Password=token, Extension="2001"))[-1] == \
        "State 1001 NOT_READY"
    other = encrypt_password("secret1001", parse_key("00" * 8 + "11" * 8, "k2"))
    [err] = sim.send("Login", AgentId="1001", Password=other, Extension="2001")
    assert err.fields["ErrorType"] == "Authorization Failure"


def test_not_ready_reasons_ids_versus_codes_and_logout_rules() -> None:
    sim = Sim()
    sim.login("1001", ready=True)
    [err] = sim.send("MakeNotReady", AgentId="1001")
    assert err.fields["ErrorCode"] == "finesse.api.reasoncode.require_reasoncode"
    [state] = sim.send("MakeNotReadyWithReason", AgentId="1001", ReasonCode="2")
    assert (state.fields["State"], state.fields["ReasonCode"], state.fields["ReasonLabel"],
            state.fields["ReasonCodeId"]) == ("NOT_READY", 2, "Lunch", 12)
    [again] = sim.send("MakeNotReadyWithReason", AgentId="1001", ReasonCode="3")
    assert again.fields["ReasonLabel"] == "Meeting"  # NOT_READY -> NOT_READY
    [bad] = sim.send("MakeNotReadyWithReason", AgentId="1001", ReasonCode="12")
    assert bad.fields["Message"] == "12 is not a NOT_READY reason code"  # an id is not a code
    sim.send("MakeReady", AgentId="1001")
    [refused] = sim.send("Logout", AgentId="1001", ReasonCode="10")
    assert refused.text("Message").startswith("LOGOUT is not allowed from READY on UCCE")
    sim.send("MakeNotReadyWithReason", AgentId="1001", ReasonCode="1")
    [out] = sim.send("Logout", AgentId="1001", ReasonCode="10")
    assert (out.fields["State"], out.fields["ReasonLabel"]) == ("LOGOUT", "End of Shift")


def test_uccx_allows_logout_from_ready() -> None:
    sim = Sim(flavour="uccx")
    sim.login("1001", ready=True)
    assert brief(sim.send("Logout", AgentId="1001", ReasonCode="11")) == \
        ["State 1001 LOGOUT code=11"]


def inbound(sim: Sim, agent: str | None = None) -> tuple[str, list[GcEvent]]:
    reply, events = sim.control(action="inbound-call", agent=agent, ani="4155550100",
                                dnis="8005550100", ced="12345",
                                callVariables={"callVariable1": "1-23456"},
                                ecc={"AccountId": "A-9"})
    assert reply["ok"], reply
    return str(reply["dialogId"]), events


def test_inbound_call_answer_hold_retrieve_release_wrap_up_ucce() -> None:
    sim = Sim()
    sim.login("1001", ready=True)
    d, ringing = inbound(sim)
    assert brief(ringing) == ["State 1001 RESERVED", f"NewInboundCall 1001 {d} ACD_IN"]
    new = ringing[1].fields
    assert (new["ANI"], new["DNIS"], new["CED"], new["CallData"]) == (
        "4155550100", "8005550100", "12345",
        (("callVariable1", "1-23456"), ("user.AccountId", "A-9")))
    assert brief(sim.send("AnswerCall", AgentId="1001", DialogId=d)) == [
        f"InboundCall 1001 {d} ACTIVE ACTIVE ACD_IN", "State 1001 TALKING"]
    assert brief(sim.send("HoldCall", AgentId="1001", DialogId=d)) == [
        f"InboundCall 1001 {d} HELD HELD ACD_IN", "State 1001 HOLD"]
    assert brief(sim.send("RetrieveCall", AgentId="1001", DialogId=d)) == [
        f"InboundCall 1001 {d} ACTIVE ACTIVE ACD_IN", "State 1001 TALKING"]
    assert brief(sim.send("ReleaseCall", AgentId="1001", DialogId=d)) == [
        f"InboundCall 1001 {d} DROPPED DROPPED ACD_IN", "State 1001 WORK_READY"]
    [status] = sim.send("UpdateCallData", AgentId="1001", DialogId=d, WrapUpReason="Sales Call")
    assert (status.name, status.fields["WrapUpReason"]) == ("DialogStatus", "Sales Call")
    assert brief(sim.advance(59)) == []
    assert brief(sim.advance(1)) == ["State 1001 READY"]  # the wrap-up timer (60 s)


def test_uccx_hold_keeps_talking_and_wrap_up_is_work() -> None:
    sim = Sim(flavour="uccx")
    sim.login("1001", ready=True)
    d, _ = inbound(sim)
    sim.send("AnswerCall", AgentId="1001", DialogId=d)
    assert brief(sim.send("HoldCall", AgentId="1001", DialogId=d)) == [
        f"InboundCall 1001 {d} HELD HELD ACD_IN"]
    sim.send("RetrieveCall", AgentId="1001", DialogId=d)
    assert brief(sim.send("ReleaseCall", AgentId="1001", DialogId=d))[-1] == "State 1001 WORK"


def test_pending_states_during_a_call() -> None:
    sim = Sim()
    sim.login("1001", ready=True)
    d, _ = inbound(sim)
    sim.send("AnswerCall", AgentId="1001", DialogId=d)
    assert brief(sim.send("MakeNotReadyWithReason", AgentId="1001", ReasonCode="1")) == [
        "State 1001 TALKING code=1 pending=NOT_READY"]
    sim.send("MakeNotReadyWithReason", AgentId="1001", ReasonCode="2")  # UCCE: last one wins
    [end] = sim.send("ReleaseCall", AgentId="1001", DialogId=d)[1:]
    assert (end.fields["State"], end.fields["ReasonLabel"], end.fields["PendingState"]) == (
        "WORK", "Lunch", "")
    assert brief(sim.advance(60)) == ["State 1001 NOT_READY code=2"]

    x = Sim(flavour="uccx")
    x.login("1001", ready=True)
    d, _ = inbound(x)
    x.send("AnswerCall", AgentId="1001", DialogId=d)
    [err] = x.send("MakeReady", AgentId="1001")
    assert (err.fields["ErrorType"], err.fields["ErrorCode"]) == ("Invalid State", "265")
    x.send("MakeNotReadyWithReason", AgentId="1001", ReasonCode="1")
    [again] = x.send("MakeNotReadyWithReason", AgentId="1001", ReasonCode="2")
    assert again.text("Message").startswith("the pending NOT_READY reason can be set only once")


def test_work_ready_during_a_call_is_ucce_only() -> None:
    sim = Sim()
    sim.login("1004", ready=True)  # 1004: wrapUpOnIncoming NOT_ALLOWED
    d, _ = inbound(sim)
    sim.send("AnswerCall", AgentId="1004", DialogId=d)
    sim.send("MakeWorkReady", AgentId="1004")
    assert brief(sim.send("ReleaseCall", AgentId="1004", DialogId=d))[-1] == \
        "State 1004 WORK_READY"
    x = Sim(flavour="uccx")
    x.login("1001", ready=True)
    [err] = x.send("MakeWorkReady", AgentId="1001")
    assert err.fields["Message"] == "UCCX has no WORK_READY state"


def test_rona_parks_the_agent_not_ready() -> None:
    for flavour, code in (("ucce", 32767), ("uccx", 32763)):
        sim = Sim(flavour=flavour)
        sim.login("1001", ready=True)
        d, _ = inbound(sim)
        assert brief(sim.advance(15)) == [f"InboundCall 1001 {d} DROPPED DROPPED ACD_IN",
                                          f"State 1001 NOT_READY code={code}"]


def test_consult_transfer_carries_the_call_data_to_the_consulted_agent() -> None:
    sim = Sim()
    sim.login("1001", ready=True)
    sim.login("1002")
    d1, _ = inbound(sim, "1001")
    sim.send("AnswerCall", AgentId="1001", DialogId=d1)
    events = sim.send("ConsultCall", AgentId="1001", Destination="2002", DialogId=d1)
    d2 = events[1].text("DialogId")
    assert brief(events) == [f"InboundCall 1001 {d1} HELD HELD PREROUTE_DIRECT_AGENT",
                             f"ConsultCall 1001 {d2} INITIATED INITIATED",
                             f"ConsultCall 1001 {d2} ALERTING INITIATED",
                             f"NewInboundCall 1002 {d2} CONSULT"]
    pop = events[3].fields
    assert (pop["ANI"], pop["CED"], pop["CallData"], pop["ParentDialogId"]) == (
        "4155550100", "12345", (("callVariable1", "1-23456"), ("user.AccountId", "A-9")), d1)
    assert brief(sim.send("AnswerCall", AgentId="1002", DialogId=d2)) == [
        f"ConsultCall 1001 {d2} ACTIVE ACTIVE",
        f"InboundCall 1002 {d2} ACTIVE ACTIVE CONSULT", "State 1002 TALKING"]
    events = sim.send("TransferCall", AgentId="1001", Extension="2001", DialogId=d1)
    assert brief(events) == [
        f"ConsultCall 1001 {d2} DROPPED DROPPED",
        f"InboundCall 1002 {d2} DROPPED DROPPED CONSULT",
        f"InboundCall 1001 {d1} DROPPED DROPPED TRANSFER",
        f"InboundCall 1002 {d1} ACTIVE ACTIVE TRANSFER",
        "State 1001 WORK_READY"]
    assert events[3].fields["SecondaryId"] == d2  # the consulted agent re-keys its call
    # 1001 was told its leg dropped at the transfer and hears nothing more of the call.
    assert brief(sim.send("ReleaseCall", AgentId="1002", DialogId=d1)) == [
        f"InboundCall 1002 {d1} DROPPED DROPPED TRANSFER", "State 1002 WORK"]


def test_transfer_needs_an_answered_consult_and_conference_has_a_limit() -> None:
    sim = Sim()
    for agent in ("1001", "1002", "1003", "1005"):
        sim.login(agent)
    sim.send("MakeReady", AgentId="1001")
    d1, _ = inbound(sim, "1001")
    sim.send("AnswerCall", AgentId="1001", DialogId=d1)
    [err] = sim.send("TransferCall", AgentId="1001", Extension="2001", DialogId=d1)
    assert err.fields["Message"] == f"dialog {d1} has no answered consult call"
    for target in ("1002", "1003"):
        events = sim.send("ConsultCall", AgentId="1001", Destination=str(int(target) + 1000),
                          DialogId=d1)
        d2 = next(e for e in events if e.name == "ConsultCall").text("DialogId")
        sim.send("AnswerCall", AgentId=target, DialogId=d2)
        conf = sim.send("ConferenceCall", AgentId="1001", Extension="2001", DialogId=d1)
        assert brief(conf)[-1].endswith("ACTIVE ACTIVE CONFERENCE")
    events = sim.send("ConsultCall", AgentId="1001", Destination="2005", DialogId=d1)
    d3 = next(e for e in events if e.name == "ConsultCall").text("DialogId")
    sim.send("AnswerCall", AgentId="1005", DialogId=d3)
    [full] = sim.send("ConferenceCall", AgentId="1001", Extension="2001", DialogId=d1)
    assert full.fields["Message"] == "a conference holds at most 4 parties"


def test_single_step_transfer_is_ucce_only() -> None:
    for flavour in ("ucce", "uccx"):
        sim = Sim(flavour=flavour)
        sim.login("1001", ready=True)
        sim.login("1002", ready=True)
        d, _ = inbound(sim, "1001")
        sim.send("AnswerCall", AgentId="1001", DialogId=d)
        events = sim.send("SingleStepTransfer", AgentId="1001", Destination="2002", DialogId=d)
        if flavour == "ucce":
            assert brief(events) == [f"InboundCall 1001 {d} DROPPED DROPPED TRANSFER",
                                     "State 1002 RESERVED",
                                     f"NewInboundCall 1002 {d} TRANSFER",
                                     "State 1001 WORK_READY"]
        else:
            assert brief(events) == ["Error 1001 Generic Error: single-step transfer is not "
                                     "available on UCCX"]


def test_make_call_only_from_not_ready_and_far_end_answers() -> None:
    sim = Sim()
    sim.login("1001", ready=True)
    [err] = sim.send("MakeCall", AgentId="1001", Number="4155550100")
    assert err.fields["Message"] == "MakeCall needs NOT_READY; agent is READY"
    sim.send("MakeNotReadyWithReason", AgentId="1001", ReasonCode="1")
    events = sim.send("MakeCall", AgentId="1001", Number="4155550100")
    d = events[0].text("DialogId")
    assert brief(events) == [f"InboundCall 1001 {d} INITIATED INITIATED OUT",
                             f"InboundCall 1001 {d} ALERTING INITIATED OUT",
                             "State 1001 TALKING code=1"]
    assert brief(sim.advance(1)) == [f"InboundCall 1001 {d} ACTIVE ACTIVE OUT"]
    [dtmf_err] = sim.send("SendDTMF", AgentId="1001", Digits="12X", DialogId=d)
    assert dtmf_err.fields["Message"] == "DTMF digits must be 0-9 *   A-D (refused: X)"
    assert sim.send("SendDTMF", AgentId="1001", Digits="12*", DialogId=d) == []
    assert sim.model.dialogs[d].dtmf == "12*"
    assert brief(sim.send("ReleaseCall", AgentId="1001", DialogId=d)) == [
        f"InboundCall 1001 {d} DROPPED DROPPED OUT", "State 1001 NOT_READY code=1"]


def test_out_of_service_refuses_commands_and_recovery_republishes_state() -> None:
    sim = Sim()
    sim.send("Hello")
    sim.login("1001", ready=True)
    reply, events = sim.control(action="out-of-service", reason="CTI link lost")
    assert reply["ok"] and brief(events) == ["OUT_OF_SERVICE system"]
    assert events[0].fields["Reason"] == "CTI link lost"
    assert sim.send("MakeReady", AgentId="1001") == []  # refused, and no events during outage
    assert brief(sim.send("Hello")) == ["OUT_OF_SERVICE system"]
    _, events = sim.control(action="in-service")
    assert brief(events) == ["IN_SERVICE system", "State 1001 READY"]


def test_far_end_drop_and_control_errors() -> None:
    sim = Sim()
    sim.login("1001", ready=True)
    d, _ = inbound(sim)
    sim.send("AnswerCall", AgentId="1001", DialogId=d)
    reply, events = sim.control(action="far-end-drop", agent="1001")
    assert reply == {"ok": True, "action": "far-end-drop", "dialogId": d}
    assert brief(events) == [f"InboundCall 1001 {d} DROPPED DROPPED ACD_IN",
                             "State 1001 WORK_READY"]
    assert sim.control(action="warp")[0]["error"].startswith("unknown action 'warp'")
    assert sim.control(action="inbound-call")[0]["error"] == "no READY agent for the call"
    sim.send("MakeReady", AgentId="1001")
    bad, _ = sim.control(action="inbound-call", ani="1,2")
    assert "call data contains ','" in bad["error"]


def test_same_seed_same_run() -> None:
    def run() -> list[str]:
        sim = Sim(seed=42)
        out = sim.login("1001", ready=True)
        d, ev = inbound(sim)
        out += ev + sim.send("AnswerCall", AgentId="1001", DialogId=d)
        return [e.name + repr(sorted(e.fields.items())) for e in out]
    assert run() == run()


@pytest.mark.parametrize("flavour", ["ucce", "uccx"])
def test_a_forced_logout_during_wrap_up_ends_it_and_the_next_call_wraps_up_again(
        flavour: str) -> None:
    sim = Sim(flavour=flavour)
    wrap = "WORK_READY" if flavour == "ucce" else "WORK"
    sim.login("1001", ready=True)
    d, _ = inbound(sim)
    sim.send("AnswerCall", AgentId="1001", DialogId=d)
    assert brief(sim.send("ReleaseCall", AgentId="1001", DialogId=d))[-1] == f"State 1001 {wrap}"
    [out] = brief(sim.send("ForceLogout", AgentId="1001"))
    assert out.startswith("State 1001 LOGOUT")
    sim.login("1001", ready=True)
    second, _ = inbound(sim)
    sim.send("AnswerCall", AgentId="1001", DialogId=second)
    assert brief(sim.send("ReleaseCall", AgentId="1001", DialogId=second)) == [
        f"InboundCall 1001 {second} DROPPED DROPPED ACD_IN", f"State 1001 {wrap}"]
    # The first wrap-up's timer was cancelled with it: only the second one's ends the state.
    [end] = brief(sim.advance(60))
    assert end.startswith("State 1001 READY" if flavour == "ucce" else "State 1001 NOT_READY")


@pytest.mark.parametrize("flavour", ["uccx", "ucce"])
def test_uccx_allows_several_consults_from_the_regular_call_ucce_one(flavour: str) -> None:
    sim = Sim(flavour=flavour)
    sim.login("1001", ready=True)
    sim.login("1002")
    sim.login("1003")
    d1, _ = inbound(sim, "1001")
    sim.send("AnswerCall", AgentId="1001", DialogId=d1)
    events = sim.send("ConsultCall", AgentId="1001", Destination="2002", DialogId=d1)
    d2 = next(e for e in events if e.name == "ConsultCall").text("DialogId")
    sim.send("AnswerCall", AgentId="1002", DialogId=d2)
    [err] = sim.send("ConsultCall", AgentId="1001", Destination="2003", DialogId=d2)
    assert err.fields["Message"] == f"dialog {d2} is a consult call; consult from the regular call"
    sim.send("HoldCall", AgentId="1001", DialogId=d2)
    sim.send("RetrieveCall", AgentId="1001", DialogId=d1)
    events = sim.send("ConsultCall", AgentId="1001", Destination="2003", DialogId=d1)
    if flavour == "ucce":
        assert [e.fields["Message"] for e in events] == [
            f"dialog {d1} already has a consult call"]
        return
    d3 = next(e for e in events if e.name == "ConsultCall").text("DialogId")
    sim.send("AnswerCall", AgentId="1003", DialogId=d3)
    # Both consults answered; the transfer goes to the one the agent is talking to (d3),
    # or to the one named by Extension.
    events = sim.send("TransferCall", AgentId="1001", Extension="2002", DialogId=d1)
    assert brief(events)[:2] == [f"ConsultCall 1001 {d2} DROPPED DROPPED",
                                 f"InboundCall 1002 {d2} DROPPED DROPPED CONSULT"]
    assert f"InboundCall 1002 {d1} ACTIVE ACTIVE TRANSFER" in brief(events)
