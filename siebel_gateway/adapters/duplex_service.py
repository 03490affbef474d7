"""The shell of a duplex gateway: ``GatewayService`` carrying messages to two GCs, on one
broker link or on one link each (``[Broker] Url2``).

It decides nothing: it subscribes each GC's event destination on that GC's link, sends
each GC command on the link of the GC whose queue it is addressed to, and reports each
link's status to the core naming the GC behind it (``DuplexGateway.link_status(queue=)``;
one shared link reports for both).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence
from typing import Any

from twisted.python.failure import Failure

from ..core.duplex import DuplexGateway
from ..core.effects import Publish
from ..ports import Clock
from .gateway_service import GatewayService, TraceTap
from .link import BrokerLink, LinkStatus

__all__ = ["DuplexService"]


class DuplexService(GatewayService):
    def __init__(self, core: DuplexGateway, links: Sequence[BrokerLink], clock: Clock, *,
                 wall: Callable[[], float] = time.time, max_line: int = 1 << 20,
                 tap: TraceTap | None = None) -> None:
        if len(links) not in (1, len(core.codecs)):
            raise ValueError("a duplex gateway has one broker link, or one per GC")
        super().__init__(core, links[0], clock, wall=wall, max_line=max_line, tap=tap)
        self.duplex = core
        self.links = tuple(links)
        self._route: dict[str, BrokerLink] = {}
        for i, codec in enumerate(core.codecs):
            link = self.links[i] if len(self.links) > 1 else self.links[0]
            self._route[codec.command_destination] = link
            if i > 0:  # the first GC's events: subscribed by GatewayService
                link.subscribe(codec.event_destination, self.on_broker_message)
        for n, link in enumerate(self.links[1:], start=1):
            link.on_status(functools.partial(self._link_changed, n))

    def start(self) -> Any:
        first = super().start()
        for link in self.links[1:]:
            link.start()
        return first

    def stop(self) -> Any:
        for link in self.links[1:]:
            link.stop()
        return super().stop()

    def on_link_status(self, status: LinkStatus) -> None:
        self._link_changed(0, status)

    def _link_changed(self, n: int, status: LinkStatus) -> None:
        queue = self.duplex.gcs.queues[n] if len(self.links) > 1 else None
        now = self.wall()
        self.tap.link(status.up, status.reason, status.recovered, now, queue)
        self.execute(self.duplex.link_status(status.up, status.reason, now,
                                             recovered=status.recovered, queue=queue), now)

    def _publish(self, e: Publish) -> None:
        def failed(f: Failure) -> None:
            self.clock.callLater(0, self._publish_failed, e.ref, f.getErrorMessage())

        link = self._route.get(e.message.destination, self.link)
        link.publish(e.message).addErrback(failed)
