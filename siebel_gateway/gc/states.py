"""The Generic Connector's (Finesse's) state vocabulary, shared by the gateway core and the
Finesse simulator: agent states and call participant states as enum members, never bare
strings.

Both are ``StrEnum``: a member *is* its wire text, so it compares equal to the text the GC
sends, formats as that text and goes into JSON unchanged.  The GC is the authority on
states; one it sends that is not listed here is kept verbatim (an unlisted pseudo-member
made by ``_missing_``) rather than refused, so an unforeseen Finesse state reaches Siebel
as it came, exactly as before these enums existed.
"""

from __future__ import annotations

import enum

__all__ = ["LIVE_CALL_STATES", "ON_CALL_STATES", "AgentState", "CallState"]


class _Open(enum.StrEnum):
    """A StrEnum that keeps unknown values as pseudo-members (see the module text)."""

    @classmethod
    def _missing_(cls, value: object) -> _Open | None:
        if not isinstance(value, str):
            return None
        member = str.__new__(cls, value)
        member._name_ = value or "NONE"
        member._value_ = value
        return member


class AgentState(_Open):
    """Finesse agent state (the GC's ``State`` and ``PendingState`` fields)."""

    #: No pending state (``PendingState`` empty).
    NONE = ""
    LOGIN = "LOGIN"
    LOGOUT = "LOGOUT"
    NOT_READY = "NOT_READY"
    READY = "READY"
    RESERVED = "RESERVED"
    TALKING = "TALKING"
    HOLD = "HOLD"
    WORK = "WORK"
    WORK_READY = "WORK_READY"


class CallState(_Open):
    """Finesse participant state of the agent on one dialog (``ParticipantState``)."""

    NONE = ""
    ALERTING = "ALERTING"
    INITIATING = "INITIATING"
    INITIATED = "INITIATED"
    ACTIVE = "ACTIVE"
    HELD = "HELD"
    DROPPED = "DROPPED"
    FAILED = "FAILED"
    WRAP_UP = "WRAP_UP"


#: Agent states that mean "on a call" for the toolbar and the busy flag.
ON_CALL_STATES = frozenset({AgentState.TALKING, AgentState.HOLD, AgentState.RESERVED})
#: Participant states of a call the agent still has.
LIVE_CALL_STATES = (CallState.ALERTING, CallState.INITIATING, CallState.INITIATED,
                    CallState.ACTIVE, CallState.HELD)
