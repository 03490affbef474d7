"""GC events for one agent -> Siebel callbacks (HandleEvent, work items, status text).

Agent events carry AgentState/PendingState/ReasonCode/ReasonLabel; call events carry the
call's data (ANI, DNIS, CED, CallVariable1..10, ECC variables as ``user.<name>``) so the
Siebel DEF's handlers can filter on them and pop the screen.

One function per kind of GC event (``on_*``); ``machine.py`` says in which phases each
runs, and has already matched the event to the command it answers (``resolve``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from ..gc.codec import GcEvent
from ..gc.states import AgentState, CallState
from .agent import AgentSession, Phase, iso_time
from .calls import Call, Change, ChangeKind
from .effects import CancelTimer
from .recover import RECOVER, ask_calls, forget
from .resync import PROBE, abandon, probe_calls
from .scs_messages import (
    HandleError,
    IndicateNewWorkItem,
    ShowStatusText,
    WorkItemReleased,
    WorkItemResumed,
    WorkItemStarted,
    WorkItemSuspended,
)

__all__ = ["PENDING_EVENT", "call_change", "call_fields", "iso_time", "on_agent_info",
           "on_call_event", "on_error", "on_reason_codes", "on_service", "on_state"]

_CALL_STATE = {CallState.ALERTING: "Ringing", CallState.INITIATING: "Dialing",
               CallState.INITIATED: "Dialing", CallState.ACTIVE: "Connected",
               CallState.HELD: "Held", CallState.DROPPED: "Released",
               CallState.FAILED: "Failed", CallState.WRAP_UP: "WrapUp"}


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


def on_agent_info(s: AgentSession, e: GcEvent, now: float) -> None:
    s.full_name = e.text("FullName") or " ".join(
        x for x in (e.text("FirstName"), e.text("LastName")) if x)
    s.event("EventAgentInfo", [*s.base_fields(now), ["FirstName", e.text("FirstName")],
                               ["LastName", e.text("LastName")],
                               ["FullName", s.full_name],
                               ["IsSupervisor", "TRUE" if e.fields.get("IsSupervisor")
                                else "FALSE"],
                               ["WrapUpMode", e.text("WrapUpMode")]])


def on_call_event(s: AgentSession, e: GcEvent, now: float) -> None:
    """NewInboundCall / InboundCall / ConsultCall / DialogStatus."""
    s.calls.extension = s.extension
    for change in s.calls.update(e.name, e.fields, now):
        call_change(s, change, now)


def on_service(s: AgentSession, e: GcEvent, now: float) -> Phase | None:
    """IN_SERVICE / OUT_OF_SERVICE while a LogIn waits for the GC's answer to Hello."""
    if e.name == "IN_SERVICE":
        s.connect_and_login(now, s.login_cmd)
        return Phase.LOGGING_IN
    s.cb(HandleError(s.handle, cmd_track_id=s.login_cmd, error=s.t("status.gc_out_of_service")))
    return s.login_failed()


def on_error(s: AgentSession, e: GcEvent, now: float) -> Phase | None:
    gc_command = e.text("Command")
    code, message = e.text("ErrorCode"), e.text("Message")
    p = next((p for p in s.pending if p.gc_command == gc_command), None) \
        or (next(iter(s.pending), None) if not gc_command else None)
    if p is not None and p.cmd_track_id.startswith(RECOVER):  # not signed in at the GC
        s.pending.remove(p)
        s.out.append(CancelTimer(s.command_key(p.seq)))
        if s.phase is Phase.LOGGED_OUT:
            forget(s)
        return None
    if p is not None and p.cmd_track_id.startswith(PROBE):  # the GC no longer has the call
        s.pending.remove(p)
        s.out.append(CancelTimer(s.command_key(p.seq)))
        gone = s.calls.calls.pop(p.cmd_track_id[len(PROBE):], None)
        if gone is not None:
            s.calls.last_ended = gone
            _released(s, gone, now)
        return None
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
        if p.gc_command == "Login" and s.resyncing:
            abandon(s)
        return s.report(p, text)
    s.cb(HandleError(s.handle, cmd_track_id=cmd_id, error=text))
    return None


def _label_of(s: AgentSession, state: AgentState, code: str) -> str:
    """The label of a NOT_READY or LOGOUT reason from the GC's list, for a GC that sends
    no label (the catalogue has none)."""
    category = {AgentState.NOT_READY: "NOT_READY", AgentState.LOGOUT: "LOGOUT"}.get(state)
    if not code or category is None:
        return ""
    return next((lb for c, lb in s.reasons.get(category, ()) if c == code), "")


def on_state(s: AgentSession, e: GcEvent, now: float) -> Phase | None:
    """The GC's agent state: the first one after Connect/Login signs the agent in (LOGGED_IN
    returned), LOGOUT signs it out (LOGGED_OUT returned)."""
    if s.recovering and s.phase is not Phase.LOGGED_OUT:
        s.recovering = False  # the answer to core/recover.py's GetState, overtaken by LogIn
        return None
    before = (s.state, s.pending_state, s.reason_code)
    state = AgentState(e.text("State"))
    code = e.fields.get("ReasonCode")
    s.state, s.pending_state = state, AgentState(e.text("PendingState"))
    s.reason_code = "" if code is None or code == -1 else str(code)
    s.reason_label = e.text("ReasonLabel") or _label_of(s, state, s.reason_code)
    if e.text("Extension"):
        s.extension = e.text("Extension")
    if s.phase is Phase.LOGGED_OUT and s.recovering:
        return _recovered(s, before, now)
    first = s.phase is Phase.LOGGING_IN
    resync_answer = s.resyncing and not first
    if resync_answer:  # the resync's answer: ask about the calls kept
        s.resyncing = False
        probe_calls(s, now)
    if first:
        if not s.resyncing:
            s.event("EventAgentLogin", s.agent_fields(now))
            s.cb(ShowStatusText(s.handle, text=s.t("status.logged_in", FullName=s.full_name
                                             or s.agent_id, Extension=s.extension)))
            _ask_reason_lists(s, now)
        s.resyncing = False
    if state == AgentState.LOGOUT:
        _logged_out(s, now)
        return Phase.LOGGED_OUT
    if resync_answer and (s.state, s.pending_state, s.reason_code) == before:
        s.agent_event(now)  # the new sign-in confirms the state: Siebel is told it again
    else:
        _changed(s, before, first, now)
    return Phase.LOGGED_IN if first else None


def _recovered(s: AgentSession, before: tuple[AgentState, AgentState, str],
               now: float) -> Phase | None:
    """The GC's answer to a restarted gateway's GetState (core/recover.py)."""
    if s.state == AgentState.LOGOUT:
        forget(s)
        s.state = before[0]
        return None
    s.recovering = False
    s.log("info", "agent {agent} is signed in at the GC: its state is taken over",
          agent=s.agent_id)
    s.event("EventAgentLogin", s.agent_fields(now))
    s.cb(ShowStatusText(s.handle, text=s.t("status.logged_in", FullName=s.full_name
                                     or s.agent_id, Extension=s.extension)))
    _ask_reason_lists(s, now)
    ask_calls(s, now)
    _changed(s, before, True, now)
    return Phase.LOGGED_IN


def _changed(s: AgentSession, before: tuple[AgentState, AgentState, str], first: bool,
             now: float) -> None:
    """What a State event that did not sign the agent out tells Siebel."""
    state = s.state
    if (state, s.pending_state, s.reason_code) == before and not first:
        return
    _wrap_up_items(s, before[0], now)
    if state != before[0] or first or (s.pending_state == before[1]
                                       and s.reason_code != before[2]):
        s.agent_event(now)
        if not first:
            _status(s)
    elif s.pending_state != before[1]:
        key = {AgentState.NOT_READY: "status.pending_not_ready",
               AgentState.READY: "status.pending_ready",
               AgentState.LOGOUT: "status.pending_logout"}.get(s.pending_state)
        name = PENDING_EVENT.get(s.pending_state)
        if name is not None:
            s.event(name, s.agent_fields(now))
        if key:
            s.cb(ShowStatusText(s.handle, text=s.t(key)))


#: A pending state (set during a call) is announced with the event of the state it leads
#: to; AgentState still says the current state.
PENDING_EVENT: Mapping[AgentState, str] = {AgentState.NOT_READY: "EventAgentNotReady",
                                           AgentState.READY: "EventAgentReady"}


def _status(s: AgentSession) -> None:
    if s.state == AgentState.NOT_READY:
        text = s.t("status.not_ready_reason", ReasonLabel=s.reason_label) if s.reason_label \
            else s.t("status.not_ready")
    else:
        key = {AgentState.READY: "status.ready", AgentState.WORK: "status.work",
               AgentState.WORK_READY: "status.work_ready",
               AgentState.RESERVED: "status.reserved"}.get(s.state)
        if key is None:
            return
        text = s.t(key)
    s.cb(ShowStatusText(s.handle, text=text))


def _ask_reason_lists(s: AgentSession, now: float) -> None:
    wanted = [("GetNotReadyReasons", s.driver.not_ready_reason_required),
              ("GetLogoutReasons", s.driver.logout_reason_required),
              ("GetWrapUpReasons", True)]
    messages = [(name, s.encode(name, {}, now, "LogIn")) for name, needed in wanted if needed]
    s.send(messages, "0", "LogIn")


def _logged_out(s: AgentSession, now: float) -> None:
    for call in list(s.calls.calls.values()):
        s.cb(WorkItemReleased(s.handle, tracking_id=call.tracking_id, stop_time=int(now)))
    s.calls.clear()
    if s.wrap_item:
        s.cb(WorkItemReleased(s.handle, tracking_id=s.wrap_item, stop_time=int(now)))
        s.wrap_item = ""
    s.credential = None
    s.pending_state = AgentState.NONE
    s.event("EventAgentLogout", s.agent_fields(now))
    s.cb(ShowStatusText(s.handle, text=s.t("status.logged_out")))
    s.ctx.release_agent(s.agent_id, s)


def _wrap_up_items(s: AgentSession, before: str, now: float) -> None:
    """Entering wrap-up: EventWrapUp for the call that ended (and, with ResetTimerOnWrapUp,
    a fresh work item so Siebel's timer restarts); leaving it: release that item."""
    wrap = (AgentState.WORK, AgentState.WORK_READY)
    ended = s.calls.last_ended
    if s.state in wrap and before not in wrap and ended is not None:
        s.event("EventWrapUp", [*call_fields(s, ended, now), ["AgentState", s.state]],
                ended.tracking_id)
        if s.driver.reset_timer_on_wrap_up:
            s.wrap_item = f"{ended.tracking_id}-wrapup"
            s.cb(WorkItemStarted(s.handle, tracking_id=s.wrap_item,
                                 old_tracking_id=ended.tracking_id,
                                 description=f"Wrap-up {ended.other_party}".strip(),
                                 media_target_addr=s.extension, start_time=int(now)))
    elif before in wrap and s.state not in wrap and s.wrap_item:
        s.cb(WorkItemReleased(s.handle, tracking_id=s.wrap_item, stop_time=int(now)))
        s.wrap_item = ""


#: The reason list each GC command asks for (a GC that leaves out ReasonCodes' Category).
_LIST_OF = {"GetNotReadyReasons": "NOT_READY", "GetLogoutReasons": "LOGOUT",
            "GetWrapUpReasons": "WRAP_UP"}


def on_reason_codes(s: AgentSession, e: GcEvent, now: float) -> None:
    category = e.text("Category") or _LIST_OF.get(
        s.answered.gc_command if s.answered is not None else "", "")
    codes = e.fields.get("Codes") or ()
    labels = e.fields.get("Labels") or ()
    assert isinstance(codes, tuple) and isinstance(labels, tuple)
    pairs = tuple((str(c), str(lb)) for c, lb in zip(codes, labels, strict=False))
    s.reasons[category] = pairs
    s.event("EventReasonCodes", [*s.base_fields(now), ["Category", category],
                                 ["Codes", ",".join(c for c, _ in pairs)],
                                 ["Labels", ",".join(lb for _, lb in pairs)],
                                 *[[f"Reason.{c}", lb] for c, lb in pairs]])


def _ringing(s: AgentSession, c: Call, now: float) -> None:
    s.cb(IndicateNewWorkItem(s.handle, tracking_id=c.tracking_id, old_tracking_id=c.old_tracking_id,
         description=c.description, mode=c.mode))
    s.event("EventRinging", call_fields(s, c, now), c.tracking_id)
    s.cb(ShowStatusText(s.handle, text=s.t("status.ringing", ANI=c.ani or "?")))


def _dialing(s: AgentSession, c: Call, now: float) -> None:
    s.cb(WorkItemStarted(s.handle, tracking_id=c.tracking_id, old_tracking_id=c.old_tracking_id,
         description=c.description, media_target_addr=s.extension, start_time=int(now)))
    s.event("EventDialing", call_fields(s, c, now), c.tracking_id)
    s.cb(ShowStatusText(s.handle, text=s.t("status.dialing", OtherParty=c.other_party)))


def _started(s: AgentSession, c: Call, now: float, event: str) -> None:
    s.cb(WorkItemStarted(s.handle, tracking_id=c.tracking_id, old_tracking_id=c.old_tracking_id,
         description=c.description, media_target_addr=s.extension,
         start_time=int(c.started_at or now)))
    if c.state is CallState.HELD:
        s.cb(WorkItemSuspended(s.handle, tracking_id=c.tracking_id))
    s.event(event, call_fields(s, c, now), c.tracking_id)
    s.cb(ShowStatusText(s.handle, text=s.t("status.talking", OtherParty=c.other_party)))


def _joined(s: AgentSession, c: Call, now: float) -> None:
    _started(s, c, now, "EventPartyChanged" if c.call_type in ("TRANSFER", "CONFERENCE")
             else "EventEstablished")


def _answered(s: AgentSession, c: Call, now: float) -> None:
    _started(s, c, now, "EventEstablished")


def _connected(s: AgentSession, c: Call, now: float) -> None:
    s.event("EventEstablished", call_fields(s, c, now), c.tracking_id)
    s.cb(ShowStatusText(s.handle, text=s.t("status.talking", OtherParty=c.other_party)))


def _held(s: AgentSession, c: Call, now: float) -> None:
    s.cb(WorkItemSuspended(s.handle, tracking_id=c.tracking_id))
    s.event("EventHeld", call_fields(s, c, now), c.tracking_id)
    s.cb(ShowStatusText(s.handle, text=s.t("status.held")))


def _retrieved(s: AgentSession, c: Call, now: float) -> None:
    s.cb(WorkItemResumed(s.handle, tracking_id=c.tracking_id))
    s.event("EventRetrieved", call_fields(s, c, now), c.tracking_id)
    s.cb(ShowStatusText(s.handle, text=s.t("status.talking", OtherParty=c.other_party)))


def _party_changed(s: AgentSession, c: Call, now: float) -> None:
    s.event("EventPartyChanged", call_fields(s, c, now), c.tracking_id)


def _data_changed(s: AgentSession, c: Call, now: float) -> None:
    s.event("EventAttachedDataChanged", call_fields(s, c, now), c.tracking_id)


def _released(s: AgentSession, c: Call, now: float) -> None:
    tid = c.tracking_id
    if s.notify_waiting.pop(tid, None) is not None:
        s.out.append(CancelTimer(s.notify_key(tid)))
    s.event("EventReleased", call_fields(s, c, now), tid)
    s.cb(WorkItemReleased(s.handle, tracking_id=tid, stop_time=int(now)))
    s.cb(ShowStatusText(s.handle, text=s.t("status.released")))


#: What each change of a call means for Siebel (calls.py's table, second column).
CHANGE_RULES: Mapping[ChangeKind, Callable[[AgentSession, Call, float], None]] = {
    ChangeKind.RINGING: _ringing, ChangeKind.DIALING: _dialing, ChangeKind.JOINED: _joined,
    ChangeKind.ANSWERED: _answered, ChangeKind.CONNECTED: _connected,
    ChangeKind.HELD: _held, ChangeKind.RETRIEVED: _retrieved,
    ChangeKind.PARTY_CHANGED: _party_changed, ChangeKind.DATA_CHANGED: _data_changed,
    ChangeKind.RELEASED: _released,
}


def call_change(s: AgentSession, ch: Change, now: float) -> None:
    CHANGE_RULES[ch.kind](s, ch.call, now)
