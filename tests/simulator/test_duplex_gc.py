"""The simulator as a duplex GC: two queues in front of one Finesse model, and the control
channel's gc-down / gc-up."""

from __future__ import annotations

import functools
import json
from typing import Any

from twisted.internet.task import Clock

from siebel_gateway.adapters.memory_link import MemoryBroker
from siebel_gateway.core.broker_messages import BrokerMessage
from siebel_gateway.gc.codec import GcCodec, GcEvent
from siebel_gateway.simulator.data import sample_data
from siebel_gateway.simulator.model import FinesseModel
from siebel_gateway.simulator.runner import SimulatorRunner

from .harness import DIALECT


class Duplex:
    def __init__(self) -> None:
        self.clock = Clock()
        self.clock.advance(1_700_000_000)
        broker = MemoryBroker(self.clock)
        self.gc = [GcCodec(DIALECT, queue=q, client_destination=f"gw.{q}")
                   for q in ("Connector1", "Connector2")]
        model = FinesseModel(sample_data(), self.gc[0], now=self.clock.seconds,
                             ring_timeout=15, answer_delay=1)
        self.runner = SimulatorRunner(model, broker.link(), self.gc[0], self.clock,
                                      queues=("Connector1", "Connector2"))
        self.runner.link.start()
        self.events: dict[str, list[GcEvent]] = {"Connector1": [], "Connector2": []}
        self.replies: list[dict[str, Any]] = []
        self.client = broker.link()
        for codec in self.gc:
            self.client.subscribe(codec.event_destination,
                                  functools.partial(self._event, codec.queue))
        self.client.subscribe("/topic/replies", lambda m: self.replies.append(json.loads(m.body)))
        self.client.start()

    def _event(self, queue: str, message: BrokerMessage) -> None:
        self.events[queue].append(self.gc[0].decode(message.body))

    def send(self, i: int, command: str, **values: str) -> None:
        self.client.publish(self.gc[i].encode(command, values))
        self.clock.advance(0)

    def control(self, **msg: Any) -> dict[str, Any]:
        self.client.publish(BrokerMessage(destination="/queue/Connector1.sim-control",
                                          body=json.dumps(msg),
                                          headers={"reply-to": "/topic/replies"}))
        self.clock.advance(0)
        return self.replies.pop()

    def take(self, queue: str) -> list[str]:
        out, self.events[queue] = self.events[queue], []
        return [e.name if e.name != "State" else f"State:{e.text('State')}" for e in out]


def test_both_queues_serve_one_finesse_and_the_agent_state_survives_a_gc_down() -> None:
    d = Duplex()
    d.send(0, "Hello")
    d.send(1, "Hello")
    assert d.take("Connector1") == ["IN_SERVICE"] and d.take("Connector2") == ["IN_SERVICE"]
    d.send(0, "Connect", AgentId="1001", Password="secret1001")
    d.send(0, "Login", AgentId="1001", Password="secret1001", Extension="2001")
    d.send(0, "MakeReady", AgentId="1001")
    assert "State:READY" in d.take("Connector1")

    # silent: nothing answers on Connector1, not even Beat
    assert d.control(action="gc-down", queue="Connector1", mode="silent")["ok"]
    d.send(0, "Beat")
    d.send(0, "MakeNotReady", AgentId="1001")
    assert d.take("Connector1") == []
    # the agent reaches Finesse again through Connector2: still READY there
    d.send(1, "Connect", AgentId="1001", Password="secret1001")
    d.send(1, "Login", AgentId="1001", Password="secret1001", Extension="2001")
    assert "State:READY" in d.take("Connector2")

    assert d.control(action="gc-up", queue="Connector1")["ok"]
    assert d.take("Connector1") == ["IN_SERVICE"]  # announced to its clients
    d.send(0, "Beat")
    assert d.take("Connector1") == ["IN_SERVICE"]


def test_out_of_service_is_announced_and_answered() -> None:
    d = Duplex()
    d.send(0, "Hello")
    d.take("Connector1")
    assert d.control(action="gc-down", queue="Connector1", mode="out-of-service")["ok"]
    assert d.take("Connector1") == ["OUT_OF_SERVICE"]
    d.send(0, "Beat")
    assert d.take("Connector1") == ["OUT_OF_SERVICE"]
    d.control(action="gc-up", queue="Connector1")
    assert d.take("Connector1") == ["IN_SERVICE"]


def test_bad_gc_control_is_answered_with_the_reason() -> None:
    d = Duplex()
    reply = d.control(action="gc-down", queue="Connector9")
    assert not reply["ok"] and "Connector1, Connector2" in reply["error"]
    reply = d.control(action="gc-down", queue="Connector2", mode="asleep")
    assert not reply["ok"] and "silent or out-of-service" in reply["error"]
