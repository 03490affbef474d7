"""The whole gateway in memory: SCS clients on StringTransports, the gateway service, a
memory broker and the simulator, all on one fake clock.  Deterministic and fast; the same
code paths as production except the sockets and ActiveMQ (tests marked ``broker`` use those).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport

from siebel_gateway.adapters.gateway_service import GatewayService, NoTrace, ScsProtocol
from siebel_gateway.adapters.memory_link import MemoryBroker
from siebel_gateway.core.broker_messages import BrokerMessage
from siebel_gateway.core.effects import Effect, Publish
from siebel_gateway.core.gateway import GatewayCore, GatewayOptions
from siebel_gateway.gc.codec import GcCodec
from siebel_gateway.gc.dialect import load_dialect
from siebel_gateway.locales import load_catalog
from siebel_gateway.simulator.data import sample_data
from siebel_gateway.simulator.model import FinesseModel
from siebel_gateway.simulator.runner import SimulatorRunner
from siebel_gateway.trace.config import trace_config
from siebel_gateway.trace.record import TraceWriter

DIALECT = load_dialect()
CATALOG = load_catalog()
START = 1_763_700_000.0
SKIP = ("BeginBatch", "EndBatch")


class SentTap(NoTrace):
    """Keeps what the gateway published, in order."""

    def __init__(self, sent: list[BrokerMessage]) -> None:
        self.sent = sent

    def effects(self, effects: Sequence[Effect], now: float) -> None:
        self.sent.extend(e.message for e in effects if isinstance(e, Publish))


class RecordingTap(TraceWriter):
    def __init__(self, path: Path, sent: list[BrokerMessage], **kw: Any) -> None:
        super().__init__(path, **kw)
        self.sent = sent

    def effects(self, effects: Sequence[Effect], now: float) -> None:
        super().effects(effects, now)
        self.sent.extend(e.message for e in effects if isinstance(e, Publish))


@dataclass
class Client:
    """An SCS stand-in: JSON-RPC lines in and out of one ScsProtocol."""

    rig: Rig
    transport: StringTransport = field(default_factory=StringTransport)
    callbacks: list[dict[str, Any]] = field(default_factory=list)
    results: dict[Any, dict[str, Any]] = field(default_factory=dict)
    errors: list[dict[str, Any]] = field(default_factory=list)
    next_id: int = 0

    def __post_init__(self) -> None:
        self.protocol = ScsProtocol(self.rig.service)
        cast(Any, self.protocol).makeConnection(self.transport)

    def send_raw(self, data: bytes) -> None:
        self.protocol.dataReceived(data)
        self.rig.pump()
        self.collect()

    def collect(self) -> None:
        transport: Any = self.transport
        data = transport.value()
        transport.clear()
        for line in data.splitlines():
            msg = json.loads(line)
            if "method" in msg:
                self.callbacks.append(msg)
            elif "error" in msg:
                self.errors.append(msg)
            else:
                self.results[msg["id"]] = msg["result"]

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        rid = self.next_id
        line = json.dumps({"jsonrpc": "2.0", "id": rid, "method": method, "params": params})
        self.send_raw(line.encode() + b"\n")
        return self.results.pop(rid)

    def take(self, *, raw: bool = False) -> list[dict[str, Any]]:
        self.rig.pump()
        self.collect()
        out, self.callbacks = self.callbacks, []
        return out if raw else [c for c in out if c["method"] not in SKIP]

    def events(self) -> list[tuple[str, dict[str, str]]]:
        """The HandleEvent callbacks since the last take, as (name, fields)."""
        return [(c["params"]["name"], dict(c["params"]["fields"]))
                for c in self.take() if c["method"] == "HandleEvent"]


@dataclass
class Agent:
    """One driver + one service on a client, with helpers for device commands."""

    client: Client
    service: str
    cmd: int = 0
    #: The toolbar as the last CacheCommandInformation seen by ``take`` left it.
    flags: dict[str, int] = field(default_factory=dict)

    def invoke(self, name: str, string_param: str = "", **params: str) -> dict[str, Any]:
        self.cmd += 1
        return self.client.call("InvokeCommand", service=self.service,
                                cmdTrackId=f"c{self.cmd}", name=name, stringParam=string_param,
                                params=[[k, v] for k, v in params.items()])

    def take(self) -> list[dict[str, Any]]:
        out = self.client.take()
        for c in out:
            if c["method"] == "CacheCommandInformation":
                p = c["params"]
                self.flags = dict(zip(p["commands"], p["statuses"], strict=True))
        return out

    def names(self) -> list[str]:
        """Callback names since the last take; HandleEvent shown as its event name."""
        return [c["params"]["name"] if c["method"] == "HandleEvent" else c["method"]
                for c in self.take()]


@dataclass
class Rig:
    flavour: str = "ucce"
    options: GatewayOptions = field(default_factory=GatewayOptions)
    encrypt: Any = None
    decrypt: Any = None
    clock: Clock = field(default_factory=Clock)
    #: Record a trace (``serve --trace``) of everything the gateway does into this file.
    trace: Path | None = None
    #: The simulated GC sends only the public catalogue's event fields.
    catalogue_only: bool = False

    def __post_init__(self) -> None:
        self.clock.advance(START)
        self.broker = MemoryBroker(self.clock)
        sim_codec = GcCodec(DIALECT, queue="Connector1")
        self.model = FinesseModel(sample_data(), sim_codec, flavour=self.flavour, seed=3,
                                  now=self.clock.seconds, ring_timeout=15, answer_delay=1,
                                  decrypt=self.decrypt, catalogue_only=self.catalogue_only)
        self.sim = SimulatorRunner(self.model, self.broker.link(), sim_codec, self.clock)
        self.sim.link.start()
        self.codec = GcCodec(DIALECT, queue="Connector1", client_destination="gw1")
        self.core = GatewayCore(self.codec, CATALOG, self.options, encrypt=self.encrypt)
        self.link = self.broker.link()
        self.sent: list[BrokerMessage] = []
        tap: NoTrace | TraceWriter = SentTap(self.sent)
        if self.trace is not None:
            tap = RecordingTap(self.trace, self.sent, redact_body=self.codec.redacted_body,
                               config=trace_config(codec=self.codec, options=self.options,
                                                   secure_password=self.encrypt is not None),
                               not_agents=(DIALECT.system_agent, "gw1"),
                               monotonic=self.clock.seconds)
        self.service = GatewayService(self.core, self.link, self.clock, wall=self.clock.seconds,
                                      tap=tap)
        self.service.start()
        self.pump()

    def pump(self, seconds: float = 0) -> None:
        self.clock.advance(0)
        if seconds:
            self.clock.advance(seconds)
            self.clock.advance(0)

    def client(self) -> Client:
        return Client(self)

    def control(self, **msg: Any) -> None:
        self.control_link().publish(BrokerMessage(destination="/queue/Connector1.sim-control",
                                                  body=json.dumps(msg)))
        self.pump()

    def control_link(self) -> Any:
        if not hasattr(self, "_control"):
            self._control = self.broker.link()
            self._control.start()
        return self._control

    def agent(self, client: Client | None = None, *, language: str = "ENU",
              params: Iterable[tuple[str, str]] = (), agent_id: str = "1001",
              extension: str = "2001") -> Agent:
        c = client or self.client()
        driver = c.call("CreateISCDriverInstance", mediaType="Voice", language=language,
                        connectString="", params=[["Flavour", self.flavour.upper()],
                                                  *[list(p) for p in params]])
        assert driver["code"] == 0, driver
        svc = c.call("RequestService", driver=driver["driver"], connectString="",
                     params=[["AgentId", agent_id], ["Extension", extension]])
        assert svc["code"] == 0, svc
        a = Agent(c, svc["service"])
        a.take()
        return a

    def logged_in(self, agent_id: str = "1001", extension: str = "2001", **kw: Any) -> Agent:
        a = self.agent(agent_id=agent_id, extension=extension, **kw)
        r = a.invoke("LogIn", AgentId=agent_id, AgentPin=f"secret{agent_id}",
                     Extension=extension)
        assert r == {"code": 0}, r
        self.pump()
        a.take()
        return a
