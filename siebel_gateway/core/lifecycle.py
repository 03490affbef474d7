"""The inputs of a service that are neither device commands nor GC agent events: timers,
failed publishes, NotifyEventHandlingFinished, the release of the service, and the GC
becoming unavailable or available again.  ``machine.py`` says in which phase each runs.
Each is pure: ``(SessionState, input..., Env) -> Outcome``.
"""

from __future__ import annotations

from . import broker_refusal, recover, resync
from .effects import CancelTimer, Key
from .scs_messages import HandleEvent, ShowStatusText
from .scs_wire import ScError
from .state import EMPTY, Env, Pending, Phase, SessionState, without
from .step import Outcome, Step, command_key, notify_key

__all__ = ["command_timeout", "link_back", "link_back_resync", "link_lost", "notify_finished",
           "notify_timeout", "publish_failed", "release", "release_logged_in"]


def _awaited(st: SessionState, key: Key) -> Pending | None:
    """The command awaiting its answer that timer or publish reference ``key`` names."""
    return next((p for p in st.pending if str(p.seq) == key.id), None)


def command_timeout(st: SessionState, key: Key, now: float, env: Env) -> Outcome:
    p = _awaited(st, key)
    if p is None:
        return Outcome(st)
    s = Step(st, env).drop(p)
    s = s.log("warn", "GC did not answer {gc_command} within {seconds} s",
              gc_command=p.gc_command, seconds=env.command_timeout)
    quiet = _quiet(s, p, now)
    if quiet is not None:
        return quiet.done()
    if p.gc_command == "Login" and s.st.resyncing:
        s = resync.abandon(s)
    return s.report(p, s.t("error.no_answer", Command=p.command,
                           Seconds=f"{env.command_timeout:g}")).done()


def _quiet(s: Step, p: Pending, now: float | None = None,
           why: tuple[str, dict[str, str]] | None = None) -> Step | None:
    """A GC question of the gateway's own (resync or restart probe) that got no answer:
    nothing for the agent to read; a call asked about stays, a restart probe gives up (a
    LogIn waiting for it goes on at ``now``, or is refused with None: ``recover.settle``,
    with text ``why`` when the probe was not sent).  None: not such a question."""
    if p.cmd_track_id.startswith(resync.PROBE):
        return s.cancel(p)
    if p.cmd_track_id.startswith(recover.RECOVER):
        s = s.cancel(p)
        if s.st.phase is Phase.LOGGED_OUT:
            s = recover.settle(s, now, why)
        return s.set(recovering=False)
    return None


def notify_timeout(st: SessionState, key: Key, now: float, env: Env) -> Outcome:
    event = st.notify_waiting.get(key.id)
    if event is None:
        return Outcome(st)
    s = Step(st, env).set(notify_waiting=without(st.notify_waiting, key.id))
    return s.log("warn", "SCS did not finish handling {event} for {tracking_id} "
                 "within {seconds} s; the call goes on", event=event,
                 tracking_id=key.id, seconds=env.driver.notify_timeout).done()


def publish_failed(st: SessionState, ref: Key, why: str, env: Env) -> Outcome:
    p = _awaited(st, ref)
    if p is None:
        return Outcome(st)
    s = Step(st, env).drop(p)
    s = s.log("warn", "GC command {gc_command} was not sent: {why}",
              gc_command=p.gc_command, why=why)
    key, values = broker_refusal.agent_text(why)
    quiet = _quiet(s, p, why=(key, values))
    if quiet is not None:
        return quiet.done()
    if p.gc_command == "Login" and s.st.resyncing:
        # the gateway's own sign-in again, not the agent's: no error for cmdTrackId "0";
        # the window ends, held commands are refused with the reason (resync.abandon)
        return resync.abandon(s.cancel(p), key, values).done()
    return s.report(p, s.t(key, Command=p.command, **values)).done()


def notify_finished(st: SessionState, tracking_id: str, env: Env) -> Outcome:
    if tracking_id not in st.notify_waiting:
        return Outcome(st, reply=(int(ScError.INVALID_ITEM_TRACKING_ID),
                                  f"no event with tracking id {tracking_id!r} is waiting for "
                                  "NotifyEventHandlingFinished"))
    s = Step(st, env).set(notify_waiting=without(st.notify_waiting, tracking_id))
    return s.emit(CancelTimer(notify_key(env.handle, tracking_id))).done(reply=(0, ""))


def release_logged_in(st: SessionState, now: float, env: Env) -> Outcome:
    """ReleaseISCServiceInstance of a signed-in agent: ForceLogout first when the driver
    says so (and the GC can hear it), then as ``release``."""
    s = Step(st, env)
    if env.driver.force_logout_on_release and env.gc_available:
        s = s.send([("ForceLogout", s.encode("ForceLogout", {}, now, "Release"))], "0",
                   "ReleaseISCServiceInstance")
    return _release(s).done()


def release(st: SessionState, now: float, env: Env) -> Outcome:
    """ReleaseISCServiceInstance: timers cancelled, the agent id freed, no callback after
    this."""
    return _release(Step(st, env)).done()


def _release(s: Step) -> Step:
    s, _ = resync.take_held(s)
    handle = s.env.handle
    s = s.emit(*(CancelTimer(command_key(handle, p.seq)) for p in s.st.pending),
               *(CancelTimer(notify_key(handle, tid)) for tid in s.st.notify_waiting))
    return s.release_agent().set(pending=(), notify_waiting=EMPTY, released=True)


def link_lost(st: SessionState, status_key: str, now: float, env: Env) -> Outcome:
    s = resync.abandon(Step(st, env))
    for p in s.st.pending:
        s = s.drop(p)
        quiet = _quiet(s, p)
        s = quiet if quiet is not None else s.report(p, s.t("error.network",
                                                            Command=p.command))
    s = s.cb(HandleEvent(env.handle, name="EventLinkDisconnected", fields=s.base_fields(now),
                         notify_when_done=False, tracking_id=""))
    return s.cb(ShowStatusText(env.handle, text=s.t(status_key))).done()


def _link_back(s: Step, now: float) -> Step:
    handle = s.env.handle
    s = s.cb(HandleEvent(handle, name="EventLinkConnected", fields=s.base_fields(now),
                         notify_when_done=False, tracking_id=""))
    s = s.cb(ShowStatusText(handle, text=s.t("status.link_up")))
    if s.st.phase is Phase.LOGGED_OUT and not s.st.recovering:  # a restarted gateway's agent?
        s = recover.probe(s, now)
    return s


def link_back(st: SessionState, now: float, env: Env) -> Outcome:
    return _link_back(Step(st, env), now).done()


def link_back_resync(st: SessionState, now: float, env: Env) -> Outcome:
    """The GC is back while an agent is signed in: sign in again and keep the calls as
    work items until the GC says otherwise; commands meanwhile are held
    (``core/resync.py``)."""
    return resync_step(Step(st, env), now).done()


def resync_step(s: Step, now: float) -> Step:
    """``link_back_resync`` as a step (the GC switch-over uses it too)."""
    s = _link_back(s, now)
    if s.st.credential is None:
        return s
    return resync.start(s, now)
