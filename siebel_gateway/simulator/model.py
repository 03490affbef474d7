"""The Finesse agent and dialog model behind the simulated Generic Connector (pure, no I/O).

Inputs: GC commands (already parsed by the codec), control actions, timer expiries.
Outputs: ``Emit`` (an event text for a client destination), ``StartTimer``/``CancelTimer``.
Time comes in through ``now`` and randomness from a seeded generator, so a run is exact.

Rules follow reference/finesse.md sections 1-2 and 7 for the chosen flavour:

* UCCE: LOGOUT only from NOT_READY; HOLD is an agent state; WORK_READY exists; pending
  READY and repeated pending NOT_READY changes are accepted during a call; single-step
  transfer exists; DTMF 0-9 * # A-D.
* UCCX: LOGOUT also from READY; holding keeps TALKING; no WORK_READY (wrap-up is WORK);
  pending READY during a call is refused (265 CF_INVALID_AGENT_WORKMODE), a pending
  NOT_READY may be set once; no single-step transfer; a non-routed call leaves the agent
  NOT_READY; one regular call plus consult calls; DTMF 0-9 * #.
* Reason codes: the GC carries the CTI code; the State event also carries the Finesse id.
  Sign-in lands in NOT_READY with reason -1.  RONA -> NOT_READY 32767 (UCCE) / 32763 (UCCX).
* Wrap-up: at the end of an agent's last call, per the agent's wrapUpOnIncoming /
  wrapUpOnOutgoing: WORK_READY (UCCE, agent was or asked READY) or WORK (asked NOT_READY),
  ended by the wrap-up timer (WORK -> NOT_READY, WORK_READY -> READY) or by the agent.
* Consult/transfer/conference: the consult leg is its own dialog linked to the original
  (ParentDialogId); a completed transfer or conference keeps the original dialog, with the
  consult's id in SecondaryId; the consulted agent's first ring carries the original call
  data (screen pop on consult).  At most 4 conference parties (CUCM default).

Event choice (documented in docs/simulator.md): every change of a dialog produces one event
per agent party: ``NewInboundCall`` when it first rings at that agent, ``ConsultCall`` for
a consult leg the agent placed, ``InboundCall`` otherwise (field CallType tells inbound
from outbound); ``DialogStatus`` answers GetDialogState and follows a (re)login.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

from ..gc.states import AgentState, CallState
from .agent_rules import AgentRules
from .dialogs import DialogRules
from .state import CancelTimer, Emit, Key, Output, Refused, StartTimer

__all__ = ["COMMANDS", "CancelTimer", "Emit", "FinesseModel", "Key", "Output", "Refused",
           "StartTimer"]


#: GC command -> the rule that carries it out (agent_rules.py / dialogs.py).
COMMANDS: Mapping[str, Callable[[DialogRules, str, dict[str, str]], None]] = MappingProxyType({
    "Connect": AgentRules.cmd_Connect,
    "Login": AgentRules.cmd_Login,
    "Logout": AgentRules.cmd_Logout,
    "ForceLogout": AgentRules.cmd_ForceLogout,
    "MakeReady": AgentRules.cmd_MakeReady,
    "MakeNotReady": AgentRules.cmd_MakeNotReady,
    "MakeNotReadyWithReason": AgentRules.cmd_MakeNotReadyWithReason,
    "MakeWorkReady": AgentRules.cmd_MakeWorkReady,
    "GetState": AgentRules.cmd_GetState,
    "GetNotReadyReasons": AgentRules.cmd_GetNotReadyReasons,
    "GetLogoutReasons": AgentRules.cmd_GetLogoutReasons,
    "GetWrapUpReasons": AgentRules.cmd_GetWrapUpReasons,
    "AnswerCall": DialogRules.cmd_AnswerCall,
    "HoldCall": DialogRules.cmd_HoldCall,
    "RetrieveCall": DialogRules.cmd_RetrieveCall,
    "ReleaseCall": DialogRules.cmd_ReleaseCall,
    "MakeCall": DialogRules.cmd_MakeCall,
    "ConsultCall": DialogRules.cmd_ConsultCall,
    "TransferCall": DialogRules.cmd_TransferCall,
    "ConferenceCall": DialogRules.cmd_ConferenceCall,
    "SingleStepTransfer": DialogRules.cmd_SingleStepTransfer,
    "SendDTMF": DialogRules.cmd_SendDTMF,
    "UpdateCallData": DialogRules.cmd_UpdateCallData,
    "GetDialogState": DialogRules.cmd_GetDialogState,
})


class FinesseModel(DialogRules):
    """The whole simulated Finesse: ``state.ModelBase`` (data, outputs) <- ``AgentRules``
    <- ``DialogRules`` <- the entry points here (GC commands, timers)."""

    # -- entry points --------------------------------------------------------------------

    def handle_command(self, command: str, values: dict[str, str]) -> list[Output]:
        agent_id = values.get("AgentId", "")
        reply_to = values.get("ClientDestination", "")
        if command in ("Hello", "Beat"):
            self.destinations.add(reply_to)
            status = "IN_SERVICE" if self.in_service else "OUT_OF_SERVICE"
            self.out.append(Emit(reply_to, self.codec.encode_event(
                status, self.codec.dialect.system_agent, {"Reason": ""},
                catalogue_only=self.catalogue_only)))
            return self.take()
        a = self.agents.get(agent_id)
        dest = reply_to or (a.destination if a else "")
        try:
            if not self.in_service:
                raise Refused("Service Unavailable", "Finesse is OUT_OF_SERVICE; try again "
                              "after IN_SERVICE", "503")
            fault = self.fail_next.pop(agent_id, None)
            if fault is not None:
                raise Refused(*fault)
            handler = COMMANDS.get(command)
            if handler is None:
                raise Refused("Not Implemented", f"the simulator does not implement {command}",
                              "501")
            handler(self, agent_id, values)
        except Refused as exc:
            self.error(dest, agent_id, exc, command)
        return self.take()


    # -- timers --------------------------------------------------------------------------

    def timer_fired(self, key: Key) -> list[Output]:
        if key.kind == "rona":
            self.rona(key.owner, key.id)
        elif key.kind == "answer":
            d = self.dialogs.get(key.owner)
            if d is not None and d.state == CallState.ALERTING:
                for p in d.parties:
                    p.state = CallState.ACTIVE
                d.state = CallState.ACTIVE
                self.notify(d)
        elif key.kind == "wrap":
            a = self.agents[key.owner]
            if a.state in (AgentState.WORK, AgentState.WORK_READY):
                nxt = AgentState.READY if a.state == AgentState.WORK_READY else AgentState.NOT_READY
                code = -1 if nxt == AgentState.READY else (a.reason_code if a.reason_code != -1 else
                                                  (-1 if self.ucce else 32758))
                self.end_wrap_up(a)
                self.set_state(a, nxt, code, a.reason_label if nxt == AgentState.NOT_READY else "",
                               a.reason_id if nxt == AgentState.NOT_READY else -1)
        return self.take()

