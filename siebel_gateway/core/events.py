"""GC events for one agent -> Siebel callbacks (HandleEvent, work items, status text).

Agent events carry AgentState/PendingState/ReasonCode/ReasonLabel; call events carry the
call's data (ANI, DNIS, CED, CallVariable1..10, ECC variables as ``user.<name>``) so the
Siebel DEF's handlers can filter on them and pop the screen.

One function per kind of GC event (``on_*``), each pure: ``(SessionState, GcEvent, now,
Env) -> Outcome``; ``machine.py`` says in which phases each runs, and has already matched
the event to the command it answers (``step.resolve``).  The helpers below take and
return a ``Step`` (the state and the output so far).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from ..gc.codec import GcEvent
from ..gc.states import AgentState, CallState
from .calls import Call, Change, ChangeKind
from .effects import CancelTimer
from .recover import RECOVER, ask_calls, settle
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
from .state import Env, Phase, SessionState, iso_time, with_item, without
from .step import Outcome, Step, notify_key

__all__ = ["PENDING_EVENT", "call_change", "call_fields", "iso_time", "on_agent_info",
           "on_call_event", "on_error", "on_reason_codes", "on_service", "on_state"]

_CALL_STATE = {CallState.ALERTING: "Ringing", CallState.INITIATING: "Dialing",
               CallState.INITIATED: "Dialing", CallState.ACTIVE: "Connected",
               CallState.HELD: "Held", CallState.DROPPED: "Released",
               CallState.FAILED: "Failed", CallState.WRAP_UP: "WrapUp"}


def call_fields(s: Step, call: Call, now: float) -> list[list[str]]:
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


def on_agent_info(st: SessionState, e: GcEvent, now: float, env: Env) -> Outcome:
    s = Step(st, env)
    full_name = e.text("FullName") or " ".join(
        x for x in (e.text("FirstName"), e.text("LastName")) if x)
    s = s.set(full_name=full_name)
    return s.event("EventAgentInfo", [*s.base_fields(now), ["FirstName", e.text("FirstName")],
                                      ["LastName", e.text("LastName")],
                                      ["FullName", full_name],
                                      ["IsSupervisor", "TRUE" if e.fields.get("IsSupervisor")
                                       else "FALSE"],
                                      ["WrapUpMode", e.text("WrapUpMode")]]).done()


def on_call_event(st: SessionState, e: GcEvent, now: float, env: Env) -> Outcome:
    """NewInboundCall / InboundCall / ConsultCall / DialogStatus."""
    book, changes = st.calls.update(e.name, e.fields, now)
    s = Step(st, env).set(calls=book) if book is not st.calls else Step(st, env)
    for change in changes:
        s = call_change(s, change, now)
    return s.done()


def on_service(st: SessionState, e: GcEvent, now: float, env: Env) -> Outcome:
    """IN_SERVICE / OUT_OF_SERVICE while a LogIn waits for the GC's answer to Hello."""
    s = Step(st, env)
    if e.name == "IN_SERVICE":
        return s.connect_and_login(now, st.login_cmd).enter(Phase.LOGGING_IN).done()
    s = s.cb(HandleError(env.handle, cmd_track_id=st.login_cmd,
                         error=s.t("status.gc_out_of_service")))
    return s.login_failed().done()


def on_error(st: SessionState, e: GcEvent, now: float, env: Env) -> Outcome:
    s = Step(st, env)
    gc_command = e.text("Command")
    code, message = e.text("ErrorCode"), e.text("Message")
    p = next((p for p in st.pending if p.gc_command == gc_command), None) \
        or (next(iter(st.pending), None) if not gc_command else None)
    if p is not None and p.cmd_track_id.startswith(RECOVER):  # not signed in at the GC
        s = s.drop(p).cancel(p)
        if st.phase is Phase.LOGGED_OUT:
            s = settle(s, now)
        return s.done()
    if p is not None and p.cmd_track_id.startswith(PROBE):  # the GC no longer has the call
        s = s.drop(p).cancel(p)
        gone = st.calls.calls.get(p.cmd_track_id[len(PROBE):])
        if gone is not None:
            s = _released(s.set(calls=st.calls.without(gone.tracking_id, ended=True)), gone,
                          now)
        return s.done()
    if p is not None:
        s = s.drop(p)
        cmd_id, command = p.cmd_track_id, p.command
    else:
        cmd_id, command = st.untracked.get(gc_command, ("0", gc_command or "?"))
        s = s.set(untracked=without(st.untracked, gc_command))
    values = {"Command": command, "AgentId": st.agent_id, "Extension": st.extension,
              "Message": message or e.text("ErrorType"), "Code": code or "?"}
    key = f"gc.{code}"
    text = s.t(key, **values) if env.has_text(key) else s.t("error.gc", **values)
    s = s.log("warn", "GC refused {gc_command}: {error_type} {code} {message}",
              gc_command=gc_command, error_type=e.text("ErrorType"), code=code,
              message=message)
    s = s.event("EventError", [*s.base_fields(now), ["ErrorCode", code],
                               ["ErrorType", e.text("ErrorType")], ["Message", message],
                               ["Command", command], ["Text", text]])
    if p is not None:
        if p.gc_command == "Login" and s.st.resyncing:
            s = abandon(s)
        return s.report(p, text).done()
    return s.cb(HandleError(env.handle, cmd_track_id=cmd_id, error=text)).done()


def _label_of(st: SessionState, state: AgentState, code: str) -> str:
    """The label of a NOT_READY or LOGOUT reason from the GC's list, for a GC that sends
    no label (the catalogue has none)."""
    category = {AgentState.NOT_READY: "NOT_READY", AgentState.LOGOUT: "LOGOUT"}.get(state)
    if not code or category is None:
        return ""
    return next((lb for c, lb in st.reasons.get(category, ()) if c == code), "")


def on_state(st: SessionState, e: GcEvent, now: float, env: Env) -> Outcome:
    """The GC's agent state: the first one after Connect/Login signs the agent in (enters
    LOGGED_IN), LOGOUT signs it out (enters LOGGED_OUT)."""
    s = Step(st, env)
    if st.recovering and st.phase is not Phase.LOGGED_OUT:
        # the answer to core/recover.py's GetState, overtaken by LogIn
        return s.set(recovering=False).done()
    before = (st.state, st.pending_state, st.reason_code)
    state = AgentState(e.text("State"))
    code = e.fields.get("ReasonCode")
    reason_code = "" if code is None or code == -1 else str(code)
    s = s.set(state=state, pending_state=AgentState(e.text("PendingState")),
              reason_code=reason_code,
              reason_label=e.text("ReasonLabel") or _label_of(st, state, reason_code),
              extension=e.text("Extension") or st.extension)
    if st.phase is Phase.LOGGED_OUT and st.recovering:
        return _recovered(s, before, now).done()
    first = st.phase is Phase.LOGGING_IN
    resync_answer = st.resyncing and not first
    if resync_answer:  # the resync's answer: ask about the calls kept
        s = probe_calls(s.set(resyncing=False), now)
    if first:
        if not s.st.resyncing:
            s = s.event("EventAgentLogin", s.agent_fields(now))
            s = s.cb(ShowStatusText(env.handle, text=s.t(
                "status.logged_in", FullName=s.st.full_name or s.st.agent_id,
                Extension=s.st.extension)))
            s = _ask_reason_lists(s, now)
        s = s.set(resyncing=False)
    if state == AgentState.LOGOUT:
        return _logged_out(s, now).enter(Phase.LOGGED_OUT).done()
    if resync_answer and (s.st.state, s.st.pending_state, s.st.reason_code) == before:
        s = s.agent_event(now)  # the new sign-in confirms the state: Siebel is told it again
    else:
        s = _changed(s, before, first, now)
    return (s.enter(Phase.LOGGED_IN) if first else s).done()


def _recovered(s: Step, before: tuple[AgentState, AgentState, str], now: float) -> Step:
    """The GC's answer to a restarted gateway's GetState (core/recover.py)."""
    if s.st.state == AgentState.LOGOUT:
        return settle(s.set(state=before[0]), now)
    s = s.set(recovering=False)
    s = s.log("info", "agent {agent} is signed in at the GC: its state is taken over",
              agent=s.st.agent_id)
    s = s.event("EventAgentLogin", s.agent_fields(now))
    s = s.cb(ShowStatusText(s.env.handle, text=s.t(
        "status.logged_in", FullName=s.st.full_name or s.st.agent_id,
        Extension=s.st.extension)))
    s = _ask_reason_lists(s, now)
    s = ask_calls(s, now)
    return _changed(s, before, True, now).enter(Phase.LOGGED_IN)


def _changed(s: Step, before: tuple[AgentState, AgentState, str], first: bool,
             now: float) -> Step:
    """What a State event that did not sign the agent out tells Siebel."""
    st = s.st
    state = st.state
    if (state, st.pending_state, st.reason_code) == before and not first:
        return s
    s = _wrap_up_items(s, before[0], now)
    st = s.st
    if state != before[0] or first or (st.pending_state == before[1]
                                       and st.reason_code != before[2]):
        s = s.agent_event(now)
        if not first:
            s = _status(s)
    elif st.pending_state != before[1]:
        key = {AgentState.NOT_READY: "status.pending_not_ready",
               AgentState.READY: "status.pending_ready",
               AgentState.LOGOUT: "status.pending_logout"}.get(st.pending_state)
        name = PENDING_EVENT.get(st.pending_state)
        if name is not None:
            s = s.event(name, s.agent_fields(now))
        if key:
            s = s.cb(ShowStatusText(s.env.handle, text=s.t(key)))
    return s


#: A pending state (set during a call) is announced with the event of the state it leads
#: to; AgentState still says the current state.
PENDING_EVENT: Mapping[AgentState, str] = {AgentState.NOT_READY: "EventAgentNotReady",
                                           AgentState.READY: "EventAgentReady"}


def _status(s: Step) -> Step:
    st = s.st
    if st.state == AgentState.NOT_READY:
        text = s.t("status.not_ready_reason", ReasonLabel=st.reason_label) \
            if st.reason_label else s.t("status.not_ready")
    else:
        key = {AgentState.READY: "status.ready", AgentState.WORK: "status.work",
               AgentState.WORK_READY: "status.work_ready",
               AgentState.RESERVED: "status.reserved"}.get(st.state)
        if key is None:
            return s
        text = s.t(key)
    return s.cb(ShowStatusText(s.env.handle, text=text))


def _ask_reason_lists(s: Step, now: float) -> Step:
    driver = s.env.driver
    wanted = [("GetNotReadyReasons", driver.not_ready_reason_required),
              ("GetLogoutReasons", driver.logout_reason_required),
              ("GetWrapUpReasons", True)]
    messages = [(name, s.encode(name, {}, now, "LogIn")) for name, needed in wanted if needed]
    return s.send(messages, "0", "LogIn")


def _logged_out(s: Step, now: float) -> Step:
    handle = s.env.handle
    s = s.cb(*(WorkItemReleased(handle, tracking_id=call.tracking_id, stop_time=int(now))
               for call in s.st.calls.calls.values()))
    s = s.set(calls=s.st.calls.cleared())
    if s.st.wrap_item:
        s = s.cb(WorkItemReleased(handle, tracking_id=s.st.wrap_item, stop_time=int(now)))
        s = s.set(wrap_item="")
    s = s.set(credential=None, pending_state=AgentState.NONE)
    s = s.event("EventAgentLogout", s.agent_fields(now))
    s = s.cb(ShowStatusText(handle, text=s.t("status.logged_out")))
    return s.release_agent()


def _wrap_up_items(s: Step, before: str, now: float) -> Step:
    """Entering wrap-up: EventWrapUp for the call that ended (and, with ResetTimerOnWrapUp,
    a fresh work item so Siebel's timer restarts); leaving it: release that item."""
    wrap = (AgentState.WORK, AgentState.WORK_READY)
    st, handle = s.st, s.env.handle
    ended = st.calls.last_ended
    if st.state in wrap and before not in wrap and ended is not None:
        s = s.event("EventWrapUp", [*call_fields(s, ended, now), ["AgentState", st.state]],
                    ended.tracking_id)
        if s.env.driver.reset_timer_on_wrap_up:
            item = f"{ended.tracking_id}-wrapup"
            s = s.set(wrap_item=item).cb(WorkItemStarted(
                handle, tracking_id=item, old_tracking_id=ended.tracking_id,
                description=f"Wrap-up {ended.other_party}".strip(),
                media_target_addr=st.extension, start_time=int(now)))
    elif before in wrap and st.state not in wrap and st.wrap_item:
        s = s.cb(WorkItemReleased(handle, tracking_id=st.wrap_item, stop_time=int(now)))
        s = s.set(wrap_item="")
    return s


#: The reason list each GC command asks for (a GC that leaves out ReasonCodes' Category).
_LIST_OF = {"GetNotReadyReasons": "NOT_READY", "GetLogoutReasons": "LOGOUT",
            "GetWrapUpReasons": "WRAP_UP"}


def on_reason_codes(st: SessionState, e: GcEvent, now: float, env: Env) -> Outcome:
    category = e.text("Category") or _LIST_OF.get(
        st.answered.gc_command if st.answered is not None else "", "")
    codes = e.fields.get("Codes") or ()
    labels = e.fields.get("Labels") or ()
    assert isinstance(codes, tuple) and isinstance(labels, tuple)
    pairs = tuple((str(c), str(lb)) for c, lb in zip(codes, labels, strict=False))
    s = Step(st, env).set(reasons=with_item(st.reasons, category, pairs))
    return s.event("EventReasonCodes", [*s.base_fields(now), ["Category", category],
                                        ["Codes", ",".join(c for c, _ in pairs)],
                                        ["Labels", ",".join(lb for _, lb in pairs)],
                                        *[[f"Reason.{c}", lb] for c, lb in pairs]]).done()


def _ringing(s: Step, c: Call, now: float) -> Step:
    s = s.cb(IndicateNewWorkItem(s.env.handle, tracking_id=c.tracking_id,
                                 old_tracking_id=c.old_tracking_id,
                                 description=c.description, mode=c.mode))
    s = s.event("EventRinging", call_fields(s, c, now), c.tracking_id)
    return s.cb(ShowStatusText(s.env.handle, text=s.t("status.ringing", ANI=c.ani or "?")))


def _dialing(s: Step, c: Call, now: float) -> Step:
    s = s.cb(WorkItemStarted(s.env.handle, tracking_id=c.tracking_id,
                             old_tracking_id=c.old_tracking_id, description=c.description,
                             media_target_addr=s.st.extension, start_time=int(now)))
    s = s.event("EventDialing", call_fields(s, c, now), c.tracking_id)
    return s.cb(ShowStatusText(s.env.handle, text=s.t("status.dialing",
                                                      OtherParty=c.other_party)))


def _started(s: Step, c: Call, now: float, event: str) -> Step:
    s = s.cb(WorkItemStarted(s.env.handle, tracking_id=c.tracking_id,
                             old_tracking_id=c.old_tracking_id, description=c.description,
                             media_target_addr=s.st.extension,
                             start_time=int(c.started_at or now)))
    if c.state is CallState.HELD:
        s = s.cb(WorkItemSuspended(s.env.handle, tracking_id=c.tracking_id))
    s = s.event(event, call_fields(s, c, now), c.tracking_id)
    return s.cb(ShowStatusText(s.env.handle, text=s.t("status.talking",
                                                      OtherParty=c.other_party)))


def _joined(s: Step, c: Call, now: float) -> Step:
    return _started(s, c, now, "EventPartyChanged" if c.call_type in ("TRANSFER", "CONFERENCE")
                    else "EventEstablished")


def _answered(s: Step, c: Call, now: float) -> Step:
    return _started(s, c, now, "EventEstablished")


def _connected(s: Step, c: Call, now: float) -> Step:
    s = s.event("EventEstablished", call_fields(s, c, now), c.tracking_id)
    return s.cb(ShowStatusText(s.env.handle, text=s.t("status.talking",
                                                      OtherParty=c.other_party)))


def _held(s: Step, c: Call, now: float) -> Step:
    s = s.cb(WorkItemSuspended(s.env.handle, tracking_id=c.tracking_id))
    s = s.event("EventHeld", call_fields(s, c, now), c.tracking_id)
    return s.cb(ShowStatusText(s.env.handle, text=s.t("status.held")))


def _retrieved(s: Step, c: Call, now: float) -> Step:
    s = s.cb(WorkItemResumed(s.env.handle, tracking_id=c.tracking_id))
    s = s.event("EventRetrieved", call_fields(s, c, now), c.tracking_id)
    return s.cb(ShowStatusText(s.env.handle, text=s.t("status.talking",
                                                      OtherParty=c.other_party)))


def _party_changed(s: Step, c: Call, now: float) -> Step:
    return s.event("EventPartyChanged", call_fields(s, c, now), c.tracking_id)


def _data_changed(s: Step, c: Call, now: float) -> Step:
    return s.event("EventAttachedDataChanged", call_fields(s, c, now), c.tracking_id)


def _released(s: Step, c: Call, now: float) -> Step:
    tid, handle = c.tracking_id, s.env.handle
    if tid in s.st.notify_waiting:
        s = s.set(notify_waiting=without(s.st.notify_waiting, tid)).emit(
            CancelTimer(notify_key(handle, tid)))
    s = s.event("EventReleased", call_fields(s, c, now), tid)
    s = s.cb(WorkItemReleased(handle, tracking_id=tid, stop_time=int(now)))
    return s.cb(ShowStatusText(handle, text=s.t("status.released")))


#: What each change of a call means for Siebel (calls.py's table, second column).
CHANGE_RULES: Mapping[ChangeKind, Callable[[Step, Call, float], Step]] = {
    ChangeKind.RINGING: _ringing, ChangeKind.DIALING: _dialing, ChangeKind.JOINED: _joined,
    ChangeKind.ANSWERED: _answered, ChangeKind.CONNECTED: _connected,
    ChangeKind.HELD: _held, ChangeKind.RETRIEVED: _retrieved,
    ChangeKind.PARTY_CHANGED: _party_changed, ChangeKind.DATA_CHANGED: _data_changed,
    ChangeKind.RELEASED: _released,
}


def call_change(s: Step, ch: Change, now: float) -> Step:
    return CHANGE_RULES[ch.kind](s, ch.call, now)
