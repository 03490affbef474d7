"""Peer-supplied text in log lines, and warnings that a peer can repeat at will.

Anything a client or the broker sends (a driver's ``language``, a refused event's text, a
method name) is logged through ``peer_text``: control characters, NUL and lone surrogates
escaped (a log line stays one line, and a log shipper never sees raw bytes), and at most
``limit`` characters kept, with the original length said.  A warning a peer can trigger
once per message goes through a ``RateLimit``: the first ``burst`` of a kind per interval
are logged, the rest counted and summed up in one line when the interval is over.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["PEER_TEXT_LIMIT", "RateLimit", "emit_log", "log_fields", "peer_text"]

PEER_TEXT_LIMIT = 200

_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\"}


def _escape(ch: str) -> str:
    if ch in _ESCAPES:
        return _ESCAPES[ch]
    code = ord(ch)
    if code < 0x20 or 0x7F <= code < 0xA0 or code in (0x2028, 0x2029):
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
    if 0xD800 <= code < 0xE000:  # a lone surrogate cannot be written as UTF-8
        return f"\\u{code:04x}"
    return ch


def peer_text(value: object, limit: int = PEER_TEXT_LIMIT, *, quote: bool = True) -> str:
    """``value`` as one safe, bounded log fragment: ``'abc'``, or ``'abc…' (10000 chars)``
    (without the quotes when ``quote`` is false).

    Bytes are decoded as UTF-8 with bad bytes shown as ``\\xNN``; other objects by ``str``.
    """
    if isinstance(value, bytes | bytearray):
        text = bytes(value).decode("utf-8", "backslashreplace")
    else:
        text = value if isinstance(value, str) else str(value)
    size = len(text)
    if size > limit:
        text = text[:limit]
    shown = "".join(_escape(c) for c in text)
    q = "'" if quote else ""
    return f"{q}{shown}…{q} ({size} chars)" if size > limit else f"{q}{shown}{q}"


@dataclass
class _Kind:
    window_start: float
    logged: int = 0
    suppressed: int = 0


@dataclass
class RateLimit:
    """``allow(kind)`` says whether to log this occurrence of ``kind``.

    Per kind: the first ``burst`` occurrences of each ``interval`` are allowed; later ones
    are counted.  The first occurrence after the interval is allowed and comes with the
    count dropped before it, so the caller's line can say ``(N similar suppressed)`` once.
    """

    clock: Callable[[], float]
    burst: int = 10
    interval: float = 60.0
    _kinds: dict[str, _Kind] = field(default_factory=dict)

    def allow(self, kind: str, now: float | None = None) -> tuple[bool, int]:
        """(log it?, how many of this kind were suppressed since the last logged one).
        ``now`` overrides the clock (a sans-IO caller passes the time it was given)."""
        now = self.clock() if now is None else now
        state = self._kinds.get(kind)
        if state is None or now - state.window_start >= self.interval:
            suppressed = state.suppressed if state is not None else 0
            self._kinds[kind] = _Kind(now, 1)
            if len(self._kinds) > 1000:  # kinds are ours, but never let the map grow
                self._forget(now)
            return True, suppressed
        if state.logged < self.burst:
            state.logged += 1
            return True, 0
        state.suppressed += 1
        return False, 0

    def pending(self) -> dict[str, int]:
        """Suppressed counts not yet reported, by kind (for a final summary or a metric)."""
        return {k: s.suppressed for k, s in self._kinds.items() if s.suppressed}

    def _forget(self, now: float) -> None:
        for k in [k for k, s in self._kinds.items() if now - s.window_start >= self.interval]:
            del self._kinds[k]


#: Log fields that are multi-line on purpose (the gateway's own, never a peer's).
_KEEP = frozenset({"traceback"})


def log_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Every text field bounded and escaped (``peer_text`` without quotes), so a value a
    peer chose can neither flood nor forge a log line."""
    return {k: peer_text(v, quote=False) if isinstance(v, str) and k not in _KEEP else v
            for k, v in fields.items()}


def emit_log(logger: Any, level: str, text: str, fields: Mapping[str, Any],
             limit: RateLimit) -> None:
    """Log one line from the core: fields made safe, warnings and errors rate-limited by
    their format (the kind: "GC event refused: {reason}" from a flood counts as one)."""
    suffix = ""
    if level in ("warn", "error", "critical"):
        allowed, suppressed = limit.allow(text)
        if not allowed:
            return
        if suppressed:
            suffix = (f" ({suppressed} more like it were not logged in the last "
                      f"{limit.interval:g} s)")
    getattr(logger, level)(text + suffix, **log_fields(fields))
