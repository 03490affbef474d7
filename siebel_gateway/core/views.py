"""Read-only snapshots of the core for whoever watches it (a monitor, tests, a future
admin console): frozen values built on request, never live objects, so a reader can
neither change the core nor see it half-way through an input."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..gc.states import AgentState, CallState
from .agent import AgentSession, Phase

__all__ = ["CallView", "CoreView", "GcStatusView", "SessionView", "core_view",
           "session_view"]


@dataclass(frozen=True)
class CallView:
    tracking_id: str
    #: SCS CallType (INBOUND, OUTBOUND, CONSULT, TRANSFER, CONFERENCE).
    call_type: str
    state: CallState
    #: When the gateway first saw the call (answered calls: when answered), epoch seconds.
    started_at: float
    other_party: str


@dataclass(frozen=True)
class SessionView:
    service: str
    connection: int
    phase: Phase
    agent_id: str
    extension: str
    state: AgentState
    pending_state: AgentState
    reason_code: str
    reason_label: str
    calls: tuple[CallView, ...]
    #: GC commands sent and not yet answered.
    awaiting_answers: int


@dataclass(frozen=True)
class GcStatusView:
    """One GC of a duplex gateway (``core/gcs.py``)."""

    queue: str
    #: LINK_DOWN, WAITING, IN_SERVICE, OUT_OF_SERVICE or SILENT.
    status: str
    usable: bool
    #: When the status last changed (epoch seconds; 0: never).
    since: float
    #: The active GC of an active-passive pair (the first, in active-active).
    active: bool
    agents: int


@dataclass(frozen=True)
class CoreView:
    link_up: bool
    gc_in_service: bool
    drivers: int
    sessions: tuple[SessionView, ...]
    #: Duplex only: each GC (a simplex gateway leaves it empty).
    gcs: tuple[GcStatusView, ...] = ()
    mode: str = "simplex"

    @property
    def gc_available(self) -> bool:
        return self.link_up and self.gc_in_service


def session_view(s: AgentSession) -> SessionView:
    return SessionView(
        service=s.handle, connection=s.connection, phase=s.phase, agent_id=s.agent_id,
        extension=s.extension, state=s.state, pending_state=s.pending_state,
        reason_code=s.reason_code, reason_label=s.reason_label,
        calls=tuple(CallView(c.tracking_id, c.call_type, c.state, c.started_at, c.other_party)
                    for c in s.calls.calls.values()),
        awaiting_answers=len(s.pending))


def core_view(link_up: bool, gc_in_service: bool, drivers: int,
              sessions: Iterable[AgentSession], *, gcs: tuple[GcStatusView, ...] = (),
              mode: str = "simplex") -> CoreView:
    return CoreView(link_up, gc_in_service, drivers, tuple(map(session_view, sessions)),
                    gcs, mode)
