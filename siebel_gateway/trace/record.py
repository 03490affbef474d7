"""Record both edges of the gateway, and every other input of its core, as JSON Lines.

The line format is in ``trace/records.py``.  Passwords never reach the file: ``AgentPin``/
``Password`` parameters of SCS requests are written as ``***``, and the password field of GC
Connect/Login bodies is ``***`` unless it is Triple-DES encrypted (then the encrypted form
is kept, as the seed's driver logs do).  The file rotates by size: FILE -> FILE.1 -> ... ->
FILE.5; each part starts with the ``start`` line (``part`` > 1 marks a continuation, which
``trace show`` reads and ``trace replay`` refuses: the core's earlier state is not in it).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from ..core.broker_messages import BrokerMessage
from ..core.effects import Effect, Key
from ..core.scs_wire import Request, WireError
from .records import (
    FORMAT,
    SECRET_PARAMS,
    Annotator,
    effect_record,
    gc_record,
    redact_params,
    request_record,
)

__all__ = ["SECRET_PARAMS", "TraceWriter", "redact_params"]

KEEP = 5


class TraceWriter:
    def __init__(self, path: str | Path, *, max_bytes: int = 100 << 20,
                 monotonic: Callable[[], float] = time.monotonic,
                 redact_body: Callable[[BrokerMessage], str] | None = None,
                 config: Mapping[str, Any] | None = None,
                 not_agents: tuple[str, ...] = ()) -> None:
        self.path = Path(path)
        self.max_bytes = max_bytes
        self.monotonic = monotonic
        self.redact_body = redact_body
        self.config = dict(config or {})
        self.annotator = Annotator(*not_agents)
        self.part = 1
        self._file: TextIO = self._open()

    def _open(self) -> TextIO:
        file = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 (kept open)
        if file.tell() == 0:
            start = {"kind": "start", "trace": FORMAT, "part": self.part,
                     "mono": round(self.monotonic(), 6), "wall": time.time(),
                     "config": self.config}
            file.write(json.dumps(start, ensure_ascii=False, separators=(",", ":")) + "\n")
        return file

    def _write(self, record: dict[str, Any], now: float) -> None:
        record = {"mono": round(self.monotonic(), 6), "wall": now,
                  **self.annotator.annotate(record)}
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":"), default=str)
        self._file.write(line + "\n")
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
        self.part += 1
        self._file = self._open()

    def close(self) -> None:
        self._file.close()

    # -- the TraceTap interface (adapters/gateway_service.py) ------------------------------

    def opened(self, connection: int, peer: str, now: float) -> None:
        self._write({"edge": "scs", "dir": "open", "conn": connection, "peer": peer}, now)

    def closed(self, connection: int, now: float) -> None:
        self._write({"edge": "scs", "dir": "close", "conn": connection}, now)

    def scs_in(self, connection: int, item: Request | WireError, now: float) -> None:
        self._write(request_record(connection, item), now)

    def gc_in(self, message: BrokerMessage, now: float) -> None:
        self._write(gc_record("in", message, message.body), now)

    def link(self, up: bool, reason: str, recovered: bool, now: float) -> None:
        self._write({"edge": "link", "dir": "up" if up else "down", "reason": reason,
                     "recovered": recovered}, now)

    def timer_fired(self, key: Key, now: float) -> None:
        self._write({"edge": "timer", "dir": "fire", "key": str(key)}, now)

    def publish_failed(self, ref: Key | None, why: str, now: float) -> None:
        self._write({"edge": "gc", "dir": "failed", "ref": "" if ref is None else str(ref),
                     "why": why}, now)

    def effects(self, effects: Sequence[Effect], now: float) -> None:
        for e in effects:
            self._write(effect_record(e, self.redact_body), now)
