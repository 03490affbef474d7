"""What the monitor shows, as read-only values, and the two ports it needs.

The web resources, the metrics and the status command only see these types: a
``MonitorSource`` hands out frozen snapshots, ``AdminActions`` turns an operator's action
into a gateway input.  The one module that knows the gateway's insides is ``glue.py``.
Nothing here holds a secret: views carry ids, states and times, never a password.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = ["ActionResult", "AdminActions", "AgentSummary", "AgentView", "CallView",
           "ErrorView", "EventView", "GcView", "LinkView", "MonitorSource", "StatusView",
           "iso"]


def iso(t: float | None) -> str | None:
    """Epoch seconds as ISO 8601 UTC with milliseconds (None stays None)."""
    if t is None:
        return None
    import datetime as dt

    return dt.datetime.fromtimestamp(t, dt.UTC).isoformat(timespec="milliseconds"
                                                          ).replace("+00:00", "Z")


@dataclass(frozen=True)
class CallView:
    tracking_id: str
    call_type: str
    state: str
    started_at: float
    ani: str = ""
    dnis: str = ""
    other_party: str = ""

    def json(self, now: float) -> dict[str, Any]:
        return {"tracking_id": self.tracking_id, "type": self.call_type, "state": self.state,
                "started_at": iso(self.started_at),
                "duration_seconds": round(max(0.0, now - self.started_at), 1),
                "ani": self.ani, "dnis": self.dnis, "other_party": self.other_party}


@dataclass(frozen=True)
class EventView:
    """One line of an agent's timeline: an event sent to Siebel, a command from it, or an
    error reported to it."""

    time: float
    kind: str  # event | command | error
    name: str
    detail: str = ""
    tracking_id: str = ""

    def json(self) -> dict[str, Any]:
        return {"time": iso(self.time), "kind": self.kind, "name": self.name,
                "detail": self.detail, "tracking_id": self.tracking_id}


@dataclass(frozen=True)
class AgentSummary:
    """One row of the agent table."""

    agent_id: str
    extension: str
    state: str
    reason: str
    pending_state: str
    calls: int
    connection: int
    service: str

    def json(self) -> dict[str, Any]:
        return {"agent_id": self.agent_id, "extension": self.extension, "state": self.state,
                "reason": self.reason, "pending_state": self.pending_state,
                "calls": self.calls, "connection": self.connection, "service": self.service}


@dataclass(frozen=True)
class AgentView:
    summary: AgentSummary
    reason_label: str = ""
    scs_peer: str = ""
    calls: tuple[CallView, ...] = ()
    events: tuple[EventView, ...] = ()

    def json(self, now: float) -> dict[str, Any]:
        return {**self.summary.json(), "reason_label": self.reason_label,
                "scs_connection": {"id": self.summary.connection, "peer": self.scs_peer},
                "calls": [c.json(now) for c in self.calls],
                "events": [e.json() for e in self.events]}


@dataclass(frozen=True)
class LinkView:
    up: bool
    since: float | None
    reason: str
    broker: str
    reconnects: int

    def json(self) -> dict[str, Any]:
        return {"up": self.up, "since": iso(self.since), "reason": self.reason,
                "broker": self.broker, "reconnects": self.reconnects}


@dataclass(frozen=True)
class GcView:
    queue: str
    in_service: bool
    since: float | None
    #: Duplex only (core/gcs.py): LINK_DOWN, WAITING, IN_SERVICE, OUT_OF_SERVICE, SILENT.
    status: str = ""
    active: bool = True
    agents: int | None = None

    def json(self) -> dict[str, Any]:
        out = {"queue": self.queue, "in_service": self.in_service, "since": iso(self.since)}
        if self.status:
            out.update(status=self.status, active=self.active, agents=self.agents)
        return out


@dataclass(frozen=True)
class ErrorView:
    time: float
    level: str
    text: str
    agent_id: str = ""

    def json(self) -> dict[str, Any]:
        return {"time": iso(self.time), "level": self.level, "text": self.text,
                "agent_id": self.agent_id}


@dataclass(frozen=True)
class StatusView:
    version: str
    started_at: float
    now: float
    scs_listening: bool
    scs_address: str
    connections: int
    link: LinkView
    gcs: tuple[GcView, ...]
    agents_by_state: Mapping[str, int] = field(default_factory=dict)
    sessions: int = 0
    errors: tuple[ErrorView, ...] = ()
    admin: bool = False
    #: GC commands waiting in the gateway's pacing queue (adapters/pacing.py), and the
    #: pacer's counters: sent, refused_by_broker (retried), busy (refused to the agent).
    pacing_queue_depth: int = 0
    pacing_counts: Mapping[str, int] = field(default_factory=dict)

    def checks(self) -> dict[str, str]:
        """Failing readiness conditions, by name ("" = none failing)."""
        out: dict[str, str] = {}
        if not self.scs_listening:
            out["scs_listener"] = f"not listening on {self.scs_address}"
        if not self.link.up:
            since = f" since {iso(self.link.since)}" if self.link.since else " (never up)"
            out["broker"] = f"down{since}: {self.link.reason}".rstrip(": ")
        for gc in self.gcs:
            if not gc.in_service:
                since = f" since {iso(gc.since)}" if gc.since else ""
                out[f"gc:{gc.queue}"] = f"not in service{since}"
        return out

    def json(self) -> dict[str, Any]:
        failing = self.checks()
        return {"version": self.version, "started_at": iso(self.started_at),
                "uptime_seconds": round(self.now - self.started_at, 1),
                "ready": not failing, "checks": failing,
                "scs": {"listening": self.scs_listening, "address": self.scs_address,
                        "connections": self.connections},
                "link": self.link.json(), "gcs": [g.json() for g in self.gcs],
                "agents": {"total": sum(self.agents_by_state.values()),
                           "by_state": dict(sorted(self.agents_by_state.items()))},
                "sessions": self.sessions, "admin_actions": self.admin,
                "errors": [e.json() for e in self.errors]}


@dataclass(frozen=True)
class ActionResult:
    ok: bool
    message: str
    code: int = 0

    def json(self) -> dict[str, Any]:
        return {"ok": self.ok, "message": self.message, "code": self.code}


class MonitorSource(Protocol):
    """Snapshots of the running gateway (read in the reactor thread, never blocking)."""

    def now(self) -> float: ...
    def status(self) -> StatusView: ...
    def agents(self) -> list[AgentSummary]: ...
    def summary(self, agent_id: str) -> AgentSummary | None: ...
    def agent(self, agent_id: str) -> AgentView | None: ...
    def changes(self) -> tuple[set[str], bool]:
        """Agent ids whose row may have changed since the last call (including agents
        gone), and whether the status changed."""
        ...


class AdminActions(Protocol):
    """Operator actions, each fed to the gateway as an input like SCS's."""

    def force_logout(self, agent_id: str, reason_code: str) -> ActionResult: ...
    def reload_texts(self) -> ActionResult: ...
