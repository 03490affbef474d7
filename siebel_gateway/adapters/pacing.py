"""Pacing: the gateway's own bounded queue between the core's GC commands and the broker.

Why (measured, docs/performance.md "Login storm"): a broker whose memory limit is reached
with ``sendFailIfNoSpace`` answers a SEND with an ERROR frame and throws the message away.
A fire-and-forget sender never learns which message was refused: the command is lost and
Siebel hears about it only when ``CommandTimeoutSeconds`` runs out.  So every SEND asks for
a receipt, at most ``WINDOW`` SENDs are unanswered at a time, and a refused SEND is put back
at the front of the queue and tried again after a pause that grows while the broker keeps
refusing (50 ms doubling to 1 s) and resets at the next receipt.

* The queue holds at most ``size`` commands (``[Broker] PacingQueueSize`` in gateway.def);
  a command that finds it full fails at once, and one still waiting ``MARGIN`` seconds
  before its ``CommandTimeoutSeconds`` runs out is taken out and fails; both with
  :class:`GatewayBusyError`, whose text starts with ``effects.GATEWAY_BUSY`` so the core
  tells the agent the gateway is busy (not that the switch is unreachable), and the GC never
  receives a command Siebel was told had failed.
* The gateway's own Hello/Beat (``ref.owner == "gateway"``) jump the queue: a storm must
  not make the GC look dead.
* One owner's messages (an agent service's commands: ``ref.owner``) keep their order: an
  owner has at most one SEND unanswered, and its next waits for that receipt.  Without this
  a refused Connect retried after the accepted Login behind it reached the GC out of order
  and the login was lost.  Different owners share the window.  Messages without an owner
  (the simulator's events) keep one global order, except that while a full broker refuses,
  a retried message can land behind a later one.
* What the broker refused decides what happens next (issue 12 D6, measured on ActiveMQ
  5.17).  Flow control or a resource limit ("Usage Manager Memory Limit reached on
  queue://...", "Persistent store is Full", "Temp Store is Full") means "not now": the
  message is retried as above, and if it is still not taken when its time is up the busy
  text carries the broker's last reason.  Anything else ("User gw is not authorized to
  write to: queue://...", an unknown destination) retrying cannot fix: the command fails at
  once with :class:`BrokerRefusedError`, whose text starts with
  ``core.broker_refusal.REFUSED`` and holds the broker's reason (escaped, at most 200
  characters), so the agent reads why at once; the core logs it once.
* A lost link fails what is queued or unanswered with ``LinkDownError`` (the core refuses
  every pending command on the loss anyway).
* A link without receipts (the in-memory link) is paced by its publish Deferreds alone.

One log line when pacing starts (the broker refused, or the queue passed half its size) and
one when it ends; ``depth`` and ``counters`` feed the monitor's metrics.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from twisted.internet.defer import Deferred
from twisted.logger import Logger
from twisted.python.failure import Failure

from ..core.broker_messages import BrokerMessage
from ..core.broker_refusal import REFUSED, SAID
from ..core.effects import GATEWAY_BUSY, Key
from ..logtext import peer_text
from ..ports import Clock, DelayedCall
from .link import BrokerLink, LinkDownError

__all__ = ["MARGIN", "WINDOW", "BrokerRefusedError", "GatewayBusyError", "Pacer", "retryable"]

log = Logger(namespace="siebel_gateway")

#: SENDs awaiting their receipt at any time.  With 64 a 1,000-agent storm took 7.3 s and
#: the pacer was receipt-bound (~1,100 messages/s on the loaded machine); with 1,000, 4.4 s
#: (docs/performance.md).
WINDOW = 1000
#: A command still queued this long before its CommandTimeoutSeconds ends fails as busy.
MARGIN = 0.25
_SWEEP = 0.1
_PAUSE_FIRST, _PAUSE_MAX = 0.05, 1.0


#: Case-folded fragments of a broker refusal that means "not now" (flow control, a
#: resource limit): such a message is paced and retried.
RETRYABLE = ("memory limit", "usage manager", "store is full", "resource limit",
             "resourceallocation", "flow control", "producer-flow-control")
#: The longest broker reason passed on (escaped; longer ones are cut, with their length).
REASON_LIMIT = 200


def retryable(reason: str) -> bool:
    """True when the broker refused a SEND for a reason that passes (flow control, a full
    memory or store); False when retrying cannot help (authorization, a bad destination)."""
    folded = reason.casefold()
    return any(fragment in folded for fragment in RETRYABLE)


class GatewayBusyError(Exception):
    """The command could not be handed to the broker in time (or the queue was full)."""


class BrokerRefusedError(Exception):
    """The broker refused the command for a reason retrying cannot fix."""


class AnsweringLink(Protocol):
    """A link that reports the broker's answer to a SEND carrying a ``receipt`` header."""

    def on_answer(self, handler: Callable[[str, str | None], None]) -> None: ...


@dataclass(eq=False)
class _Item:
    message: BrokerMessage
    deadline: float
    done: Deferred[None] = field(default_factory=Deferred)
    receipt: str = ""
    seq: int = 0
    owner: str | None = None
    refused: str = ""  # the broker's last (retryable) reason, escaped and bounded


class Pacer:
    def __init__(self, link: BrokerLink, clock: Clock, *, size: int, timeout: float) -> None:
        if size < 1:
            raise ValueError("the pacing queue needs room for at least one command")
        self.link, self.clock, self.size = link, clock, size
        self.wait = max(0.0, timeout - MARGIN)
        self._urgent: deque[_Item] = deque()
        self._queue: deque[_Item] = deque()
        self._flight: dict[str, _Item] = {}
        self._owners: set[str] = set()  # owners with a SEND unanswered
        self._held: dict[str, deque[_Item]] = {}  # their next messages, in order
        self._held_count = 0
        self._unreceipted = 0  # in flight on a link without receipts
        self._ids = itertools.count(1)
        self._paused: DelayedCall | None = None
        self._pause = _PAUSE_FIRST
        self._sweeper: DelayedCall | None = None
        self.pacing = False
        self.counters = {"refused_by_broker": 0, "busy": 0, "sent": 0}
        self._receipts = callable(getattr(link, "on_answer", None))
        if self._receipts:
            link.on_answer(self._answer)  # type: ignore[attr-defined]
        link.on_status(lambda status: None if status.up else self._link_lost())

    @property
    def depth(self) -> int:
        """Commands waiting in the gateway for their turn (not yet handed to the broker)."""
        return len(self._queue) + len(self._urgent) + self._held_count

    def publish(self, message: BrokerMessage, ref: Key | None = None, *,
                owner: str | None = None) -> Deferred[None]:
        """Fires when the broker has the message; fails with GatewayBusyError or
        LinkDownError (or whatever the link reports).  ``owner`` (default: ``ref.owner``)
        names whose messages must keep their order."""
        if not self.link.is_up:
            return self.link.publish(message)  # the link's own LinkDownError
        item = _Item(message, self.clock.seconds() + self.wait, seq=next(self._ids),
                     owner=owner if owner is not None or ref is None else ref.owner)
        if ref is not None and ref.owner == "gateway":
            self._urgent.append(item)
        elif len(self._queue) >= self.size:
            self.counters["busy"] += 1
            self._start_pacing(f"the pacing queue is full ({self.size} GC commands)")
            item.done.errback(GatewayBusyError(
                f"{GATEWAY_BUSY}{self.size} GC commands are already waiting for the broker"))
            return item.done
        else:
            self._queue.append(item)
        if self.depth > self.size // 2:
            self._start_pacing(f"{self.depth} messages waiting for the broker")
        self._pump()
        return item.done

    # -- sending -------------------------------------------------------------------------

    def _in_flight(self) -> int:
        return len(self._flight) + self._unreceipted

    def _pump(self) -> None:
        while self._paused is None and self._in_flight() < WINDOW and self.link.is_up:
            lane = self._urgent or self._queue
            if not lane:
                break
            item = lane.popleft()
            if item.owner is not None and self._receipts:
                if item.owner in self._owners:  # its previous SEND is still unanswered
                    self._held.setdefault(item.owner, deque()).append(item)
                    self._held_count += 1
                    continue
                self._owners.add(item.owner)
            self._send(item)
        if self.depth:
            self._arm_sweep()
        elif self.pacing and not self._flight:
            self.pacing = False
            log.info("pacing over: the broker takes what is sent as fast as it comes")

    def _send(self, item: _Item) -> None:
        message = item.message
        if self._receipts:
            item.receipt = f"p{item.seq}"
            message = BrokerMessage(destination=message.destination, body=message.body,
                                    headers={**message.headers, "receipt": item.receipt})
            self._flight[item.receipt] = item
        else:
            self._unreceipted += 1
        d = self.link.publish(message)
        d.addCallbacks(self._written, self._write_failed, callbackArgs=(item,),
                       errbackArgs=(item,))

    def _written(self, _: object, item: _Item) -> None:
        if not self._receipts:
            self._unreceipted -= 1
            self._finish(item, None)
            self._pump()

    def _write_failed(self, failure: Failure, item: _Item) -> None:
        if self._receipts:
            self._flight.pop(item.receipt, None)
            self._release(item)
        else:
            self._unreceipted -= 1
        self._finish(item, failure)
        self._pump()

    def _answer(self, receipt: str, error: str | None) -> None:
        item = self._flight.pop(receipt, None)
        if item is None:
            return
        if error is None:
            self._pause = _PAUSE_FIRST
            self._finish(item, None)
            self._release(item)
        elif not retryable(error):  # retrying cannot help: the agent hears why at once
            self.counters["refused_by_broker"] += 1
            self._release(item)
            self._finish(item, BrokerRefusedError(
                REFUSED + peer_text(error or "no reason given", REASON_LIMIT, quote=False)))
        else:  # refused (memory limit): back to the front, in the order first sent
            self.counters["refused_by_broker"] += 1
            item.refused = peer_text(error, REASON_LIMIT, quote=False)
            self._start_pacing(f"the broker refused a message ({item.refused})")
            pos = next((i for i, q in enumerate(self._queue) if q.seq > item.seq),
                       len(self._queue))
            self._queue.insert(pos, item)
            if item.owner is not None:
                self._owners.discard(item.owner)  # it goes again before anything held
            if self._paused is None:
                self._paused = self.clock.callLater(self._pause, self._resume)
                self._pause = min(_PAUSE_MAX, self._pause * 2)
        self._pump()

    def _release(self, item: _Item) -> None:
        """``item``'s owner may send its next message (first in line: it waited already)."""
        if item.owner is None:
            return
        self._owners.discard(item.owner)
        held = self._held.get(item.owner)
        if held:
            self._queue.appendleft(held.popleft())
            self._held_count -= 1
            if not held:
                del self._held[item.owner]

    def _resume(self) -> None:
        self._paused = None
        self._pump()

    def _finish(self, item: _Item, failure: Failure | Exception | None) -> None:
        if item.done.called:
            return
        if failure is None:
            self.counters["sent"] += 1
            item.done.callback(None)
        else:
            item.done.errback(failure)

    # -- expiry and loss ------------------------------------------------------------------

    def _arm_sweep(self) -> None:
        if self._sweeper is None or not self._sweeper.active():
            self._sweeper = self.clock.callLater(_SWEEP, self._sweep)

    def _sweep(self) -> None:
        self._sweeper = None
        now = self.clock.seconds()
        lanes = [self._urgent, self._queue, *self._held.values()]
        for lane in lanes:
            for item in [i for i in lane if i.deadline <= now]:
                lane.remove(item)
                self.counters["busy"] += 1
                said = f"{SAID}{item.refused}" if item.refused else ""
                self._finish(item, GatewayBusyError(
                    f"{GATEWAY_BUSY}not handed to the broker within "
                    f"{self.wait + MARGIN:g} s{said}"))
        self._held = {owner: lane for owner, lane in self._held.items() if lane}
        self._held_count = sum(map(len, self._held.values()))
        self._pump()

    def _link_lost(self) -> None:
        items = [*self._urgent, *self._queue, *self._flight.values(),
                 *(i for lane in self._held.values() for i in lane)]
        self._urgent.clear()
        self._queue.clear()
        self._flight.clear()
        self._held.clear()
        self._held_count = 0
        self._owners.clear()
        if self._paused is not None and self._paused.active():
            self._paused.cancel()
        self._paused, self._pause = None, _PAUSE_FIRST
        for item in items:
            self._finish(item, LinkDownError("broker link is down: "
                                             f"{item.message.type or item.message.destination}"
                                             " was not sent"))
        self.pacing = False

    def _start_pacing(self, why: str) -> None:
        if not self.pacing:
            self.pacing = True
            log.warn("pacing sends to the broker: {why}; {depth} waiting, {flight} "
                     "unanswered by the broker", why=why, depth=self.depth,
                     flight=self._in_flight())
