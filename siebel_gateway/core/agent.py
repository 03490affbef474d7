"""One agent service (one ``RequestService``) as the gateway holds it: ``AgentSession``.

The session is a thin holder: its handle, connection and environment (``state.Env``), the
current ``SessionState`` value (``st``), and the output of the input being handled.  The
rules never see it: they are pure functions of (state, input, env) in ``commands.py``,
``events.py``, ``lifecycle.py``... returning an ``Outcome`` (``step.py``), and
``machine._run`` stores that outcome here (``apply``).  At the end of each input ``take``
adds the toolbar (``toolbar_step``, a pure function of the old and new state) and hands
the callbacks out, batched when several.

The read-only properties (``phase``, ``state``, ``agent_id``, ``calls``...) are for the
gateway's routing and for ``views.py`` / the monitor's glue.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from ..gc.states import ON_CALL_STATES, AgentState, CallState
from .calls import CallBook
from .driver import DriverSettings
from .effects import Effect, ToScs
from .scs_messages import (
    BeginBatch,
    CacheCommandInformation,
    Callback,
    EndBatch,
    UpdateObjectInformation,
)
from .scs_wire import callback_message
from .state import (
    Env,
    Held,
    Pending,
    Phase,
    Refused,
    Secret,
    SessionContext,
    SessionState,
    iso_time,
)
from .step import Outcome
from .toolbar import Snapshot, command_statuses
from .vocabulary import DESCRIPTIONS

__all__ = ["AgentSession", "Held", "Pending", "Phase", "Refused", "Secret", "SessionContext",
           "SessionState", "iso_time", "toolbar_step"]

#: The order of ``_situation``'s tuple.
_SITUATION = ("gc_available", "logged_in", "logging_in", "ucce", "state", "pending",
              "ringing", "active", "held", "dialing", "calls", "consult_up", "consult_placed",
              "not_ready_reason_required", "logout_reason_required", "regular_active")


@functools.lru_cache(maxsize=4096)
def _statuses(situation: tuple[Any, ...]) -> tuple[tuple[str, int], ...]:
    """``command_statuses`` by the situation tuple (hashed in C, unlike the dataclass)."""
    return command_statuses(Snapshot(**dict(zip(_SITUATION, situation, strict=True))))


@functools.lru_cache(maxsize=1024)
def _toolbar_lists(statuses: tuple[tuple[str, int], ...]
                   ) -> tuple[list[str], list[str], list[int]]:
    """The three parallel lists of ``CacheCommandInformation`` (shared, never mutated)."""
    return ([n for n, _ in statuses], [DESCRIPTIONS[n] for n, _ in statuses],
            [f for _, f in statuses])


def _situation(st: SessionState, driver: DriverSettings, gc_available: bool
               ) -> tuple[Any, ...]:
    """The agent's situation as the toolbar rules see it, as a plain tuple in the order of
    ``_SITUATION`` (cheap to hash: it is looked up after every input)."""
    ringing = active = held = dialing = 0
    consult_up = consult_placed = regular_active = False
    for x in st.calls.calls.values():
        state = x.state
        if state is CallState.ALERTING:
            ringing += 1
        elif state is CallState.ACTIVE:
            active += 1
            regular_active = regular_active or not (x.placed and x.call_type == "CONSULT")
        elif state is CallState.HELD:
            held += 1
        elif state is CallState.INITIATING or state is CallState.INITIATED:
            dialing += 1
        if x.placed and x.call_type == "CONSULT":
            consult_placed = True
            consult_up = consult_up or state is CallState.ACTIVE
    phase = st.phase
    return (gc_available, phase is Phase.LOGGED_IN,
            phase is Phase.AWAIT_SERVICE or phase is Phase.LOGGING_IN, driver.ucce,
            st.state, st.pending_state, ringing, active, held, dialing,
            len(st.calls.calls), consult_up, consult_placed,
            driver.not_ready_reason_required, driver.logout_reason_required,
            regular_active)


def toolbar_step(st: SessionState, env: Env) -> tuple[SessionState, tuple[Callback, ...]]:
    """Rule 3, after every input: ``CacheCommandInformation`` when the possible commands
    differ from those last sent, ``UpdateObjectInformation`` when logged-on / not-ready /
    busy differ (pure: the new state records what was sent)."""
    out: list[Callback] = []
    statuses = _statuses(_situation(st, env.driver, env.gc_available))
    last_cache, last_object = st.last_cache, st.last_object
    # Usually the very same (cached) object; equal after an eviction from the cache.
    if statuses is not last_cache and statuses != last_cache:
        last_cache = statuses
        commands, descriptions, flags = _toolbar_lists(statuses)
        out.append(CacheCommandInformation(env.handle, commands, descriptions, flags))
    logged = st.phase is Phase.LOGGED_IN
    busy = logged and (bool(st.calls.calls) or st.state in ON_CALL_STATES)
    obj = (st.agent_id, "TRUE" if logged else "FALSE",
           "TRUE" if logged and st.state in (AgentState.NOT_READY, AgentState.WORK)
           else "FALSE",
           "TRUE" if busy else "FALSE")
    if obj != last_object and (logged or last_object is not None):
        last_object = obj
        out.append(UpdateObjectInformation(
            env.handle, "", st.extension,
            [["2", obj[0]], ["13", obj[1]], ["4", obj[2]], ["5", obj[3]]]))
    if not out:
        return st, ()
    return st.evolve(last_cache=last_cache, last_object=last_object), tuple(out)


class AgentSession:
    """The holder of one service's state value and of its output during one input."""

    __slots__ = ("_callbacks", "connection", "ctx", "env", "handle", "out", "st")

    def __init__(self, handle: str, connection: int, driver: DriverSettings,
                 service_params: Mapping[str, str], ctx: SessionContext, *,
                 command_timeout: float) -> None:
        self.handle, self.connection, self.ctx = handle, connection, ctx
        self.env = Env(handle, driver, service_params, command_timeout, ctx, self)
        self.st = SessionState()
        self.out: list[Effect] = []
        self._callbacks: list[Callback] = []

    # -- read-only views of the state ----------------------------------------------------

    @property
    def driver(self) -> DriverSettings:
        return self.env.driver

    @property
    def phase(self) -> Phase:
        return self.st.phase

    @property
    def agent_id(self) -> str:
        return self.st.agent_id

    @property
    def extension(self) -> str:
        return self.st.extension

    @property
    def state(self) -> AgentState:
        return self.st.state

    @property
    def pending_state(self) -> AgentState:
        return self.st.pending_state

    @property
    def reason_code(self) -> str:
        return self.st.reason_code

    @property
    def reason_label(self) -> str:
        return self.st.reason_label

    @property
    def calls(self) -> CallBook:
        return self.st.calls

    @property
    def pending(self) -> tuple[Pending, ...]:
        return self.st.pending

    @property
    def released(self) -> bool:
        return self.st.released

    # -- the one way a rule's outcome reaches the session ----------------------------------

    def apply(self, o: Outcome) -> None:
        """Store an outcome (``machine._run`` checks its phase first): the new state, the
        agent ids taken or given up, the effects and callbacks queued for this input."""
        self.st = o.state
        for agent_id, take in o.agents:
            if take:
                self.ctx.claim_agent(agent_id, self)
            else:
                self.ctx.release_agent(agent_id, self)
        self.out.extend(o.effects)
        self._callbacks.extend(o.callbacks)

    def t(self, key: str, **values: object) -> str:
        return self.env.t(key, **values)

    # -- the end of one input --------------------------------------------------------------

    def refresh_toolbar(self) -> None:
        self.st, toolbar = toolbar_step(self.st, self.env)
        self._callbacks.extend(toolbar)

    def flush(self) -> None:
        """End of one input: toolbar refresh, then the callbacks (batched when several)."""
        if self.st.released:
            self._callbacks.clear()
            return
        self.refresh_toolbar()
        batch, self._callbacks = self._callbacks, []
        if len(batch) > 1:
            batch = [BeginBatch(self.handle), *batch, EndBatch(self.handle)]
        connection = self.connection
        self.out.extend(ToScs(connection, callback_message(m)) for m in batch)

    def take(self) -> list[Effect]:
        self.flush()
        out, self.out = self.out, []
        return out
