"""Traces of a duplex gateway (``Mode = active-passive | active-active``, two GCs).

A duplex core decides more from its inputs than a single-GC one: which GC is active, which
agent is on which GC, when a GC is silent (its ``gateway:silence:<queue>`` deadline), when the
agents move (the GC switch-over, ``core/failover.py``).  All of that follows from inputs
the trace already records (every GC message with its destination, every timer, every link
change), provided replay rebuilds the same core: the start line's ``config.duplex`` says
the GCs (queue and client destination of each, in ``Queue`` order), ``Mode``,
``MissedHeartbeats`` and ``FailBack``; a link line of one GC's own broker link (``[Broker]
Url2``) names that GC (``queue``).

Trace format 1 had neither, so a format-1 trace of a duplex gateway cannot be replayed:
``old_duplex_trace`` finds one by its heartbeat keys (``gateway:Hello:<queue>``; a single
GC's are ``gateway:Hello``) and replay refuses it saying so.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..core.duplex import DuplexGateway
from ..core.gateway import GatewayOptions
from ..core.gcs import parse_mode
from ..core.texts import Catalog
from ..gc.codec import GcCodec
from ..gc.dialect import Dialect

__all__ = ["duplex_config", "duplex_core", "old_duplex_trace"]

_GATEWAY_KEYS = ("ref", "key")


def duplex_config(core: DuplexGateway) -> dict[str, Any]:
    """The start line's ``duplex`` block for a duplex core."""
    return {"mode": core.gcs.mode.value, "missed_heartbeats": core.gcs.missed_limit,
            "fail_back": core.gcs.fail_back,
            "gcs": [{"queue": c.queue, "client_destination": c.client_destination}
                    for c in core.codecs]}


def duplex_core(block: Mapping[str, Any], *, dialect: Dialect, command_expiry: float,
                catalog: Catalog, options: GatewayOptions,
                encrypt: Callable[[str], str] | None) -> DuplexGateway:
    """The duplex core a start line's ``duplex`` block describes; raises KeyError,
    TypeError or ValueError naming what is wrong (the caller says where)."""
    gcs = block["gcs"]
    if not isinstance(gcs, list) or len(gcs) != 2:
        raise ValueError("config.duplex.gcs must list the two GCs")
    codecs = [GcCodec(dialect, queue=str(g["queue"]),
                      client_destination=str(g["client_destination"]),
                      command_expiry=command_expiry) for g in gcs]
    return DuplexGateway(codecs, catalog, options, mode=parse_mode(str(block["mode"])),
                         missed_heartbeats=int(block["missed_heartbeats"]),
                         fail_back=bool(block["fail_back"]), encrypt=encrypt)


def old_duplex_trace(records: Sequence[tuple[int, Mapping[str, Any]]]) -> str:
    """For a format-1 trace: why it cannot be replayed when a duplex gateway wrote it
    (``LINE: ...``), or "" (a single-GC trace, replayable)."""
    for number, record in records:
        for name in _GATEWAY_KEYS:
            value = record.get(name)
            if isinstance(value, str) and value.startswith("gateway:") \
                    and value.count(":") >= 2:
                queue = value.split(":", 2)[2]
                return (f"{number}: this trace was written by a duplex gateway (its "
                        f"heartbeat {value!r} names GC {queue!r}) in trace format 1, whose "
                        "start line does not say the second GC, the Mode, MissedHeartbeats "
                        "or FailBack, nor which GC a broker link line is about; the core "
                        "that ran cannot be rebuilt, so the trace can be read (trace show) "
                        "but not replayed: record it again with this version (serve --trace)")
    return ""
