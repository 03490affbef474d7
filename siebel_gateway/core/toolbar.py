"""Which device commands are possible now: the statuses of ``CacheCommandInformation``.

A pure function of a snapshot of the agent's situation, written as one rule per command so
it reads like the toolbar it drives.  Flags are SCAPI's ``SCCommandFlag`` bits.
"""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass

from ..gc.states import ON_CALL_STATES, AgentState
from .vocabulary import COMMANDS

__all__ = ["Flag", "Snapshot", "command_statuses"]


class Flag(enum.IntFlag):
    NOTSUPPORTED = 1
    DISABLED = 2
    CHECKED = 4
    BLINKING = 8
    NOPARAMSOK = 16
    STRPARAMSOK = 32


@dataclass(frozen=True)
class Snapshot:
    gc_available: bool
    logged_in: bool
    logging_in: bool
    ucce: bool
    state: AgentState = AgentState.LOGOUT
    pending: AgentState = AgentState.NONE
    ringing: int = 0
    active: int = 0
    held: int = 0
    dialing: int = 0
    calls: int = 0
    #: An answered consult leg placed by this agent (transfer/conference can complete).
    consult_up: bool = False
    #: A consult leg already exists for the active call.
    consult_placed: bool = False
    not_ready_reason_required: bool = False
    logout_reason_required: bool = False
    #: An ACTIVE call that is not a consult leg placed by this agent (UCCX: the one
    #: regular call, from which any number of consult calls may be placed).
    regular_active: bool = False


def _rules(s: Snapshot) -> dict[str, tuple[bool, Flag]]:
    """command -> (enabled, extra flags)."""
    ready_states = (AgentState.NOT_READY, AgentState.WORK, AgentState.WORK_READY)
    on_call = s.calls > 0 or s.state in ON_CALL_STATES
    nr_params = Flag.STRPARAMSOK | (Flag(0) if s.not_ready_reason_required
                                   else Flag.NOPARAMSOK)
    logout_from = (AgentState.NOT_READY,) if s.ucce \
        else (AgentState.NOT_READY, AgentState.READY)
    in_wrap_up = s.state in (AgentState.WORK, AgentState.WORK_READY)
    reserved, work_ready = s.state == AgentState.RESERVED, s.state == AgentState.WORK_READY
    nr_checked = AgentState.NOT_READY in (s.state, s.pending)
    # UCCE: one consult leg at a time; UCCX: one regular call and several consult calls
    # (the seed), each placed from the regular call while it is active.
    can_consult = (s.active > 0 and not s.consult_placed) if s.ucce else s.regular_active
    return {
        "LogIn": (not s.logged_in and not s.logging_in, Flag.NOPARAMSOK),
        "LogOut": (s.logged_in and s.state in logout_from and not on_call,
                   Flag.STRPARAMSOK | (Flag(0) if s.logout_reason_required
                                      else Flag.NOPARAMSOK)),
        "ChangeReadyState": (
            s.logged_in and s.state != AgentState.READY and (s.state in ready_states or
                                                    (s.ucce and on_call and
                                                     s.state != AgentState.RESERVED)),
            Flag.NOPARAMSOK | (Flag.CHECKED if AgentState.READY in (s.state, s.pending)
                               else Flag(0))),
        "ChangeNotReadyState": (s.logged_in and s.state != AgentState.RESERVED,
                                nr_params | (Flag.CHECKED if nr_checked else Flag(0))),
        "ChangeWorkReadyState": (s.ucce and s.logged_in and on_call and not reserved,
                                 Flag.NOPARAMSOK | (Flag.CHECKED if work_ready else Flag(0))),
        "SetWrapUpReason": (s.logged_in and in_wrap_up, Flag.STRPARAMSOK),
        "MakeCall": (s.logged_in and s.state == AgentState.NOT_READY and s.calls == 0,
                     Flag.STRPARAMSOK),
        "AnswerCall": (s.ringing > 0, Flag.NOPARAMSOK | (Flag.BLINKING if s.ringing
                                                         else Flag(0))),
        "ReleaseCall": (s.active + s.held + s.dialing > 0, Flag.NOPARAMSOK),
        "HoldCall": (s.active > 0, Flag.NOPARAMSOK),
        "RetrieveCall": (s.held > 0 and s.active == 0, Flag.NOPARAMSOK),
        "UnHoldCall": (s.held > 0 and s.active == 0, Flag.NOPARAMSOK),
        "TransferInit": (can_consult, Flag.STRPARAMSOK),
        "TransferComplete": (s.consult_up, Flag.NOPARAMSOK),
        "ConferenceInit": (can_consult, Flag.STRPARAMSOK),
        "ConferenceComplete": (s.consult_up, Flag.NOPARAMSOK),
        "TransferMute": (s.ucce and s.active > 0, Flag.STRPARAMSOK),
        "SendDTMF": (s.active > 0, Flag.STRPARAMSOK),
        "SetCurrentWorkItem": (s.calls > 1, Flag(0)),
    }


@functools.lru_cache(maxsize=4096)
def command_statuses(s: Snapshot) -> tuple[tuple[str, int], ...]:
    """Cached: agents move among a few hundred distinct situations."""
    rules = _rules(s)
    out: list[tuple[str, int]] = []
    for name in COMMANDS:
        enabled, extra = rules[name]
        if name == "TransferMute" and not s.ucce:
            out.append((name, int(Flag.NOTSUPPORTED | Flag.DISABLED)))
            continue
        if name == "ChangeWorkReadyState" and not s.ucce:
            out.append((name, int(Flag.NOTSUPPORTED | Flag.DISABLED)))
            continue
        flags = extra
        if not enabled or not s.gc_available:
            flags = (flags | Flag.DISABLED) & ~Flag.BLINKING
        out.append((name, int(flags)))
    return tuple(out)
