"""The SCS wire's outgoing lines through ``orjson`` (issue 14), byte for byte what
``core.scs_wire.encode`` writes.

Encoding callbacks was the largest single item of the gateway's CPU in a login storm
(cProfile, 5,000 agents: ~2.0 s for 128,000 callbacks, each ~1-2 KB).  ``orjson`` writes
the same compact, unescaped UTF-8 as the standard encoder the protocol documents
(``separators=(",", ":")``, ``ensure_ascii=False``; docs/SCS-PROTOCOL) 10-20x faster
(docs/performance.md).  Where the two could differ, the standard encoder in the core is
used instead, so the bytes never change:

* a float (``1e+16`` / ``1e16``): a callback has none (its typed fields are strings,
  integers and booleans: ``core.scs_messages``), but a result or error echoes the client's
  ``id``, which may be a float, and carries the handler's extras: those (one per request)
  are looked through and written by the core's encoder if they hold one;
* whatever ``orjson`` refuses: a lone surrogate (the core's encoder writes its escape),
  an integer beyond 64 bits, a key that is not a string.

Only the adapter encodes (``GatewayService.execute``); decoding stays in the core's
``parse_line``, whose error texts for bad JSON are the standard library's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from ..core.scs_wire import encode as _core_encode

__all__ = ["encode"]


def _has_float(value: Any) -> bool:
    if isinstance(value, float):
        return True
    if isinstance(value, dict):
        return any(_has_float(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_has_float(v) for v in value)
    return False


def encode(message: Mapping[str, Any]) -> bytes:
    """``core.scs_wire.encode(message)``, faster."""
    if "method" not in message and _has_float(message):  # a result or error
        return _core_encode(message)
    try:
        return orjson.dumps(message, option=orjson.OPT_APPEND_NEWLINE)
    except orjson.JSONEncodeError:
        return _core_encode(message)
