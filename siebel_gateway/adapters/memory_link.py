"""An in-process broker with the same behaviour the gateway relies on from ActiveMQ.

Queues deliver each message to one consumer (round robin), topics to every subscriber;
headers and text bodies pass unchanged; a message whose ``expires`` (epoch ms) has passed
at delivery time is discarded, as ActiveMQ does.  Delivery is always later, through the
injected clock (``callLater(0)``), never inside ``publish``, so ordering and re-entrancy
match a real broker.  Used by the embedded demo and by fast tests.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import cast

from twisted.internet.defer import Deferred, succeed

from ..core.broker_messages import BrokerMessage
from ..ports import Clock
from .link import LinkDownError, LinkStatus, MessageHandler, StatusHandler

__all__ = ["MemoryBroker", "MemoryLink"]


class MemoryBroker:
    def __init__(self, clock: Clock, wall_ms: Callable[[], int] | None = None) -> None:
        self.clock = clock
        self.wall_ms = wall_ms or (lambda: int(clock.seconds() * 1000))
        self._subs: dict[str, list[tuple[MemoryLink, MessageHandler]]] = {}
        self._rr: dict[str, itertools.count[int]] = {}
        self.expired = 0

    def link(self) -> MemoryLink:
        return MemoryLink(self)

    def _subscribe(self, destination: str, link: MemoryLink, handler: MessageHandler) -> None:
        self._subs.setdefault(destination, []).append((link, handler))

    def _drop(self, link: MemoryLink) -> None:
        for subs in self._subs.values():
            subs[:] = [(lk, h) for lk, h in subs if lk is not link]

    def _route(self, message: BrokerMessage) -> None:
        self.clock.callLater(0, self._deliver, message)

    def _deliver(self, message: BrokerMessage) -> None:
        expires = int(message.headers.get("expires", "0") or 0)
        if expires and expires <= self.wall_ms():
            self.expired += 1
            return
        subs = [s for s in self._subs.get(message.destination, []) if s[0].is_up]
        if not subs:
            return
        if message.destination.startswith("/topic/"):
            for _link, handler in subs:
                handler(message)
            return
        turn = next(self._rr.setdefault(message.destination, itertools.count()))
        subs[turn % len(subs)][1](message)


class MemoryLink:
    def __init__(self, broker: MemoryBroker) -> None:
        self.broker = broker
        self._up = False
        self._status: list[StatusHandler] = []
        self._pending: list[tuple[str, MessageHandler]] = []

    @property
    def is_up(self) -> bool:
        return self._up

    def on_status(self, handler: StatusHandler) -> None:
        self._status.append(handler)

    def start(self) -> Deferred[None]:
        self._up = True
        for destination, handler in self._pending:
            self.broker._subscribe(destination, self, handler)
        status = LinkStatus(up=True, reason="connected to the in-process broker",
                            broker="memory://")
        for cb in list(self._status):
            cb(status)
        return cast(Deferred[None], succeed(None))

    def stop(self) -> Deferred[None]:
        self._up = False
        self.broker._drop(self)
        return cast(Deferred[None], succeed(None))

    def subscribe(self, destination: str, handler: MessageHandler) -> None:
        self._pending.append((destination, handler))
        if self._up:
            self.broker._subscribe(destination, self, handler)

    def publish(self, message: BrokerMessage) -> Deferred[None]:
        if not self._up:
            d: Deferred[None] = Deferred()
            d.errback(LinkDownError(
                f"not connected: {message.type or message.destination} not sent"))
            return d
        self.broker._route(message)
        return cast(Deferred[None], succeed(None))

    def interrupt(self, reason: str = "connection to the broker lost") -> None:
        """Behave like a lost broker connection (demo and tests): publishes fail,
        subscriptions stop, status handlers hear ``up=False``."""
        if not self._up:
            return
        self._up = False
        self.broker._drop(self)
        for cb in list(self._status):
            cb(LinkStatus(up=False, reason=reason))

    def resume(self) -> None:
        """The connection is back: re-subscribe and report ``recovered=True``."""
        if self._up:
            return
        self._up = True
        for destination, handler in self._pending:
            self.broker._subscribe(destination, self, handler)
        status = LinkStatus(up=True, reason="reconnected to the in-process broker",
                            broker="memory://", recovered=True)
        for cb in list(self._status):
            cb(status)
