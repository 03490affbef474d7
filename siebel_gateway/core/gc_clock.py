"""What the GC's clock says, read from what a real GC sends (issue 13 item 2, issue 12 D7).

A real Generic Connector forwards Finesse's ``stateChangeTime`` in its ``State`` event
(field ``StateChangeTime``, ISO-8601 UTC); our simulator also stamps every event with a
``gcTimestamp`` header (epoch ms), kept as a fallback.  Both are read defensively: a value
that is not a plain time (non-decimal digits, 5,000 digits, an ISO text with garbage, a
year out of range) is ignored, never raised.

A change time says when the state changed, not when the event was sent: it is a clock
reading only for a *fresh* change (the agent's state differs from what the gateway knew,
after sign-in).  A change time ahead of the gateway's clock is a skew whatever the event
(a change cannot happen in the future).  Readings outside ``SANE_RANGE`` are not clocks.
"""

from __future__ import annotations

import datetime
import re

from ..gc.codec import GcEvent
from .broker_messages import BrokerMessage

__all__ = ["SANE_RANGE", "gc_clock_reading", "header_time", "iso_time", "start_time"]

#: Epoch seconds a GC clock reading may plausibly hold (2000-01-01 .. 2200-01-01 UTC).
SANE_RANGE = (946_684_800.0, 7_258_118_400.0)
_MILLIS = re.compile(r"[0-9]{1,16}")
_ISO_MAX = 40


def _sane(seconds: float) -> float | None:
    return seconds if SANE_RANGE[0] <= seconds <= SANE_RANGE[1] else None


def header_time(text: str) -> float | None:
    """``gcTimestamp`` (epoch ms, ASCII digits only) as epoch seconds, or None."""
    if not _MILLIS.fullmatch(text):
        return None
    return _sane(int(text) / 1000)


def iso_time(text: str) -> float | None:
    """An ISO-8601 time with a zone (``2026-12-06T03:40:00.123Z``) as epoch seconds, or
    None (no zone: not a clock reading we can compare)."""
    if not text or len(text) > _ISO_MAX or not text.isascii():
        return None
    try:
        parsed = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return None
    try:
        return _sane(parsed.timestamp())
    except (OverflowError, OSError, ValueError):
        return None


def start_time(text: str, now: float) -> float:
    """When a call started by the GC (a ``DialogStatus``'s ``StartTime``, ISO-8601), never
    later than ``now``; ``now`` when the GC does not say (or says something unusable)."""
    when = iso_time(text)
    return now if when is None else min(when, now)


def gc_clock_reading(message: BrokerMessage, event: GcEvent | None, known_state: str | None,
                     now: float) -> float | None:
    """The GC's clock at ``message``, or None when the message says nothing usable.

    ``known_state``: the agent state the gateway held before this event for a signed-in
    agent (None: no such agent, or not yet signed in)."""
    if event is not None and event.name == "State":
        changed = iso_time(event.text("StateChangeTime"))
        fresh = known_state is not None and event.text("State") != known_state
        if changed is not None and (fresh or changed > now):
            return changed
    return header_time(message.headers.get("gcTimestamp", ""))
