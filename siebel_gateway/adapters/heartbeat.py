"""STOMP heart-beats that a busy gateway process cannot miss (issue 14).

What ActiveMQ 5.17 does with the client's ``heart-beat: cx,cy`` (read from its STOMP
``ProtocolConverter`` and ``AbstractInactivityMonitor``): it checks the connection every
``cx x transport.hbGracePeriodMultiplier`` ms (the multiplier is 1.0 unless the connector
URI sets it) and closes it ("Channel was inactive for too (>1000) long") when *nothing*
arrived since the previous check.  stomp.py sends a heart-beat exactly ``cx`` ms after its
last frame, so with the stock broker the gateway had no margin at all: any delay of its
heart-beat thread past the broker's next check -- a CPU-starved process in a login storm,
one C call holding the GIL (a large JSON encode), the process descheduled -- cost the link.
Measured: a stomp.py connection offering ``1000,1000`` whose process held the GIL for
2.2 s was closed by the broker; offering ``10000,1000`` and still beating every second it
was not (docs/performance.md).

So the gateway *offers* the broker a long interval (``[Broker] HeartbeatGraceMs``, 10 s:
the broker drops it only after that long with nothing from it) while it *sends* a beat
every ``HeartbeatMs`` as before.  Offering more than is sent is what the STOMP 1.2
heart-beat header means: ``cx`` is the longest gap the client guarantees.  The gateway's
own watch on the broker (3 x ``HeartbeatMs``, ``stomp_link.HEARTBEAT_RECEIVE_SCALE``) is
unchanged, so a dead broker is still noticed in about 3 s; it no longer blames the broker
for the gateway's own stall (:class:`Connection12`).
"""

from __future__ import annotations

import threading
import time
from typing import Any

import stomp

__all__ = ["DEFAULT_GRACE_MS", "STALL_SLACK", "Connection12", "beat_every", "offer"]

#: What the gateway offers the broker by default: the longest silence it asks it to accept.
DEFAULT_GRACE_MS = 10_000


def offer(heartbeats: tuple[int, int], grace_ms: int) -> tuple[int, int]:
    """The ``heart-beat`` header to send: the outgoing interval raised to ``grace_ms``
    (never lowered; 0 keeps heart-beats off in that direction)."""
    send, receive = heartbeats
    return (max(send, grace_ms) if send else 0, receive)


def beat_every(conn: Any, send_ms: int) -> None:
    """Make a connected stomp.py connection send its heart-beat every ``send_ms`` although
    it offered (and the broker accepted) a longer interval.

    stomp.py derives its sending interval from the negotiated header (``send_sleep`` on the
    protocol object, which is its heart-beat listener); each frame sent pushes the next
    beat ``send_sleep`` into the future.  Heart-beats off (``send_sleep`` 0 or missing):
    nothing to do.
    """
    if send_ms <= 0 or not getattr(conn, "send_sleep", 0):
        return
    conn.send_sleep = send_ms / 1000
    conn.next_outbound_heartbeat = time.monotonic() + conn.send_sleep



#: A gap between two looks of stomp.py's heart-beat thread this much longer than its
#: longest sleep means the process (not the broker) was stalled.
STALL_SLACK = 0.25


class Connection12(stomp.Connection12):  # type: ignore[misc]
    """stomp.py's STOMP 1.2 connection whose watch on the broker does not blame the broker
    for the gateway's own stall.

    stomp.py's heart-beat thread declares the broker dead when nothing was *handled* for
    ``receive_sleep``.  After the whole process was starved, or one C call held the GIL
    for seconds, the broker's beats have arrived (the receiver thread's ``recv`` needs no
    GIL) but wait for the GIL to be handled, and the heart-beat thread may run first: it
    saw a silent broker.  The heart-beat thread looks at ``received_heartbeat`` at least
    once per sleep (at most one beat interval); a longer gap between two looks is time the
    process did not run, so it is not counted as the broker's silence: the last beat is
    moved forward by the excess.  A hung or unreachable broker is still declared dead,
    later by the length of any stall of the gateway's own.

    Second, stomp.py (9.0) recognises a heart-beat only when one ``recv`` returns a lone
    EOL.  After a stall the broker's beats arrive together (``b"\\n\\n\\n"``); stomp.py then
    takes them for the start of a frame and waits for its NUL, so no beat is seen until
    the next real message and an idle link was declared dead 3 s later (measured after a
    6 s stall: the broker kept beating, stomp.py reported none).  ``receive`` here hands
    stomp.py a single EOL for a read of nothing but EOLs at a frame boundary.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # The receiver thread sets the last beat while the heart-beat thread reads and moves
        # it forward: one lock, so a newer beat is never overwritten by an older one.
        self.__dict__["_sgw_lock"] = threading.Lock()
        super().__init__(*args, **kwargs)
        _collapse_beats(self.transport)

    @property
    def received_heartbeat(self) -> float | None:
        sleeps = [x for x in (getattr(self, "send_sleep", 0), getattr(self, "receive_sleep", 0))
                  if x]
        with self.__dict__["_sgw_lock"]:
            last: float | None = self.__dict__.get("_sgw_received")
            now = time.monotonic()
            seen = self.__dict__.get("_sgw_seen", now)
            self.__dict__["_sgw_seen"] = now
            excess = now - seen - (min(sleeps) if sleeps else 0.0) - STALL_SLACK
            if last is not None and sleeps and excess > 0:
                last = min(now, last + excess)
                self.__dict__["_sgw_received"] = last
            return last

    @received_heartbeat.setter
    def received_heartbeat(self, value: float | None) -> None:
        with self.__dict__["_sgw_lock"]:
            self.__dict__["_sgw_received"] = value
            self.__dict__["_sgw_seen"] = time.monotonic()


def _collapse_beats(transport: Any) -> None:
    """Wrap ``transport.receive`` so that a read made only of EOLs between frames (several
    heart-beats at once) reaches stomp.py as one EOL, which it takes for a heart-beat.

    Frame boundaries are followed byte-wise: after a NUL (a frame's end) and any EOLs, the
    next byte starts a frame.  (A body with NUL bytes, possible only with content-length,
    could fool this; the GC's messages are text.)"""
    inner = transport.receive
    at_edge = [True]

    def receive() -> Any:
        chunk = inner()
        if not chunk:
            return chunk
        if at_edge[0] and not chunk.strip(b"\r\n"):
            return b"\n"
        end = chunk.rfind(b"\x00")
        if end >= 0:
            at_edge[0] = not chunk[end + 1:].strip(b"\r\n")
        elif chunk.strip(b"\r\n"):
            at_edge[0] = False
        return chunk

    transport.receive = receive
