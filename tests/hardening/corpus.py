"""What the fuzzers mutate, shared by the Hypothesis fuzz test (``test_fuzz.py``, in CI)
and the long run (``tools/fuzz.py``): request methods and command names an agent sends,
GC event texts the simulator publishes, and junk prefixes.  Plain data, no test
dependencies, so the tool imports it from a fresh clone as ``tests.hardening.corpus``."""

from __future__ import annotations

__all__ = ["BODIES", "COMMANDS", "JUNK", "METHODS", "body"]

#: Command names for InvokeCommand (never LogOut: a valid one would log the agent out on
#: purpose); ``NoSuchCommand`` is refused by name.
COMMANDS = ("ChangeReadyState", "ChangeNotReadyState", "MakeCall", "AnswerCall", "HoldCall",
            "RetrieveCall", "ReleaseCall", "SendDTMF", "SetWrapUpReason", "TransferInit",
            "ConferenceInit", "SetCurrentWorkItem", "NoSuchCommand")

#: SCS methods (never a Release* of the driver or service: that ends the session on purpose).
METHODS = ("APIVersion", "RequestCommandEventList", "InvokeCommand", "InvokeCommandEx",
           "NotifyEventHandlingFinished", "AcceptWorkItem", "SuspendWorkItem",
           "ResumeWorkItem", "HandleQueuedWorkItem", "CreateISCDriverInstance",
           "RequestService", "ReleaseWorkItem")

#: GC event texts as the simulator publishes them; ``{a}`` is the agent id.
BODIES = (
    "system#IN_SERVICE#",
    "{a}#AgentInfo#Chris#Smith#false#OPTIONAL#x:1#Sales#Chris Smith",
    "{a}#State#NOT_READY#-1###2025-11-21T04:40:00.000Z#Chris Smith#-1#2001",
    "{a}#ReasonCodes#WRAP_UP#Sales Call,Support,Complaint#Sales Call,Support,Complaint",
    "{a}#State#READY#-1###2025-11-21T04:40:00.000Z#Chris Smith#-1#2001",
    "{a}#NewInboundCall#4155550100#8005550100#key:16803001#PREROUTE_DIRECT_AGENT###",
    "{a}#InboundCall#ACTIVE#16803001#4155550100#ACTIVE#8005550100#PREROUTE_DIRECT_AGENT####",
    "{a}#InboundCall#DROPPED#16803001#4155550100#DROPPED#8005550100#ACD_IN####",
    "{a}#State#WORK_READY#-1###2025-11-21T04:40:04.000Z#Chris Smith#-1#2001",
    "{a}#Error#Generic Error#20999#something failed#MakeReady",
)

#: Starts of lines that are not one JSON object.
JUNK = (b"{", b"}", b"[1,2", b"null", b'"x"', b"nan", b"}{", b'{"jsonrpc":"2.0","id":1,"method":')


def body(template: str, agent: str) -> str:
    """One of ``BODIES`` for ``agent``."""
    return template.format(a=agent)
