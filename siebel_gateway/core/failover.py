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

from .agent import AgentSession, Phase
from .effects import CancelTimer
from .lifecycle import link_back_resync
from .scs_messages import ShowStatusText

__all__ = ["switch_idle", "switch_logged_in", "switch_signing_in"]


def switch_logged_in(s: AgentSession, source: str, target: str, now: float) -> Phase | None:
    """A signed-in agent moves: pending commands answered, then resynchronised."""
    _report_all(s, source, target)
    to = link_back_resync(s, now)
    s.cb(ShowStatusText(s.handle, text=s.t("status.gc_failover", From=source, To=target)))
    return to


def switch_signing_in(s: AgentSession, source: str, target: str, now: float) -> Phase | None:
    """A sign-in in progress is started again on the new GC, under the same LogIn."""
    _cancel_all(s)
    s.cb(ShowStatusText(s.handle, text=s.t("status.gc_failover", From=source, To=target)))
    if s.phase is Phase.AWAIT_SERVICE or s.credential is None:
        s.send([("Hello", s.encode("Hello", {}, now, "LogIn"))], s.login_cmd, "LogIn")
        return Phase.AWAIT_SERVICE
    s.connect_and_login(now, s.login_cmd)
    return None


def switch_idle(s: AgentSession, source: str, target: str, now: float) -> Phase | None:
    """No agent signed in: commands still waiting are answered."""
    _report_all(s, source, target)
    return None


def _report_all(s: AgentSession, source: str, target: str) -> None:
    for p in list(s.pending):
        s.pending.remove(p)
        s.report(p, s.t("error.failover", Command=p.command, From=source, To=target))


def _cancel_all(s: AgentSession) -> None:
    for p in s.pending:
        s.out.append(CancelTimer(s.command_key(p.seq)))
    s.pending.clear()
