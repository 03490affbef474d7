"""``trace show``: a trace as a timeline a support engineer can read.

One line per thing that happened, oldest first:

    10:15:02.200 +0.002  1001  SCS  > LogIn  AgentId=1001 AgentPin=*** Extension=2001  [cmd 5]
    10:15:02.201         1001  GC   > Login
    10:15:02.305         1001  GC   < State NOT_READY (reason -1)       104 ms after Login
    10:15:02.306         1001  SCS  < EventAgentNotReady               106 ms after LogIn

``>`` goes towards the contact centre, ``<`` comes back to Siebel.  The agent column follows
the service handle; after a GC event the latency is measured from the last command of the
same agent that the event answers (any GC command for GC events, the last InvokeCommand for
callbacks).  Results that only say "ok", toolbar refreshes that did not change, and batch
markers are left out; errors, refusals and logs of warning level and above are kept.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..gc.codec import GcCodec, GcDecodeError
from ..gc.dialect import load_dialect
from .records import obj
from .replay import Line, Trace

__all__ = ["Timeline", "timeline"]


@dataclass
class _Agent:
    last_gc: tuple[str, float] | None = None
    last_cmd: tuple[str, float] | None = None
    toolbar: tuple[str, ...] = ()


@dataclass
class Timeline:
    trace: Trace
    agent: str | None = None
    agents: dict[str, _Agent] = field(default_factory=dict)
    _last_wall: float | None = None

    def __post_init__(self) -> None:
        config = self.trace.start.get("config") or {}
        dialect_info = config.get("dialect")
        try:
            dialect = load_dialect(dialect_info["file"], data=dialect_info["text"].encode()) \
                if isinstance(dialect_info, dict) else load_dialect()
        except Exception:  # a broken custom dialect still shows raw bodies
            dialect = load_dialect()
        self.codec = GcCodec(dialect)

    def lines(self) -> Iterator[str]:
        start = self.trace.start
        yield (f"trace {self.trace.path}: part {start.get('part', 1)}, started "
               f"{_stamp(float(start.get('wall', 0)), full=True)}")
        for line in self.trace.lines:
            text = self._line(line)
            if text is not None:
                yield text

    def _line(self, line: Line) -> str | None:
        r = line.record
        agent = str(r.get("agent", ""))
        if self.agent is not None and agent != self.agent:
            return None
        what = self._what(r, agent)
        if what is None:
            return None
        wall = float(r["wall"])
        delta = "" if self._last_wall is None else f"+{wall - self._last_wall:.3f}"
        self._last_wall = wall
        return f"{_stamp(wall)} {delta:>8}  {agent or '-':>6}  {what}"

    def _a(self, agent: str) -> _Agent:
        return self.agents.setdefault(agent, _Agent())

    def _what(self, r: dict[str, Any], agent: str) -> str | None:
        edge, direction = r.get("edge"), r.get("dir")
        msg = obj(r.get("msg"))
        wall = float(r["wall"])
        if edge == "scs":
            conn = f"SCS#{r.get('conn', '?')}"
            if direction == "open":
                return f"{conn} connected from {r.get('peer') or 'an unknown peer'}"
            if direction == "close":
                return f"{conn} closed"
            if direction == "in":
                return f"{conn} > {self._request(msg, agent, wall)}"
            text = self._scs_out(msg, agent, wall)
            return None if text is None else f"{conn} < {text}"
        if edge == "gc":
            if direction == "failed":
                return f"GC    ! not sent ({r.get('ref')}): {r.get('why')}"
            if direction == "out":
                name = str((msg.get("headers") or {}).get("type", "?")).partition("#")[0]
                if agent:
                    self._a(agent).last_gc = (name, wall)
                return f"GC    > {name}" + (f"  {msg.get('body')}" if not agent else "")
            return f"GC    < {self._gc_event(msg, agent, wall)}"
        if edge == "trace":
            return f"TRACE {r.get('lost')} lines not written here ({r.get('why')})"
        if edge == "link":
            return f"LINK  {direction}: {r.get('reason', '')}" + (
                " (recovered)" if r.get("recovered") else "")
        if edge == "timer":
            return f"TIMER {r.get('key')} expired" if direction == "fire" else None
        if edge == "log" and direction in ("warn", "error", "critical"):
            return f"LOG   {direction}: {str(r.get('text', '')).splitlines()[0]}"
        return None

    def _request(self, msg: dict[str, Any], agent: str, wall: float) -> str:
        if "invalid" in msg:
            return f"invalid request: {msg['invalid']}"
        method = str(msg.get("method"))
        params = obj(msg.get("params"))
        if method in ("InvokeCommand", "InvokeCommandEx"):
            name = str(params.get("name") or "MakeCall")
            pairs = " ".join(f"{k}={v}" for k, v in params.get("params") or [])
            if agent:
                self._a(agent).last_cmd = (name, wall)
            return f"{name}  {pairs}".rstrip() + f"  [cmd {params.get('cmdTrackId', '?')}]"
        if method == "NotifyEventHandlingFinished":
            return f"handled {params.get('trackingId', '')}"
        if method == "RequestService":
            pairs = " ".join(f"{k}={v}" for k, v in params.get("params") or [])
            return f"RequestService  {pairs}".rstrip()
        return method

    def _scs_out(self, msg: dict[str, Any], agent: str, wall: float) -> str | None:
        if "error" in msg:
            return f"error {msg['error'].get('code')}: {msg['error'].get('message')}"
        if "result" in msg:
            result = msg["result"] if isinstance(msg["result"], dict) else {}
            if result.get("code", 0):
                return f"refused ({result.get('code')}): {result.get('error', '')}"
            handles = [f"{k}={v}" for k, v in result.items() if k in ("driver", "service")]
            return f"ok {' '.join(handles)}" if handles else None
        method = msg.get("method")
        params = obj(msg.get("params"))
        after = self._since(self._a(agent).last_cmd if agent else None, wall)
        if method == "HandleEvent":
            fields = dict(params.get("fields") or [])
            call = fields.get("TrackingID") or fields.get("trackingId") or ""
            extra = "  ".join(f"{k}={fields[k]}" for k in ("CallType", "ANI", "DNIS")
                              if fields.get(k))
            return (f"{params.get('name')}" + (f"  call {call}" if call else "")
                    + (f"  {extra}" if extra else "") + after)
        if method == "ShowStatusText":
            return f'status "{params.get("text", "")}"'
        if method == "HandleError":
            return f'ERROR {params.get("code", "")}: {params.get("error", "")}' + after
        if method == "CacheCommandInformation":
            enabled = _enabled(params.get("commands") or [], params.get("statuses") or [])
            if agent and self._a(agent).toolbar == enabled:
                return None
            if agent:
                self._a(agent).toolbar = enabled
            return f"toolbar: {', '.join(enabled) or 'nothing enabled'}"
        if method in ("BeginBatch", "EndBatch"):
            return None
        if method in ("IndicateNewWorkItem", "WorkItemStarted", "WorkItemReleased",
                      "WorkItemSuspended", "WorkItemResumed"):
            item = params.get("trackingId") or params.get("TrackingID") or ""
            return f"{method} {item}".rstrip()
        return str(method)

    def _gc_event(self, msg: dict[str, Any], agent: str, wall: float) -> str:
        body = str(msg.get("body", ""))
        try:
            event = self.codec.decode(body)
        except GcDecodeError:
            return f"(not a known event) {body[:80]}"
        a = self._a(agent) if agent else None
        after = self._since(a.last_gc if a else None, wall)
        if event.name == "State":
            state = event.text("State")
            reason = event.text("ReasonLabel") or event.text("ReasonCode")
            pending = event.text("PendingState")
            return (f"State {state}" + (f" ({reason})" if reason and reason != "-1" else "")
                    + (f" pending {pending}" if pending else "") + after)
        if event.name == "Error":
            return (f"Error {event.text('ErrorType')}: {event.text('Message')} "
                    f"(on {event.text('Command') or '?'})" + after)
        call = event.text("DialogId")
        if call:
            state = event.text("DialogState")
            kind = event.text("CallType")
            ani = event.text("ANI") or event.text("FromAddress")
            return (f"{event.name} call {call}" + (f" {state}" if state else "")
                    + (f" {kind}" if kind else "") + (f" from {ani}" if ani else "") + after)
        return event.name + after

    @staticmethod
    def _since(last: tuple[str, float] | None, wall: float) -> str:
        if last is None:
            return ""
        ms = (wall - last[1]) * 1000
        return f"   {ms:.0f} ms after {last[0]}" if ms < 60_000 else ""


def _enabled(commands: list[Any], statuses: list[Any]) -> tuple[str, ...]:
    """Enabled commands (neither NOTSUPPORTED nor DISABLED), ``*`` when blinking,
    ``[x]`` when checked."""
    out = []
    for name, status in zip(commands, statuses, strict=False):
        flags = int(status) if isinstance(status, int) else 3
        if flags & 3:
            continue
        out.append(f"{name}{'*' if flags & 8 else ''}{' [x]' if flags & 4 else ''}")
    return tuple(out)


def _stamp(wall: float, *, full: bool = False) -> str:
    t = time.localtime(wall)
    ms = int((wall % 1) * 1000)
    return time.strftime("%Y-%m-%d %H:%M:%S" if full else "%H:%M:%S", t) + f".{ms:03d}"


def timeline(trace: Trace, agent: str | None = None) -> Iterator[str]:
    return Timeline(trace, agent).lines()
