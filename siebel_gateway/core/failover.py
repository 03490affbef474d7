"""The GC switch-over of one agent service (duplex only): its agent was on a GC that went
out of service or silent, and ``gcs.GcSet`` placed it on the other one, which is in
service.  ``machine.py`` says in which phase each rule runs.

Nobody is logged out by a switch:

* a signed-in agent is resynchronised on the new GC through the same step as a broker
  reconnect (``lifecycle.link_back_resync``, ``core/resync.py``: Connect + Login again, the
  calls kept as work items and checked with the new GC, the state event sent again);
  every command that was waiting for the old GC's answer is answered now with a
  ``HandleError`` naming the failover (the old GC may have carried it out or not: the
  resync shows which);
* a sign-in in progress is sent again on the new GC (the LogIn is still answered once);
* a service with no agent signed in only hears about it (its waiting commands answered).
"""

from __future__ import annotations

from .effects import CancelTimer
from .lifecycle import resync_step
from .scs_messages import ShowStatusText
from .state import Env, Phase, SessionState
from .step import Outcome, Step, command_key

__all__ = ["switch_idle", "switch_logged_in", "switch_signing_in"]


def switch_logged_in(st: SessionState, source: str, target: str, now: float,
                     env: Env) -> Outcome:
    """A signed-in agent moves: pending commands answered, then resynchronised."""
    s = resync_step(_report_all(Step(st, env), source, target), now)
    return s.cb(ShowStatusText(env.handle, text=s.t("status.gc_failover", From=source,
                                                    To=target))).done()


def switch_signing_in(st: SessionState, source: str, target: str, now: float,
                      env: Env) -> Outcome:
    """A sign-in in progress is started again on the new GC, under the same LogIn."""
    s = Step(st, env)
    s = s.emit(*(CancelTimer(command_key(env.handle, p.seq)) for p in st.pending))
    s = s.set(pending=())
    s = s.cb(ShowStatusText(env.handle, text=s.t("status.gc_failover", From=source,
                                                 To=target)))
    if st.phase is Phase.AWAIT_SERVICE or st.credential is None:
        s = s.send([("Hello", s.encode("Hello", {}, now, "LogIn"))], st.login_cmd, "LogIn")
        return s.enter(Phase.AWAIT_SERVICE).done()
    return s.connect_and_login(now, st.login_cmd).done()


def switch_idle(st: SessionState, source: str, target: str, now: float,
                env: Env) -> Outcome:
    """No agent signed in: commands still waiting are answered."""
    return _report_all(Step(st, env), source, target).done()


def _report_all(s: Step, source: str, target: str) -> Step:
    for p in s.st.pending:
        s = s.drop(p).report(p, s.t("error.failover", Command=p.command, From=source,
                                    To=target))
    return s
