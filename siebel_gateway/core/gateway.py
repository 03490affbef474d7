"""The whole gateway as one sans-IO object: SCS requests, broker messages, link status and
timer expiries in; effects out.  The Twisted shell (``adapters/gateway_service.py``) and
the trace replayer drive the same object.

    connection n --Request--> GatewayCore --Publish--> broker
                 <--ToScs----     |  routes GC events by agent id to the AgentSession
                                  |  that logged that agent in; system events to all

Handles are opaque strings; a handle is valid only on the connection that created it, so
two SCS processes can never act on each other's agents.  GC availability is the link
being up *and* the GC answering Hello/Beat with IN_SERVICE; while it is not, every
command is refused at once with SC_EC_NETWORK_ERROR.
"""

from __future__ import annotations

from collections.abc import Callable

from ..gc.codec import GcCodec, GcDecodeError, GcEncodeError, GcEvent
from . import machine
from .agent import AgentSession, Phase
from .broker_messages import BrokerMessage
from .effects import CancelTimer, Effect, Key, Publish, StartTimer
from .gc_clock import gc_clock_reading
from .reattach import GRACE
from .scs_side import API_VERSION, GatewayOptions, Result, ScsSide
from .texts import Catalog

__all__ = ["ANSWER", "API_VERSION", "BEAT", "GATEWAY", "GatewayCore", "GatewayOptions",
           "Result"]

#: Owner of the gateway's own timers and publishes.
GATEWAY = "gateway"
BEAT = Key(GATEWAY, "beat")
ANSWER = Key(GATEWAY, "answer")


class GatewayCore(ScsSide):
    """Every input is a method returning the effects it decided, in order: the core's own
    (log lines, GC heartbeats, the request's result), then the callbacks and publishes of
    each agent service the input reached.  Which services an input reaches is decided by
    the method itself (one service for a request or an agent's event, all of them for a
    system event or a change of GC availability); nothing is left buffered between inputs.
    SCS requests are handled by ``ScsSide``; the broker side is here.
    """

    def __init__(self, codec: GcCodec, catalog: Catalog, options: GatewayOptions | None = None,
                 *, encrypt: Callable[[str], str] | None = None) -> None:
        super().__init__(codec, catalog, options, encrypt=encrypt)
        self._skew_warned = False
        self._hello_outstanding = False

    # -- broker side ---------------------------------------------------------------------------

    def _send_gc(self, command: str, now: float, out: list[Effect]) -> None:
        try:
            message = self.codec.encode(command, {}, now_ms=int(now * 1000))
        except GcEncodeError as exc:
            self._log(out, "error", "cannot send {command}: {error}", command=command,
                      error=str(exc))
            return
        out.append(Publish(message, Key(GATEWAY, command)))

    def link_status(self, up: bool, reason: str, now: float, *,
                    recovered: bool = False) -> list[Effect]:
        out: list[Effect] = []
        was = self.gc_available
        self.link_up = up
        if up:
            self._skew_warned = False
            self._hello(now, "Hello", out)
        else:
            self.gc_in_service = False
            self._hello_outstanding = False
            out.extend([CancelTimer(BEAT), CancelTimer(ANSWER)])
        self._log(out, "info" if up else "warn", "broker link {state}: {reason}",
                  state="up" if up else "down", reason=reason)
        return self._reached(out, self._availability_changed(was, now, "status.link_down", out))

    def _hello(self, now: float, command: str, out: list[Effect]) -> None:
        self._send_gc(command, now, out)
        self._hello_outstanding = True
        out.append(StartTimer(ANSWER, self.options.command_timeout))

    def broker_message(self, message: BrokerMessage, now: float) -> list[Effect]:
        out: list[Effect] = []
        try:
            event = self.codec.decode(message.body)
        except GcDecodeError as exc:
            self._check_skew(message, None, None, now, out)
            self._log(out, "warn", "GC event refused: {reason}", reason=str(exc))
            return out
        s = self.agents.get(event.agent_id)
        known = str(s.state) if s is not None and s.phase is Phase.LOGGED_IN else None
        self._check_skew(message, event, known, now, out)
        if event.agent_id == self.codec.dialect.system_agent:
            return self._reached(out, self._system(event, now, out))
        if s is None:
            self._log(out, "debug", "GC event {event} for agent {agent} that no service has "
                      "logged in", event=event.name, agent=event.agent_id)
            return out
        if not self._heard_from_its_gc(s):
            self._log(out, "debug", "GC event {event} for agent {agent} from a GC it is not "
                      "on: ignored", event=event.name, agent=event.agent_id)
            return out
        machine.gc_event(s, event, now)
        return self._reached(out, (s,))

    def _heard_from_its_gc(self, s: AgentSession) -> bool:
        """Whether the message being handled comes from the GC ``s`` is on (one GC: yes)."""
        return True

    def _check_skew(self, message: BrokerMessage, event: GcEvent | None, known: str | None,
                    now: float, out: list[Effect]) -> None:
        if self._skew_warned:
            return
        stamp = gc_clock_reading(message, event, known, now)
        if stamp is None:
            return
        skew = now - stamp
        if abs(skew) > self.options.clock_skew_warning:
            self._skew_warned = True
            self._log(out, "warn", "the GC's clock is {seconds:.1f} s {direction} this "
                      "gateway's (warning bound {bound:g} s): call times in Siebel will be "
                      "off; synchronise both with NTP", seconds=abs(skew),
                      direction="behind" if skew > 0 else "ahead of",
                      bound=self.options.clock_skew_warning)

    def _system(self, event: GcEvent, now: float, out: list[Effect]) -> list[AgentSession]:
        """A system event; every service hears it (the returned list)."""
        was = self.gc_available
        if event.name in ("IN_SERVICE", "OUT_OF_SERVICE"):
            self.gc_in_service = event.name == "IN_SERVICE"
            if self._hello_outstanding:
                self._hello_outstanding = False
                out.append(CancelTimer(ANSWER))
                out.append(StartTimer(BEAT, self.options.heartbeat))
        # Only the services whose LogIn waits for this answer hear it, unless the GC's
        # availability changed (then every service does).  Giving every answer to every
        # service made a login storm quadratic: each LogIn's Hello is answered, so N logins
        # cost N x N session inputs (1,000 agents: ~0.1 s per answer, docs/performance.md).
        waiting, self._awaiting = self._awaiting, {}
        changed = self.gc_available != was
        reached = list(self.services.values()) if changed else \
            [s for s in waiting.values() if self.services.get(s.handle) is s]
        for s in reached:
            machine.gc_system(s, event, now)
        self._availability_changed(was, now, "status.gc_out_of_service", out)
        return reached

    def _availability_changed(self, was: bool, now: float, down_key: str,
                              out: list[Effect]) -> list[AgentSession]:
        """Tells every service when the GC became (un)available; returns those told."""
        now_up = self.gc_available
        if was == now_up:
            return []
        self._log(out, "info" if now_up else "warn", "Generic Connector {state}",
                  state="available" if now_up else "unavailable")
        reached = list(self.services.values())
        for s in reached:
            if now_up:
                machine.link_back(s, now)
            else:
                machine.link_lost(s, down_key, now)
        return reached

    def timer(self, key: Key, now: float) -> list[Effect]:
        out: list[Effect] = []
        if key == BEAT:
            if self.link_up:
                self._hello(now, "Beat", out)
            return out
        if key == ANSWER:
            was = self.gc_available
            self._hello_outstanding = False
            self.gc_in_service = False
            self._log(out, "warn", "the GC did not answer Hello/Beat within {seconds:g} s",
                      seconds=self.options.command_timeout)
            reached = self._availability_changed(was, now, "status.gc_out_of_service", out)
            if self.link_up:
                out.append(StartTimer(BEAT, self.options.heartbeat))
            return self._reached(out, reached)
        if key.kind == GRACE:
            return self.grace_expired(key.owner, now)
        s = self.services.get(key.owner)
        if s is None:
            return out
        machine.timer(s, key, now)
        return self._reached(out, (s,))

    def publish_failed(self, ref: Key | None, why: str, now: float) -> list[Effect]:
        out: list[Effect] = []
        s = self.services.get(ref.owner) if ref is not None else None
        if s is None or ref is None:
            self._log(out, "warn", "GC command {ref} was not sent: {why}",
                      ref="" if ref is None else str(ref), why=why)
            return out
        machine.publish_failed(s, ref, why)
        return self._reached(out, (s,))

