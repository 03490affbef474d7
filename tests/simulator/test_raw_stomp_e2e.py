"""simulate-gc as a process on a real ActiveMQ, driven by a plain stomp.py client that knows
only the GC wire format (finesse.md section 6): Hello, Connect, Login, READY, a call placed
through the control channel, answer, hold, retrieve, consult, transfer, conference, release."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import uuid
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest
import stomp

pytestmark = pytest.mark.broker
ROOT = Path(__file__).parents[2]


class RawClient(stomp.ConnectionListener):  # type: ignore[misc]
    def __init__(self, host: str, port: int, gc_queue: str, topic: str) -> None:
        self.inbox: queue.Queue[str] = queue.Queue()
        self.replies: queue.Queue[dict[str, Any]] = queue.Queue()
        self.gc_queue, self.topic = gc_queue, topic
        self.conn = stomp.Connection12([(host, port)], auto_content_length=False)
        self.conn.set_listener("raw", self)
        self.conn.connect(wait=True)
        self.conn.subscribe(f"/topic/{topic}", id="events", ack="auto")
        self.conn.subscribe(f"/topic/{topic}.replies", id="replies", ack="auto")

    def on_message(self, frame: Any) -> None:
        if frame.headers["subscription"] == "replies":
            self.replies.put(json.loads(frame.body))
        else:
            self.inbox.put(frame.body)

    def command(self, jms_type: str, body: str = "") -> None:
        self.conn.send(f"/queue/{self.gc_queue}", body, headers={"type": jms_type})

    def control(self, **msg: Any) -> dict[str, Any]:
        self.conn.send(f"/queue/{self.gc_queue}.sim-control", json.dumps(msg),
                       headers={"reply-to": f"/topic/{self.topic}.replies"})
        return self.replies.get(timeout=20)

    def expect(self, *prefixes: str) -> list[list[str]]:
        """The next events, in order, each starting with the given 'agent#Event#...' prefix."""
        got = []
        for prefix in prefixes:
            text = self.inbox.get(timeout=20)
            assert text.startswith(prefix), f"expected {prefix!r}..., got {text!r}"
            got.append(text.split("#"))
        return got


@pytest.fixture
def sim(broker_stomp: tuple[str, int]) -> Generator[RawClient, None, None]:
    host, port = broker_stomp
    gc_queue = f"GC{uuid.uuid4().hex[:8]}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "siebel_gateway", "simulate-gc", "--broker",
         f"stomp://{host}:{port}", "--queue", gc_queue, "--seed", "3"],
        cwd=ROOT, stderr=subprocess.PIPE, text=True, env={**os.environ})
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.put(line)
        lines.put("")

    threading.Thread(target=read, daemon=True).start()
    try:
        seen: list[str] = []
        while True:  # wait until it is listening, at most 30 s
            try:
                line = lines.get(timeout=30)
            except queue.Empty:
                pytest.fail("simulate-gc did not connect within 30 s: " + "".join(seen))
            if not line:
                pytest.fail("simulate-gc exited before connecting: " + "".join(seen))
            seen.append(line)
            if "broker link up" in line:
                break
        client = RawClient(host, port, gc_queue, f"raw.{gc_queue}")
        yield client
        client.conn.disconnect()
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_gc_flow_over_activemq(sim: RawClient) -> None:
    c, topic = sim, sim.topic
    c.command(f"Hello#{topic}")
    c.expect("system#IN_SERVICE#")
    for agent, ext in (("1001", "2001"), ("1002", "2002"), ("1003", "2003")):
        c.command(f"Connect#{agent}", f"{topic},secret{agent}")
        c.command(f"Login#{agent}", f"secret{agent},{ext}")
        _info, state = c.expect(f"{agent}#AgentInfo#", f"{agent}#State#NOT_READY#-1#")
        assert state[9] == ext
    c.command("MakeReady#1001")
    c.expect("1001#State#READY#")

    reply = c.control(action="inbound-call", agent="1001", ani="4155550100", dnis="8005550100",
                      ced="778899", callVariables={"callVariable1": "1-23456"},
                      ecc={"AccountId": "A-9"})
    assert reply["ok"], reply
    d1 = reply["dialogId"]
    _, ring = c.expect("1001#State#RESERVED#", "1001#NewInboundCall#4155550100#8005550100#")
    assert ring[4] == f"key:{d1}" and ring[7] == "callVariable1=1-23456|user.AccountId=A-9"

    c.command("AnswerCall#1001", d1)
    c.expect(f"1001#InboundCall#ACTIVE#{d1}#4155550100#ACTIVE#", "1001#State#TALKING#")
    c.command("HoldCall#1001", d1)
    c.expect(f"1001#InboundCall#HELD#{d1}#4155550100#HELD#", "1001#State#HOLD#")
    c.command("RetrieveCall#1001", d1)
    c.expect(f"1001#InboundCall#ACTIVE#{d1}#4155550100#ACTIVE#", "1001#State#TALKING#")

    # consult 1002, who sees the caller's data; then transfer the call to 1002
    c.command("ConsultCall#1001", f"2002,{d1}")
    _held, initiated, _alerting, pop = c.expect(
        f"1001#InboundCall#HELD#{d1}#", "1001#ConsultCall#INITIATED#",
        "1001#ConsultCall#ALERTING#", "1002#NewInboundCall#4155550100#")
    d2 = initiated[3].removeprefix("key:")
    assert pop[4] == f"key:{d2}" and pop[5] == "CONSULT" and pop[8] == d1
    assert pop[7] == "callVariable1=1-23456|user.AccountId=A-9"
    c.command("AnswerCall#1002", d2)
    c.expect(f"1001#ConsultCall#ACTIVE#key:{d2}#", f"1002#InboundCall#ACTIVE#{d2}#",
             "1002#State#TALKING#")
    c.command("TransferCall#1001", f"2001,{d1}")
    events = c.expect(f"1001#ConsultCall#DROPPED#key:{d2}#", f"1002#InboundCall#DROPPED#{d2}#",
                      f"1001#InboundCall#DROPPED#{d1}#", f"1002#InboundCall#ACTIVE#{d1}#",
                      "1001#State#WORK_READY#")
    assert events[3][7] == "TRANSFER" and events[3][11] == d2

    # 1002 consults 1003 and conferences everyone in
    c.command("ConsultCall#1002", f"2003,{d1}")
    _held, consult, _alerting, _pop = c.expect(
        f"1002#InboundCall#HELD#{d1}#", "1002#ConsultCall#INITIATED#",
        "1002#ConsultCall#ALERTING#", "1003#NewInboundCall#")
    d3 = consult[3].removeprefix("key:")
    c.command("AnswerCall#1003", d3)
    c.expect(f"1002#ConsultCall#ACTIVE#key:{d3}#", f"1003#InboundCall#ACTIVE#{d3}#",
             "1003#State#TALKING#")
    c.command("ConferenceCall#1002", f"2002,{d1}")
    conf = c.expect(f"1002#ConsultCall#DROPPED#key:{d3}#", f"1003#InboundCall#DROPPED#{d3}#",
                    f"1002#InboundCall#ACTIVE#{d1}#", f"1003#InboundCall#ACTIVE#{d1}#")
    assert conf[2][7] == conf[3][7] == "CONFERENCE"

    # everyone hangs up
    c.command("ReleaseCall#1002", d1)
    c.expect(f"1002#InboundCall#DROPPED#{d1}#", f"1003#InboundCall#ACTIVE#{d1}#",
             "1002#State#WORK")
    c.command("ReleaseCall#1003", d1)
    c.expect(f"1003#InboundCall#DROPPED#{d1}#", "1003#State#WORK")
    c.command("GetState#1001")
    c.expect("1001#State#WORK_READY#")


def test_bad_input_is_answered_not_fatal(sim: RawClient) -> None:
    c = sim
    reply = c.control(action="nonsense")
    assert reply["ok"] is False and "unknown action" in reply["error"]
    c.conn.send(f"/queue/{c.gc_queue}.sim-control", "{not json",
                headers={"reply-to": f"/topic/{c.topic}.replies"})
    assert "not JSON" in c.replies.get(timeout=20)["error"]
    c.command("NoSuchCommand#1001", "x")  # logged and counted by the simulator
    c.command(f"Hello#{c.topic}")
    c.expect("system#IN_SERVICE#")  # still alive and answering
