"""Resync without a gap (issue 15 item 3): after an outage (broker reconnect, GC back in
service) a signed-in agent is signed in again while the gateway keeps what it knew.

* The calls stay work items with their tracking ids and start times; nothing is cleared.
  Once the GC answers the sign-in (its first State), the agent's state event is sent
  again even when nothing changed (``events.on_state``), and each known call is asked about
  (``GetDialogState``): a ``DialogStatus`` confirms or updates it, an ``Error`` means the
  GC no longer has it and it is released then (``events.on_error``).
* Device commands that arrive before that answer are held (answered 0 at once), and run
  in order when it comes; a held command still waiting ``CommandTimeoutSeconds`` later,
  or when the resync fails, is refused with ``HandleError`` (code 6's text; when the
  resync's Login was not sent, the reason it was not: ``broker_refusal.agent_text``).
  A failed resync ends the window: later commands go to the GC as usual.
"""

from __future__ import annotations

from collections.abc import Mapping

from .effects import CancelTimer, Key, StartTimer
from .scs_messages import HandleError
from .state import Env, Held, SessionState
from .step import Outcome, Step

__all__ = ["HELD", "PROBE", "abandon", "held_timeout", "hold", "probe_calls", "start",
           "take_held"]

#: Timer kind of a held command: ``Key(service, HELD, n)``.
HELD = "held"
#: ``cmdTrackId`` prefix of the GetDialogState asking about a call after a resync.
PROBE = "resync:"


def start(s: Step, now: float) -> Step:
    """The GC is back: sign in again (Finesse keeps the state on a forced sign-in)."""
    return s.set(resyncing=True).connect_and_login(now, "0")


def hold(st: SessionState, cmd_track_id: str, name: str, string_param: str,  # noqa: PLR0917
         params: tuple[tuple[str, str], ...], now: float, env: Env) -> Outcome:
    """A device command during a resync: kept, answered 0 now, run when the GC answers."""
    seq = st.held_seq + 1
    s = Step(st, env).set(held_seq=seq, held=(*st.held, Held(seq, cmd_track_id, name,
                                                              string_param, params)))
    s = s.emit(StartTimer(Key(env.handle, HELD, str(seq)), env.command_timeout))
    s = s.log("info", "{command} held until the resync with the GC answers", command=name)
    return s.done(reply=(0, ""))


def take_held(s: Step) -> tuple[Step, tuple[Held, ...]]:
    """The held commands, to run now (the resync answered); their timers cancelled."""
    held = s.st.held
    s = s.set(held=()) if held else s
    return s.emit(*(CancelTimer(Key(s.env.handle, HELD, str(h.seq))) for h in held)), held


def probe_calls(s: Step, now: float) -> Step:
    """Ask the GC about every call the gateway knows (after the resync's State)."""
    for tid in s.st.calls.calls:
        s = s.send([("GetDialogState", s.encode("GetDialogState", {"DialogId": tid}, now,
                                                "resync"))], PROBE + tid, "resync")
    return s


def _refuse(s: Step, h: Held, key: str = "error.network",
            values: Mapping[str, str] | None = None) -> Step:
    return s.cb(HandleError(s.env.handle, cmd_track_id=h.cmd_track_id,
                            error=s.t(key, Command=h.command, **(values or {}))))


def held_timeout(st: SessionState, key: Key, now: float, env: Env) -> Outcome:
    h = next((h for h in st.held if str(h.seq) == key.id), None)
    if h is None:
        return Outcome(st)
    s = Step(st, env).set(held=tuple(x for x in st.held if x is not h))
    s = s.log("warn", "{command} was held {seconds:g} s and the resync did not answer",
              command=h.command, seconds=env.command_timeout)
    return _refuse(s, h).done()


def abandon(s: Step, key: str = "error.network",
            values: Mapping[str, str] | None = None) -> Step:
    """The resync failed or the GC went away again: held commands are refused now (with
    text ``key``), and the window ends (a later command is sent, not held)."""
    s, held = take_held(s)
    for h in held:
        s = _refuse(s, h, key, values)
    return s.set(resyncing=False) if s.st.resyncing else s
