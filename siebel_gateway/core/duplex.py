"""The gateway in front of two GCs (``Mode = active-passive | active-active``), sans-IO.

``GatewayCore`` keeps serving one GC exactly as before (simplex); ``DuplexGateway`` is the
same core with a broker side per GC:

* a Hello to each GC when its link comes up, then a Beat every ``HeartbeatSeconds``
  whatever the answers (``_interval``), so there is always something to answer.  A GC is
  *silent* when nothing answered it (no IN_SERVICE / OUT_OF_SERVICE, answer or event of
  its own) for ``HeartbeatSeconds x MissedHeartbeats``: its ``silence`` deadline, started
  with the Hello and restarted by every answer.  A Beat still unanswered when the next
  goes out is logged as missed ("missed heartbeat n of m").  Detection therefore takes at
  most ``HeartbeatSeconds x MissedHeartbeats`` after the GC's last answer (issue 15);
  OUT_OF_SERVICE (an answer or an event) makes it out of service at once;
* each GC answers on its own client destination (``<ClientDestination>.<Queue>``), so an
  event tells which GC sent it; agent events are routed by agent id whichever GC sent them;
* after every change of a GC's status ``gcs.GcSet.reselect`` decides which agents move;
  each moved service gets the ``GC switch-over`` input (``failover.py``), which
  resynchronises the agent on its new GC without logging it out.  When no GC is usable
  any more (or one is again after none was) every service is told as for the single GC
  (``lifecycle.link_lost`` / ``link_back``).

Timers and publishes of GC number i carry its queue as the key's id:
``gateway:beat:Connector2``, ``gateway:silence:Connector1``, ``gateway:Hello:Connector2``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ..gc.codec import GcCodec, GcEncodeError, GcEvent
from . import machine
from .agent import AgentSession
from .broker_messages import BrokerMessage
from .effects import CancelTimer, Effect, Key, Publish, StartTimer
from .gateway import GATEWAY, GatewayCore, GatewayOptions
from .gcs import GcSet, GcStatus, Mode
from .texts import Catalog
from .views import CoreView, GcStatusView, core_view

__all__ = ["SILENCE", "DuplexGateway", "duplex_client_destination"]

#: The kind of a GC's silence deadline key (``gateway:silence:<queue>``).
SILENCE = "silence"


def duplex_client_destination(client_destination: str, queue: str) -> str:
    """The client destination the gateway gives GC ``queue`` in a duplex deployment."""
    return f"{client_destination}.{queue}"


class DuplexGateway(GatewayCore):
    def __init__(self, codecs: Sequence[GcCodec], catalog: Catalog,
                 options: GatewayOptions | None = None, *, mode: Mode,
                 missed_heartbeats: int = 3, fail_back: bool = False,
                 encrypt: Callable[[str], str] | None = None) -> None:
        super().__init__(codecs[0], catalog, options, encrypt=encrypt)
        self.codecs = tuple(codecs)
        self.gcs = GcSet(tuple(c.queue for c in codecs), mode, missed_heartbeats, fail_back)
        self._by_destination = {c.event_destination: i for i, c in enumerate(codecs)}
        #: The GC the message being handled came from (its event destination).
        self._source: int | None = None
        if len(self._by_destination) != len(codecs):
            raise ValueError("each GC needs its own event destination (the dialect's "
                             "EventDestination must use {ClientDestination})")

    # -- what sessions and monitors read --------------------------------------------------

    @property
    def gc_available(self) -> bool:
        return self.gcs.available

    def codec_for(self, agent_id: str) -> GcCodec:
        if not agent_id:
            return self.codecs[self.gcs.active]
        return self.codecs[self.gcs.where(agent_id)]  # a rule asks: reads only

    def claim_agent(self, agent_id: str, session: object) -> bool:
        """Taking an agent id places the agent on a GC (``gcs.GcSet.gc_of``)."""
        if not super().claim_agent(agent_id, session):
            return False
        self.gcs.gc_of(agent_id)
        return True

    def release_agent(self, agent_id: str, session: object) -> None:
        super().release_agent(agent_id, session)
        if agent_id not in self.agents:
            self.gcs.forget(agent_id)

    def snapshot(self) -> CoreView:
        gcs = tuple(GcStatusView(t.queue, t.status.value, t.usable, t.since,
                                 i == self.gcs.active, len(self.gcs.agents_on(i)))
                    for i, t in enumerate(self.gcs.tracks))
        return core_view(self.link_up, self.gc_in_service, len(self.drivers),
                         self.services.values(), gcs=gcs, mode=self.gcs.mode.value)

    # -- keys ------------------------------------------------------------------------------

    def _key(self, kind: str, i: int) -> Key:
        return Key(GATEWAY, kind, self.gcs.queues[i])

    def _sync(self) -> None:
        self.link_up = any(t.link_up for t in self.gcs.tracks)
        self.gc_in_service = self.gcs.available

    # -- inputs ----------------------------------------------------------------------------

    def link_status(self, up: bool, reason: str, now: float, *, recovered: bool = False,
                    queue: str | None = None) -> list[Effect]:
        """A broker link changed; ``queue`` names the GC behind it (None: every GC)."""
        out: list[Effect] = []
        was = self.gc_available
        for i in range(len(self.codecs)) if queue is None else (self.gcs.index(queue),):
            self.gcs.link(i, up, now)
            if up:
                self._beat(i, "Hello", now, out)
                out.extend([StartTimer(self._key("beat", i), self._interval()),
                            StartTimer(self._key(SILENCE, i), self._deadline())])
            else:
                out.extend([CancelTimer(self._key("beat", i)),
                            CancelTimer(self._key(SILENCE, i))])
        self._sync()
        self._log(out, "info" if up else "warn", "broker link {state} ({queues}): {reason}",
                  state="up" if up else "down", queues=queue or ", ".join(self.gcs.queues),
                  reason=reason)
        return self._reached(out, self._settle(was, now, "status.link_down", out))

    def _beat(self, i: int, command: str, now: float, out: list[Effect]) -> None:
        try:
            message = self.codecs[i].encode(command, {}, now_ms=int(now * 1000))
        except GcEncodeError as exc:
            self._log(out, "error", "cannot send {command}: {error}", command=command,
                      error=str(exc))
            return
        out.append(Publish(message, self._key(command, i)))
        self.gcs.sent(i)

    def _interval(self) -> float:
        """Seconds between Beats: ``HeartbeatSeconds``; half of it with ``MissedHeartbeats =
        1``, whose deadline is one interval: a Beat answered a little later than the one
        before would otherwise miss it."""
        heartbeat = self.options.heartbeat
        return heartbeat if self.gcs.missed_limit > 1 else heartbeat / 2

    def _deadline(self) -> float:
        """Silence allowed after a GC's last answer: ``HeartbeatSeconds x MissedHeartbeats``."""
        return self.options.heartbeat * self.gcs.missed_limit

    def broker_message(self, message: BrokerMessage, now: float) -> list[Effect]:
        """As for one GC; a system event is the status of the GC whose client destination
        it came on (``_system``)."""
        self._source = self._by_destination.get(message.destination)
        try:
            return super().broker_message(message, now)
        finally:
            self._source = None

    def _system(self, event: GcEvent, now: float, out: list[Effect]) -> list[AgentSession]:
        i = self._source
        if i is None:
            self._log(out, "warn", "GC system event {event} on a destination no GC of this "
                      "gateway answers on: ignored", event=event.name)
            return []
        return self._system_of(i, event, now, out)

    def _heard_from_its_gc(self, s: AgentSession) -> bool:
        """An agent event from the GC the agent left (a switch-over moved it) is stale: that
        GC may even report it signed out (its sign-in on the other GC took it over)."""
        return self._source is None or self._on(s, self._source)

    def _on(self, s: AgentSession, i: int) -> bool:
        return self.gcs.placed.get(s.agent_id, self.gcs.active) == i

    def _system_of(self, i: int, event: GcEvent, now: float,
                   out: list[Effect]) -> list[AgentSession]:
        was = self.gc_available
        reached: list[AgentSession] = []
        if event.name in ("IN_SERVICE", "OUT_OF_SERVICE"):
            track = self.gcs.tracks[i]
            if track.link_up:  # heard from: a new silence deadline (the shell restarts it)
                out.append(StartTimer(self._key(SILENCE, i), self._deadline()))
            before = track.status
            self.gcs.answered(i, event.name == "IN_SERVICE", now)
            self._status_log(i, before, out)
            self._sync()
            if event.name == "OUT_OF_SERVICE":  # move agents first: they do not hear it
                reached += self._settle(was, now, "status.gc_out_of_service", out)
                was = self.gc_available
        told = [s for s in self.services.values() if self._on(s, i)]
        for s in told:
            machine.gc_system(s, event, now)
        reached += told
        reached += self._settle(was, now, "status.gc_out_of_service", out)
        return list(dict.fromkeys(reached))

    def timer(self, key: Key, now: float) -> list[Effect]:
        if key.owner != GATEWAY:
            return super().timer(key, now)
        if key.id not in self.gcs.queues:
            return []  # the single-GC heartbeat keys are not used here
        out: list[Effect] = []
        i = self.gcs.index(key.id)
        track = self.gcs.tracks[i]
        if not track.link_up:
            return out
        if key.kind == "beat":
            missed = self.gcs.beat_due(i)
            if 0 < missed < self.gcs.missed_limit and track.status is not GcStatus.SILENT:
                self._log(out, "warn", "GC {queue} missed heartbeat {n} of {limit}",
                          queue=track.queue, n=missed, limit=self.gcs.missed_limit)
            self._beat(i, "Beat", now, out)
            out.append(StartTimer(key, self._interval()))
            return out
        if key.kind != SILENCE:
            return out  # an older gateway's key (a trace): nothing runs on it here
        was, before = self.gc_available, track.status
        self.gcs.silent(i, now)
        self._log(out, "warn", "GC {queue} answered nothing for {seconds:g} s "
                  "(HeartbeatSeconds x MissedHeartbeats)", queue=track.queue,
                  seconds=self._deadline())
        self._status_log(i, before, out)
        self._sync()
        return self._reached(out, self._settle(was, now, "status.gc_out_of_service", out))

    # -- deciding --------------------------------------------------------------------------

    def _status_log(self, i: int, before: GcStatus, out: list[Effect]) -> None:
        track = self.gcs.tracks[i]
        if track.status is not before:
            self._log(out, "info" if track.usable else "warn", "GC {queue} is {status}",
                      queue=track.queue, status=track.status.value)

    def _settle(self, was: bool, now: float, down_key: str,
                out: list[Effect]) -> list[AgentSession]:
        """Moves agents off a failed GC, or tells everyone that no GC (or again one) is
        available; returns the services reached."""
        moves = self.gcs.reselect()
        if was != self.gc_available:
            return self._availability_changed(was, now, down_key, out)
        reached = []
        for m in moves:
            s = self.agents.get(m.agent_id)
            source, target = self.gcs.queues[m.source], self.gcs.queues[m.target]
            if s is None or s.released:
                continue
            self._log(out, "warn", "agent {agent} moves from GC {source} to GC {target}",
                      agent=m.agent_id, source=source, target=target)
            machine.gc_switch(s, source, target, now)
            reached.append(s)
        return reached
