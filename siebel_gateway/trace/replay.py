"""Replay a trace: its inputs go to a fresh core with the recorded times, and every output
the core decides is compared with the outputs recorded after that input.

What is compared: each output line without its ``mono``/``wall`` stamps and reader
annotations (``agent``, ``service``); log lines by level and first line of text (a
traceback's file paths are the machine's, not the behaviour); GC command bodies with the
password field masked on both sides (the trace never holds the clear password, and the
replayer has no Triple-DES key).  A divergence does not stop the replay: later inputs may
show whether the core recovered.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.broker_messages import BrokerMessage
from ..core.duplex import DuplexGateway
from ..core.effects import Effect, Key
from ..core.gateway import GatewayCore
from ..core.scs_wire import RpcError, WireError, parse_line
from .config import ConfigError, core_from_config
from .duplex import old_duplex_trace
from .records import INPUTS, READABLE, effect_record, is_input, redact

__all__ = ["Divergence", "Line", "ReplayReport", "Trace", "TraceError", "load_trace",
           "replay"]

_ANNOTATIONS = ("mono", "wall", "agent", "service")
_KNOWN = INPUTS | {("scs", "out"), ("gc", "out"), ("timer", "start"), ("timer", "cancel"),
                   ("trace", "gap")}
_LOG_LEVELS = frozenset({"debug", "info", "warn", "error", "critical"})


class TraceError(Exception):
    """The file cannot be read as a trace (exit 2); the text names file and line."""


@dataclass(frozen=True)
class Line:
    number: int
    record: dict[str, Any]


@dataclass(frozen=True)
class Trace:
    path: str
    start: dict[str, Any]
    lines: list[Line]


@dataclass(frozen=True)
class Divergence:
    input: Line | None  # None: outputs recorded before any input
    expected: list[dict[str, Any]]
    got: list[dict[str, Any]]


@dataclass
class ReplayReport:
    inputs: int = 0
    outputs: int = 0
    divergences: list[Divergence] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        return not self.divergences


def load_trace(path: str | Path) -> Trace:
    name = str(path)
    try:
        with open(path, encoding="utf-8") as f:
            raw = f.read()
    except OSError as exc:
        raise TraceError(f"cannot read {name}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise TraceError(f"{name}: not UTF-8 text (byte {exc.start})") from None
    lines: list[Line] = []
    start: dict[str, Any] | None = None
    for number, text in enumerate(raw.splitlines(), 1):
        if not text.strip():
            continue
        try:
            record = json.loads(text)
        except ValueError as exc:
            raise TraceError(f"{name}:{number}: not JSON ({exc})") from None
        if not isinstance(record, dict):
            raise TraceError(f"{name}:{number}: a trace line must be a JSON object")
        if start is None:
            if record.get("kind") != "start":
                raise TraceError(f"{name}:{number}: a trace starts with its 'start' line "
                                 "(written by serve --trace); this file does not")
            if record.get("trace") not in READABLE:
                raise TraceError(f"{name}:{number}: trace format {record.get('trace')!r} is "
                                 f"not one this version reads "
                                 f"({', '.join(map(str, sorted(READABLE)))})")
            start = record
            continue
        where = (record.get("edge"), record.get("dir"))
        if where not in _KNOWN and not (where[0] == "log" and where[1] in _LOG_LEVELS):
            raise TraceError(f"{name}:{number}: unknown line kind edge={where[0]!r} "
                             f"dir={where[1]!r}")
        if not isinstance(record.get("wall"), int | float):
            raise TraceError(f"{name}:{number}: 'wall' (the time the core was given) is "
                             "missing or not a number")
        lines.append(Line(number, record))
    if start is None:
        raise TraceError(f"{name}: empty file, not a trace")
    return Trace(name, start, lines)


def _groups(lines: list[Line]) -> Iterator[tuple[Line | None, list[Line]]]:
    current: Line | None = None
    outputs: list[Line] = []
    for line in lines:
        if is_input(line.record):
            if current is not None or outputs:
                yield current, outputs
            current, outputs = line, []
        else:
            outputs.append(line)
    if current is not None or outputs:
        yield current, outputs


def replay(trace: Trace) -> ReplayReport:
    part = trace.start.get("part", 1)
    if part != 1:
        raise TraceError(f"{trace.path}: part {part} of a rotated trace; the gateway's state "
                         "before it is not recorded, so only the first part (the oldest file) "
                         "can be replayed")
    gap = next((line for line in trace.lines if line.record.get("edge") == "trace"), None)
    if gap is not None:
        raise TraceError(f"{trace.path}:{gap.number}: the gateway could not write "
                         f"{gap.record.get('lost')} lines here ({gap.record.get('why')}); a "
                         "trace with a gap cannot be replayed")
    if trace.start.get("trace") == 1:
        why = old_duplex_trace([(line.number, line.record) for line in trace.lines])
        if why:
            raise TraceError(f"{trace.path}:{why}")
    try:
        core = core_from_config(trace.start.get("config") or {})
    except ConfigError as exc:
        raise TraceError(f"{trace.path}:1: {exc}") from None
    report = ReplayReport()
    for current, outputs in _groups(trace.lines):
        expected = [_normal(core, o.record) for o in outputs]
        got: list[dict[str, Any]] = []
        if current is not None:
            report.inputs += 1
            got = [_normal(core, _as_json(effect_record(e)))
                   for e in _feed(core, current, trace, outputs)]
        report.outputs += len(expected)
        if got != expected:
            report.divergences.append(Divergence(current, expected, got))
    return report


def _as_json(record: dict[str, Any]) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(json.dumps(record, default=str))
    return loaded


def _normal(core: GatewayCore, record: dict[str, Any]) -> dict[str, Any]:
    # secrets masked by the recorder's rule on both sides (idempotent on recorded lines)
    out = {k: redact(v) for k, v in record.items() if k not in _ANNOTATIONS}
    if out.get("edge") == "log":
        out["text"] = str(out.get("text", "")).split("\n", 1)[0]
    elif out.get("edge") == "gc" and out.get("dir") == "out":
        msg = dict(out.get("msg") or {})
        try:
            message = BrokerMessage(destination=str(msg.get("destination")),
                                    body=str(msg.get("body", "")),
                                    headers={str(k): str(v) for k, v in
                                             dict(msg.get("headers") or {}).items()})
        except (ValueError, TypeError):
            return out
        msg["body"] = core.codec.redacted_body(message, keep_encrypted=False)
        out["msg"] = msg
    return out


def _recorded_session(outputs: list[Line]) -> str:
    """The (masked) session token a recorded CreateISCDriverInstance answered: replay
    gives it to the core as the shell's entropy, so a recorded resume replays the same."""
    for o in outputs:
        msg = o.record.get("msg")
        result = msg.get("result") if isinstance(msg, dict) else None
        if o.record.get("edge") == "scs" and isinstance(result, dict) \
                and isinstance(result.get("session"), str):
            return str(result["session"])
    return ""


def _feed(core: GatewayCore, line: Line, trace: Trace, outputs: list[Line]) -> list[Effect]:
    r = line.record
    now = float(r["wall"])
    try:
        edge, direction = r["edge"], r["dir"]
        if edge == "scs" and direction == "in":
            msg = r["msg"]
            if "invalid" in msg:
                item: Any = WireError(msg.get("id"), RpcError(int(msg["code"])), msg["invalid"])
            else:
                item = parse_line(json.dumps({"jsonrpc": "2.0", "id": msg["id"],
                                              "method": msg["method"],
                                              "params": msg["params"]}).encode())
            entropy = _recorded_session(outputs) \
                if msg.get("method") == "CreateISCDriverInstance" else ""
            return core.request(int(r["conn"]), item, now, entropy=entropy)
        if edge == "scs" and direction == "close":
            return core.connection_lost(int(r["conn"]), now)
        if edge == "scs":  # open: the shell numbers connections; nothing reaches the core
            return []
        if edge == "gc" and direction == "in":
            m = r["msg"]
            message = BrokerMessage(destination=m["destination"], body=m["body"],
                                    headers=m.get("headers") or {})
            return core.broker_message(message, now)
        if edge == "gc":
            return core.publish_failed(Key.parse(str(r["ref"])) if r["ref"] else None,
                                       str(r["why"]), now)
        if edge == "link":
            return _link(core, line, trace, now)
        return core.timer(Key.parse(str(r["key"])), now)
    except (KeyError, TypeError, ValueError) as exc:
        raise TraceError(f"{trace.path}:{line.number}: this {r.get('edge')} {r.get('dir')} "
                         f"line lacks what replay needs ({exc!r})") from None


def _link(core: GatewayCore, line: Line, trace: Trace, now: float) -> list[Effect]:
    """A broker link change; a duplex gateway's link of one GC names it (``queue``)."""
    r = line.record
    up, reason, recovered = r["dir"] == "up", str(r.get("reason", "")), bool(r.get("recovered"))
    queue = r.get("queue")
    if isinstance(core, DuplexGateway):
        if queue is not None and queue not in core.gcs.queues:
            raise TraceError(f"{trace.path}:{line.number}: this link line names GC {queue!r}, "
                             f"which the start line does not list "
                             f"({', '.join(core.gcs.queues)})")
        return core.link_status(up, reason, now, recovered=recovered,
                                queue=None if queue is None else str(queue))
    if queue is not None:
        raise TraceError(f"{trace.path}:{line.number}: this link line names GC {queue!r}, but "
                         "the start line describes a single-GC gateway (no config.duplex)")
    return core.link_status(up, reason, now, recovered=recovered)
