#!/usr/bin/env python3
"""Benchmark: the sans-IO core alone, no sockets, no broker, no simulator.

    python tools/bench_core.py [--pairs 5000] [--agents 1000]

* CPU per pair: ``GatewayCore`` fed one ``InvokeCommand`` (ChangeReadyState /
  ChangeNotReadyState, alternating) and the GC's ``State`` answer per iteration, timed with
  ``time.process_time`` (CPU of this process: less disturbed by other processes on a
  shared machine than the wall clock).
* Memory per agent: ``tracemalloc`` growth while ``--agents`` more agents are signed in
  (RequestService, LogIn, IN_SERVICE, State, a reason list each), after 50 to warm caches.

Run it from a checkout (``PYTHONPATH=<checkout>``) to compare two versions; interleave
runs, the figures move with the machine's load.
"""

from __future__ import annotations

import argparse
import gc
import json
import time
import tracemalloc
from typing import Any

from siebel_gateway.core.broker_messages import BrokerMessage
from siebel_gateway.core.effects import ToScs
from siebel_gateway.core.gateway import GatewayCore
from siebel_gateway.core.scs_wire import Request, parse_line
from siebel_gateway.gc.codec import FieldValue, GcCodec
from siebel_gateway.gc.dialect import load_dialect
from siebel_gateway.locales import load_catalog

NOW = 1_763_700_000.0


class Core:
    def __init__(self) -> None:
        self.dialect = load_dialect()
        self.codec = GcCodec(self.dialect, queue="Connector1", client_destination="gw1")
        self.core = GatewayCore(self.codec, load_catalog())
        self.n = 0
        self.core.link_status(True, "bench", NOW)
        self.system("IN_SERVICE")
        self.driver = self.request("CreateISCDriverInstance", mediaType="Voice",
                                   language="ENU", params=[["Flavour", "UCCE"]])["driver"]

    def line(self, method: str, **params: Any) -> Request:
        self.n += 1
        item = parse_line(json.dumps({"jsonrpc": "2.0", "id": self.n, "method": method,
                                      "params": params}).encode())
        assert isinstance(item, Request), item
        return item

    def request(self, method: str, **params: Any) -> dict[str, Any]:
        item = self.line(method, **params)
        for e in self.core.request(1, item, NOW):
            if isinstance(e, ToScs) and e.message.get("id") == item.id:
                result: dict[str, Any] = e.message["result"]
                return result
        raise AssertionError(f"{method} was not answered")

    def event(self, name: str, agent: str, **values: FieldValue) -> BrokerMessage:
        return BrokerMessage(destination=self.codec.event_destination,
                             body=self.codec.encode_event(name, agent, values))

    def gc(self, name: str, agent: str, **values: FieldValue) -> None:
        self.core.broker_message(self.event(name, agent, **values), NOW)

    def system(self, name: str) -> None:
        self.gc(name, self.dialect.system_agent, Reason="bench")

    def sign_in(self, agent: str) -> str:
        svc: str = self.request("RequestService", driver=self.driver,
                                params=[["AgentId", agent], ["Extension", "2" + agent]])["service"]
        self.gc("State", agent, State="LOGOUT", ReasonCode=-1)  # the restart probe's answer
        self.request("InvokeCommand", service=svc, cmdTrackId="l", name="LogIn",
                     params=[["AgentPin", "pin"]])
        self.system("IN_SERVICE")
        self.gc("State", agent, State="NOT_READY", ReasonCode=-1)
        self.gc("ReasonCodes", agent, Category="WRAP_UP", Codes=("1", "2"),
                Labels=("Sale", "No sale"))
        return svc


def cpu_per_pair(pairs: int) -> float:
    """µs of CPU per InvokeCommand + State pair."""
    c = Core()
    svc = c.sign_in("1001")
    lines = [c.line("InvokeCommand", service=svc, cmdTrackId=str(i), params=[],
                    name="ChangeReadyState" if i % 2 == 0 else "ChangeNotReadyState")
             for i in range(pairs)]
    events = [c.event("State", "1001", State="READY" if i % 2 == 0 else "NOT_READY",
                      ReasonCode=-1) for i in range(pairs)]
    core = c.core
    start = time.process_time()
    for request, event in zip(lines, events, strict=True):
        core.request(1, request, NOW)
        core.broker_message(event, NOW)
    return (time.process_time() - start) / pairs * 1e6


def bytes_per_agent(agents: int) -> float:
    c = Core()
    for i in range(50):
        c.sign_in(str(10_000 + i))
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for i in range(50, 50 + agents):
        c.sign_in(str(10_000 + i))
    gc.collect()
    grown = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    return grown / agents


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pairs", type=int, default=5000)
    ap.add_argument("--agents", type=int, default=1000)
    args = ap.parse_args()
    print(f"CPU per InvokeCommand + State pair: {cpu_per_pair(args.pairs):.1f} us "
          f"({args.pairs} pairs)")
    print(f"memory per signed-in agent: {bytes_per_agent(args.agents):.0f} bytes "
          f"({args.agents} agents, tracemalloc)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
