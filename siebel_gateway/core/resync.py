"""Resync without a gap (issue 15 item 3): after an outage (broker reconnect, GC back in
service) a signed-in agent is signed in again while the gateway keeps what it knew.

* The calls stay work items with their tracking ids and start times; nothing is cleared.
  Once the GC answers the sign-in (its first State), the agent's state event is sent
  again even when nothing changed (``events.on_state``), and each known call is asked about
  (``GetDialogState``): a ``DialogStatus`` confirms or updates it, an ``Error`` means the
  GC no longer has it and it is released then (``events.on_error``).
* Device commands that arrive before that answer are held (answered 0 at once), and run
  in order when it comes; a held command still waiting ``CommandTimeoutSeconds`` later,
  or when the resync fails, is refused with ``HandleError`` (code 6's text).
"""

from __future__ import annotations

from .agent import AgentSession, Held
from .effects import CancelTimer, Key, StartTimer
from .scs_messages import HandleError

__all__ = ["HELD", "PROBE", "abandon", "held_timeout", "hold", "probe_calls", "start",
           "take_held"]

#: Timer kind of a held command: ``Key(service, HELD, n)``.
HELD = "held"
#: ``cmdTrackId`` prefix of the GetDialogState asking about a call after a resync.
PROBE = "resync:"


def start(s: AgentSession, now: float) -> None:
    """The GC is back: sign in again (Finesse keeps the state on a forced sign-in)."""
    s.resyncing = True
    s.connect_and_login(now, "0")


def hold(s: AgentSession, cmd_track_id: str, name: str, string_param: str,  # noqa: PLR0917
         params: tuple[tuple[str, str], ...], now: float) -> tuple[int, str]:
    s.held_seq += 1
    s.held.append(Held(s.held_seq, cmd_track_id, name, string_param, params))
    s.out.append(StartTimer(Key(s.handle, HELD, str(s.held_seq)), s.ctx.command_timeout))
    s.log("info", "{command} held until the resync with the GC answers", command=name)
    return 0, ""


def take_held(s: AgentSession) -> list[Held]:
    """The held commands, to run now (the resync answered); their timers cancelled."""
    held, s.held = s.held, []
    for h in held:
        s.out.append(CancelTimer(Key(s.handle, HELD, str(h.seq))))
    return held


def probe_calls(s: AgentSession, now: float) -> None:
    """Ask the GC about every call the gateway knows (after the resync's State)."""
    for tid in list(s.calls.calls):
        s.send([("GetDialogState", s.encode("GetDialogState", {"DialogId": tid}, now,
                                            "resync"))], PROBE + tid, "resync")


def _refuse(s: AgentSession, h: Held) -> None:
    s.cb(HandleError(s.handle, cmd_track_id=h.cmd_track_id,
                     error=s.t("error.network", Command=h.command)))


def held_timeout(s: AgentSession, key: Key, now: float) -> None:
    h = next((h for h in s.held if str(h.seq) == key.id), None)
    if h is None:
        return
    s.held.remove(h)
    s.log("warn", "{command} was held {seconds:g} s and the resync did not answer",
          command=h.command, seconds=s.ctx.command_timeout)
    _refuse(s, h)


def abandon(s: AgentSession) -> None:
    """The resync failed or the GC went away again: held commands are refused now."""
    for h in take_held(s):
        _refuse(s, h)
