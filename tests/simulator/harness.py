"""A client's view of the simulator: GC commands in, decoded GC events out, on a fake clock."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from twisted.internet.task import Clock

from siebel_gateway.adapters.memory_link import MemoryBroker
from siebel_gateway.core.broker_messages import BrokerMessage
from siebel_gateway.gc.codec import GcCodec, GcEvent
from siebel_gateway.gc.dialect import load_dialect
from siebel_gateway.simulator.data import sample_data
from siebel_gateway.simulator.model import FinesseModel
from siebel_gateway.simulator.runner import SimulatorRunner

DIALECT = load_dialect()


@dataclass
class Sim:
    flavour: str = "ucce"
    seed: int = 7
    decrypt: Any = None
    clock: Clock = field(default_factory=Clock)
    events: list[GcEvent] = field(default_factory=list)
    replies: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.clock.advance(1_700_000_000)
        broker = MemoryBroker(self.clock)
        self.codec = GcCodec(DIALECT, queue="Connector1", client_destination="client1")
        self.model = FinesseModel(sample_data(), self.codec, flavour=self.flavour,
                                  seed=self.seed, now=self.clock.seconds, ring_timeout=15,
                                  answer_delay=1, decrypt=self.decrypt)
        self.runner = SimulatorRunner(self.model, broker.link(), self.codec, self.clock)
        self.runner.link.start()
        self.client = broker.link()
        self.client.subscribe("/topic/client1", self._event)
        self.client.subscribe("/topic/replies", lambda m: self.replies.append(json.loads(m.body)))
        self.client.start()

    def _event(self, message: BrokerMessage) -> None:
        assert message.headers["gcTimestamp"].isdigit()
        self.events.append(self.codec.decode(message.body))

    def send(self, command: str, **values: str) -> list[GcEvent]:
        self.client.publish(self.codec.encode(command, values))
        return self.drain()

    def control(self, **msg: Any) -> tuple[dict[str, Any], list[GcEvent]]:
        """Send a control action; returns its reply and the events it caused."""
        self.client.publish(BrokerMessage(destination="/queue/Connector1.sim-control",
                                          body=json.dumps(msg),
                                          headers={"reply-to": "/topic/replies"}))
        events = self.drain()
        return self.replies.pop(), events

    def drain(self) -> list[GcEvent]:
        self.clock.advance(0)
        self.clock.advance(0)
        out, self.events = self.events, []
        return out

    def advance(self, seconds: float) -> list[GcEvent]:
        self.clock.advance(seconds)
        return self.drain()

    def login(self, agent: str, *, ready: bool = False) -> list[GcEvent]:
        self.send("Connect", AgentId=agent, Password=f"secret{agent}")
        out = self.send("Login", AgentId=agent, Password=f"secret{agent}",
                        Extension=str(int(agent) + 1000))
        if ready:
            out += self.send("MakeReady", AgentId=agent)
        return out


def brief(events: list[GcEvent]) -> list[str]:
    """Events as short readable strings: 'State 1001 READY', 'InboundCall 1001 ACTIVE ...'."""
    out = []
    for e in events:
        f = e.fields
        if e.name == "State":
            extra = f" pending={f['PendingState']}" if f["PendingState"] else ""
            code = f" code={f['ReasonCode']}" if f["ReasonCode"] not in (-1, None) else ""
            out.append(f"State {e.agent_id} {f['State']}{code}{extra}")
        elif e.name in ("NewInboundCall", "InboundCall", "ConsultCall", "DialogStatus"):
            parts = [e.name, e.agent_id, f["DialogId"], f.get("DialogState"),
                     f.get("ParticipantState"), f.get("CallType")]
            out.append(" ".join(str(p) for p in parts if p))
        elif e.name == "Error":
            out.append(f"Error {e.agent_id} {f['ErrorType']}: {f['Message']}")
        else:
            out.append(f"{e.name} {e.agent_id}")
    return out
