"""``Driver:WrapUpReasonRequired`` (issue 13 item 3): with TRUE, an agent in wrap-up
(WORK or WORK_READY) may not leave it by Ready or NotReady before a wrap-up reason is set
on the call that ended (``SetWrapUpReason``, answered by the GC's DialogStatus, or still
awaiting that answer); the refusal lists the valid reasons.  The wrap-up timer of the
contact centre still ends the wrap-up on its own: this rule governs only what the agent
asks for."""

from __future__ import annotations

from ..gc.states import AgentState
from .scs_wire import ScError
from .state import Refused
from .step import Step

__all__ = ["WRAP_UP_STATES", "check_leaving_wrap_up"]

WRAP_UP_STATES = (AgentState.WORK, AgentState.WORK_READY)


def check_leaving_wrap_up(s: Step) -> None:
    """Raise ``Refused`` when the agent would leave wrap-up without a required reason."""
    if not s.env.driver.wrap_up_reason_required or s.st.state not in WRAP_UP_STATES:
        return
    ended = s.st.calls.last_ended
    if ended is None or ended.wrap_up_reason:
        return
    if any(p.gc_command == "UpdateCallData" for p in s.st.pending):
        return  # a reason (checked against the GC's list) is on its way: no race for a click
    known = s.st.reasons.get("WRAP_UP")
    choices = ", ".join(c if c == lb else f"{c} ({lb})" for c, lb in known or ()) or "-"
    raise Refused(ScError.ERROR, "error.wrap_up_reason_required", Choices=choices)
