"""A monitor over a made-up gateway of N agents (``python -m tests.monitor.fake_monitor
PORT N``), for the 10,000-agent browser test: the real web resource, live hub and page,
with a ``MonitorSource`` that invents its agents and changes one of them every tick."""

from __future__ import annotations

import sys
from typing import Any

from siebel_gateway.monitor.live import LiveHub
from siebel_gateway.monitor.metrics import Metrics
from siebel_gateway.monitor.views import (
    ActionResult,
    AgentSummary,
    AgentView,
    GcView,
    LinkView,
    StatusView,
)
from siebel_gateway.monitor.web import MonitorResource

STATES = ("READY", "NOT_READY", "TALKING", "WORK", "RESERVED")


class FakeSource:
    def __init__(self, n: int, clock: Any) -> None:
        self.clock = clock
        self.rows = {f"{i:05d}": AgentSummary(f"{i:05d}", f"7{i:05d}", STATES[i % 5], "",
                                              "", 1 if STATES[i % 5] == "TALKING" else 0,
                                              i % 40 + 1, f"svc-{i}")
                     for i in range(1, n + 1)}
        self.started = clock.seconds()
        self.turn = 0

    def now(self) -> float:
        return float(self.clock.seconds())

    def status(self) -> StatusView:
        by_state: dict[str, int] = {}
        for a in self.rows.values():
            by_state[a.state] = by_state.get(a.state, 0) + 1
        return StatusView("0.1.0", self.started, self.now(), True, "127.0.0.1:7788", 40,
                          LinkView(True, self.started, "connected", "stomp://amq:61613", 0),
                          (GcView("Connector1", True, self.started),), by_state,
                          len(self.rows))

    def agents(self) -> list[AgentSummary]:
        return list(self.rows.values())

    def summary(self, agent_id: str) -> AgentSummary | None:
        return self.rows.get(agent_id)

    def agent(self, agent_id: str) -> AgentView | None:
        row = self.rows.get(agent_id)
        return AgentView(row) if row is not None else None

    def changes(self) -> tuple[set[str], bool]:
        self.turn += 1
        agent_id = f"{self.turn % len(self.rows) + 1:05d}"
        row = self.rows[agent_id]
        self.rows[agent_id] = AgentSummary(**{**row.json(), "state": "READY"})
        return {agent_id}, False

    def force_logout(self, agent_id: str, reason_code: str) -> ActionResult:
        return ActionResult(False, "read-only", 403)

    def reload_texts(self) -> ActionResult:
        return ActionResult(False, "read-only", 403)


def main() -> None:
    from twisted.internet import reactor as _reactor
    from twisted.web.server import Site

    reactor: Any = _reactor
    port, n = int(sys.argv[1]), int(sys.argv[2])
    source = FakeSource(n, reactor)
    hub = LiveHub(source, reactor)
    resource = MonitorResource(source, Metrics(), hub, source, None)
    reactor.listenTCP(port, Site(resource), interface="127.0.0.1")  # type: ignore[no-untyped-call]
    hub.start()
    reactor.run()


if __name__ == "__main__":
    main()
