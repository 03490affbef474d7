"""Record both edges of the gateway as JSON Lines, one object per message:

    {"mono": 12.345678, "wall": 1763700000.123, "edge": "scs", "dir": "in", "conn": 1,
     "service": "svc-2", "msg": {...the JSON-RPC object...}}
    {"mono": ..., "edge": "gc", "dir": "out", "agent": "1001",
     "msg": {"destination": "/queue/Connector1", "headers": {...}, "body": "..."}}

Passwords never reach the file: ``AgentPin``/``Password`` parameters of SCS requests are
written as ``***``, and the password field of GC Connect/Login bodies is ``***`` unless it
is Triple-DES encrypted (then the encrypted form is kept, as the seed's driver logs do).
The file rotates by size: FILE -> FILE.1 -> ... -> FILE.5.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from ..core.broker_messages import BrokerMessage
from ..core.scs_wire import Request, WireError

__all__ = ["SECRET_PARAMS", "TraceWriter", "redact_params"]

SECRET_PARAMS = frozenset({"agentpin", "password", "pin"})
KEEP = 5


def redact_params(params: Any) -> Any:
    if isinstance(params, dict):
        return {k: redact_params(v) if k != "params" else _redact_kv(v)
                for k, v in params.items()}
    return params


def _redact_kv(pairs: Any) -> Any:
    if not isinstance(pairs, list | tuple):
        return pairs
    return [[k, "***" if isinstance(k, str) and k.casefold() in SECRET_PARAMS else v]
            for k, v in pairs]


class TraceWriter:
    def __init__(self, path: str | Path, *, max_bytes: int = 100 << 20,
                 monotonic: Callable[[], float] = time.monotonic,
                 redact_body: Callable[[BrokerMessage], str] | None = None) -> None:
        self.path = Path(path)
        self.max_bytes = max_bytes
        self.monotonic = monotonic
        self.redact_body = redact_body
        self._file: TextIO = self._open()

    def _open(self) -> TextIO:
        return open(self.path, "a", encoding="utf-8")

    def _write(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
        self._file.write(line)
        self._file.flush()
        if self._file.tell() >= self.max_bytes:
            self._rotate()

    def _rotate(self) -> None:
        self._file.close()
        for n in range(KEEP - 1, 0, -1):
            older = self.path.with_name(f"{self.path.name}.{n}")
            if older.exists():
                os.replace(older, self.path.with_name(f"{self.path.name}.{n + 1}"))
        os.replace(self.path, self.path.with_name(f"{self.path.name}.1"))
        self._file = self._open()

    def close(self) -> None:
        self._file.close()

    def _base(self, edge: str, direction: str, now: float) -> dict[str, Any]:
        return {"mono": round(self.monotonic(), 6), "wall": round(now, 3), "edge": edge,
                "dir": direction}

    def scs_in(self, connection: int, item: Request | WireError, now: float) -> None:
        rec = self._base("scs", "in", now)
        rec["conn"] = connection
        if isinstance(item, WireError):
            rec["msg"] = {"invalid": item.message, "id": item.id, "code": int(item.code)}
        else:
            params = redact_params(dict(item.params))
            if "service" in params:
                rec["service"] = params["service"]
            rec["msg"] = {"id": item.id, "method": item.method, "params": params}
        self._write(rec)

    def scs_out(self, connection: int, message: Any, now: float) -> None:
        rec = self._base("scs", "out", now)
        rec["conn"] = connection
        params = message.get("params") if isinstance(message, dict) else None
        if isinstance(params, dict) and "service" in params:
            rec["service"] = params["service"]
        rec["msg"] = message
        self._write(rec)

    def _gc(self, direction: str, message: BrokerMessage, now: float, body: str) -> None:
        rec = self._base("gc", direction, now)
        agent = message.type.partition("#")[2] if direction == "out" \
            else body.partition("#")[0]
        if agent:
            rec["agent"] = agent
        rec["msg"] = {"destination": message.destination, "headers": dict(message.headers),
                      "body": body}
        self._write(rec)

    def gc_in(self, message: BrokerMessage, now: float) -> None:
        self._gc("in", message, now, message.body)

    def gc_out(self, message: BrokerMessage, now: float) -> None:
        body = self.redact_body(message) if self.redact_body else message.body
        self._gc("out", message, now, body)
