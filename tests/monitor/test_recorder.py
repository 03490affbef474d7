"""``MonitorTap`` on its own: what it derives from the shell's input/effect stream."""

from __future__ import annotations

from siebel_gateway.core.effects import Key, Log, ToScs
from siebel_gateway.core.scs_messages import HandleEvent, InvokeCommand, ReleaseISCServiceInstance
from siebel_gateway.core.scs_wire import (
    Request,
    RpcError,
    WireError,
    callback_message,
    result_message,
)
from siebel_gateway.monitor.glue import make_tap
from siebel_gateway.monitor.metrics import Metrics
from siebel_gateway.monitor.recorder import TIMELINE, MonitorTap


def tap() -> MonitorTap:
    t = make_tap(Metrics())
    t.agent_of = lambda service: {"svc-1": "1001"}.get(service, "")
    return t


def value(t: MonitorTap, name: str, **labels: str) -> float:
    v = t.metrics.registry.get_sample_value(name, labels)
    return 0.0 if v is None else v


def command(t: MonitorTap, rid: int, name: str, code: int, now: float) -> None:
    t.scs_in(1, Request(rid, InvokeCommand(service="svc-1", cmd_track_id="1", name=name,
                                           string_param="",
                                           params=(("AgentPin", "pw-xyz"),))), now)
    t.effects([ToScs(1, result_message(rid, code, "no" if code else ""))], now)


def event(t: MonitorTap, name: str, now: float) -> None:
    t.effects([ToScs(1, callback_message(HandleEvent(
        service="svc-1", name=name, fields=(), notify_when_done=False, tracking_id="")))],
        now)


def test_commands_are_counted_by_name_and_result_and_timed_to_the_first_event() -> None:
    t = tap()
    command(t, 1, "ChangeReadyState", 0, 100.0)
    event(t, "EventAgentReady", 100.2)
    event(t, "EventAgentNotReady", 105.0)  # not a second answer to the same command
    command(t, 2, "MakeCall", 5, 106.0)
    command(t, 3, "Nonsense", 0, 107.0)
    assert value(t, "siebel_gateway_commands_total", command="ChangeReadyState",
                 result="ok") == 1
    assert value(t, "siebel_gateway_commands_total", command="MakeCall",
                 result="refused") == 1
    assert value(t, "siebel_gateway_commands_total", command="other", result="ok") == 1
    assert value(t, "siebel_gateway_command_event_seconds_count",
                 command="ChangeReadyState") == 1
    assert abs(value(t, "siebel_gateway_command_event_seconds_sum",
                     command="ChangeReadyState") - 0.2) < 1e-9
    assert value(t, "siebel_gateway_events_total", event="EventAgentReady") == 1
    line = [(e.kind, e.name, e.detail) for e in t.timelines["1001"]]
    assert line[:2] == [("command", "ChangeReadyState", "accepted"),
                        ("event", "EventAgentReady", "")]
    assert "pw-xyz" not in repr(t.timelines) + repr(t.errors)


def test_a_bad_line_is_counted_as_an_error() -> None:
    t = tap()
    t.scs_in(1, WireError(9, RpcError.PARSE, "bad json"), 1.0)
    t.effects([ToScs(1, {"jsonrpc": "2.0", "id": 9, "error": {"code": -32700,
                                                              "message": "bad json"}})], 1.0)
    assert value(t, "siebel_gateway_commands_total", command="invalid", result="error") == 1


def test_link_changes_reconnects_and_publish_failures() -> None:
    t = tap()
    t.link(True, "connected", False, 10.0)
    t.link(False, "broker gone", False, 20.0)
    assert (t.link_state.up, t.link_state.since, t.link_state.reason) == (False, 20.0,
                                                                          "broker gone")
    t.link(True, "connected", True, 30.0)
    assert t.link_state.reconnects == 1
    assert value(t, "siebel_gateway_broker_reconnects_total") == 1
    t.publish_failed(Key("svc-1", "cmd", "3"), "not connected", 31.0)
    assert value(t, "siebel_gateway_publish_failures_total") == 1
    assert "not connected" in t.errors[-1].text


def test_warnings_become_recent_errors_without_tracebacks() -> None:
    t = tap()
    t.effects([Log("info", "fine"),
               Log("error", "internal error on {method}: {error}\n{traceback}",
                   {"method": "InvokeCommand", "error": "boom", "traceback": "Traceback..."}),
               Log("warn", "GC did not answer {gc_command}", {"gc_command": "Login",
                                                              "agent": "1001"})], 5.0)
    assert [(e.level, e.text, e.agent_id) for e in t.errors] == [
        ("error", "internal error on InvokeCommand: boom", ""),
        ("warn", "GC did not answer Login", "1001")]


def test_the_timeline_keeps_the_last_fifty_and_changes_are_drained() -> None:
    t = tap()
    for i in range(TIMELINE + 10):
        event(t, f"E{i}", float(i))
    assert len(t.timelines["1001"]) == TIMELINE
    assert t.timelines["1001"][0].name == "E10"
    services, agents, status = t.take_dirty()
    assert services == {"svc-1"} and not agents and status  # the GC state was first noted
    assert t.take_dirty() == (set(), set(), False)


def test_who_a_closing_connection_or_a_release_held_is_noted_before_the_core_acts() -> None:
    t = tap()
    t.agents_on = lambda connection: ["1001"] if connection == 1 else []
    t.closed(1, 1.0)
    assert t.take_dirty()[1] == {"1001"}
    t.scs_in(1, Request(4, ReleaseISCServiceInstance(service="svc-1")), 2.0)
    assert t.take_dirty()[1] == {"1001"}
