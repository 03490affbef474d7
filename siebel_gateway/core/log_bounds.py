"""Bounds on what the core's log lines carry (issue 12 D9), sans-IO.

Log fields often hold text a peer chose: a client's ``language`` or method name, a GC
event body, a broker's error message.  Each ``Log`` effect cuts its text fields to
``FIELD_LIMIT`` characters (saying how long they were), so no input can make one log line
unbounded; escaping control characters is the shell's job (it knows the log's format).
``Sampler`` keeps a warning a peer can repeat at will (a refused GC event) to one line per
interval of the core's own clock, with the number left out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["FIELD_LIMIT", "TRACEBACK_LIMIT", "Sampler", "bounded"]

#: Characters of one log field (a peer's text) kept in a log line.
FIELD_LIMIT = 200
#: A traceback is the gateway's own text, but its last line quotes the exception, which may
#: quote a peer: kept longer, still bounded.
TRACEBACK_LIMIT = 8000


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text)} characters)"


def bounded(fields: Mapping[str, Any]) -> dict[str, Any]:
    """``fields`` with every text cut to its limit (other values as they are)."""
    return {k: _cut(v, TRACEBACK_LIMIT if k == "traceback" else FIELD_LIMIT)
            if isinstance(v, str) else v for k, v in fields.items()}


class Sampler:
    """At most one line per ``interval`` seconds of input time."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._last: float | None = None
        self._left_out = 0

    def allow(self, now: float) -> int | None:
        """None: leave this line out; else log it, with this many left out before it."""
        if self._last is not None and now - self._last < self.interval:
            self._left_out += 1
            return None
        self._last, left_out, self._left_out = now, self._left_out, 0
        return left_out
