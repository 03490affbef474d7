"""Gateway restart (issue 15 item 5): a new gateway that gets RequestService for an agent
still signed in at the GC takes the agent's state over from the GC, and signs nobody out."""

from __future__ import annotations

import pytest

from siebel_gateway.core.agent import Phase

from .driver import DIALECT, CoreDriver, callbacks, names, published, timers


def _request_service(d: CoreDriver, agent: str = "1001") -> tuple[str, list[str]]:
    d.available()
    driver, _ = d.request("CreateISCDriverInstance", mediaType="Voice", language="ENU",
                          params=[["Flavour", "UCCE"]])
    answer, effects = d.request("RequestService", driver=driver["result"]["driver"],
                                params=[["AgentId", agent], ["Extension", "2001"]])
    return answer["result"]["service"], published(effects)


def test_an_agent_signed_in_at_the_gc_is_taken_over_not_signed_out() -> None:
    d = CoreDriver()
    svc, asked = _request_service(d)
    assert asked == ["Connect#1001", "GetState#1001"]
    effects = d.gc("State", "1001", State="NOT_READY", ReasonCode=1, ReasonLabel="Break")
    assert names(effects)[:2] == ["EventAgentLogin", "ShowStatusText"]
    event = next(c["params"] for c in callbacks(effects) if c["method"] == "HandleEvent"
                 and c["params"]["name"] == "EventAgentNotReady")
    fields = dict(event["fields"])
    assert (fields["AgentState"], fields["ReasonCode"], fields["ReasonLabel"]) == \
        ("NOT_READY", "1", "Break")
    [view] = d.core.snapshot().sessions
    assert view.phase is Phase.LOGGED_IN and view.agent_id == "1001"
    toolbar = [c["params"] for c in callbacks(effects)
               if c["method"] == "CacheCommandInformation"][-1]
    flags = dict(zip(toolbar["commands"], toolbar["statuses"], strict=True))
    assert flags["LogIn"] & 2 and not flags["ChangeReadyState"] & 2
    # The agent works on: a call arrives and is a work item; nothing signed it out.
    effects = d.gc("NewInboundCall", "1001", ANI="555", DNIS="7000", DialogId="d1")
    assert "IndicateNewWorkItem" in names(effects)
    answer, _ = d.request("InvokeCommand", service=svc, cmdTrackId="c1", name="ChangeReadyState")
    assert answer["result"] == {"code": 0}
    assert not any(t.startswith(("Logout", "force_logout")) for t in published(d.log))


def test_an_agent_not_signed_in_stays_signed_out_quietly() -> None:
    d = CoreDriver()
    svc, _ = _request_service(d)
    effects = d.gc("State", "1001", State="LOGOUT", ReasonCode=-1)
    assert "EventAgentLogout" not in names(effects) and "EventAgentLogin" not in names(effects)
    [view] = d.core.snapshot().sessions
    assert view.phase is Phase.LOGGED_OUT and view.agent_id == ""
    # and signs in as usual
    answer, _ = d.request("InvokeCommand", service=svc, cmdTrackId="c1", name="LogIn",
                          params=[["AgentPin", "pin"]])
    assert answer["result"] == {"code": 0}
    d.gc("IN_SERVICE", DIALECT.system_agent, Reason="up")
    assert names(d.gc("State", "1001", State="NOT_READY", ReasonCode=-1))[0] == "EventAgentLogin"


def test_no_answer_or_an_error_shows_the_agent_nothing() -> None:
    d = CoreDriver()
    _, _ = _request_service(d)
    [key] = [k for k in timers(d.log) if k.kind == "cmd"]
    effects = d.fire(key)
    assert "HandleError" not in names(effects)
    assert d.core.snapshot().sessions[0].phase is Phase.LOGGED_OUT
    d = CoreDriver()
    _request_service(d)
    effects = d.gc("Error", "1001", Command="GetState", ErrorType="Not Found",
                   ErrorCode="Invalid agent", Message="unknown agent")
    assert "HandleError" not in names(effects)
    assert "EventError" not in names(effects)
    assert d.core.snapshot().sessions[0].agent_id == ""


def _log_in(d: CoreDriver, svc: str, agent: str = "1001", track: str = "l1",
            pin: str = "s3cret") -> tuple[dict[str, object], list[str]]:
    answer, effects = d.request("InvokeCommand", service=svc, cmdTrackId=track, name="LogIn",
                                params=[["AgentId", agent], ["AgentPin", pin],
                                        ["Extension", "2001"]])
    return answer["result"], names(effects)


def _taken_over(login_first: bool) -> tuple[CoreDriver, str, list[str], dict[str, object],
                                            list[str]]:
    """RequestService, then Siebel's AutoLogin LogIn and the GC's answer to the probe, in
    either order: the callbacks after RequestService, the GC commands, the LogIn's answer."""
    d = CoreDriver()
    svc, _ = _request_service(d)
    start = len(d.log)
    if login_first:
        answer, _ = _log_in(d, svc)
    d.gc("State", "1001", State="NOT_READY", ReasonCode=1, ReasonLabel="Break")
    if not login_first:
        answer, _ = _log_in(d, svc)
    return d, svc, names(d.log[start:]), answer, published(d.log[start:])


def test_autologin_after_a_restart_is_answered_alike_whichever_comes_first() -> None:
    (d1, _, seen1, answer1, sent1), (d2, _, seen2, answer2, sent2) = \
        _taken_over(True), _taken_over(False)
    assert answer1 == answer2 == {"code": 0}
    assert seen1 == seen2 and sent1 == sent2
    assert seen1.count("EventAgentLogin") == 1 and "HandleError" not in seen1
    assert "EventAgentLogout" not in seen1
    for d in (d1, d2):
        [view] = d.core.snapshot().sessions
        assert (view.phase, view.agent_id, view.state, view.reason_code) == \
            (Phase.LOGGED_IN, "1001", "NOT_READY", "1")
        assert not any("s3cret" in repr(e) for e in d.log)
    # nothing signed the agent in again (or out) at the GC
    assert not any(t.startswith(("Login", "Logout", "Hello")) for t in sent1)


def test_the_taken_over_agents_password_signs_it_in_again_after_an_outage() -> None:
    d, svc, _, _, _ = _taken_over(False)
    d.link(False)
    effects = d.available()
    assert "Login#1001" in published(effects)  # the resync could sign in: password kept
    assert "EventAgentLogout" not in names(effects)
    # and now the service has a password of its own: another LogIn is refused as before
    answer, _ = _log_in(d, svc, track="l2")
    assert answer == {"code": 1, "error": "Agent 1001 is already logged in"}


def test_a_login_for_another_agent_or_a_second_login_is_refused_as_before() -> None:
    d, svc, _, _, _ = _taken_over(True)
    for agent in ("1001", "1002"):  # a second LogIn; another agent id
        answer, _ = _log_in(d, svc, agent=agent, track="l2")
        assert answer == {"code": 1, "error": "Agent 1001 is already logged in"}
    d = CoreDriver()
    svc, _ = _request_service(d)
    d.gc("State", "1001", State="READY", ReasonCode=-1)
    answer, _ = _log_in(d, svc, agent="1002")
    assert answer == {"code": 1, "error": "Agent 1001 is already logged in"}
    d = CoreDriver()
    d.available()
    svc = d.logged_in()  # signed in by its own LogIn
    answer, _ = _log_in(d, svc, track="l2")
    assert answer == {"code": 1, "error": "Agent 1001 is already logged in"}


def test_a_login_before_the_answer_signs_in_as_usual_when_the_agent_was_signed_out() -> None:
    d = CoreDriver()
    svc, _ = _request_service(d)
    answer, seen = _log_in(d, svc)
    assert answer == {"code": 0} and "ShowStatusText" not in seen  # waits for the answer
    effects = d.gc("State", "1001", State="LOGOUT", ReasonCode=-1)
    assert any(t.startswith("Hello") for t in published(effects))
    assert "EventAgentLogout" not in names(effects)
    d.gc("IN_SERVICE", DIALECT.system_agent, Reason="up")
    assert names(d.gc("State", "1001", State="NOT_READY", ReasonCode=-1))[0] == "EventAgentLogin"
    # the GC that never answers the probe: the waiting LogIn goes on when its timer fires
    d = CoreDriver()
    svc, _ = _request_service(d)
    _log_in(d, svc)
    [key] = [k for k in timers(d.log) if k.kind == "cmd"]
    assert any(t.startswith("Hello") for t in published(d.fire(key)))
    # the GC gone meanwhile: the waiting LogIn is refused with code 6's text
    d = CoreDriver()
    svc, _ = _request_service(d)
    _log_in(d, svc)
    errors = [c["params"] for c in callbacks(d.link(False)) if c["method"] == "HandleError"]
    assert [e["cmdTrackId"] for e in errors] == ["l1"]
    assert d.core.snapshot().sessions[0].agent_id == ""


@pytest.mark.parametrize(("why", "text"), [
    ("gateway busy: sign-in waited 60 s for the GC (500 sign-ins in flight)",
     "LogIn was not sent: the gateway is busy (too many commands at once); try again"),
    ("the broker refused it: not authorized to write to queue://Connector1",
     "LogIn was not sent: the message broker refused it (not authorized to write to "
     "queue://Connector1); tell your administrator"),
])
def test_a_login_waiting_on_a_probe_that_was_not_sent_reads_why(why: str, text: str) -> None:
    d = CoreDriver()
    svc, _ = _request_service(d)
    _log_in(d, svc)
    [probe] = [k for k in timers(d.log) if k.kind == "cmd"]
    effects = d.core.publish_failed(probe, why, d.now)
    errors = [c["params"] for c in callbacks(effects) if c["method"] == "HandleError"]
    assert [(e["cmdTrackId"], e["error"]) for e in errors] == [("l1", text)]
    assert "cannot be reached" not in text
    [session] = d.core.snapshot().sessions
    assert (session.phase, session.agent_id) == (Phase.LOGGED_OUT, "")
    # the agent tries again: a normal sign-in
    answer, _ = _log_in(d, svc, track="l2")
    assert answer == {"code": 0}
    assert any(t.startswith("Hello") for t in published(d.log[-6:]))
