"""Gateway restart (issue 15 item 5): a new gateway process (or the standby of a pair)
that gets ``RequestService`` for an agent still signed in at the GC takes that agent's
live state from the GC instead of showing a signed-out toolbar, and never signs the agent
out on its own.

At ``RequestService`` (GC available, the service names its AgentId) the service claims the
agent and sends ``Connect`` (binding the agent's events to this gateway) and ``GetState``.
The GC's ``State`` answers: a signed-in agent is adopted (LOGGED_IN: EventAgentLogin, its
state and reason, the toolbar; ``events.on_state``); LOGOUT leaves the service signed out
and frees the agent id.  No answer, or an Error, changes nothing the agent sees.  An adopted
agent's calls are asked for at once (``ask_calls``: ``GetDialogState`` without a dialog id,
our dialect's "every live dialog of the agent"); each ``DialogStatus`` makes its call a
work item with the dialog id as tracking id and the GC's ``StartTime`` as start time.  A
GC that refuses or ignores that question leaves the calls to appear when it next reports
them.  No password is known after a restart: the agent keeps its GC session, and a LogIn
from Siebel signs it in anew.
"""

from __future__ import annotations

from .state import Refused
from .step import Step

__all__ = ["RECOVER", "ask_calls", "forget", "probe"]

#: ``cmdTrackId`` of the GC commands that ask for a restarted gateway's agent.
RECOVER = "recover:"


def probe(s: Step, now: float) -> Step:
    env = s.env
    agent = env.service_params.get("agentid", "")
    extension = env.service_params.get("extension", "")
    if not agent or not env.gc_available or not env.agent_free(agent):
        return s
    s = s.claim(agent).set(agent_id=agent, extension=extension)
    try:
        messages = [("Connect", s.encode("Connect", {"Password": "", "Extension": extension},
                                         now, "RequestService")),
                    ("GetState", s.encode("GetState", {}, now, "RequestService"))]
    except Refused:  # an id the GC vocabulary cannot carry: no recovery
        return forget(s)
    return s.set(recovering=True).send(messages, RECOVER + agent, "RequestService")


def forget(s: Step) -> Step:
    """Not signed in at the GC (or no answer): the service stays signed out."""
    return s.release_agent().set(recovering=False, agent_id="")


def ask_calls(s: Step, now: float) -> Step:
    """The adopted agent's live calls: ``GetDialogState`` with no dialog id (one
    ``DialogStatus`` per call, or one without a DialogId when there is none).  An Error or
    no answer is quiet (``events.on_error``, ``lifecycle._quiet``: a ``RECOVER`` command)."""
    try:
        message = s.encode("GetDialogState", {"DialogId": ""}, now, "RequestService")
    except Refused:
        return s
    return s.send([("GetDialogState", message)], RECOVER + s.st.agent_id, "RequestService")
