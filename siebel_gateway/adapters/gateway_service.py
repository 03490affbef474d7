"""The shell around ``GatewayCore``: SCS connections, the broker link, timers, logs.

It does three things only: turn I/O into core inputs (with the wall-clock time), carry out
the effects the core returns in their order, and keep Twisted objects (transports,
delayed calls) out of the core.  A failed publish is reported back to the core on the next
reactor turn, so it never overtakes the effects already decided.
"""

from __future__ import annotations

import contextlib
import itertools
import secrets
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, cast
from typing import Protocol as Protocol_

from twisted.internet import tcp
from twisted.logger import Logger
from twisted.python.failure import Failure

from ..core.broker_messages import BrokerMessage
from ..core.effects import CancelTimer, Effect, Key, Log, Publish, StartTimer, ToScs
from ..core.gateway import GatewayCore
from ..core.scs_messages import InvokeCommand
from ..core.scs_wire import Request, WireError
from ..logtext import RateLimit, emit_log
from ..ports import Clock
from .admission import SignInAdmission
from .link import BrokerLink, LinkStatus
from .pacing import Pacer
from .scs_server import ScsLimits, ScsProtocol, ScsServerFactory
from .wire_json import encode

__all__ = ["GatewayService", "NoTrace", "ScsLimits", "ScsProtocol", "ScsServerFactory",
           "TraceTap", "send_now"]

log = Logger(namespace="siebel_gateway")
_admin_ids = itertools.count(1)


class TraceTap(Protocol_):
    """Told every input of the core and every effect it returned, in order
    (``trace.record.TraceWriter``; the line format is in ``trace/records.py``)."""

    def opened(self, connection: int, peer: str, now: float) -> None: ...
    def closed(self, connection: int, now: float) -> None: ...
    def scs_in(self, connection: int, item: Request | WireError, now: float) -> None: ...
    def gc_in(self, message: BrokerMessage, now: float) -> None: ...
    def link(self, up: bool, reason: str, recovered: bool, now: float,
             queue: str | None = None) -> None: ...
    # (``queue``: the GC behind a duplex gateway's per-GC broker link; None: every GC)
    def timer_fired(self, key: Key, now: float) -> None: ...
    def publish_failed(self, ref: Key | None, why: str, now: float) -> None: ...
    def effects(self, effects: Sequence[Effect], now: float) -> None: ...


class NoTrace:
    def opened(self, connection: int, peer: str, now: float) -> None:
        pass

    def closed(self, connection: int, now: float) -> None:
        pass

    def scs_in(self, connection: int, item: Request | WireError, now: float) -> None:
        pass

    def gc_in(self, message: BrokerMessage, now: float) -> None:
        pass

    def link(self, up: bool, reason: str, recovered: bool, now: float,
             queue: str | None = None) -> None:
        pass

    def timer_fired(self, key: Key, now: float) -> None:
        pass

    def publish_failed(self, ref: Key | None, why: str, now: float) -> None:
        pass

    def effects(self, effects: Sequence[Effect], now: float) -> None:
        pass


class GatewayService:
    def __init__(self, core: GatewayCore, link: BrokerLink, clock: Clock, *,
                 wall: Callable[[], float] = time.time, max_line: int = 1 << 20,
                 tap: TraceTap | None = None, pacer: Pacer | None = None,
                 admission: SignInAdmission | None = None) -> None:
        self.core, self.link, self.clock, self.wall = core, link, clock, wall
        #: Sign-ins beyond the GC's window wait here (adapters/admission.py).
        self.admission = admission
        if admission is not None:
            admission.refuse = self._publish_failed
            admission.run = self._carry_out
        #: GC commands go through the pacing queue when there is one (adapters/pacing.py).
        self.pacer = pacer
        self.max_line = max_line
        self.tap: TraceTap = tap or NoTrace()
        self.connections: dict[int, ScsProtocol] = {}
        self.timers: dict[Key, Any] = {}
        #: Warnings a peer can repeat (a flood of refused GC events) are rate-limited.
        self.log_limit = RateLimit(clock=clock.seconds)
        self._next_connection = 0
        # Transports written while a batch of inputs is handled, sent once at its end
        # (one send per connection per batch instead of one per input; a login storm made
        # 17,000 sends of 0.6 ms each under load, docs/performance.md).
        self._unsent: dict[Any, None] = {}
        self._batch = 0
        self._flush_call: Any = None
        link.subscribe(core.codec.event_destination, self.on_broker_message)
        link.on_status(self.on_link_status)

    def start(self) -> Any:
        return self.link.start()

    def stop(self) -> Any:
        for call in self.timers.values():
            if call.active():
                call.cancel()
        self.timers.clear()
        return self.link.stop()

    # -- inputs ------------------------------------------------------------------------------

    def connection_made(self, protocol: ScsProtocol, peer: str = "") -> int:
        self._next_connection += 1
        self.connections[self._next_connection] = protocol
        self.tap.opened(self._next_connection, peer, self.wall())
        return self._next_connection

    def connection_lost(self, connection: int) -> None:
        self.connections.pop(connection, None)
        now = self.wall()
        self.tap.closed(connection, now)
        self.execute(self.core.connection_lost(connection, now), now)

    def line_items(self, connection: int, items: list[Request | WireError]) -> None:
        self._batch += 1
        try:
            for item in items:
                now = self.wall()
                self.tap.scs_in(connection, item, now)
                # A new driver's ResumeDriverInstance token: the core has no randomness of
                # its own.
                entropy = secrets.token_urlsafe(24) if isinstance(item, Request) \
                    and item.method == "CreateISCDriverInstance" else ""
                self.execute(self.core.request(connection, item, now, entropy=entropy), now)
        finally:
            self._batch -= 1
        if not self._batch:  # else the enclosing ``batch()`` sends
            self._send_written()

    def on_broker_message(self, message: BrokerMessage) -> None:
        now = self.wall()
        self.tap.gc_in(message, now)
        self._batch += 1
        try:
            self.execute(self.core.broker_message(message, now), now)
        finally:
            self._batch -= 1
        # Messages arrive in batches (one reactor wake-up per batch, stomp_link._Batches):
        # a call for "now" runs right after the batch, in the same reactor turn.
        if self._unsent and self._flush_call is None:
            self._flush_call = self.clock.callLater(0, self._send_written)

    def _send_written(self) -> None:
        self._flush_call = None
        unsent, self._unsent = self._unsent, {}
        for transport in unsent:
            send_now(transport)

    def on_link_status(self, status: LinkStatus) -> None:
        now = self.wall()
        self.tap.link(status.up, status.reason, status.recovered, now)
        self.execute(self.core.link_status(status.up, status.reason, now,
                                           recovered=status.recovered), now)

    def _fire(self, key: Key) -> None:
        self.timers.pop(key, None)
        now = self.wall()
        self.tap.timer_fired(key, now)
        self.execute(self.core.timer(key, now), now)

    def _publish_failed(self, ref: Key | None, why: str) -> None:
        now = self.wall()
        self.tap.publish_failed(ref, why, now)
        self.execute(self.core.publish_failed(ref, why, now), now)

    # -- effects -----------------------------------------------------------------------------

    def execute(self, effects: list[Effect], now: float) -> None:
        self.tap.effects(effects, now)  # the trace keeps the core's own effects
        self._perform(effects, now)

    def _perform(self, effects: list[Effect], now: float) -> None:
        """Carry out ``effects`` (the tap has been told them): sign-in commands past the
        admission window wait (adapters/admission.py), the rest go now."""
        if self.admission is not None:
            effects = self.admission.filter(effects)
        self._carry_out(effects)

    def _carry_out(self, effects: list[Effect]) -> None:
        written: list[Any] = []
        for e in effects:
            if isinstance(e, ToScs):
                proto = self.connections.get(e.connection)
                if proto is not None:
                    transport = proto.transport
                    proto.send(encode(e.message))
                    if transport not in written:
                        written.append(transport)
            elif isinstance(e, Publish):
                self._publish(e)
            elif isinstance(e, StartTimer):
                self._cancel(e.key)
                self.timers[e.key] = self.clock.callLater(e.delay, self._fire, e.key)
            elif isinstance(e, CancelTimer):
                self._cancel(e.key)
            elif isinstance(e, Log):
                emit_log(log, e.level, e.text, e.fields, self.log_limit)
        if self._batch:
            self._unsent.update(dict.fromkeys(written))
            return
        for transport in written:
            send_now(transport)

    # -- batches and admin requests (adapters/scs_server.py, the monitor) -------------------

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Inputs handled inside are sent at its end: one send per connection for a whole
        pipelined read (``ScsProtocol._drain``) instead of one per line."""
        self._batch += 1
        try:
            yield
        finally:
            self._batch -= 1
        if not self._batch:
            self._send_written()

    def force_logout(self, agent_id: str, reason_code: str = "") -> dict[str, Any] | None:
        """An operator's LogOut for ``agent_id``: the ``InvokeCommand LogOut`` SCS itself
        would send, on the agent's own connection, through the same tap, core and effects
        as an SCS request (so the trace records it and ``trace replay`` agrees).  Only the
        core's answer to it is not written to SCS but returned (the monitor answers its
        HTTP caller with it); ``None`` when the agent is not logged in here."""
        s = self.core.agents.get(agent_id)
        if s is None:
            return None
        rid = f"monitor-{next(_admin_ids)}"
        request = Request(rid, InvokeCommand(
            service=s.handle, cmd_track_id="0", name="LogOut", string_param="",
            params=(("ReasonCode", reason_code),) if reason_code else ()))
        now = self.wall()
        self.tap.scs_in(s.connection, request, now)
        effects = self.core.request(s.connection, request, now)
        self.tap.effects(effects, now)
        answer = next((e for e in effects if isinstance(e, ToScs)
                       and e.connection == s.connection and "method" not in e.message
                       and e.message.get("id") == rid), None)
        self._perform([e for e in effects if e is not answer], now)
        return dict(answer.message) if answer is not None else {}

    def _publish(self, e: Publish) -> None:
        def failed(f: Failure) -> None:
            self.clock.callLater(0, self._publish_failed, e.ref, f.getErrorMessage())

        if self.pacer is not None:
            self.pacer.publish(e.message, e.ref).addErrback(failed)
        else:
            self.link.publish(e.message).addErrback(failed)

    def _cancel(self, key: Key) -> None:
        call = self.timers.pop(key, None)
        if call is not None and call.active():
            call.cancel()


def send_now(transport: object) -> None:
    """Hand what was just written to the kernel now rather than on the next reactor turn.

    Twisted's TCP transport only buffers in ``write`` and sends when the next poll says
    the socket is writable: one more poll round between the core's answer and the wire,
    on every request and every event (measured in docs/performance.md).  ``doWrite`` is
    the descriptor's own write step; data the socket cannot take stays buffered and
    registered for writing, so the reactor finishes it as before; a failed send (peer
    gone) leaves it registered too, and the reactor's next ``doWrite`` reports the loss
    the usual way.  Closing connections and other transports (TLS wraps its TCP one) are
    left to the reactor.
    """
    if (isinstance(transport, tcp.Connection) and transport.connected
            and not transport.disconnecting):
        cast(Any, transport).doWrite()
