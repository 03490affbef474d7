"""The inputs of a service that are neither device commands nor GC agent events: timers,
failed publishes, NotifyEventHandlingFinished, the release of the service, and the GC
becoming unavailable or available again.  ``machine.py`` says in which phase each runs.
"""

from __future__ import annotations

from . import broker_refusal, recover, resync
from .agent import AgentSession, Pending, Phase
from .effects import CancelTimer, Key
from .scs_messages import HandleEvent, ShowStatusText
from .scs_wire import ScError

__all__ = ["command_timeout", "link_back", "link_back_resync", "link_lost", "notify_finished",
           "notify_timeout", "publish_failed", "release", "release_logged_in"]


def command_timeout(s: AgentSession, key: Key, now: float) -> Phase | None:
    p = next((p for p in s.pending if str(p.seq) == key.id), None)
    if p is None:
        return None
    s.pending.remove(p)
    s.log("warn", "GC did not answer {gc_command} within {seconds} s",
          gc_command=p.gc_command, seconds=s.ctx.command_timeout)
    if _quiet(s, p):
        return None
    if p.gc_command == "Login" and s.resyncing:
        resync.abandon(s)
    return s.report(p, s.t("error.no_answer", Command=p.command,
                           Seconds=f"{s.ctx.command_timeout:g}"))


def _quiet(s: AgentSession, p: Pending) -> bool:
    """A GC question of the gateway's own (resync or restart probe) that got no answer:
    nothing for the agent to read; a call asked about stays, a restart probe gives up."""
    s.out.append(CancelTimer(s.command_key(p.seq)))
    if p.cmd_track_id.startswith(resync.PROBE):
        return True
    if p.cmd_track_id.startswith(recover.RECOVER):
        if s.phase is Phase.LOGGED_OUT:
            recover.forget(s)
        s.recovering = False
        return True
    s.out.pop()
    return False


def notify_timeout(s: AgentSession, key: Key, now: float) -> None:
    event = s.notify_waiting.pop(key.id, None)
    if event is not None:
        s.log("warn", "SCS did not finish handling {event} for {tracking_id} "
              "within {seconds} s; the call goes on", event=event,
              tracking_id=key.id, seconds=s.driver.notify_timeout)


def publish_failed(s: AgentSession, ref: Key, why: str) -> Phase | None:
    p = next((p for p in s.pending if str(p.seq) == ref.id), None)
    if p is None:
        return None
    s.pending.remove(p)
    s.log("warn", "GC command {gc_command} was not sent: {why}",
          gc_command=p.gc_command, why=why)
    if _quiet(s, p):
        return None
    key, values = broker_refusal.agent_text(why)
    return s.report(p, s.t(key, Command=p.command, **values))


def notify_finished(s: AgentSession, tracking_id: str) -> tuple[int, str]:
    if s.notify_waiting.pop(tracking_id, None) is None:
        return (int(ScError.INVALID_ITEM_TRACKING_ID),
                f"no event with tracking id {tracking_id!r} is waiting for "
                "NotifyEventHandlingFinished")
    s.out.append(CancelTimer(s.notify_key(tracking_id)))
    return 0, ""


def release_logged_in(s: AgentSession, now: float) -> None:
    """ReleaseISCServiceInstance of a signed-in agent: ForceLogout first when the driver
    says so (and the GC can hear it), then as ``release``."""
    if s.driver.force_logout_on_release and s.ctx.gc_available:
        s.send([("ForceLogout", s.encode("ForceLogout", {}, now, "Release"))], "0",
               "ReleaseISCServiceInstance")
    release(s, now)


def release(s: AgentSession, now: float) -> None:
    """ReleaseISCServiceInstance: timers cancelled, the agent id freed, no callback after
    this."""
    resync.take_held(s)
    for p in s.pending:
        s.out.append(CancelTimer(s.command_key(p.seq)))
    for tid in s.notify_waiting:
        s.out.append(CancelTimer(s.notify_key(tid)))
    s.pending.clear()
    s.notify_waiting.clear()
    if s.agent_id:
        s.ctx.release_agent(s.agent_id, s)
    s.released = True
    s.flush()


def link_lost(s: AgentSession, status_key: str, now: float) -> Phase | None:
    to: Phase | None = None
    resync.abandon(s)
    for p in list(s.pending):
        s.pending.remove(p)
        if _quiet(s, p):
            continue
        to = s.report(p, s.t("error.network", Command=p.command)) or to
    s.cb(HandleEvent(s.handle, name="EventLinkDisconnected", fields=s.base_fields(now),
         notify_when_done=False, tracking_id=""))
    s.cb(ShowStatusText(s.handle, text=s.t(status_key)))
    return to


def link_back(s: AgentSession, now: float) -> None:
    s.cb(HandleEvent(s.handle, name="EventLinkConnected", fields=s.base_fields(now),
         notify_when_done=False, tracking_id=""))
    s.cb(ShowStatusText(s.handle, text=s.t("status.link_up")))
    if s.phase is Phase.LOGGED_OUT and not s.recovering:  # a restarted gateway's agent?
        recover.probe(s, now)


def link_back_resync(s: AgentSession, now: float) -> Phase | None:
    """The GC is back while an agent is signed in: sign in again and keep the calls as
    work items until the GC says otherwise; commands meanwhile are held
    (``core/resync.py``)."""
    link_back(s, now)
    if s.credential is None:
        return None
    resync.start(s, now)
    return None
