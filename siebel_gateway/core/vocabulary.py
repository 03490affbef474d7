"""The device vocabulary the gateway serves (SCS-PROTOCOL.md): command and event names,
toolbar descriptions, and how GC values map onto Siebel's fields."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from ..gc.states import AgentState

__all__ = ["AGENT_EVENT", "COMMANDS", "DESCRIPTIONS", "EVENTS", "NOTIFY_EVENTS",
           "scs_call_type"]

#: Device commands, in the order CacheCommandInformation lists them.
DESCRIPTIONS: Mapping[str, str] = MappingProxyType({
    "LogIn": "Log in to the ACD",
    "LogOut": "Log out of the ACD",
    "ChangeReadyState": "Ready",
    "ChangeNotReadyState": "Not Ready",
    "ChangeWorkReadyState": "Work Ready (wrap-up after this call)",
    "SetWrapUpReason": "Wrap-up reason",
    "MakeCall": "Make call",
    "AnswerCall": "Answer",
    "ReleaseCall": "Release",
    "HoldCall": "Hold",
    "RetrieveCall": "Retrieve",
    "UnHoldCall": "Retrieve",
    "TransferInit": "Consult for transfer",
    "TransferComplete": "Complete transfer",
    "ConferenceInit": "Consult for conference",
    "ConferenceComplete": "Complete conference",
    "TransferMute": "Single-step transfer",
    "SendDTMF": "Send DTMF digits",
    "SetCurrentWorkItem": "Switch to the selected call",
})
COMMANDS: tuple[str, ...] = tuple(DESCRIPTIONS)

EVENTS: tuple[str, ...] = (
    "EventAgentLogin", "EventAgentLogout", "EventAgentReady", "EventAgentNotReady",
    "EventAgentWorkReady", "EventAgentWork", "EventAgentInfo", "EventReasonCodes",
    "EventRinging", "EventDialing", "EventEstablished", "EventHeld", "EventRetrieved",
    "EventReleased", "EventPartyChanged", "EventWrapUp", "EventAttachedDataChanged",
    "EventLinkConnected", "EventLinkDisconnected", "EventError",
)

#: Events sent with notifyWhenDone when the driver parameter NotifyWhenDone is TRUE:
#: the ones that pop a screen, so the gateway learns when the pop is done.
NOTIFY_EVENTS = frozenset({"EventRinging", "EventDialing"})

#: Agent state -> the device event announcing it (TALKING/HOLD/RESERVED have none: the
#: call events say it).
AGENT_EVENT: Mapping[AgentState, str] = MappingProxyType({
    AgentState.LOGOUT: "EventAgentLogout",
    AgentState.NOT_READY: "EventAgentNotReady",
    AgentState.READY: "EventAgentReady",
    AgentState.WORK: "EventAgentWork",
    AgentState.WORK_READY: "EventAgentWorkReady",
})

_GC_TYPES = {"CONSULT": "CONSULT", "TRANSFER": "TRANSFER", "CONFERENCE": "CONFERENCE",
             "OUT": "OUTBOUND", "OUTBOUND": "OUTBOUND", "OUTBOUND_PREVIEW": "OUTBOUND",
             "OUTBOUND_CALLBACK": "OUTBOUND", "OUTBOUND_PERSONAL_CALLBACK": "OUTBOUND",
             "OUTBOUND_PREDICTIVE": "OUTBOUND"}


def scs_call_type(gc_type: str, *, placed_by_agent: bool) -> str:
    """Finesse callType -> the CallType Siebel DEF filters use.  An internal call
    (AGENT_INSIDE) is OUTBOUND for the agent who dialled and INBOUND for the one called."""
    if placed_by_agent and gc_type not in ("CONSULT", "TRANSFER", "CONFERENCE"):
        return "OUTBOUND"
    return _GC_TYPES.get(gc_type, "INBOUND")
