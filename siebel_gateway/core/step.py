"""What a rule returns, and the output helpers every rule uses to build it.

A rule is ``(SessionState, input, Env) -> Outcome``.  While it decides, it threads a
``Step``: an immutable value holding the state so far and the output so far (effects for
the shell, callbacks for Siebel, changes to the agent registry).  Every helper returns a
new ``Step`` (``t = t.cb(...)``); nothing is appended anywhere, so a rule that raises
(``Refused``) leaves no trace, and calling a rule twice on the same arguments gives equal
outcomes.  ``done()`` closes the step: the phase a helper decided (a failed sign-in falls
back to LOGGED_OUT) is entered only then, so a rule reads its starting phase throughout.

``machine._run`` is the only place an ``Outcome`` is applied to a session.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from ..gc.codec import GcEncodeError
from .broker_messages import BrokerMessage
from .calls import Call
from .effects import CancelTimer, Effect, Key, Log, Publish, StartTimer
from .scs_messages import Callback, HandleError, HandleEvent
from .scs_wire import ScError
from .state import REPLIES, Env, Pending, Phase, Refused, SessionState, iso_time, with_item
from .vocabulary import AGENT_EVENT, NOTIFY_EVENTS

__all__ = ["Outcome", "Sends", "Step", "command_key", "notify_key"]

#: GC commands a rule decided to send, already encoded, in order.
Sends = list[tuple[str, BrokerMessage]]


class Outcome(NamedTuple):
    """A rule's result: the new state, the effects for the shell (in order), the callbacks
    for Siebel (sent at the end of the input, with the toolbar), the agent ids the session
    takes (True) or gives up (False) in the gateway's registry, and the answer of an input
    that has one (a device command, NotifyEventHandlingFinished)."""

    state: SessionState
    effects: tuple[Effect, ...] = ()
    callbacks: tuple[Callback, ...] = ()
    agents: tuple[tuple[str, bool], ...] = ()
    reply: tuple[int, str] | None = None


def command_key(handle: str, seq: int) -> Key:
    """Timer and publish reference of a service's GC command number ``seq``."""
    return Key(handle, "cmd", str(seq))


def notify_key(handle: str, tracking_id: str) -> Key:
    """Timer of an event awaiting NotifyEventHandlingFinished."""
    return Key(handle, "notify", tracking_id)


class Step(NamedTuple):
    """The state and the output of a rule so far (immutable: each method returns a new
    one).  ``to``: the phase to enter when the rule is done (None: as ``st`` says).  A
    named tuple: a rule makes one per callback or command, so it must be cheap."""

    st: SessionState
    env: Env
    effects: tuple[Effect, ...] = ()
    callbacks: tuple[Callback, ...] = ()
    agents: tuple[tuple[str, bool], ...] = ()
    to: Phase | None = None

    def done(self, reply: tuple[int, str] | None = None) -> Outcome:
        st = self.st if self.to is None else self.st.evolve(phase=self.to)
        return Outcome(st, self.effects, self.callbacks, self.agents, reply)

    # -- state and plain output ------------------------------------------------------------

    def set(self, **changes: Any) -> Step:
        return Step(self.st.evolve(**changes), self.env, self.effects, self.callbacks,
                    self.agents, self.to)

    def enter(self, phase: Phase) -> Step:
        """Enter ``phase`` when the rule is done."""
        return self._replace(to=phase)

    def emit(self, *effects: Effect) -> Step:
        return Step(self.st, self.env, self.effects + effects, self.callbacks, self.agents,
                    self.to)

    def cb(self, *callbacks: Callback) -> Step:
        """Callbacks for Siebel, sent at the end of this input (none once released)."""
        return Step(self.st, self.env, self.effects, self.callbacks + callbacks, self.agents,
                    self.to)

    def log(self, level: str, text: str, **fields: Any) -> Step:
        return self.emit(Log(level, text, {"service": self.env.handle,
                                           "agent": self.st.agent_id, **fields}))

    def claim(self, agent_id: str) -> Step:
        """The session takes ``agent_id`` (the caller asked ``env.agent_free`` first)."""
        return self._replace(agents=(*self.agents, (agent_id, True)))

    def release_agent(self) -> Step:
        """The session gives up its agent id (if it has one)."""
        if not self.st.agent_id:
            return self
        return self._replace(agents=(*self.agents, (self.st.agent_id, False)))

    def t(self, key: str, **values: object) -> str:
        return self.env.t(key, **values)

    # -- GC commands -----------------------------------------------------------------------

    def encode(self, gc_command: str, values: Mapping[str, str], now: float,
               command: str) -> BrokerMessage:
        """One GC command for this agent, encoded (``Refused`` when a value cannot be
        carried); reads only."""
        st = self.st
        try:
            return self.env.codec_for(st.agent_id).encode(
                gc_command, {"AgentId": st.agent_id, **values}, now_ms=int(now * 1000))
        except GcEncodeError as exc:
            raise Refused(ScError.ERROR, "error.bad_value", Command=command,
                          Param=exc.field or "?") from None

    def send(self, messages: Sends, cmd_track_id: str, command: str) -> Step:
        """Publish already-encoded commands in order and remember what answers them."""
        st, handle = self.st, self.env.handle
        seq, pending, untracked = st.seq, st.pending, st.untracked
        effects: list[Effect] = []
        for gc_command, message in messages:
            seq += 1
            expects = REPLIES.get(gc_command)
            ref = command_key(handle, seq)
            if expects is None:
                untracked = with_item(untracked, gc_command, (cmd_track_id, command))
            else:
                pending = (*pending, Pending(seq, gc_command, cmd_track_id, command, expects))
                effects.append(StartTimer(ref, self.env.command_timeout))
            effects.append(Publish(message, ref))
        return Step(st.evolve(seq=seq, pending=pending, untracked=untracked), self.env,
                    self.effects + tuple(effects), self.callbacks, self.agents, self.to)

    def resolve(self, event: str) -> Step:
        """Match GC event ``event`` to the first command awaiting it (``st.answered``)."""
        for p in self.st.pending:
            if event in p.expects:
                pending = tuple(x for x in self.st.pending if x is not p)
                return self.set(pending=pending, answered=p).cancel(p)
        return self.set(answered=None) if self.st.answered is not None else self

    def drop(self, p: Pending) -> Step:
        """Command ``p`` is no longer awaited (its timer is not cancelled here)."""
        return self.set(pending=tuple(x for x in self.st.pending if x is not p))

    def cancel(self, p: Pending) -> Step:
        return self.emit(CancelTimer(command_key(self.env.handle, p.seq)))

    def report(self, p: Pending, text: str) -> Step:
        """Tell the agent command ``p`` failed; a failed sign-in falls back to LOGGED_OUT
        when the rule is done."""
        t = self.cancel(p).cb(HandleError(self.env.handle, cmd_track_id=p.cmd_track_id,
                                          error=text))
        if p.gc_command in ("Hello", "Login") and t.st.phase in (Phase.AWAIT_SERVICE,
                                                                 Phase.LOGGING_IN):
            return t.login_failed()
        return t

    def connect_and_login(self, now: float, cmd_track_id: str) -> Step:
        assert self.st.credential is not None
        values = {"Password": self.st.credential.reveal(), "Extension": self.st.extension}
        messages = [("Connect", self.encode("Connect", values, now, "LogIn")),
                    ("Login", self.encode("Login", values, now, "LogIn"))]
        return self.send(messages, cmd_track_id, "LogIn")

    def login_failed(self) -> Step:
        """A sign-in failed: LOGGED_OUT (agent id freed) -- unless it was a resync, which
        keeps the phase it has."""
        if self.st.resyncing:
            return self.set(resyncing=False)
        return self.release_agent().set(credential=None).enter(Phase.LOGGED_OUT)

    # -- events for Siebel -----------------------------------------------------------------

    def base_fields(self, now: float) -> list[list[str]]:
        return [["AgentId", self.st.agent_id], ["Extension", self.st.extension],
                ["Timestamp", iso_time(now)]]

    def agent_fields(self, now: float) -> list[list[str]]:
        st = self.st
        return [*self.base_fields(now), ["AgentState", st.state],
                ["PendingState", st.pending_state], ["ReasonCode", st.reason_code],
                ["ReasonLabel", st.reason_label]]

    def event(self, name: str, fields: list[list[str]], tracking_id: str = "") -> Step:
        env = self.env
        notify = env.driver.notify_when_done and name in NOTIFY_EVENTS and bool(tracking_id)
        t = self
        if notify:
            t = t.set(notify_waiting=with_item(t.st.notify_waiting, tracking_id, name)).emit(
                StartTimer(notify_key(env.handle, tracking_id), env.driver.notify_timeout))
        return t.cb(HandleEvent(env.handle, name=name, fields=fields, notify_when_done=notify,
                                tracking_id=tracking_id))

    def agent_event(self, now: float) -> Step:
        name = AGENT_EVENT.get(self.st.state)
        return self if name is None else self.event(name, self.agent_fields(now))

    def find_call(self, tracking_id: str) -> Call:
        call = self.st.calls.calls.get(tracking_id)
        if call is None:
            raise Refused(ScError.INVALID_ITEM_TRACKING_ID, "error.unknown_call",
                          TrackingID=tracking_id)
        return call
