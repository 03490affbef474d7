"""Agent state flows through the whole gateway (SCS protocol -> core -> memory broker ->
simulator and back), asserting the callbacks SCS sees, in order."""

from __future__ import annotations

from typing import Any

from .harness import Rig


def fields_of(callbacks: list[dict[str, Any]], name: str) -> dict[str, str]:
    found = [c for c in callbacks if c["method"] == "HandleEvent" and c["params"]["name"] == name]
    assert found, f"no {name} in {[c['method'] for c in callbacks]}"
    return dict(found[-1]["params"]["fields"])


def statuses(callbacks: list[dict[str, Any]]) -> dict[str, int]:
    cache = [c for c in callbacks if c["method"] == "CacheCommandInformation"][-1]["params"]
    return dict(zip(cache["commands"], cache["statuses"], strict=True))


def test_login_flow_is_hello_in_service_connect_login() -> None:
    rig = Rig()
    assert [m.type for m in rig.sent] == ["Hello#gw1"]  # the gateway's own, at link up
    a = rig.agent()
    assert a.invoke("LogIn", AgentId="1001", AgentPin="secret1001", Extension="2001") == \
        {"code": 0}
    rig.pump()
    # RequestService first asks the GC whether the agent is signed in (core/recover.py)
    assert [m.type for m in rig.sent[1:]] == ["Connect#1001", "GetState#1001", "Hello#gw1",
                                              "Connect#1001", "Login#1001",
                                              "wrapupreasoncode#1001"]
    assert rig.sent[1].body == "gw1,"
    assert (rig.sent[4].body, rig.sent[5].body) == ("gw1,secret1001", "secret1001,2001")
    cbs = a.take()
    assert [c["params"]["name"] if c["method"] == "HandleEvent" else c["method"]
            for c in cbs] == [
        "ShowStatusText", "CacheCommandInformation",            # logging in, LogIn disabled
        "EventAgentInfo", "EventAgentLogin", "ShowStatusText", "EventAgentNotReady",
        "CacheCommandInformation", "UpdateObjectInformation",
        "EventReasonCodes"]
    assert cbs[0]["params"]["text"] == "Logging in agent 1001 on extension 2001..."
    assert cbs[4]["params"]["text"] == "Logged in as Chris Smith on extension 2001"
    assert fields_of(cbs, "EventAgentLogin")["AgentState"] == "NOT_READY"
    assert cbs[7]["params"]["info"] == [["2", "1001"], ["13", "TRUE"], ["4", "TRUE"],
                                        ["5", "FALSE"]]
    flags = statuses(cbs)
    assert flags["LogIn"] & 2 and not flags["ChangeReadyState"] & 2
    assert not flags["MakeCall"] & 2 and flags["AnswerCall"] & 2


def test_reason_lists_are_fetched_when_required_and_offered_as_events() -> None:
    rig = Rig()
    a = rig.agent(params=[("NotReadyReasonRequired", "TRUE"), ("LogoutReasonRequired", "TRUE")])
    a.invoke("LogIn", AgentId="1001", AgentPin="secret1001", Extension="2001")
    rig.pump()
    cbs = a.take()
    lists = {dict(c["params"]["fields"])["Category"]: dict(c["params"]["fields"])
             for c in cbs if c["method"] == "HandleEvent"
             and c["params"]["name"] == "EventReasonCodes"}
    assert sorted(lists) == ["LOGOUT", "NOT_READY", "WRAP_UP"]
    assert lists["NOT_READY"]["Codes"] == "1,2,3,4"
    assert lists["NOT_READY"]["Reason.2"] == "Lunch"


def test_not_ready_reason_is_mandatory_when_enabled_and_checked_against_the_list() -> None:
    rig = Rig()
    a = rig.logged_in(params=[("NotReadyReasonRequired", "TRUE")])
    r = a.invoke("ChangeNotReadyState")
    assert r["code"] == 1
    assert r["error"] == ("ChangeNotReadyState needs a reason code; choose one of: 1 (Break), "
                          "2 (Lunch), 3 (Meeting), 4 (Training)")
    r = a.invoke("ChangeNotReadyState", ReasonCode="9")
    assert r["code"] == 1 and "9 is not a NOT_READY reason" in r["error"]
    assert a.invoke("ChangeReadyState") == {"code": 0}
    a.take()
    assert a.invoke("ChangeNotReadyState", "Lunch") == {"code": 0}  # by label, edit box
    f = fields_of(a.take(), "EventAgentNotReady")
    assert (f["AgentState"], f["ReasonCode"], f["ReasonLabel"]) == ("NOT_READY", "2", "Lunch")
    # NOT_READY -> NOT_READY with another reason
    assert a.invoke("ChangeNotReadyState", ReasonCode="3") == {"code": 0}
    cbs = a.take()
    f = fields_of(cbs, "EventAgentNotReady")
    assert (f["ReasonCode"], f["ReasonLabel"]) == ("3", "Meeting")
    assert [c["params"]["text"] for c in cbs if c["method"] == "ShowStatusText"] == \
        ["Not Ready: Meeting"]
    assert a.flags["ChangeNotReadyState"] & 4  # checked


def test_logout_with_reason_and_toolbar_back_to_login() -> None:
    rig = Rig()
    a = rig.logged_in(params=[("LogoutReasonRequired", "TRUE")])
    r = a.invoke("LogOut")
    assert r["code"] == 1 and "LogOut needs a reason code; choose one of: 10 (End of Shift)" \
        in r["error"]
    assert a.invoke("LogOut", ReasonCode="10") == {"code": 0}
    cbs = a.take()
    f = fields_of(cbs, "EventAgentLogout")
    assert (f["AgentState"], f["ReasonCode"], f["ReasonLabel"]) == ("LOGOUT", "10",
                                                                    "End of Shift")
    flags = statuses(cbs)
    assert not flags["LogIn"] & 2 and flags["LogOut"] & 2 and flags["ChangeReadyState"] & 2
    assert rig.sent[-1].type == "Logout#1001" and rig.sent[-1].body == "10"
    # and the agent may log in again on the same service
    assert a.invoke("LogIn", AgentId="1001", AgentPin="secret1001", Extension="2001") == \
        {"code": 0}


def test_logout_from_ready_is_refused_on_ucce_but_allowed_on_uccx() -> None:
    rig = Rig()
    a = rig.logged_in()
    a.invoke("ChangeReadyState")
    r = a.invoke("LogOut")
    assert r == {"code": 1, "error": "LogOut is not possible now: the agent is Ready"}
    x = Rig(flavour="uccx")
    b = x.logged_in()
    b.invoke("ChangeReadyState")
    assert b.invoke("LogOut", ReasonCode="10") == {"code": 0}
    assert fields_of(b.take(), "EventAgentLogout")["AgentState"] == "LOGOUT"


def test_wrong_password_comes_back_as_handle_error_with_the_login_command_id() -> None:
    rig = Rig()
    a = rig.agent()
    assert a.invoke("LogIn", AgentId="1001", AgentPin="Xyzzy-17", Extension="2001") == \
        {"code": 0}
    cbs = a.take()
    errors = [c["params"] for c in cbs if c["method"] == "HandleError"]
    assert errors == [{"service": a.service, "cmdTrackId": "c1",
                       "error": "Login refused: check your agent id and password"}]
    assert not statuses(cbs)["LogIn"] & 2  # can try again
    assert "Xyzzy-17" not in str(cbs)


def test_login_errors_are_friendly_and_unknown_codes_stay_readable() -> None:
    rig = Rig()
    rig.control(action="device-busy", extension="2001")
    a = rig.agent()
    a.invoke("LogIn", AgentId="1001", AgentPin="secret1001", Extension="2001")
    [err] = [c["params"]["error"] for c in a.take() if c["method"] == "HandleError"]
    assert err == "Extension 2001 is in use by another agent"
    assert a.invoke("LogIn", AgentId="1001", AgentPin="secret1001", Extension="2001") == \
        {"code": 0}
    a.take()
    rig.control(action="cti-error", agent="1001", errorType="Generic Error",
                message="strange thing", code="X_42")
    a.invoke("ChangeReadyState")
    cbs = a.take()
    [err] = [c["params"] for c in cbs if c["method"] == "HandleError"]
    assert err["cmdTrackId"] == "c3"
    assert err["error"] == "The telephony server refused ChangeReadyState: strange thing (X_42)"
    assert fields_of(cbs, "EventError")["ErrorCode"] == "X_42"


def test_one_agent_cannot_be_logged_in_twice_through_the_gateway() -> None:
    rig = Rig()
    rig.logged_in()
    other = rig.agent()
    r = other.invoke("LogIn", AgentId="1001", AgentPin="secret1001", Extension="2002")
    assert r == {"code": 1, "error": "Agent 1001 is already logged in through another "
                                     "Siebel session"}


def test_missing_login_parameters_are_named() -> None:
    rig = Rig()
    a = rig.agent()
    assert a.invoke("LogIn", AgentId="1001") == {"code": 1, "error": "LogIn needs AgentPin"}
    r = a.invoke("LogIn", AgentId="10,01", AgentPin="x", Extension="2001")
    assert r == {"code": 1, "error": "LogIn: AgentId contains a character the telephony "
                                     "link cannot carry (, # and | are the Generic "
                                     "Connector's delimiters; a DTMF # cannot be sent)"}


def test_commands_before_login_are_refused_with_text() -> None:
    rig = Rig()
    a = rig.agent()
    assert a.invoke("ChangeReadyState") == {"code": 1,
                                            "error": "ChangeReadyState: log in first"}
    assert a.invoke("FlyToTheMoon")["code"] == 2


def test_work_ready_and_pending_not_ready_during_a_call_ucce() -> None:
    rig = Rig()
    a = rig.logged_in()
    a.invoke("ChangeReadyState")
    rig.control(action="inbound-call", agent="1001", ani="4155550100", dnis="8005550100")
    a.invoke("AnswerCall")
    a.take()
    assert a.invoke("ChangeNotReadyState", ReasonCode="1") == {"code": 0}
    cbs = a.take()
    f = fields_of(cbs, "EventAgentNotReady")
    assert (f["AgentState"], f["PendingState"]) == ("TALKING", "NOT_READY")
    assert [c["params"]["text"] for c in cbs if c["method"] == "ShowStatusText"] == \
        ["Not Ready after this call"]
    assert a.flags["ChangeNotReadyState"] & 4
    assert a.invoke("ChangeWorkReadyState") == {"code": 0}
    a.take()
    a.invoke("ReleaseCall")
    cbs = a.take()
    f = fields_of(cbs, "EventAgentWorkReady")
    assert f["AgentState"] == "WORK_READY"
    # wrap-up reason during wrap-up, then Ready
    assert a.invoke("SetWrapUpReason", ReasonCode="Support") == {"code": 0}
    assert rig.sent[-1].type == "UpdateCallData#1001"
    assert rig.sent[-1].body.endswith(",Support")
    r = a.invoke("SetWrapUpReason", ReasonCode="Nonsense")
    assert r["code"] == 1 and "Sales Call, Support, Complaint" in r["error"]
    assert a.invoke("ChangeReadyState") == {"code": 0}
    assert fields_of(a.take(), "EventAgentReady")["AgentState"] == "READY"


def test_uccx_refuses_work_ready_and_single_step_transfer_in_flags_and_commands() -> None:
    rig = Rig(flavour="uccx")
    a = rig.logged_in()
    r = a.invoke("ChangeWorkReadyState")
    assert r == {"code": 2, "error": "ChangeWorkReadyState is not available on UCCX"}
    r = a.invoke("TransferMute", PhoneNumber="2002")
    assert r == {"code": 2, "error": "TransferMute is not available on UCCX"}
    a.invoke("ChangeReadyState")
    flags = statuses(a.take())
    assert flags["TransferMute"] == 3 and flags["ChangeWorkReadyState"] == 3  # NOTSUPPORTED


def test_languages_change_the_texts_including_right_to_left() -> None:
    rig = Rig()
    for lang, expected in [("DEU", "Angemeldet als Chris Smith an Nebenstelle 2001"),
                           ("FRA", "Connecté en tant que Chris Smith sur le poste 2001"),
                           ("ESN", "Conectado como Chris Smith en la extensión 2001"),
                           ("ARA", "تم تسجيل الدخول باسم Chris Smith على الرقم الداخلي 2001")]:
        a = rig.agent(language=lang)
        a.invoke("LogIn", AgentId="1001", AgentPin="secret1001", Extension="2001")
        texts = [c["params"]["text"] for c in a.take() if c["method"] == "ShowStatusText"]
        assert expected in texts, (lang, texts)
        assert a.invoke("LogOut", ReasonCode="10") == {"code": 0}
        a.take()


def test_release_service_forces_logout_and_sends_no_more_callbacks() -> None:
    rig = Rig()
    a = rig.logged_in()
    assert a.client.call("ReleaseISCServiceInstance", service=a.service) == {"code": 0}
    rig.pump()
    assert rig.sent[-1].type == "force_logout#1001"
    assert a.take() == []
    assert rig.model.agents["1001"].state == "LOGOUT"
    r = a.invoke("ChangeReadyState")
    assert r["code"] == 4 and "unknown on this connection" in r["error"]


def test_release_without_force_logout_keeps_the_agent_signed_in() -> None:
    rig = Rig()
    a = rig.logged_in(params=[("ForceLogoutOnRelease", "FALSE")])
    a.client.call("ReleaseISCServiceInstance", service=a.service)
    rig.pump()
    assert rig.model.agents["1001"].state == "NOT_READY"


def test_many_drivers_and_services_on_one_connection_keep_their_callbacks_apart() -> None:
    rig = Rig()
    c = rig.client()
    a = rig.logged_in("1001", "2001", client=c)
    b = rig.logged_in("1002", "2002", client=c)
    x = rig.agent(c, agent_id="1003", extension="2003")
    assert len({a.service, b.service, x.service}) == 3
    assert len(rig.core.drivers) == 3
    a.invoke("ChangeReadyState")
    b.invoke("ChangeNotReadyState", ReasonCode="2")
    cbs = c.take()
    by_service: dict[str, list[str]] = {}
    for cb in cbs:
        if cb["method"] == "HandleEvent":
            by_service.setdefault(cb["params"]["service"], []).append(cb["params"]["name"])
    assert by_service == {a.service: ["EventAgentReady"], b.service: ["EventAgentNotReady"]}


def wrap_up_after_a_call(rig: Rig, flavour_state: str, **kw: Any) -> Any:
    a = rig.logged_in(**kw)
    a.invoke("ChangeReadyState")
    rig.control(action="inbound-call", agent="1001", ani="4155550100", dnis="8005550100")
    assert a.invoke("AnswerCall") == {"code": 0}
    assert a.invoke("ReleaseCall") == {"code": 0}
    assert fields_of(a.take(), "EventWrapUp")["AgentState"] == flavour_state
    return a


def test_wrap_up_reason_required_refuses_leaving_wrap_up_without_one_ucce() -> None:
    rig = Rig()
    a = wrap_up_after_a_call(rig, "WORK_READY", params=[("WrapUpReasonRequired", "TRUE")])
    sent = len(rig.sent)
    for command in ("ChangeReadyState", "ChangeNotReadyState"):
        r = a.invoke(command)
        assert r == {"code": 1, "error": f"{command}: set a wrap-up reason first "
                                         "(SetWrapUpReason); choose one of: Sales Call, "
                                         "Support, Complaint"}
    assert len(rig.sent) == sent  # nothing reached the GC
    assert a.invoke("SetWrapUpReason", ReasonCode="Complaint") == {"code": 0}
    assert a.invoke("ChangeReadyState") == {"code": 0}
    assert fields_of(a.take(), "EventAgentReady")["AgentState"] == "READY"


def test_wrap_up_reason_required_on_uccx_and_its_absence_changes_nothing() -> None:
    rig = Rig(flavour="uccx")
    a = wrap_up_after_a_call(rig, "WORK", params=[("WrapUpReasonRequired", "TRUE")])
    r = a.invoke("ChangeNotReadyState")
    assert r["code"] == 1 and r["error"].startswith("ChangeNotReadyState: set a wrap-up reason")
    assert a.invoke("SetWrapUpReason", "Sales Call") == {"code": 0}
    assert a.invoke("ChangeNotReadyState", ReasonCode="1") == {"code": 0}
    assert fields_of(a.take(), "EventAgentNotReady")["AgentState"] == "NOT_READY"
    # FALSE (the default): Ready straight from wrap-up, no reason asked.
    rig2 = Rig()
    b = wrap_up_after_a_call(rig2, "WORK_READY")
    assert b.invoke("ChangeReadyState") == {"code": 0}
