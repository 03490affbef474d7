"""Sign-in admission: agents' logins reach the GC at the rate it answers them (issue 14).

Why (measured, docs/performance.md): a storm hands every LogIn to the GC at once, so the
k-th agent's Login waits behind k-1 others at the GC while its ``CommandTimeoutSeconds``
timer (10 s) runs in the gateway.  On the shared 2-core machine the GC answered ~150-200
logins/s: in a 10,000-agent storm the agents past the first ~1,000-2,000 all timed out
together ("GC did not answer Login within 10.0 s").

So at most ``window`` sign-ins are *in flight* (``[GenericConnector] SignInWindow``).  A
sign-in starts with the GC commands the core sends for an SCS ``LogIn`` (the agent's
Hello) and lasts while its owner (the agent service) has a GC command awaiting an answer:
Hello, then Login (with Connect), then the three reason lists.  ``RequestService`` naming
an agent counts too: the core asks the GC whether that agent is still signed in
(core/recover.py: Connect + GetState); 5,000 of those at once made the GC answer GetState
after 10 s and a late answer then overtook the agent's login (docs/performance.md); and
whatever the input, a GC command of ``SIGN_IN_COMMANDS`` from an owner not signing in
starts a sign-in: when the GC becomes available every service sends that probe at once
(10,000 Connect + GetState in one batch), and after a broker failover every agent resyncs.
The commands of a sign-in beyond the window are *held* here, in arrival order, with their
timers: the core is untouched and has already answered the LogIn (code 0, "logging in");
when a slot frees,
the oldest held sign-in's commands go to the broker and its timers start then, so every
GC command still gets its full ``CommandTimeoutSeconds`` at the GC.

* What the core says meanwhile about a held owner (a cancelled timer: LogOut, the SCS
  connection lost) is applied to what is held: a command whose timer the core cancelled is
  never sent, nor, once no timed command is left, the untimed sign-in commands held with
  it (the Connect of a probe or a resync: it would bind the agent, or carry its password,
  for a sign-in that is over).
* A sign-in held longer than ``queue_seconds`` (``SignInQueueSeconds``) is refused as
  busy: the core hears ``publish_failed`` with ``effects.GATEWAY_BUSY``, so the agent is
  told the gateway is busy (not that the switch cannot be reached).
* A sign-in in flight longer than ``4 x CommandTimeoutSeconds`` (its answers lost without
  the core cancelling: a service released meanwhile) gives its slot back.
* One log line when sign-ins start to wait, one when none is waiting any more.

Only effects pass through here; a trace records the core's own effects (before this).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from twisted.logger import Logger

from ..core.effects import GATEWAY_BUSY, CancelTimer, Effect, Key, Publish, StartTimer
from ..ports import Clock, DelayedCall

__all__ = ["SIGN_IN_COMMANDS", "SignInAdmission"]

log = Logger(namespace="siebel_gateway")

_SWEEP = 1.0


@dataclass
class _SignIn:
    since: float
    keys: set[Key] = field(default_factory=set)  # GC commands awaiting their answer
    held: list[Effect] = field(default_factory=list)
    cancelled: bool = False  # the core gave up a held command of this sign-in


#: GC commands that start a sign-in whatever input they answer: the restart probe that
#: every service sends when the GC becomes available (Connect + GetState, core/recover.py),
#: a signed-in agent's resync after the link returns (Connect, Login or GetState).
SIGN_IN_COMMANDS = frozenset({"Hello", "Connect", "Login", "GetState"})


def _kind(e: Publish) -> str:
    return e.message.headers.get("type", "").split("#", 1)[0]


def _signs_in(effects: list[Effect], i: int) -> bool:
    """Effect ``i`` sends (or times) a command of SIGN_IN_COMMANDS."""
    e = effects[i]
    if isinstance(e, StartTimer) and i + 1 < len(effects):
        e = effects[i + 1]  # a command's timer comes right before its Publish
    return isinstance(e, Publish) and _kind(e) in SIGN_IN_COMMANDS


def _later(e: Effect, waited: float) -> Effect:
    """A held command's ``expires`` (CommandExpirySeconds, stamped when the core made it)
    moved on by the time it waited here: its life counts from when it is sent.  Without
    this, sign-ins held past 30 s reached the broker already expired and were dropped
    unseen: the GC never answered them (10,000-agent storm: 4,750 in, then a stall)."""
    expires = e.message.headers.get("expires", "") if isinstance(e, Publish) else ""
    if not expires.isdigit() or waited <= 0:
        return e
    assert isinstance(e, Publish)
    moved = str(int(expires) + int(waited * 1000))
    return replace(e, message=replace(e.message,
                                      headers={**e.message.headers, "expires": moved}))


def _owner(e: Effect) -> str | None:
    """The agent service a GC command (or its timer) belongs to, if any."""
    key = e.ref if isinstance(e, Publish) else (
        e.key if isinstance(e, StartTimer | CancelTimer) else None)
    if key is None or key.owner == "gateway" or key.kind != "cmd":
        return None
    return key.owner


def _left(sign_in: _SignIn) -> list[Effect]:
    """What a held sign-in with no timed command left still sends: all of it, unless the
    core gave its timed commands up (LogOut, release, a refused resync): then its untimed
    sign-in commands go too (a probe's or a resync's Connect, which for a resync carries
    the agent's password), and only the rest (e.g. a release's ForceLogout) is sent."""
    if not sign_in.cancelled:
        return sign_in.held
    return [h for h in sign_in.held
            if not (isinstance(h, Publish) and _kind(h) in SIGN_IN_COMMANDS)]


class SignInAdmission:
    def __init__(self, clock: Clock, *, window: int, queue_seconds: float,
                 command_timeout: float) -> None:
        if window < 1:
            raise ValueError("the sign-in window needs room for at least one sign-in")
        self.clock, self.window, self.queue_seconds = clock, window, queue_seconds
        self.max_flight = 4 * command_timeout
        self.flight: dict[str, _SignIn] = {}
        self.waiting: OrderedDict[str, _SignIn] = OrderedDict()
        #: Told a held sign-in's refusal: ``(ref, why)`` -> the core's ``publish_failed``.
        self.refuse: Callable[[Key, str], None] = lambda ref, why: None
        #: Carries out effects released outside ``filter`` (by the sweep).
        self.run: Callable[[list[Effect]], None] = lambda effects: None
        self.counters = {"admitted": 0, "held": 0, "refused_busy": 0}
        self._sweeper: DelayedCall | None = None
        self._touched: set[str] = set()  # owners whose sign-in may have ended

    @property
    def depth(self) -> int:
        """Sign-ins waiting for a slot."""
        return len(self.waiting)

    def filter(self, effects: list[Effect], *, login: bool = False) -> list[Effect]:
        """The effects to carry out now, in order.  A sign-in starts with an agent's GC
        command of ``SIGN_IN_COMMANDS`` (a LogIn's Hello, RequestService's Connect +
        GetState); ``login``: any first GC command of an owner starts one."""
        out: list[Effect] = []
        for i, e in enumerate(effects):
            owner = _owner(e)
            if owner is None:
                out.append(e)
            elif owner in self.waiting:
                if not self._hold(self.waiting[owner], e):
                    out.append(e)
            elif owner in self.flight:
                self._track(self.flight[owner], e)
                out.append(e)
            elif (login or _signs_in(effects, i)) and isinstance(e, StartTimer | Publish):
                sign_in = _SignIn(self.clock.seconds())  # (Connect has no timer)
                self._touched.add(owner)  # one with no timer at all ends with this batch
                if len(self.flight) < self.window:
                    self.flight[owner] = sign_in
                    self.counters["admitted"] += 1
                    self._track(sign_in, e)
                    out.append(e)
                else:
                    if not self.waiting:
                        log.info("sign-ins wait for the GC: {window} in flight",
                                 window=self.window)
                    self.waiting[owner] = sign_in
                    self.counters["held"] += 1
                    sign_in.held.append(e)
                    self._sweep_later()
            else:
                out.append(e)
        self._admit(out)
        return out

    # -- bookkeeping ---------------------------------------------------------------------

    def _track(self, sign_in: _SignIn, e: Effect) -> None:
        if isinstance(e, StartTimer):
            sign_in.keys.add(e.key)
        elif isinstance(e, CancelTimer):
            sign_in.keys.discard(e.key)
            if not sign_in.keys:
                self._touched.add(e.key.owner)

    def _hold(self, sign_in: _SignIn, e: Effect) -> bool:
        """Hold ``e`` (True), or say it must be carried out now (False: it cancels the
        timer of a command sent before the sign-in began to wait)."""
        if isinstance(e, CancelTimer):  # the core gave that command up: never send it
            before = len(sign_in.held)
            sign_in.held = [h for h in sign_in.held
                            if not ((isinstance(h, StartTimer) and h.key == e.key)
                                    or (isinstance(h, Publish) and h.ref == e.key))]
            if len(sign_in.held) == before:
                return False
            sign_in.cancelled = True
            self._touched.add(e.key.owner)
            return True
        sign_in.held.append(e)
        return True

    def _admit(self, out: list[Effect]) -> None:
        # Only the owners this batch touched can have finished (a full scan per batch made
        # a 1,000-agent storm quadratic: 4x the gateway's CPU).
        touched, self._touched = self._touched, set()
        for owner in touched:
            flying = self.flight.get(owner)
            if flying is not None and not flying.keys:
                del self.flight[owner]
            waiting = self.waiting.get(owner)
            if waiting is not None and not any(isinstance(h, StartTimer)
                                               for h in waiting.held):
                out.extend(_left(self.waiting.pop(owner)))  # nothing left to wait for
        while self.waiting and len(self.flight) < self.window:
            owner, sign_in = self.waiting.popitem(last=False)
            waited, sign_in.since = self.clock.seconds() - sign_in.since, self.clock.seconds()
            self.flight[owner] = sign_in
            self.counters["admitted"] += 1
            for e in sign_in.held:
                self._track(sign_in, e)
            out.extend(_later(e, waited) for e in sign_in.held)
            sign_in.held = []
            if not self.waiting:
                log.info("sign-ins wait no more")

    def _sweep_later(self) -> None:
        if self._sweeper is None or not self._sweeper.active():
            self._sweeper = self.clock.callLater(_SWEEP, self._sweep)

    def _sweep(self) -> None:
        self._sweeper = None
        now = self.clock.seconds()
        for owner in [o for o, s in self.flight.items() if now - s.since > self.max_flight]:
            del self.flight[owner]
        refused: list[Key] = []
        for owner in [o for o, s in self.waiting.items()
                      if now - s.since > self.queue_seconds]:
            sign_in = self.waiting.pop(owner)
            self.counters["refused_busy"] += 1
            refused.extend(h.key for h in sign_in.held if isinstance(h, StartTimer))
        released: list[Effect] = []
        self._admit(released)
        if released:
            self.run(released)
        for ref in refused:
            self.refuse(ref, f"{GATEWAY_BUSY}sign-in waited {self.queue_seconds:g} s for "
                             f"the GC ({self.window} sign-ins in flight)")
        if self.waiting or self.flight:
            self._sweep_later()
