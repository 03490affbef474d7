"""The GC or the broker going away and coming back: commands refused at once, toolbar
disabled, EventLinkDisconnected; on recovery every agent is resynchronised."""

from __future__ import annotations

from typing import Any

from siebel_gateway.core.broker_messages import BrokerMessage
from siebel_gateway.core.effects import Log
from siebel_gateway.core.gateway import GatewayOptions

from .harness import Rig
from .test_call_flows import CALL, event, names, ready


def disabled(flags: dict[str, int]) -> bool:
    return all(v & 2 for v in flags.values())


def test_gc_out_of_service_disables_everything_and_in_service_resynchronises() -> None:
    rig = Rig()
    [a] = ready(rig, "1001")
    rig.control(**CALL)
    a.invoke("AnswerCall")
    tid = event(a.take(), "EventEstablished")["trackingId"]
    rig.control(action="out-of-service", reason="Finesse failover")
    cbs = a.take()
    assert names(cbs) == ["EventLinkDisconnected"]
    assert [c["params"]["text"] for c in cbs if c["method"] == "ShowStatusText"] == [
        "The telephony server is out of service: the toolbar is disabled until it returns"]
    assert disabled(a.flags)
    assert a.invoke("HoldCall") == {"code": 6, "error": "HoldCall was not sent: the telephony "
                                                        "server cannot be reached"}
    rig.control(action="in-service")
    cbs = a.take()
    # signed in again; the call stays the same work item (no CleanAllWorkItem, no
    # re-announcement with a new start time) and the GC is asked about it
    assert names(cbs)[0] == "EventLinkConnected"
    assert "CleanAllWorkItem" not in names(cbs) and "WorkItemStarted" not in names(cbs)
    assert [m.type for m in rig.sent[-3:]] == ["Connect#1001", "Login#1001",
                                               "GetDialogState#1001"]
    assert not a.flags["HoldCall"] & 2
    assert a.invoke("HoldCall") == {"code": 0}
    assert event(a.take(), "EventHeld")["trackingId"] == tid


def test_broker_loss_reports_pending_commands_and_recovery_sends_hello_again() -> None:
    rig = Rig()
    [a] = ready(rig, "1001")
    rig.sim.link.stop()  # the GC stops consuming: the next command stays unanswered
    assert a.invoke("ChangeNotReadyState", ReasonCode="1") == {"code": 0}
    rig.link.interrupt()
    rig.pump()
    cbs = a.take()
    assert names(cbs) == ["HandleError", "EventLinkDisconnected"]
    assert cbs[0]["params"]["cmdTrackId"] == f"c{a.cmd}"
    assert disabled(a.flags)
    assert a.invoke("ChangeReadyState")["code"] == 6
    rig.sim.link.start()
    rig.link.resume()
    rig.pump()
    cbs = a.take()
    assert names(cbs)[0] == "EventLinkConnected" and "CleanAllWorkItem" not in names(cbs)
    assert [m.type for m in rig.sent[-2:]] == ["Connect#1001", "Login#1001"]
    assert not a.flags["ChangeNotReadyState"] & 2


def test_an_unanswered_command_is_reported_after_the_command_timeout() -> None:
    rig = Rig(options=GatewayOptions(command_timeout=5, heartbeat=60))
    [a] = ready(rig, "1001")
    rig.sim.link.stop()
    a.invoke("ChangeNotReadyState", ReasonCode="1")
    rig.pump(4.9)
    assert a.take() == []
    rig.pump(0.2)
    [err] = [c["params"] for c in a.take() if c["method"] == "HandleError"]
    assert err == {"service": a.service, "cmdTrackId": f"c{a.cmd}",
                   "error": "The telephony server did not answer ChangeNotReadyState within 5 "
                            "seconds"}


def test_a_silent_gc_is_noticed_by_the_heartbeat() -> None:
    rig = Rig(options=GatewayOptions(command_timeout=5, heartbeat=30))
    [a] = ready(rig, "1001")
    rig.sim.link.stop()
    rig.pump(30)  # Beat sent, nobody answers
    assert a.take() == []
    rig.pump(5)
    assert names(a.take()) == ["EventLinkDisconnected"]
    assert disabled(a.flags)
    rig.sim.link.start()
    rig.pump(30)  # the next Beat is answered
    assert names(a.take())[0] == "EventLinkConnected"
    assert [m.type for m in rig.sent[-2:]] == ["Connect#1001", "Login#1001"]


def test_a_failed_publish_is_reported_to_the_agent() -> None:
    rig = Rig()
    [a] = ready(rig, "1001")
    rig.link._up = False  # the broker connection died an instant before the status arrives
    assert a.invoke("ChangeNotReadyState", ReasonCode="1") == {"code": 0}
    rig.pump()
    [err] = [c["params"] for c in a.take() if c["method"] == "HandleError"]
    assert err["cmdTrackId"] == f"c{a.cmd}"
    assert err["error"] == ("ChangeNotReadyState was not sent: the telephony server cannot be "
                            "reached")


def test_login_while_the_gc_is_out_of_service_is_refused_at_once() -> None:
    rig = Rig()
    rig.control(action="out-of-service")
    a = rig.agent()
    r = a.invoke("LogIn", AgentId="1001", AgentPin="secret1001", Extension="2001")
    assert r == {"code": 6, "error": "LogIn was not sent: the telephony server cannot be "
                                     "reached"}


def test_clock_skew_is_warned_once_per_link() -> None:
    rig = Rig()
    core = rig.core
    now = 1_763_700_000.0
    far = BrokerMessage(destination="/topic/gw1", body="system#IN_SERVICE#",
                        headers={"gcTimestamp": str(int((now - 7.5) * 1000))})
    logs: list[Any] = [e for e in core.broker_message(far, now) if isinstance(e, Log)]
    assert [e.level for e in logs] == ["warn"]
    assert "clock is 7.5 s behind this gateway's" in logs[0].text.format(**logs[0].fields)
    again = [e for e in core.broker_message(far, now) if isinstance(e, Log)]
    assert again == []
    core.link_status(False, "lost", now)
    core.link_status(True, "back", now, recovered=True)
    assert [e for e in core.broker_message(far, now) if isinstance(e, Log)]


def test_malformed_gc_events_are_counted_and_logged_never_fatal() -> None:
    rig = Rig()
    [a] = ready(rig, "1001")
    effects = rig.core.broker_message(BrokerMessage(destination="/topic/gw1",
                                                    body="1001#State#READY"), 0)
    [log] = [e for e in effects if isinstance(e, Log)]
    assert "GC event State has 3 fields" in log.text.format(**log.fields)
    assert rig.codec.rejected["width"] == 1
    assert a.invoke("ChangeNotReadyState", ReasonCode="1") == {"code": 0}


def test_sessions_are_isolated_between_connections() -> None:
    rig = Rig()
    a = rig.logged_in()
    other = rig.client()
    r = other.call("InvokeCommand", service=a.service, cmdTrackId="x", name="ChangeReadyState",
                   stringParam="", params=[])
    assert r["code"] == 4
    assert rig.model.agents["1001"].state == "NOT_READY"


def test_a_lost_scs_connection_logs_its_agents_out_when_the_grace_ends() -> None:
    rig = Rig()
    a = rig.logged_in()
    a.client.protocol.connectionLost()
    rig.pump(59)  # ResumeGraceSeconds (60): kept for ResumeDriverInstance
    assert rig.model.agents["1001"].state == "NOT_READY"
    rig.pump(2)
    assert rig.model.agents["1001"].state == "LOGOUT"
    assert rig.core.services == {} and rig.core.drivers == {}
