"""THE ONE PLACE that knows today's gateway internals (port this file when core/ changes).

``CoreGlue`` implements ``MonitorSource`` and ``AdminActions`` (``views.py``) over a
running ``GatewayService`` and its ``GatewayCore``.  Everything else in the monitor sees
only the frozen views.  What it touches, all read-only except the two admin actions:

* ``core.agents``       agent id -> ``AgentSession`` (the session that logged it in)
* ``AgentSession``      ``handle, connection, phase, state, pending_state, reason_code,
                          reason_label, extension, calls.calls`` (``Call`` values)
* ``core.services``     service handle -> session (every RequestService, logged in or not)
* ``core.link_up``, ``core.gc_in_service``, ``core.codec.queue``
* ``service.connections`` (open SCS connections), ``service.wall`` (the shell's clock)
* ``service.link`` / ``service.links``: ``is_up``, ``endpoints``, ``broker`` (a
  ``StompLink``'s ``host:port`` in use), to name the broker a failover list connected to

Admin actions are inputs, never state edits:

* force-logout: ``GatewayService.force_logout``, the ``InvokeCommand LogOut`` SCS itself
  would send for that service, through the shell's own request path (tap, core, effects);
  the core's answer comes back here for the HTTP caller instead of going to SCS.
* reload Texts: the catalogue is a plain value the core reads at each use
  (``core.catalog``); a freshly loaded one replaces it between two inputs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import __version__
from ..adapters.gateway_service import GatewayService
from ..core.agent import AgentSession, Phase
from ..core.texts import Catalog
from ..core.vocabulary import COMMANDS
from .metrics import Metrics
from .recorder import MonitorTap
from .views import (
    ActionResult,
    AgentSummary,
    AgentView,
    CallView,
    EventView,
    GcView,
    LinkView,
    StatusView,
)

__all__ = ["KNOWN_COMMANDS", "CoreGlue", "make_tap"]

#: Command names counted by name in ``commands_total`` (anything else is "other").
KNOWN_COMMANDS = frozenset(COMMANDS)


def make_tap(metrics: Metrics) -> MonitorTap:
    """The tap, before the service exists (``CoreGlue`` connects its probes)."""
    return MonitorTap(metrics, known_commands=KNOWN_COMMANDS)


def _state(s: AgentSession) -> str:
    """The agent's state for people: the GC's state once signed in, else the phase."""
    return str(s.state) if s.phase is Phase.LOGGED_IN else s.phase.name


class CoreGlue:
    def __init__(self, service: GatewayService, tap: MonitorTap, *, listening: Any,
                 scs_address: str, broker: str, started_at: float, admin: bool,
                 reload_catalog: Callable[[], Catalog] | None = None) -> None:
        self.service, self.core, self.tap = service, service.core, tap
        self.listening, self.scs_address, self.broker = listening, scs_address, broker
        self.started_at, self.admin = started_at, admin
        self.reload_catalog = reload_catalog
        self._agent_by_service: dict[str, str] = {}
        tap.agent_of = self._agent_of
        tap.agents_on = self._agents_on
        tap.gc_probe = lambda: self.core.gc_in_service and self.core.link_up

    def _agent_of(self, handle: str) -> str:
        s = self.core.services.get(handle)
        return s.agent_id if s is not None else ""

    def _agents_on(self, connection: int) -> list[str]:
        return [s.agent_id for s in self.core.services.values()
                if s.connection == connection and s.agent_id]

    # -- MonitorSource -------------------------------------------------------------------

    def now(self) -> float:
        return self.service.wall()

    def _summary(self, s: AgentSession) -> AgentSummary:
        return AgentSummary(s.agent_id, s.extension, _state(s), s.reason_code,
                            str(s.pending_state), len(s.calls.calls), s.connection, s.handle)

    def agents(self) -> list[AgentSummary]:
        return [self._summary(s) for s in self.core.agents.values()]

    def summary(self, agent_id: str) -> AgentSummary | None:
        s = self.core.agents.get(agent_id)
        return self._summary(s) if s is not None else None

    def changes(self) -> tuple[set[str], bool]:
        services, ids, status = self.tap.take_dirty()
        for handle in services:
            now_agent = self._agent_of(handle)
            before = self._agent_by_service.get(handle, "")
            if before and before != now_agent:
                ids.add(before)  # logged out, or the service released
            if now_agent:
                self._agent_by_service[handle] = now_agent
                ids.add(now_agent)
            else:
                self._agent_by_service.pop(handle, None)
        return ids, status

    def agent(self, agent_id: str) -> AgentView | None:
        s = self.core.agents.get(agent_id)
        events = tuple(self.tap.timelines.get(agent_id, ()))
        if s is None:
            if not events:
                return None
            return AgentView(AgentSummary(agent_id, "", "LOGGED_OUT", "", "", 0, 0, ""),
                             events=events)
        calls = tuple(CallView(c.tracking_id, c.call_type, str(c.state), c.started_at, c.ani,
                               c.dnis, c.other_party) for c in s.calls.calls.values())
        return AgentView(self._summary(s), s.reason_label,
                         self.tap.peers.get(s.connection, ""), calls, events)

    def status(self) -> StatusView:
        by_state: dict[str, int] = {}
        for s in self.core.agents.values():
            key = _state(s)
            by_state[key] = by_state.get(key, 0) + 1
        link = self.tap.link_state
        gc = self.tap.gc_state
        pacer = self.service.pacer
        return StatusView(
            version=__version__, started_at=self.started_at, now=self.now(),
            scs_listening=bool(getattr(self.listening, "connected", False)),
            scs_address=self.scs_address, connections=len(self.service.connections),
            link=LinkView(self.core.link_up, link.since, link.reason, self._broker(),
                          link.reconnects),
            gcs=self._gcs(gc.since),
            agents_by_state=by_state, sessions=len(self.core.services),
            errors=tuple(self.tap.errors)[-20:], admin=self.admin,
            pacing_queue_depth=pacer.depth if pacer is not None else 0,
            pacing_counts=dict(pacer.counters) if pacer is not None else {})

    def _broker(self) -> str:
        """The broker each link is connected to now (of a failover list, the one in use);
        the configured URL while none is."""
        links = getattr(self.service, "links", (self.service.link,))
        in_use = [_in_use(link) for link in links if link.is_up]
        return " + ".join(b for b in in_use if b) or self.broker

    def _gcs(self, since: float | None) -> tuple[GcView, ...]:
        """One view per GC: the single GC as before, or each GC of a duplex gateway."""
        duplex = self.core.snapshot().gcs
        if not duplex:
            return (GcView(self.core.codec.queue, self.core.gc_available, since),)
        return tuple(GcView(g.queue, g.usable, g.since or None, g.status, g.active, g.agents)
                     for g in duplex)

    # -- AdminActions --------------------------------------------------------------------

    def force_logout(self, agent_id: str, reason_code: str) -> ActionResult:
        answer = self.service.force_logout(agent_id, reason_code)
        if answer is None:
            return ActionResult(False, f"agent {agent_id!r} is not logged in on this "
                                "gateway", 404)
        result = answer.get("result", {})
        code = int(result.get("code", -1))
        self.tap.note(agent_id, EventView(self.service.wall(), "command", "LogOut (monitor)",
                                          "accepted" if code == 0 else
                                          str(result.get("error", ""))))
        if code == 0:
            return ActionResult(True, f"LogOut sent for agent {agent_id}"
                                f"{' with reason ' + reason_code if reason_code else ''}")
        return ActionResult(False, f"LogOut refused for agent {agent_id}: "
                            f"{result.get('error', 'no answer')}", 409)

    def reload_texts(self) -> ActionResult:
        if self.reload_catalog is None:
            return ActionResult(False, "this gateway cannot reload its texts", 409)
        from ..def_file import DefFileError

        try:
            catalog = self.reload_catalog()
        except DefFileError as exc:
            return ActionResult(False, "texts not reloaded; the files have errors: "
                                + "; ".join(p.format() for p in exc.problems), 422)
        except OSError as exc:
            return ActionResult(False, f"texts not reloaded: {exc}", 422)
        self.core.catalog = catalog
        langs = ", ".join(sorted(catalog.languages))
        return ActionResult(True, f"texts reloaded ({langs})")


def _in_use(link: Any) -> str:
    """``stomp://host:port`` of the endpoint a ``StompLink`` is connected to ("" for a
    link that does not say: the in-process broker)."""
    broker = getattr(link, "broker", None)
    if not isinstance(broker, str) or not broker:
        return ""
    for endpoint in getattr(link, "endpoints", ()):
        if f"{endpoint.host}:{endpoint.port}" == broker:
            return str(endpoint)
    return broker
