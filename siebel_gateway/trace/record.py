"""Record both edges of the gateway, and every other input of its core, as JSON Lines.

The line format is in ``trace/records.py``.  Passwords never reach the file: the value of
every key whose name contains ``pin`` or ``password`` (any case, any prefix), in every
object and ``[key, value]`` list of every line, and LogIn's ``stringParam`` are written as
``***`` (``records.redact``), and the password field of GC
Connect/Login bodies is ``***`` unless it is Triple-DES encrypted (then the encrypted form
is kept, as the seed's driver logs do).  The file rotates by size: FILE -> FILE.1 -> ... ->
FILE.5; each part starts with the ``start`` line (``part`` > 1 marks a continuation, which
``trace show`` reads and ``trace replay`` refuses: the core's earlier state is not in it).

Recording never gets in the gateway's way: when a line cannot be written (a full disk, a
removed directory) the line is dropped and counted, one warning is logged, and writing is
tried again at most once a second; when it works again a ``trace gap`` line says how many
lines are missing (``trace replay`` refuses a trace with a gap; ``trace show`` shows it).
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from twisted.logger import Logger

from ..core.broker_messages import BrokerMessage
from ..core.effects import Effect, Key
from ..core.scs_wire import Request, WireError
from ..lostlines import LostLines
from .records import (
    FORMAT,
    Annotator,
    effect_record,
    gc_record,
    redact,
    request_record,
)

__all__ = ["TraceWriter"]

KEEP = 5
RETRY_SECONDS = 1.0

log = Logger(namespace="siebel_gateway")


def _dumps(record: dict[str, Any]) -> str:
    try:
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":"), default=str)
        line.encode("utf-8")
        return line
    except UnicodeEncodeError:  # a lone surrogate from a peer: keep it, escaped
        return json.dumps(record, separators=(",", ":"), default=str)


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
        self._losses = LostLines(lambda why: log.warn(
            "trace {path}: cannot write ({why}); trace lines are dropped and counted until "
            "writing works again (tried once a second)", path=str(self.path), why=why))
        self._retry_at = 0.0
        self._file: TextIO | None = self._open()

    def _open(self) -> TextIO:
        file = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 (kept open)
        if file.tell() == 0:
            start = {"kind": "start", "trace": FORMAT, "part": self.part,
                     "mono": round(self.monotonic(), 6), "wall": time.time(),
                     "config": redact(self.config)}
            file.write(_dumps(start) + "\n")
        return file

    def _write(self, record: dict[str, Any], now: float) -> None:
        try:
            record = {"mono": round(self.monotonic(), 6), "wall": now,
                      **redact(self.annotator.annotate(record))}
            line = _dumps(record)
        except Exception as exc:  # a record that cannot be shown is a recorder defect
            self._failed(f"cannot encode a {record.get('edge')} line: {exc!r}")
            return
        if self._file is None:
            if self.monotonic() < self._retry_at:
                self._failed("")
                return
            try:
                self._file = self._open()
            except OSError as exc:
                self._failed(exc.strerror or str(exc))
                return
        file = self._file

        def gap(lost: int, why: str) -> None:
            file.write(_dumps({"mono": round(self.monotonic(), 6), "wall": now,
                               "edge": "trace", "dir": "gap", "lost": lost, "why": why}) + "\n")

        def put() -> None:
            file.write(line + "\n")
            file.flush()
            if file.tell() >= self.max_bytes:
                self._rotate()

        reported = self._losses.write(put, gap)
        if reported is None:
            self._drop_file()
            self._retry_at = self.monotonic() + RETRY_SECONDS
        elif reported:
            log.info("trace {path}: writing again; {n} lines were lost", path=str(self.path),
                     n=reported)

    @property
    def lost(self) -> int:
        """Lines that could not be written since the trace started (a metric)."""
        return self._losses.total

    def _failed(self, why: str) -> None:
        self._losses.dropped(why)
        self._retry_at = self.monotonic() + RETRY_SECONDS

    def _drop_file(self) -> None:
        file, self._file = self._file, None
        if file is not None:
            with contextlib.suppress(OSError):  # its buffer is lost with the failed line
                file.close()

    def _rotate(self) -> None:
        assert self._file is not None
        self._file.close()
        for n in range(KEEP - 1, 0, -1):
            older = self.path.with_name(f"{self.path.name}.{n}")
            if older.exists():
                os.replace(older, self.path.with_name(f"{self.path.name}.{n + 1}"))
        os.replace(self.path, self.path.with_name(f"{self.path.name}.1"))
        self.part += 1
        self._file = self._open()

    def close(self) -> None:
        self._drop_file()

    # -- the TraceTap interface (adapters/gateway_service.py) ------------------------------

    def opened(self, connection: int, peer: str, now: float) -> None:
        self._write({"edge": "scs", "dir": "open", "conn": connection, "peer": peer}, now)

    def closed(self, connection: int, now: float) -> None:
        self._write({"edge": "scs", "dir": "close", "conn": connection}, now)

    def scs_in(self, connection: int, item: Request | WireError, now: float) -> None:
        self._write(request_record(connection, item), now)

    def gc_in(self, message: BrokerMessage, now: float) -> None:
        self._write(gc_record("in", message, message.body), now)

    def link(self, up: bool, reason: str, recovered: bool, now: float,
             queue: str | None = None) -> None:
        record: dict[str, Any] = {"edge": "link", "dir": "up" if up else "down",
                                  "reason": reason, "recovered": recovered}
        if queue is not None:  # a duplex gateway's link of one GC (``[Broker] Url2``)
            record["queue"] = queue
        self._write(record, now)

    def timer_fired(self, key: Key, now: float) -> None:
        self._write({"edge": "timer", "dir": "fire", "key": str(key)}, now)

    def publish_failed(self, ref: Key | None, why: str, now: float) -> None:
        self._write({"edge": "gc", "dir": "failed", "ref": "" if ref is None else str(ref),
                     "why": why}, now)

    def effects(self, effects: Sequence[Effect], now: float) -> None:
        for e in effects:
            self._write(effect_record(e, self.redact_body), now)
