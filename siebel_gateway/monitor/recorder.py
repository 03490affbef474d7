"""``MonitorTap``: what the monitor learns by watching the shell's inputs and effects.

``GatewayService`` already tells a tap (``adapters.gateway_service.TraceTap``) every input
it feeds the core and every effect the core returns; the monitor is one more tap
(``Tee`` puts it beside the trace writer), so the shell needs no hook of its own.  From
that stream it counts (commands, events, GC messages, publish failures, reconnects),
times command -> first event, keeps each agent's last 50 timeline entries and the recent
errors, notes when the link and the GC changed, and marks which services changed so the
live page gets only those.  It reads request *names*, never request parameters, so a
password sent with LogIn never reaches it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..adapters.gateway_service import TraceTap
from ..core.broker_messages import BrokerMessage
from ..core.effects import Effect, Key, Log, Publish, ToScs
from ..core.scs_wire import Request, WireError
from .metrics import Metrics
from .views import ErrorView, EventView

__all__ = ["MonitorTap", "Tee"]

TIMELINE = 50
ERRORS = 100
#: A command whose first event has not come within this long is not timed.
LATENCY_HORIZON = 60.0
_NO_AGENT = ""


@dataclass
class _Current:
    connection: int
    rid: Any
    command: str
    service: str
    time: float
    device: bool = False


@dataclass
class LinkState:
    up: bool = False
    since: float | None = None
    reason: str = "not started"
    reconnects: int = 0
    ever_up: bool = False


@dataclass
class GcState:
    in_service: bool = False
    since: float | None = None


class MonitorTap:
    """A ``TraceTap``; ``agent_of``/``gc_probe``/``known_commands`` come from the glue."""

    def __init__(self, metrics: Metrics, *, agent_of: Callable[[str], str] = lambda s: "",
                 gc_probe: Callable[[], bool] = lambda: False,
                 known_commands: frozenset[str] = frozenset()) -> None:
        self.metrics = metrics
        self.agent_of, self.gc_probe, self.known_commands = agent_of, gc_probe, known_commands
        self.agents_on: Callable[[int], list[str]] = lambda connection: []
        self.link_state = LinkState()
        self.gc_state = GcState()
        self.peers: dict[int, str] = {}
        self.timelines: dict[str, deque[EventView]] = {}
        self.errors: deque[ErrorView] = deque(maxlen=ERRORS)
        self.dirty: set[str] = set()
        self.dirty_agents: set[str] = set()
        self.status_changed = False
        self._current: _Current | None = None
        self._waiting: dict[str, deque[tuple[str, float]]] = {}

    # -- TraceTap ------------------------------------------------------------------------

    def opened(self, connection: int, peer: str, now: float) -> None:
        self.peers[connection] = peer
        self.status_changed = True

    def closed(self, connection: int, now: float) -> None:
        self.peers.pop(connection, None)
        self.status_changed = True
        # Told before the core releases what the connection held: note its agents now.
        self.dirty_agents.update(self.agents_on(connection))

    def scs_in(self, connection: int, item: Request | WireError, now: float) -> None:
        if isinstance(item, WireError):
            self._current = _Current(connection, item.id, "invalid", "", now)
            return
        params = item.params
        command = item.method
        if command == "InvokeCommand":
            name = str(params.get("name", ""))
            command = name if name in self.known_commands else "other"
        elif command == "InvokeCommandEx":
            command = "MakeCall"
        service = params.get("service", "")
        if isinstance(service, str) and service:
            # Noted before the core acts: a release or logout may leave no trace of who.
            agent = self.agent_of(service)
            if agent:
                self.dirty_agents.add(agent)
        self._current = _Current(connection, item.id, command,
                                 service if isinstance(service, str) else "", now,
                                 item.method in ("InvokeCommand", "InvokeCommandEx"))

    def gc_in(self, message: BrokerMessage, now: float) -> None:
        self.metrics.gc_in.inc()

    def link(self, up: bool, reason: str, recovered: bool, now: float,
             queue: str | None = None) -> None:
        if up and self.link_state.ever_up and not self.link_state.up:
            self.link_state.reconnects += 1
            self.metrics.reconnects.inc()
        if up != self.link_state.up or self.link_state.since is None:
            self.link_state.since = now
        self.link_state.up, self.link_state.reason = up, reason
        self.link_state.ever_up = self.link_state.ever_up or up
        self.status_changed = True

    def timer_fired(self, key: Key, now: float) -> None:
        pass

    def publish_failed(self, ref: Key | None, why: str, now: float) -> None:
        self.metrics.publish_failures.inc()
        self.errors.append(ErrorView(now, "warn", f"GC command not sent ({ref}): {why}"))
        self.status_changed = True

    def effects(self, effects: Sequence[Effect], now: float) -> None:
        current, self._current = self._current, None
        for e in effects:
            if isinstance(e, ToScs):
                self._to_scs(e, current, now)
            elif isinstance(e, Publish):
                self.metrics.gc_out.inc()
                if e.ref is not None:
                    self.dirty.add(e.ref.owner)
            elif isinstance(e, Log):
                self._log(e, now)
        if current is not None and current.service:
            self.dirty.add(current.service)
        in_service = self.gc_probe()
        if in_service != self.gc_state.in_service or self.gc_state.since is None:
            self.gc_state.in_service, self.gc_state.since = in_service, now
            self.status_changed = True

    # -- what the effects say ------------------------------------------------------------

    def _to_scs(self, e: ToScs, current: _Current | None, now: float) -> None:
        m = e.message
        if "method" not in m:  # a response: to the request being handled
            if current is None or m.get("id") != current.rid \
                    or e.connection != current.connection:
                return
            if "error" in m:
                result, detail = "error", str(m["error"].get("message", ""))
            else:
                code = m["result"].get("code", 0)
                result = "ok" if code == 0 else "refused"
                detail = "accepted" if code == 0 else str(m["result"].get("error", code))
            self.metrics.command(current.command, result)
            if current.service and current.command not in ("RequestService", "invalid"):
                self._timeline(current.service, EventView(now, "command", current.command,
                                                          detail))
                if result == "ok" and current.device:
                    self._waiting.setdefault(current.service, deque()).append(
                        (current.command, now))
            return
        p = m.get("params", {})
        service = p.get("service", "")
        method = m["method"]
        if method == "HandleEvent":
            name = str(p.get("name", ""))
            self.metrics.event(name)
            self._timeline(service, EventView(now, "event", name,
                                              tracking_id=str(p.get("trackingId", ""))))
            self._first_event(service, now)
        elif method == "HandleError":
            text = str(p.get("error", ""))
            agent = self._timeline(service, EventView(now, "error", "HandleError", text))
            self.errors.append(ErrorView(now, "error", text, agent))
            self.status_changed = True
        if service:
            self.dirty.add(service)

    def _first_event(self, service: str, now: float) -> None:
        waiting = self._waiting.get(service)
        while waiting:
            command, since = waiting.popleft()
            if now - since <= LATENCY_HORIZON:
                self.metrics.latency(command, now - since)
                break
        if waiting is not None and not waiting:
            del self._waiting[service]

    def _timeline(self, service: str, entry: EventView) -> str:
        agent = self.agent_of(service) if service else _NO_AGENT
        if agent:
            line = self.timelines.get(agent)
            if line is None:
                line = self.timelines[agent] = deque(maxlen=TIMELINE)
            line.append(entry)
        return agent

    def _log(self, e: Log, now: float) -> None:
        if e.level not in ("warn", "error", "critical"):
            return
        try:
            text = e.text.format(**e.fields)
        except (KeyError, IndexError, ValueError):
            text = e.text
        text = text.split("\n", 1)[0]  # an internal error's traceback stays in the log
        agent = e.fields.get("agent", "")
        self.errors.append(ErrorView(now, e.level, text, agent if isinstance(agent, str)
                                     else ""))
        self.status_changed = True

    def note(self, agent_id: str, entry: EventView) -> None:
        """An entry the glue adds to an agent's timeline (an admin action)."""
        self.timelines.setdefault(agent_id, deque(maxlen=TIMELINE)).append(entry)
        self.dirty_agents.add(agent_id)

    def take_dirty(self) -> tuple[set[str], set[str], bool]:
        """Services and agent ids changed since the last call, and whether the status
        changed."""
        dirty, self.dirty = self.dirty, set()
        agents, self.dirty_agents = self.dirty_agents, set()
        changed, self.status_changed = self.status_changed, False
        return dirty, agents, changed


class Tee:
    """Several taps as one (the trace writer and the monitor)."""

    def __init__(self, *taps: TraceTap) -> None:
        self.taps = taps

    def opened(self, connection: int, peer: str, now: float) -> None:
        for t in self.taps:
            t.opened(connection, peer, now)

    def closed(self, connection: int, now: float) -> None:
        for t in self.taps:
            t.closed(connection, now)

    def scs_in(self, connection: int, item: Request | WireError, now: float) -> None:
        for t in self.taps:
            t.scs_in(connection, item, now)

    def gc_in(self, message: BrokerMessage, now: float) -> None:
        for t in self.taps:
            t.gc_in(message, now)

    def link(self, up: bool, reason: str, recovered: bool, now: float,
             queue: str | None = None) -> None:
        for t in self.taps:
            t.link(up, reason, recovered, now, queue)

    def timer_fired(self, key: Key, now: float) -> None:
        for t in self.taps:
            t.timer_fired(key, now)

    def publish_failed(self, ref: Key | None, why: str, now: float) -> None:
        for t in self.taps:
            t.publish_failed(ref, why, now)

    def effects(self, effects: Sequence[Effect], now: float) -> None:
        for t in self.taps:
            t.effects(effects, now)
