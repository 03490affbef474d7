"""Protocol v1.1 reattach in the core: a driver whose SCS connection dropped keeps its
services for the grace period, follows the GC meanwhile, and resyncs on the connection
that presents its session token (docs/scs-protocol.md)."""

from __future__ import annotations

from typing import Any

from siebel_gateway.core.effects import Effect, Log, ToScs
from siebel_gateway.core.gateway import GatewayOptions
from siebel_gateway.core.reattach import grace_key, mask_token
from siebel_gateway.core.scs_wire import parse_line
from siebel_gateway.trace.records import effect_record, request_record

from .driver import DIALECT, CoreDriver, callbacks, names, published, timers

TOKEN = "k3J9-0pQmZ_ab12cd34ef56gh78ij90kl"


def _driver_with_agent(d: CoreDriver, entropy: str = TOKEN) -> tuple[str, str, str]:
    """A UCCE agent signed in (NOT_READY) on connection 1; (driver, session, service)."""
    d.available()
    answer, _ = d.request("CreateISCDriverInstance", entropy=entropy, mediaType="Voice",
                          language="ENU", params=[["Flavour", "UCCE"]])
    result = answer["result"]
    svc, _ = d.request("RequestService", driver=result["driver"],
                       params=[["AgentId", "1001"], ["Extension", "2001"]])
    service = svc["result"]["service"]
    d.gc("State", "1001", State="LOGOUT", ReasonCode=-1)  # core/recover.py's GetState answered
    d.request("InvokeCommand", service=service, cmdTrackId="c1", name="LogIn",
              params=[["AgentPin", "pin"]])
    d.gc("IN_SERVICE", DIALECT.system_agent, Reason="up")
    d.gc("State", "1001", State="NOT_READY", ReasonCode=-1)
    return result["driver"], result.get("session", ""), service


def _on(effects: list[Effect], conn: int) -> list[dict[str, Any]]:
    return [dict(e.message) for e in effects if isinstance(e, ToScs) and e.connection == conn]


def _held_call(d: CoreDriver, dialog: str = "d1") -> None:
    d.gc("NewInboundCall", "1001", ANI="555", DNIS="7000", DialogId=dialog)
    d.now += 2
    d.gc("DialogStatus", "1001", DialogId=dialog, DialogState="ACTIVE",
         ParticipantState="ACTIVE")
    d.now += 3
    d.gc("DialogStatus", "1001", DialogId=dialog, DialogState="ACTIVE",
         ParticipantState="HELD")


def test_the_driver_gets_a_session_token_and_api_version_names_protocol_1_1() -> None:
    d = CoreDriver()
    driver, session, _ = _driver_with_agent(d)
    assert (driver, session) == ("drv-1", TOKEN)
    answer, _ = d.request("APIVersion")
    assert answer["result"] == {"code": 0, "version": 2, "protocol": "1.1"}


def test_a_dropped_connection_keeps_the_agent_signed_in_and_a_resume_resyncs_it() -> None:
    d = CoreDriver()
    driver, session, svc = _driver_with_agent(d)
    _held_call(d)
    started = int(d.now - 3)  # answered 3 s before the hold
    dropped = d.drop()
    assert published(dropped) == []  # no ForceLogout
    assert grace_key(driver) in timers(dropped)
    # While nobody holds the driver the GC goes on: a second call rings, the first is
    # retrieved, and the agent's reason changes.  Nothing reaches a live connection.
    d.now += 10
    meanwhile = [*d.gc("NewInboundCall", "1001", ANI="666", DNIS="7000", DialogId="d2"),
                 *d.gc("DialogStatus", "1001", DialogId="d1", DialogState="ACTIVE",
                       ParticipantState="ACTIVE")]
    assert {e.connection for e in meanwhile if isinstance(e, ToScs)} == {0}
    d.now += 1
    answer, effects = d.request("ResumeDriverInstance", conn=2, driver=driver, session=session)
    assert answer["result"] == {"code": 0, "services": [{"service": svc, "agentId": "1001"}]}
    assert all(e.connection == 2 for e in effects if isinstance(e, ToScs))
    assert names(effects) == ["CleanAllWorkItem", "EventAgentNotReady", "WorkItemStarted",
                              "IndicateNewWorkItem", "CacheCommandInformation",
                              "UpdateObjectInformation"]
    started_item = callbacks(effects)[2]["params"]
    assert (started_item["trackingId"], started_item["startTime"]) == ("d1", started)
    assert callbacks(effects)[3]["params"]["trackingId"] == "d2"
    toolbar = callbacks(effects)[4]["params"]
    enabled = {n for n, f in zip(toolbar["commands"], toolbar["statuses"], strict=True)
               if not f & 2}
    assert "AnswerCall" in enabled and "LogIn" not in enabled
    # The new connection commands the service; the old one cannot.
    answer, _ = d.request("InvokeCommand", conn=2, service=svc, cmdTrackId="c2",
                          name="HoldCall", params=[["TrackingID", "d1"]])
    assert answer["result"] == {"code": 0}
    answer, _ = d.request("InvokeCommand", conn=1, service=svc, cmdTrackId="c3",
                          name="RetrieveCall", params=[["TrackingID", "d1"]])
    assert answer["result"]["code"] == 4
    # The grace timer was cancelled; firing it late releases nothing.
    assert published(d.fire(grace_key(driver))) == []
    assert d.core.snapshot().sessions[0].phase.name == "LOGGED_IN"


def test_a_wrong_token_is_refused_with_code_4_and_the_grace_still_runs() -> None:
    d = CoreDriver()
    driver, session, _ = _driver_with_agent(d)
    d.drop()
    answer, effects = d.request("ResumeDriverInstance", conn=2, driver=driver,
                                session=session[:-1] + "x")
    assert answer["result"]["code"] == 4
    assert "session token" in answer["result"]["error"]
    assert session not in repr(effects)
    answer, _ = d.request("ResumeDriverInstance", conn=2, driver="drv-99", session=session)
    assert answer["result"]["code"] == 4
    # Past the grace the services are released exactly as a v1 connection loss does.
    released = d.fire(grace_key(driver))
    assert published(released) == ["force_logout#1001"]
    assert any(isinstance(e, Log) and "not resumed" in e.text for e in released)
    assert d.core.snapshot().sessions == ()
    answer, _ = d.request("ResumeDriverInstance", conn=2, driver=driver, session=session)
    assert answer["result"]["code"] == 4


def test_without_a_token_or_with_no_grace_a_drop_releases_at_once_as_in_v1() -> None:
    d = CoreDriver()
    _, session, _ = _driver_with_agent(d, entropy="")
    assert session == ""
    assert published(d.drop()) == ["force_logout#1001"]
    d = CoreDriver(options=GatewayOptions(resume_grace=0))
    _driver_with_agent(d)
    assert published(d.drop()) == ["force_logout#1001"]


def test_a_resume_takes_the_driver_over_from_a_connection_still_open() -> None:
    d = CoreDriver()
    driver, session, svc = _driver_with_agent(d)
    answer, _ = d.request("ResumeDriverInstance", conn=2, driver=driver, session=session)
    assert answer["result"]["code"] == 0
    # The old connection closing later releases nothing: it no longer holds the driver.
    assert published(d.drop(1)) == []
    assert [(s.service, s.connection) for s in d.core.snapshot().sessions] == [(svc, 2)]


def test_traces_hold_a_digest_of_the_token_never_the_token() -> None:
    item = parse_line(b'{"jsonrpc":"2.0","id":3,"method":"ResumeDriverInstance",'
                      b'"params":{"driver":"drv-1","session":"' + TOKEN.encode() + b'"}}')
    assert not isinstance(item, Exception)
    rec = request_record(2, item)  # type: ignore[arg-type]
    out = effect_record(ToScs(1, {"jsonrpc": "2.0", "id": 1,
                                  "result": {"code": 0, "driver": "drv-1", "session": TOKEN}}))
    assert TOKEN not in repr(rec) + repr(out)
    assert rec["msg"]["params"]["session"] == out["msg"]["result"]["session"] \
        == mask_token(TOKEN) == mask_token(mask_token(TOKEN))
