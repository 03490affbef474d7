"""GC and broker faults on real ActiveMQ, with ``serve`` and a duplex ``simulate-gc`` as
processes and agents on real SCS connections.  Each test breaks one thing, measures the
time to recovery (printed and written to build/faults/<test>.json; the figures are in
docs/operations.md, "Measured recovery: GC and broker faults") and asserts what the agents
see: still logged in, the same state and reason, the same calls with the same tracking ids,
and every command answered.  Times are reported, never asserted."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from .lab import Agent, Broker, Lab, Load, kill9, record

pytestmark = pytest.mark.broker


def queues() -> tuple[str, str]:
    tag = uuid.uuid4().hex[:8]
    return f"GC{tag}a", f"GC{tag}b"


@pytest.fixture
def shared_lab(broker_stomp: tuple[str, int], tmp_path: Path) -> Iterator[Lab]:
    host, port = broker_stomp
    lab = Lab(tmp_path, f"stomp://{host}:{port}", queues())
    lab.start(broker_stomp)
    try:
        yield lab
    finally:
        lab.stop()


def snapshot(agents: tuple[Agent, ...]) -> list[tuple[tuple[str, str], set[str], int]]:
    return [(a.last_state(), a.open_items(), len(a.c.history)) for a in agents]


def failover_seen(a: Agent, start: int) -> float:
    """When the agent was told its GC failed over (the status text naming both GCs)."""
    msg = a.wait_for("the failover status text", lambda m: m["method"] == "ShowStatusText"
                     and "continues on" in m["params"]["text"], start)
    return float(msg["_t"])


@pytest.mark.parametrize("how", ["silent", "out-of-service"])
def test_primary_gc_fails_and_agents_continue_on_the_second(shared_lab: Lab, how: str) -> None:
    lab = shared_lab
    a, b = lab.floor()
    before = snapshot((a, b))
    gcs = lab.status()["gcs"]
    assert [g["active"] for g in gcs] == [True, False]  # the first GC in Queue is active
    assert [g["agents"] for g in gcs] == [2, 0]
    t_fault = time.monotonic()
    lab.control(action="gc-down", queue=lab.queues[0], mode=how)
    # A command right after the fault, never left in silence: one that reached the failed
    # GC is answered at the switch with a HandleError naming the failover (a silent GC
    # swallows it); one that arrives while the agent is being signed in on the second GC
    # is held and carried out there once it answered (core/resync.py), or refused at once.
    track, result = a.invoke("ChangeReadyState")
    detected = min(failover_seen(x, start) for x, (_, _, start) in zip((a, b), before,
                                                                          strict=True))
    expected = [state for state, _, _ in before]
    if result["code"] == 0:
        answer = a.wait_for(f"an answer to {track}", lambda m: (
            m["method"] == "HandleError" and m["params"]["cmdTrackId"] == track) or (
            m["method"] == "HandleEvent" and m["params"]["name"] == "EventAgentReady"),
            before[0][2])
        if answer["method"] == "HandleError":
            error = str(answer["params"]["error"])
            assert lab.queues[0] in error and lab.queues[1] in error  # names the failover
        else:
            assert how == "out-of-service", answer  # a silent GC's switch comes later
            expected[0] = ("EventAgentReady", "")
    else:
        assert how == "out-of-service" and result["error"], result
    if how == "silent":
        assert result == {"code": 0}
    resynced = max(x.resynced(start, state, items) for x, state, (_, items, start)
                   in zip((a, b), expected, before, strict=True))
    for x, (_, _, start) in zip((a, b), before, strict=True):
        assert not x.logged_out_since(start)
    assert a.last_state() == expected[0]
    assert len(b.open_items()) == 1
    status = lab.status()
    assert [g["status"] for g in status["gcs"]] == ["SILENT" if how == "silent"
                                                    else "OUT_OF_SERVICE", "IN_SERVICE"]
    record(f"gc_{how.replace('-', '_')}", {
        "heartbeat_s": lab.heartbeat, "missed_heartbeats": lab.missed,
        "detection_s": detected - t_fault, "switch_after_detection_s": resynced - detected,
        "agents_logged_out": 0, "commands_unanswered": 0})


def test_gc_returns_and_takes_new_logins_again(shared_lab: Lab) -> None:
    lab = shared_lab
    lab.mode = "active-active"  # (the lab was started active-passive: restart it)
    lab.stop()
    lab.procs.clear()
    lab.agents.clear()
    lab.start(lab.control_host)
    a, b = lab.floor()
    lab.wait_status(lambda s: sum(g["agents"] for g in s["gcs"]) == 2)
    before = snapshot((a, b))
    on_second = [g["agents"] for g in lab.status()["gcs"]]
    assert on_second == [0, 2]  # both agents' home (a CRC of the id) is the second GC
    lab.control(action="gc-down", queue=lab.queues[1], mode="silent")
    lab.wait_status(lambda s: s["gcs"][1]["status"] == "SILENT"
                    and s["gcs"][0]["agents"] == 2)
    for x, (state, items, start) in zip((a, b), before, strict=True):
        x.resynced(start, state, items)
    t_up = time.monotonic()
    lab.control(action="gc-up", queue=lab.queues[1])
    back = lab.wait_status(lambda s: s["gcs"][1]["status"] == "IN_SERVICE")
    # new logins whose home is the returned GC use it again
    newcomers = [lab.agent(agent_id) for agent_id in ("1003", "1004", "1005", "1006")]
    for x in newcomers:
        x.login()
    status = lab.status()
    assert status["gcs"][1]["agents"] >= 1, status
    assert status["gcs"][0]["agents"] >= 2  # the moved agents stay where they are
    for x, (_, _, start) in zip((a, b), before, strict=True):
        assert not x.logged_out_since(start)
    record("gc_returns", {"agents_before": on_second, "back_in_service_s": back - t_up,
                          "agents_after": [g["agents"] for g in status["gcs"]],
                          "agents_logged_out": 0})


def test_broker_kill9_and_restart(tmp_path: Path) -> None:
    broker = Broker(tmp_path / "amq")
    broker.start()
    lab = Lab(tmp_path, f"failover:({broker.url})", queues())
    try:
        lab.start(("127.0.0.1", broker.stomp))
        a, b = lab.floor()
        before = snapshot((a, b))
        t_kill = time.monotonic()
        kill9(broker.base)
        lost = min(x.wait_for("EventLinkDisconnected", lambda m: m["method"] == "HandleEvent"
                              and m["params"]["name"] == "EventLinkDisconnected",
                              start)["_t"] for x, (_, _, start) in zip((a, b), before,
                                                                        strict=True))
        _, refused = a.invoke("ChangeReadyState")  # while down: refused at once
        assert refused["code"] != 0
        broker.start()
        reachable = time.monotonic()
        resynced = max(x.resynced(start, state, items)
                       for x, (state, items, start) in zip((a, b), before, strict=True))
        for x, (_, _, start) in zip((a, b), before, strict=True):
            assert not x.logged_out_since(start)
        record("broker_kill9_restart", {
            "link_loss_seen_s": float(lost) - t_kill, "broker_restart_s": reachable - t_kill,
            "resynced_after_reachable_s": resynced - reachable, "agents_logged_out": 0})
    finally:
        lab.stop()
        broker.stop()


def test_second_broker_takes_over_under_load(tmp_path: Path,
                                             broker_stomp: tuple[str, int]) -> None:
    first = Broker(tmp_path / "amq")
    first.start()
    host, port = broker_stomp
    lab = Lab(tmp_path, f"failover:({first.url},stomp://{host}:{port})", queues())
    try:
        lab.start(("127.0.0.1", first.stomp))  # everyone starts on the first broker
        a, b = lab.floor()
        busy = lab.agent("1003")
        busy.login()
        load = Load(busy)
        with load.run():
            time.sleep(1.0)
            before = snapshot((a, b))
            t_kill = time.monotonic()
            kill9(first.base)
            resynced = max(x.resynced(start, state, items)
                           for x, (state, items, start) in zip((a, b), before, strict=True))
            time.sleep(1.0)
        for x, (_, _, start) in zip((a, b), before, strict=True):
            assert not x.logged_out_since(start)
        assert not load.lost, load.lost  # every accepted command was answered
        assert load.answered > 0
        record("broker_takeover_under_load", {
            "resynced_after_kill_s": resynced - t_kill, "commands_answered": load.answered,
            "commands_refused_while_down": load.refused, "commands_lost": len(load.lost),
            "agents_logged_out": 0})
    finally:
        lab.stop()
        first.stop()
