"""GC events for one agent -> Siebel callbacks (HandleEvent, work items, status text).

Agent events carry AgentState/PendingState/ReasonCode/ReasonLabel; call events carry the
call's data (ANI, DNIS, CED, CallVariable1..10, ECC variables as ``user.<name>``) so the
Siebel DEF's handlers can filter on them and pop the screen.
"""

from __future__ import annotations

import datetime
import functools
import math
from typing import TYPE_CHECKING

from ..gc.codec import GcEvent
from .calls import Call, Change
from .effects import CancelTimer

if TYPE_CHECKING:
    from .session import AgentSession

__all__ = ["call_change", "call_fields", "handle_gc_event", "iso_time"]

_CALL_STATE = {"ALERTING": "Ringing", "INITIATING": "Dialing", "INITIATED": "Dialing",
               "ACTIVE": "Connected", "HELD": "Held", "DROPPED": "Released",
               "FAILED": "Failed", "WRAP_UP": "WrapUp"}


def iso_time(now: float) -> str:
    """``2025-11-21T04:40:00.123Z`` (UTC, milliseconds)."""
    frac, whole = math.modf(now)  # rounded as datetime.fromtimestamp rounds
    us = round(frac * 1e6)
    if us >= 1_000_000:
        whole, us = whole + 1, us - 1_000_000
    elif us < 0:
        whole, us = whole - 1, us + 1_000_000
    return f"{_iso_second(int(whole))}.{us // 1000:03d}Z"


@functools.lru_cache(maxsize=8)
def _iso_second(second: int) -> str:
    return datetime.datetime.fromtimestamp(second, tz=datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S")


def call_fields(s: AgentSession, call: Call, now: float) -> list[list[str]]:
    fields = [*s.base_fields(now), ["TrackingID", call.tracking_id],
              ["DialogId", call.tracking_id], ["CallType", call.call_type],
              ["GCCallType", call.gc_call_type],
              ["CallState", _CALL_STATE.get(call.state, call.state.title())],
              ["ANI", call.ani], ["DNIS", call.dnis], ["CED", call.ced]]
    variables = {k.casefold(): v for k, v in call.call_data}
    for n in range(1, 11):
        fields.append([f"CallVariable{n}", variables.get(f"callvariable{n}", "")])
    fields.extend([k, v] for k, v in call.call_data if k.startswith("user."))
    fields.append(["OtherParty", call.other_party])
    if call.parent:
        fields.append(["ParentTrackingID", call.parent])
    if call.wrap_up_reason:
        fields.append(["WrapUpReason", call.wrap_up_reason])
    return fields


def handle_gc_event(s: AgentSession, e: GcEvent, now: float) -> None:
    from .session import Phase

    if e.name == "Error":
        _error(s, e, now)
        return
    s._resolve(e.name)
    if e.name == "State":
        _state(s, e, now)
    elif e.name == "AgentInfo":
        s.full_name = e.text("FullName") or " ".join(
            x for x in (e.text("FirstName"), e.text("LastName")) if x)
        s.event("EventAgentInfo", [*s.base_fields(now), ["FirstName", e.text("FirstName")],
                                   ["LastName", e.text("LastName")],
                                   ["FullName", s.full_name],
                                   ["IsSupervisor", "TRUE" if e.fields.get("IsSupervisor")
                                    else "FALSE"],
                                   ["WrapUpMode", e.text("WrapUpMode")]])
    elif e.name == "ReasonCodes":
        _reasons(s, e, now)
    elif s.phase in (Phase.LOGGED_IN, Phase.LOGGING_IN):
        s.calls.extension = s.extension
        for change in s.calls.update(e.name, e.fields, now):
            s.call_changed(change, now)
    else:
        s.log("info", "call event {event} for an agent not logged in: ignored", event=e.name)


def _error(s: AgentSession, e: GcEvent, now: float) -> None:
    gc_command = e.text("Command")
    code, message = e.text("ErrorCode"), e.text("Message")
    p = next((p for p in s.pending if p.gc_command == gc_command), None) \
        or (next(iter(s.pending), None) if not gc_command else None)
    if p is not None:
        s.pending.remove(p)
        cmd_id, command = p.cmd_track_id, p.command
    else:
        cmd_id, command = s.untracked.pop(gc_command, ("0", gc_command or "?"))
    values = {"Command": command, "AgentId": s.agent_id, "Extension": s.extension,
              "Message": message or e.text("ErrorType"), "Code": code or "?"}
    key = f"gc.{code}"
    text = s.t(key, **values) if s.ctx.catalog.lookup(s.driver.language, key) \
        else s.t("error.gc", **values)
    s.log("warn", "GC refused {gc_command}: {error_type} {code} {message}",
          gc_command=gc_command, error_type=e.text("ErrorType"), code=code, message=message)
    s.event("EventError", [*s.base_fields(now), ["ErrorCode", code],
                           ["ErrorType", e.text("ErrorType")], ["Message", message],
                           ["Command", command], ["Text", text]])
    if p is not None:
        s._report(p, text)
    else:
        s.cb("HandleError", cmdTrackId=cmd_id, error=text)


def _state(s: AgentSession, e: GcEvent, now: float) -> None:
    from .session import Phase

    before = (s.state, s.pending_state, s.reason_code)
    state = e.text("State")
    code = e.fields.get("ReasonCode")
    s.state, s.pending_state = state, e.text("PendingState")
    s.reason_code = "" if code is None or code == -1 else str(code)
    s.reason_label = e.text("ReasonLabel")
    if e.text("Extension"):
        s.extension = e.text("Extension")
    first = s.phase is Phase.LOGGING_IN
    if first:
        s.phase = Phase.LOGGED_IN
        if not s.resyncing:
            s.event("EventAgentLogin", s.agent_fields(now))
            s.cb("ShowStatusText", text=s.t("status.logged_in", FullName=s.full_name
                                             or s.agent_id, Extension=s.extension))
            _ask_reason_lists(s, now)
        s.resyncing = False
    if state == "LOGOUT":
        _logged_out(s, now)
        return
    if (state, s.pending_state, s.reason_code) == before and not first:
        return
    _wrap_up_items(s, before[0], now)
    if state != before[0] or first or (s.pending_state == before[1]
                                       and s.reason_code != before[2]):
        s.agent_event(now)
        if not first:
            _status(s)
    elif s.pending_state != before[1]:
        key = {"NOT_READY": "status.pending_not_ready", "READY": "status.pending_ready",
               "LOGOUT": "status.pending_logout"}.get(s.pending_state)
        name = PENDING_EVENT.get(s.pending_state)
        if name is not None:
            s.event(name, s.agent_fields(now))
        if key:
            s.cb("ShowStatusText", text=s.t(key))


#: A pending state (set during a call) is announced with the event of the state it leads
#: to; AgentState still says the current state.
PENDING_EVENT = {"NOT_READY": "EventAgentNotReady", "READY": "EventAgentReady"}


def _status(s: AgentSession) -> None:
    if s.state == "NOT_READY":
        text = s.t("status.not_ready_reason", ReasonLabel=s.reason_label) if s.reason_label \
            else s.t("status.not_ready")
    else:
        key = {"READY": "status.ready", "WORK": "status.work",
               "WORK_READY": "status.work_ready", "RESERVED": "status.reserved"}.get(s.state)
        if key is None:
            return
        text = s.t(key)
    s.cb("ShowStatusText", text=text)


def _ask_reason_lists(s: AgentSession, now: float) -> None:
    wanted = [("GetNotReadyReasons", s.driver.not_ready_reason_required),
              ("GetLogoutReasons", s.driver.logout_reason_required),
              ("GetWrapUpReasons", True)]
    messages = [(name, s.encode(name, {}, now, "LogIn")) for name, needed in wanted if needed]
    s.send(messages, "0", "LogIn")


def _logged_out(s: AgentSession, now: float) -> None:
    from .session import Phase

    for call in list(s.calls.calls.values()):
        s.cb("WorkItemReleased", trackingId=call.tracking_id, stopTime=int(now))
    s.calls.clear()
    if s.wrap_item:
        s.cb("WorkItemReleased", trackingId=s.wrap_item, stopTime=int(now))
        s.wrap_item = ""
    s.phase, s.credential = Phase.LOGGED_OUT, None
    s.pending_state = ""
    s.event("EventAgentLogout", s.agent_fields(now))
    s.cb("ShowStatusText", text=s.t("status.logged_out"))
    s.ctx.release_agent(s.agent_id, s)


def _wrap_up_items(s: AgentSession, before: str, now: float) -> None:
    """Entering wrap-up: EventWrapUp for the call that ended (and, with ResetTimerOnWrapUp,
    a fresh work item so Siebel's timer restarts); leaving it: release that item."""
    wrap = ("WORK", "WORK_READY")
    ended = s.calls.last_ended
    if s.state in wrap and before not in wrap and ended is not None:
        s.event("EventWrapUp", [*call_fields(s, ended, now), ["AgentState", s.state]],
                ended.tracking_id)
        if s.driver.reset_timer_on_wrap_up:
            s.wrap_item = f"{ended.tracking_id}-wrapup"
            s.cb("WorkItemStarted", trackingId=s.wrap_item, oldTrackingId=ended.tracking_id,
                 description=f"Wrap-up {ended.other_party}".strip(),
                 mediaTargetAddr=s.extension, startTime=int(now))
    elif before in wrap and s.state not in wrap and s.wrap_item:
        s.cb("WorkItemReleased", trackingId=s.wrap_item, stopTime=int(now))
        s.wrap_item = ""


def _reasons(s: AgentSession, e: GcEvent, now: float) -> None:
    category = e.text("Category")
    codes = e.fields.get("Codes") or ()
    labels = e.fields.get("Labels") or ()
    assert isinstance(codes, tuple) and isinstance(labels, tuple)
    pairs = tuple((str(c), str(lb)) for c, lb in zip(codes, labels, strict=False))
    s.reasons[category] = pairs
    s.event("EventReasonCodes", [*s.base_fields(now), ["Category", category],
                                 ["Codes", ",".join(c for c, _ in pairs)],
                                 ["Labels", ",".join(lb for _, lb in pairs)],
                                 *[[f"Reason.{c}", lb] for c, lb in pairs]])


def call_change(s: AgentSession, ch: Change, now: float) -> None:
    c = ch.call
    tid = c.tracking_id
    if ch.kind == "ringing":
        s.cb("IndicateNewWorkItem", trackingId=tid, oldTrackingId=c.old_tracking_id,
             description=c.description, mode=c.mode)
        s.event("EventRinging", call_fields(s, c, now), tid)
        s.cb("ShowStatusText", text=s.t("status.ringing", ANI=c.ani or "?"))
    elif ch.kind == "dialing":
        s.cb("WorkItemStarted", trackingId=tid, oldTrackingId=c.old_tracking_id,
             description=c.description, mediaTargetAddr=s.extension, startTime=int(now))
        s.event("EventDialing", call_fields(s, c, now), tid)
        s.cb("ShowStatusText", text=s.t("status.dialing", OtherParty=c.other_party))
    elif ch.kind in ("joined", "answered"):
        s.cb("WorkItemStarted", trackingId=tid, oldTrackingId=c.old_tracking_id,
             description=c.description, mediaTargetAddr=s.extension, startTime=int(now))
        if c.state == "HELD":
            s.cb("WorkItemSuspended", trackingId=tid)
        s.event("EventPartyChanged" if ch.kind == "joined" and c.call_type in
                ("TRANSFER", "CONFERENCE") else "EventEstablished",
                call_fields(s, c, now), tid)
        s.cb("ShowStatusText", text=s.t("status.talking", OtherParty=c.other_party))
    elif ch.kind == "connected":
        s.event("EventEstablished", call_fields(s, c, now), tid)
        s.cb("ShowStatusText", text=s.t("status.talking", OtherParty=c.other_party))
    elif ch.kind == "held":
        s.cb("WorkItemSuspended", trackingId=tid)
        s.event("EventHeld", call_fields(s, c, now), tid)
        s.cb("ShowStatusText", text=s.t("status.held"))
    elif ch.kind == "retrieved":
        s.cb("WorkItemResumed", trackingId=tid)
        s.event("EventRetrieved", call_fields(s, c, now), tid)
        s.cb("ShowStatusText", text=s.t("status.talking", OtherParty=c.other_party))
    elif ch.kind == "party_changed":
        s.event("EventPartyChanged", call_fields(s, c, now), tid)
    elif ch.kind == "data_changed":
        s.event("EventAttachedDataChanged", call_fields(s, c, now), tid)
    elif ch.kind == "released":
        if s.notify_waiting.pop(tid, None) is not None:
            s.out.append(CancelTimer(f"{s.handle}:notify:{tid}"))
        s.event("EventReleased", call_fields(s, c, now), tid)
        s.cb("WorkItemReleased", trackingId=tid, stopTime=int(now))
        s.cb("ShowStatusText", text=s.t("status.released"))
