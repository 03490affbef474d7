"""The calls one agent holds, as Siebel work items, driven by GC call events.

One call = one GC dialog = one work item whose tracking id is the dialog id (stable from
ringing to release).  A consult leg is its own dialog and its own work item, linked to
the call it came from (``parent``).  When a transfer or conference completes, Finesse keeps
the original dialog and names the consult leg in ``SecondaryId``; the consulted agent
therefore sees its consult item end and the original dialog appear: that new item is
started with ``oldTrackingId`` = the consult leg, so Siebel keeps the thread.

The book is an immutable value (part of ``SessionState``): ``CallBook.update`` returns the
new book and what happened, as a list of ``Change``.  Transitions of the agent's own
participant:

    (new) ALERTING          -> ringing     IndicateNewWorkItem(inbound) + EventRinging
    (new) INITIATING/ED     -> dialing     WorkItemStarted (outbound)   + EventDialing
    (new) ACTIVE / HELD     -> joined      WorkItemStarted(old=SecondaryId) + EventEstablished
    ALERTING  -> ACTIVE     -> answered    WorkItemStarted              + EventEstablished
    INITIATED -> ACTIVE     -> connected                                  EventEstablished
    ACTIVE    -> HELD       -> held        WorkItemSuspended            + EventHeld
    HELD      -> ACTIVE     -> retrieved   WorkItemResumed              + EventRetrieved
    any       -> DROPPED    -> released    EventReleased + WorkItemReleased
    call type / SecondaryId changes while ACTIVE -> party_changed        EventPartyChanged
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from ..gc.states import LIVE_CALL_STATES, CallState
from .gc_clock import start_time
from .vocabulary import scs_call_type

__all__ = ["NO_CALLS", "Call", "CallBook", "Change", "ChangeKind"]

LIVE = LIVE_CALL_STATES
GONE = (CallState.DROPPED, CallState.WRAP_UP)
DIALING = (CallState.INITIATING, CallState.INITIATED)


class ChangeKind(enum.Enum):
    """What a GC call event meant for the agent's work item (table at the top)."""

    RINGING = "ringing"
    DIALING = "dialing"
    JOINED = "joined"
    ANSWERED = "answered"
    CONNECTED = "connected"
    HELD = "held"
    RETRIEVED = "retrieved"
    RELEASED = "released"
    PARTY_CHANGED = "party_changed"
    DATA_CHANGED = "data_changed"


@dataclass(frozen=True)
class Call:
    tracking_id: str
    #: The agent's participant state: ALERTING, INITIATED, ACTIVE, HELD, ...
    state: CallState
    call_type: str  # SCS CallType (INBOUND, OUTBOUND, CONSULT, TRANSFER, CONFERENCE)
    gc_call_type: str = ""
    ani: str = ""
    dnis: str = ""
    ced: str = ""
    call_data: tuple[tuple[str, str], ...] = ()
    other_party: str = ""
    parent: str = ""
    secondary: str = ""
    #: Placed by this agent (outbound call or a consult leg it dialled).
    placed: bool = False
    old_tracking_id: str = ""
    started_at: float = 0.0
    wrap_up_reason: str = ""

    @property
    def mode(self) -> int:
        return 2 if self.placed else 1

    @property
    def description(self) -> str:
        if self.call_type == "CONSULT":
            return f"Consult call {self.other_party}".strip()
        direction = "Outbound" if self.placed else "Inbound"
        return f"{direction} call {self.other_party}".strip()


@dataclass(frozen=True)
class Change:
    kind: ChangeKind
    call: Call
    before: Call | None = None


def _text(fields: Mapping[str, object], name: str) -> str:
    value = fields.get(name)
    return "" if value is None else str(value)


def _pairs(value: object) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, tuple):
        return ()
    return tuple((str(k), str(v)) for k, v in value if isinstance(v, str | int))


_NO_CALLS: Mapping[str, Call] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class CallBook:
    """The agent's calls by tracking id, immutable: ``update`` returns a new book."""

    calls: Mapping[str, Call] = field(default_factory=lambda: _NO_CALLS)
    #: The most recently ended call (target of wrap-up reasons).
    last_ended: Call | None = None

    def update(self, event: str, fields: Mapping[str, object], now: float
               ) -> tuple[CallBook, list[Change]]:
        """One GC call event for this agent: the new book and the changes it means."""
        work = _Work(dict(self.calls), self.last_ended)
        changes = work.update(event, fields, now)
        if not changes and work.last_ended is self.last_ended and work.calls == self.calls:
            return self, changes
        return CallBook(MappingProxyType(work.calls), work.last_ended), changes

    def without(self, tracking_id: str, *, ended: bool = False) -> CallBook:
        """The book without call ``tracking_id`` (``ended``: it becomes ``last_ended``)."""
        gone = self.calls.get(tracking_id)
        if gone is None:
            return self
        return CallBook(MappingProxyType({k: v for k, v in self.calls.items()
                                          if k != tracking_id}),
                        gone if ended else self.last_ended)

    def cleared(self) -> CallBook:
        """No calls (the last ended one is kept, for a wrap-up reason)."""
        return CallBook(_NO_CALLS, self.last_ended)

    # -- queries --------------------------------------------------------------------------

    def in_state(self, *states: CallState) -> list[Call]:
        return [c for c in self.calls.values() if c.state in states]

    def consult_of(self, main: str) -> Call | None:
        return next((c for c in self.calls.values() if c.parent == main and c.placed
                     and c.call_type == "CONSULT"), None)

    def current(self) -> Call | None:
        """The call a command without TrackingID acts on: the one ACTIVE call; else the
        one being dialled; else the only call.  Never an arbitrary one of several."""
        for states in ((CallState.ACTIVE,), DIALING):
            found = self.in_state(*states)
            if len(found) == 1:
                return found[0]
            if found:
                return None
        return next(iter(self.calls.values())) if len(self.calls) == 1 else None


#: The empty book a new session starts with.
NO_CALLS = CallBook()


@dataclass(slots=True)
class _Work:
    """A local working copy while one event is applied (never escapes ``update``)."""

    calls: dict[str, Call]
    last_ended: Call | None

    def update(self, event: str, fields: Mapping[str, object], now: float) -> list[Change]:
        dialog = _text(fields, "DialogId")
        if not dialog:
            return []
        own = _text(fields, "ParticipantState")
        if event == "NewInboundCall":
            mine = CallState.ALERTING
        else:
            mine = CallState(own or _text(fields, "DialogState"))
        if not own and mine is CallState.ALERTING and event != "NewInboundCall":
            # Only the dialog's state (a catalogue-only GC): a call that did not ring here
            # and is ALERTING is ringing at the far end; the agent's leg is still dialling.
            known = self.calls.get(dialog)
            if known is None or known.placed:
                mine = CallState.INITIATED
        if event == "DialogStatus" and mine is CallState.WRAP_UP:
            old = self.calls.pop(dialog, None)
            if old is not None:
                self.last_ended = old
                return [Change(ChangeKind.RELEASED, replace(old, state=CallState.DROPPED),
                               old)]
            ended, reason = self.last_ended, _text(fields, "WrapUpReason")
            if ended is not None and ended.tracking_id == dialog and reason:
                self.last_ended = replace(ended, wrap_up_reason=reason)  # SetWrapUpReason's answer
            return []
        before = self.calls.get(dialog)
        if before is None:
            return self._new(event, dialog, mine, fields, now)
        return self._change(event, before, mine, fields, now)

    def _new(self, event: str, dialog: str, mine: CallState, fields: Mapping[str, object],
             now: float) -> list[Change]:
        if mine not in LIVE:
            return []
        gc_type = _text(fields, "CallType") or ("CONSULT" if event == "ConsultCall" else "")
        from_addr = _text(fields, "FromAddress") or _text(fields, "ANI")
        placed = event == "ConsultCall" or (
            mine in DIALING and event != "NewInboundCall")
        parent = _text(fields, "ParentDialogId") or (
            self._consulted_from() if event == "ConsultCall" else "")
        base = self.calls.get(parent)
        to_addr = _text(fields, "ToAddress") or _text(fields, "DNIS") \
            or _text(fields, "OtherNumber")
        call = Call(
            tracking_id=dialog, state=mine, gc_call_type=gc_type,
            call_type=scs_call_type(gc_type, placed_by_agent=placed),
            ani=from_addr if not (placed and base) else base.ani,
            dnis=to_addr if not (placed and base) else base.dnis,
            ced=_text(fields, "CED") or (base.ced if base else ""),
            call_data=_pairs(fields.get("CallData")) or (base.call_data if base else ()),
            other_party=to_addr if placed else from_addr,
            parent=parent, secondary=_text(fields, "SecondaryId"), placed=placed,
            started_at=start_time(_text(fields, "StartTime"), now))
        if mine is CallState.ALERTING and not placed:
            self.calls[dialog] = call
            return [Change(ChangeKind.RINGING, call)]
        if mine in DIALING or mine is CallState.ALERTING:
            self.calls[dialog] = call = replace(call, placed=True, old_tracking_id=parent)
            return [Change(ChangeKind.DIALING, call)]
        old = call.secondary if call.secondary else ""
        self.calls[dialog] = call = replace(call, old_tracking_id=old)
        return [Change(ChangeKind.JOINED, call)]

    def _change(self, event: str, before: Call, mine: CallState, fields: Mapping[str, object],
                now: float) -> list[Change]:
        gc_type = _text(fields, "CallType") or before.gc_call_type
        after = replace(
            before, state=mine, gc_call_type=gc_type,
            call_type=before.call_type if gc_type == before.gc_call_type
            else scs_call_type(gc_type, placed_by_agent=before.placed),
            secondary=_text(fields, "SecondaryId") or before.secondary,
            call_data=_pairs(fields.get("CallData")) or before.call_data,
            wrap_up_reason=_text(fields, "WrapUpReason") or before.wrap_up_reason)
        if mine in GONE or mine is CallState.FAILED:
            del self.calls[before.tracking_id]
            self.last_ended = after
            return [Change(ChangeKind.RELEASED, replace(after, state=CallState.DROPPED),
                           before)]
        self.calls[before.tracking_id] = after
        changes: list[Change] = []
        if before.state != mine:
            active = mine is CallState.ACTIVE
            if before.state is CallState.ALERTING and active and not before.placed:
                self.calls[before.tracking_id] = after = replace(after, started_at=now)
                changes.append(Change(ChangeKind.ANSWERED, after, before))
            elif active and before.state is CallState.HELD:
                changes.append(Change(ChangeKind.RETRIEVED, after, before))
            elif mine is CallState.HELD:
                changes.append(Change(ChangeKind.HELD, after, before))
            elif active:
                changes.append(Change(ChangeKind.CONNECTED, after, before))
        if (after.call_type, after.secondary) != (before.call_type, before.secondary) \
                and mine in (CallState.ACTIVE, CallState.HELD):
            changes.append(Change(ChangeKind.PARTY_CHANGED, after, before))
        elif after.call_data != before.call_data:
            changes.append(Change(ChangeKind.DATA_CHANGED, after, before))
        return changes

    def _consulted_from(self) -> str:
        """The call a new consult leg came from when the GC does not say (its catalogue
        has no parent field): the one held call that is not itself a consult leg."""
        held = [c.tracking_id for c in self.calls.values() if c.state is CallState.HELD
                and not (c.placed and c.call_type == "CONSULT")]
        return held[0] if len(held) == 1 else ""
