"""Gateway restart (issue 15 item 5): a new gateway that gets RequestService for an agent
still signed in at the GC takes the agent's state over from the GC, and signs nobody out."""

from __future__ import annotations

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
