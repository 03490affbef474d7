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
them.

No password is known after a restart: the agent keeps its GC session.  Siebel's LogIn
(AutoLogin) for the SAME agent is answered 0 whichever comes first, and the agent sees the
same either way (one EventAgentLogin, the GC's state and reason):

* after the answer (LOGGED_IN, taken over: no password yet), ``log_in_taken_over`` keeps
  the LogIn's password (a ``Secret``) so a later resync or GC switch-over can sign the
  agent in again, and sends nothing to the GC (it already sends this gateway the agent's
  events since ``Connect``; a Login now could only change what the agent sees);
* before it (``commands.log_in`` while ``recovering``), the LogIn waits, answered 0, with
  its password kept; the GC's answer then settles it (``settle``): a signed-in agent is
  taken over as above, one not signed in (LOGOUT, an Error, no answer) is signed in by
  that LogIn as usual (Hello, Connect, Login; a failure is a HandleError for it), and a
  GC that became unavailable meanwhile refuses it (HandleError, code 6's text).

A LogIn for another agent id, or on a service signed in by its own LogIn, is refused as
before ("already logged in").
"""

from __future__ import annotations

from .commands import Cmd, login_values
from .scs_messages import HandleError, ShowStatusText
from .scs_wire import ScError
from .state import Env, Phase, Refused, SessionState
from .step import Outcome, Step

__all__ = ["RECOVER", "ask_calls", "forget", "log_in_taken_over", "probe", "settle",
           "waiting_login"]

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


def waiting_login(st: SessionState) -> bool:
    """A LogIn arrived while the probe was unanswered (``commands.log_in``)."""
    return st.recovering and st.phase is Phase.LOGGED_OUT and st.credential is not None


def settle(s: Step, now: float | None,
           why: tuple[str, dict[str, str]] | None = None) -> Step:
    """The probe found no signed-in agent (LOGOUT, Error, no answer; ``now`` None: the
    GC is gone or the probe was not sent): a waiting LogIn signs the agent in now, or is
    refused when that cannot be sent; without one, ``forget``.  ``why``: the text (key,
    values) of a probe the shell did not send (``broker_refusal.agent_text``: the gateway
    busy, the broker's refusal); the waiting LogIn is refused with it, not with code 6's."""
    if not waiting_login(s.st):
        return forget(s)
    st, env = s.st, s.env
    s = s.set(recovering=False)
    try:
        if now is None or not env.gc_available:
            key, values = why if why is not None and env.gc_available else ("error.network", {})
            raise Refused(ScError.NETWORK_ERROR, key, **values)
        hello = s.encode("Hello", {}, now, "LogIn")
    except Refused as exc:
        s = s.cb(HandleError(env.handle, cmd_track_id=st.login_cmd,
                             error=s.t(exc.key, **{"Command": "LogIn", **exc.values})))
        return forget(s.set(credential=None))
    s = s.cb(ShowStatusText(env.handle, text=s.t("status.logging_in", AgentId=st.agent_id,
                                                  Extension=st.extension)))
    return s.send([("Hello", hello)], st.login_cmd, "LogIn").enter(Phase.AWAIT_SERVICE)


def log_in_taken_over(st: SessionState, c: Cmd, env: Env) -> Outcome:
    """LogIn while signed in: answered 0 for the agent this service took over (no
    password known yet), which keeps the password and sends nothing to the GC; refused
    otherwise, as for any signed-in service."""
    s = Step(st, env)
    refused = Refused(ScError.ERROR, "error.already_logged_in", AgentId=st.agent_id)
    agent = c.p.get("agentid", "") or env.service_params.get("agentid", "")
    if st.credential is not None or agent != st.agent_id:  # signed in by its own LogIn
        raise refused
    _, _, credential = login_values(s, c.name, c.p)
    s = s.set(credential=credential, login_cmd=c.cmd)
    return s.log("info", "LogIn for agent {agent}, taken over from the GC: answered, its "
                 "password kept for a later sign-in").done()


def ask_calls(s: Step, now: float) -> Step:
    """The adopted agent's live calls: ``GetDialogState`` with no dialog id (one
    ``DialogStatus`` per call, or one without a DialogId when there is none).  An Error or
    no answer is quiet (``events.on_error``, ``lifecycle._quiet``: a ``RECOVER`` command)."""
    try:
        message = s.encode("GetDialogState", {"DialogId": ""}, now, "RequestService")
    except Refused:
        return s
    return s.send([("GetDialogState", message)], RECOVER + s.st.agent_id, "RequestService")
