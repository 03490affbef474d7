"""The shell around ``GatewayCore``: SCS connections, the broker link, timers, logs.

It does three things only: turn I/O into core inputs (with the wall-clock time), carry out
the effects the core returns in their order, and keep Twisted objects (transports,
delayed calls) out of the core.  A failed publish is reported back to the core on the next
reactor turn, so it never overtakes the effects already decided.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, cast
from typing import Protocol as Protocol_

from twisted.internet.protocol import Factory, Protocol, connectionDone
from twisted.logger import Logger
from twisted.python.failure import Failure

from ..core.broker_messages import BrokerMessage
from ..core.effects import CancelTimer, Effect, Log, Publish, StartTimer, ToScs
from ..core.gateway import GatewayCore
from ..core.scs_wire import LineDecoder, encode
from ..ports import Clock
from .link import BrokerLink, LinkStatus

__all__ = ["GatewayService", "NoTrace", "ScsProtocol", "ScsServerFactory", "TraceTap"]

log = Logger(namespace="siebel_gateway")


class TraceTap(Protocol_):
    """Called at both edges with what crosses them (``trace.record.TraceWriter``)."""

    def scs_in(self, connection: int, item: Any, now: float) -> None: ...
    def scs_out(self, connection: int, message: Any, now: float) -> None: ...
    def gc_in(self, message: BrokerMessage, now: float) -> None: ...
    def gc_out(self, message: BrokerMessage, now: float) -> None: ...


class NoTrace:
    def scs_in(self, connection: int, item: Any, now: float) -> None:
        pass

    def scs_out(self, connection: int, message: Any, now: float) -> None:
        pass

    def gc_in(self, message: BrokerMessage, now: float) -> None:
        pass

    def gc_out(self, message: BrokerMessage, now: float) -> None:
        pass


class GatewayService:
    def __init__(self, core: GatewayCore, link: BrokerLink, clock: Clock, *,
                 wall: Callable[[], float] = time.time, max_line: int = 1 << 20,
                 tap: TraceTap | None = None) -> None:
        self.core, self.link, self.clock, self.wall = core, link, clock, wall
        self.max_line = max_line
        self.tap: TraceTap = tap or NoTrace()
        self.connections: dict[int, ScsProtocol] = {}
        self.timers: dict[str, Any] = {}
        self._next_connection = 0
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

    def connection_made(self, protocol: ScsProtocol) -> int:
        self._next_connection += 1
        self.connections[self._next_connection] = protocol
        return self._next_connection

    def connection_lost(self, connection: int) -> None:
        self.connections.pop(connection, None)
        self.execute(self.core.connection_lost(connection, self.wall()))

    def line_items(self, connection: int, items: list[Any]) -> None:
        for item in items:
            now = self.wall()
            self.tap.scs_in(connection, item, now)
            self.execute(self.core.request(connection, item, now))

    def on_broker_message(self, message: BrokerMessage) -> None:
        now = self.wall()
        self.tap.gc_in(message, now)
        self.execute(self.core.broker_message(message, now))

    def on_link_status(self, status: LinkStatus) -> None:
        self.execute(self.core.link_status(status.up, status.reason, self.wall(),
                                           recovered=status.recovered))

    def _fire(self, key: str) -> None:
        self.timers.pop(key, None)
        self.execute(self.core.timer(key, self.wall()))

    # -- effects -----------------------------------------------------------------------------

    def execute(self, effects: list[Effect]) -> None:
        for e in effects:
            if isinstance(e, ToScs):
                proto = self.connections.get(e.connection)
                if proto is not None:
                    self.tap.scs_out(e.connection, e.message, self.wall())
                    cast(Any, proto.transport).write(encode(e.message))
            elif isinstance(e, Publish):
                self._publish(e)
            elif isinstance(e, StartTimer):
                self._cancel(e.key)
                self.timers[e.key] = self.clock.callLater(e.delay, self._fire, e.key)
            elif isinstance(e, CancelTimer):
                self._cancel(e.key)
            elif isinstance(e, Log):
                getattr(log, e.level)(e.text, **e.fields)

    def _publish(self, e: Publish) -> None:
        self.tap.gc_out(e.message, self.wall())

        def failed(f: Failure) -> None:
            why = f.getErrorMessage()
            self.clock.callLater(0, lambda: self.execute(
                self.core.publish_failed(e.ref, why, self.wall())))

        self.link.publish(e.message).addErrback(failed)

    def _cancel(self, key: str) -> None:
        call = self.timers.pop(key, None)
        if call is not None and call.active():
            call.cancel()


class ScsProtocol(Protocol):
    """One SCS connection: bytes -> LineDecoder -> the gateway core."""

    def __init__(self, service: GatewayService) -> None:
        self.service = service
        self.decoder = LineDecoder(service.max_line)
        self.connection = 0

    def connectionMade(self) -> None:  # noqa: N802 (Twisted)
        self.connection = self.service.connection_made(self)
        transport = cast(Any, self.transport)
        # Callbacks are small writes that follow a result: without TCP_NODELAY, Nagle holds
        # them until the client's delayed ACK (40 ms on Linux) -- measured in bench_roundtrip.
        if hasattr(transport, "setTcpNoDelay"):
            transport.setTcpNoDelay(True)
        peer = transport.getPeer()
        log.info("SCS connection {n} from {peer}", n=self.connection, peer=str(peer))

    def dataReceived(self, data: bytes) -> None:  # noqa: N802 (Twisted)
        self.service.line_items(self.connection, self.decoder.feed(data))

    def connectionLost(self, reason: Failure = connectionDone) -> None:  # noqa: N802
        log.info("SCS connection {n} closed", n=self.connection)
        self.service.connection_lost(self.connection)


class ScsServerFactory(Factory):
    def __init__(self, service: GatewayService) -> None:
        self.service = service

    def buildProtocol(self, addr: Any) -> ScsProtocol:  # noqa: N802 (Twisted)
        return ScsProtocol(self.service)
