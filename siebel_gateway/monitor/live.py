"""Live updates for the console: server-sent events from ``/api/events``.

A new subscriber first gets ``snapshot`` (every agent row, the status), then, every
``interval`` seconds, only what changed: ``agents`` (rows upserted, ids removed, counts
per state) and ``status`` when the link, the GC, connections or the errors changed (and
every few seconds anyway, for the uptime).  Changes are coalesced per tick, so a burst of
10,000 events costs one message per tick, and the page never re-renders what did not
change.  A ``: keepalive`` comment every 15 s keeps proxies from closing the stream.
"""

from __future__ import annotations

import json
from typing import Any

from twisted.internet.task import LoopingCall
from twisted.logger import Logger

from ..adapters.scs_server import unread_output
from .views import MonitorSource

__all__ = ["LiveHub"]

log = Logger(namespace="siebel_gateway.monitor")
KEEPALIVE_TICKS = 60
STATUS_TICKS = 20
#: A client whose unsent output grows past this is dropped (it reconnects and resyncs).
MAX_BUFFERED = 8 << 20


def _frame(event: str, data: Any) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


class LiveHub:
    def __init__(self, source: MonitorSource, clock: Any, interval: float = 0.25) -> None:
        self.source, self.clock, self.interval = source, clock, interval
        self.subscribers: list[Any] = []
        self._ticks = 0
        self._loop = LoopingCall(self.tick)
        self._loop.clock = clock

    def start(self) -> None:
        self._loop.start(self.interval, now=False)

    def stop(self) -> None:
        if self._loop.running:
            self._loop.stop()
        for r in list(self.subscribers):
            r.finish()
        self.subscribers.clear()

    def subscribe(self, request: Any) -> None:
        request.setHeader(b"content-type", b"text/event-stream; charset=utf-8")
        request.setHeader(b"cache-control", b"no-store")
        request.setHeader(b"x-accel-buffering", b"no")
        request.write(b"retry: 2000\n\n")
        agents = sorted(self.source.agents(), key=lambda a: a.agent_id)
        request.write(_frame("snapshot", {"agents": [a.json() for a in agents],
                                          "status": self.source.status().json()}))
        self.subscribers.append(request)
        request.notifyFinish().addBoth(lambda _: self._gone(request))

    def _gone(self, request: Any) -> None:
        if request in self.subscribers:
            self.subscribers.remove(request)

    def tick(self) -> None:
        """Drain the changes (also with nobody watching, so they never pile up)."""
        self._ticks += 1
        ids, status_changed = self.source.changes()
        if not self.subscribers:
            return
        frames: list[bytes] = []
        if ids:
            upsert, remove = [], []
            for agent_id in sorted(ids):
                row = self.source.summary(agent_id)
                if row is None:
                    remove.append(agent_id)
                else:
                    upsert.append(row.json())
            frames.append(_frame("agents", {"upsert": upsert, "remove": remove}))
        if status_changed or ids or self._ticks % STATUS_TICKS == 0:
            frames.append(_frame("status", self.source.status().json()))
        if not frames and self._ticks % KEEPALIVE_TICKS == 0:
            frames.append(b": keepalive\n\n")
        if frames:
            data = b"".join(frames)
            for r in list(self.subscribers):
                self._send(r, data)

    def _send(self, request: Any, data: bytes) -> None:
        buffered = unread_output(getattr(request.channel, "transport", None))
        if buffered > MAX_BUFFERED:
            log.warn("monitor: dropping a live client that does not keep up ({n} bytes "
                     "waiting)", n=buffered)
            self._gone(request)
            request.finish()
            return
        request.write(data)
