"""The agent service as a state machine: one table says which rule handles each input in
each phase, and which phases the rule may leave the service in.  An input with no entry is
refused (device commands, with today's code and text) or ignored (GC events that do not
concern the phase), decided here and nowhere else.

    TRANSITIONS[(phase, input)] = Rule(handler, may_lead_to)

``input`` is a device command name (``"LogIn"``, ``"HoldCall"``...; the InvokeCommand
``name``) or an ``Input`` member for everything else.  Handlers live in ``commands.py``,
``events.py``, ``lifecycle.py``, ``resync.py``, ``failover.py`` and ``recover.py``; each is
a pure function ``handler(state, *input, env) -> Outcome`` (``step.py``): it reads the frozen
``SessionState`` and returns the new one with the effects, and changes nothing else.
``_run`` runs the rule and ``_apply`` -- the only place an outcome reaches a session --
checks the outcome's phase against the row, then stores the state and queues the effects
(``AgentSession.apply``).
A phase its row does not list is a defect in the table or the handler: it is logged as an
error (tests fail on it), never silently accepted.

To add a rule: write the handler beside its kind, add its row(s) here, and run
``tests/core`` (the table is rendered into docs/architecture.md and checked there).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from ..gc.codec import GcEvent
from . import commands as c
from . import events as ev
from . import failover as fo
from . import lifecycle as lc
from . import recover, resync
from .agent import AgentSession
from .effects import Key, Log
from .reattach import resync_service
from .scs_messages import HandleError, ShowStatusText
from .scs_wire import ScError
from .state import Phase, Refused
from .step import Outcome, Step
from .vocabulary import COMMANDS

__all__ = ["TRANSITIONS", "UCCE_ONLY", "Input", "Rule", "gc_event", "gc_switch", "gc_system",
           "invoke", "link_back", "link_lost", "notify_finished", "publish_failed", "release",
           "render_table", "resumed", "service_created", "timer"]


class Input(enum.Enum):
    """Inputs of a service other than device commands."""

    STATE = "GC State"
    ERROR = "GC Error"
    AGENT_INFO = "GC AgentInfo"
    REASON_CODES = "GC ReasonCodes"
    CALL_EVENT = "GC call event"
    SERVICE = "GC IN_SERVICE/OUT_OF_SERVICE"
    LINK_LOST = "GC unavailable"
    LINK_BACK = "GC available"
    COMMAND_TIMEOUT = "command timer"
    NOTIFY_TIMEOUT = "notify timer"
    HELD_TIMEOUT = "held command timer"
    PUBLISH_FAILED = "publish failed"
    NOTIFY_FINISHED = "NotifyEventHandlingFinished"
    RELEASE = "ReleaseISCServiceInstance"
    GC_SWITCH = "GC switch-over"


_AGENT_INPUT = {"State": Input.STATE, "Error": Input.ERROR, "AgentInfo": Input.AGENT_INFO,
                "ReasonCodes": Input.REASON_CODES}
#: Device commands only UCCE has (refused on UCCX before the phase is looked at).
UCCE_ONLY = frozenset({"ChangeWorkReadyState", "TransferMute"})

Handler = Callable[..., Outcome]


@dataclass(frozen=True)
class Rule:
    handler: Handler
    may_lead_to: frozenset[Phase]


OUT, AWAIT, LOGGING, IN = (Phase.LOGGED_OUT, Phase.AWAIT_SERVICE, Phase.LOGGING_IN,
                           Phase.LOGGED_IN)
ALL = (OUT, AWAIT, LOGGING, IN)
#: "may lead to" shorthands: the phase the rule ran in; that or LOGGED_OUT (a failed
#: sign-in falls back to LOGGED_OUT, a failed resync keeps its phase).
STAY: tuple[Phase, ...] = ()
STAY_OR_OUT = (OUT,)

#: (phases, input, handler, phases it may lead to); read as the table of the module text.
_ROWS: tuple[tuple[tuple[Phase, ...], str | Input, Handler, tuple[Phase, ...]], ...] = (
    # -- device commands ------------------------------------------------------------------
    ((OUT,), "LogIn", c.log_in, (AWAIT, OUT)),
    ((IN,), "LogIn", recover.log_in_taken_over, (IN,)),
    ((IN,), "LogOut", c.log_out, (IN,)),
    ((IN,), "ChangeReadyState", c.ready, (IN,)),
    ((IN,), "ChangeNotReadyState", c.not_ready, (IN,)),
    ((IN,), "ChangeWorkReadyState", c.work_ready, (IN,)),
    ((IN,), "SetWrapUpReason", c.wrap_up_reason, (IN,)),
    ((IN,), "MakeCall", c.make_call, (IN,)),
    ((IN,), "AnswerCall", c.answer, (IN,)),
    ((IN,), "ReleaseCall", c.release, (IN,)),
    ((IN,), "HoldCall", c.hold, (IN,)),
    ((IN,), "RetrieveCall", c.retrieve, (IN,)),
    ((IN,), "UnHoldCall", c.retrieve, (IN,)),
    ((IN,), "TransferInit", c.consult, (IN,)),
    ((IN,), "ConferenceInit", c.consult, (IN,)),
    ((IN,), "TransferComplete", c.complete, (IN,)),
    ((IN,), "ConferenceComplete", c.complete, (IN,)),
    ((IN,), "TransferMute", c.blind_transfer, (IN,)),
    ((IN,), "SendDTMF", c.dtmf, (IN,)),
    ((IN,), "SetCurrentWorkItem", c.switch, (IN,)),
    # -- GC events for this agent (already matched to the command they answer) -------------
    ((AWAIT,), Input.SERVICE, ev.on_service, (LOGGING, OUT)),
    ((OUT,), Input.STATE, ev.on_state, (OUT, IN, AWAIT)),
    ((AWAIT,), Input.STATE, ev.on_state, (AWAIT, OUT)),
    ((LOGGING,), Input.STATE, ev.on_state, (LOGGING, IN, OUT)),
    ((IN,), Input.STATE, ev.on_state, (IN, OUT)),
    ((OUT,), Input.ERROR, ev.on_error, (OUT, AWAIT)),
    ((IN,), Input.ERROR, ev.on_error, STAY),
    ((AWAIT, LOGGING), Input.ERROR, ev.on_error, STAY_OR_OUT),
    (ALL, Input.AGENT_INFO, ev.on_agent_info, STAY),
    (ALL, Input.REASON_CODES, ev.on_reason_codes, STAY),
    ((LOGGING, IN), Input.CALL_EVENT, ev.on_call_event, STAY),
    # -- the link, timers, the service's end ------------------------------------------------
    ((OUT, IN), Input.LINK_LOST, lc.link_lost, STAY),
    ((AWAIT, LOGGING), Input.LINK_LOST, lc.link_lost, STAY_OR_OUT),
    ((OUT, AWAIT, LOGGING), Input.LINK_BACK, lc.link_back, STAY),
    ((IN,), Input.LINK_BACK, lc.link_back_resync, (IN,)),
    ((OUT,), Input.COMMAND_TIMEOUT, lc.command_timeout, (OUT, AWAIT)),
    ((IN,), Input.COMMAND_TIMEOUT, lc.command_timeout, STAY),
    ((AWAIT, LOGGING), Input.COMMAND_TIMEOUT, lc.command_timeout, STAY_OR_OUT),
    ((OUT, IN), Input.PUBLISH_FAILED, lc.publish_failed, STAY),
    ((AWAIT, LOGGING), Input.PUBLISH_FAILED, lc.publish_failed, STAY_OR_OUT),
    (ALL, Input.NOTIFY_TIMEOUT, lc.notify_timeout, STAY),
    (ALL, Input.HELD_TIMEOUT, resync.held_timeout, STAY),
    (ALL, Input.NOTIFY_FINISHED, lc.notify_finished, STAY),
    ((OUT, AWAIT, LOGGING), Input.RELEASE, lc.release, STAY),
    ((IN,), Input.RELEASE, lc.release_logged_in, STAY),
    # -- duplex GC: the agent's GC failed, another is in service ---------------------------
    ((OUT,), Input.GC_SWITCH, fo.switch_idle, STAY),
    ((AWAIT, LOGGING), Input.GC_SWITCH, fo.switch_signing_in, (AWAIT, LOGGING)),
    ((IN,), Input.GC_SWITCH, fo.switch_logged_in, (IN, LOGGING)),
)


def _table(rows: Iterable[tuple[tuple[Phase, ...], str | Input, Handler, tuple[Phase, ...]]]
           ) -> Mapping[tuple[Phase, str | Input], Rule]:
    table: dict[tuple[Phase, str | Input], Rule] = {}
    for phases, what, handler, to in rows:
        for phase in phases:
            if (phase, what) in table:
                raise ValueError(f"two rules for {what} in phase {phase.name}")
            # STAY / STAY_OR_OUT: the phase of the row itself is allowed too
            allowed = frozenset(to) | ({phase} if to in (STAY, STAY_OR_OUT) else set())
            table[phase, what] = Rule(handler, allowed)
    return MappingProxyType(table)


TRANSITIONS = _table(_ROWS)


def _run(s: AgentSession, what: str | Input, *args: Any) -> Outcome | None:
    """The rule for ``what`` in the current phase, its outcome applied to ``s``; ``None``
    when the table has no rule."""
    rule = TRANSITIONS.get((s.st.phase, what))
    if rule is None:
        return None
    outcome: Outcome = rule.handler(s.st, *args, s.env)
    _apply(s, outcome, rule, what)
    return outcome


def _apply(s: AgentSession, outcome: Outcome, rule: Rule | None = None,
           what: str | Input = "") -> None:
    """THE place a rule's outcome reaches a session: its phase checked against the row
    (``rule``; None for the few steps outside the table: matching an event to its
    command, holding a command, a new or resumed service), then stored (state, agent
    registry, effects and callbacks queued for this input)."""
    s.apply(outcome)
    phase = outcome.state.phase
    if rule is not None and phase not in rule.may_lead_to:
        s.out.append(Log("error", "defect: {input} left the service in phase {phase}, which "
                         "its rule does not allow ({allowed})",
                         {"service": s.handle, "agent": s.agent_id, "input": str(what),
                          "phase": phase.name, "allowed": ", ".join(
                              sorted(p.name for p in rule.may_lead_to))}))


# -- device commands --------------------------------------------------------------------------

def _refusal(s: AgentSession, name: str) -> Refused | None:
    """Why ``name`` cannot run now, before any handler looks at it (the one place)."""
    if name not in COMMANDS:
        return Refused(ScError.CMD_NOT_SUPPORTED, "error.not_supported")
    if not s.env.gc_available:
        return Refused(ScError.NETWORK_ERROR, "error.network")
    if name in UCCE_ONLY and not s.driver.ucce:
        return Refused(ScError.CMD_NOT_SUPPORTED, "error.not_on_flavour", Flavour="UCCX")
    if (s.phase, name) in TRANSITIONS:
        return None
    if s.phase in (AWAIT, LOGGING):  # (LogIn while signed in: recover.log_in_taken_over)
        return Refused(ScError.ERROR, "error.logging_in")
    return Refused(ScError.ERROR, "error.not_logged_in")


def invoke(s: AgentSession, cmd_track_id: str, name: str, string_param: str,  # noqa: PLR0917
           params: Iterable[tuple[str, str]], now: float) -> tuple[int, str]:
    """One device command: ``(0, "")`` when sent, else the SCAPI code and the text."""
    try:
        refused = _refusal(s, name)
        if refused is not None:
            raise refused
        if s.st.resyncing and s.phase is Phase.LOGGED_IN and name != "LogIn":
            # run when the resync answers (a LogIn is refused now: machine row)
            _apply(s, resync.hold(s.st, cmd_track_id, name, string_param, tuple(params), now,
                                s.env))
            return 0, ""
        _run(s, name, c.Cmd(cmd_track_id, name, string_param.strip(), c.params(params), now))
    except Refused as exc:
        return int(exc.code), s.t(exc.key, **{"Command": name, **exc.values})
    return 0, ""


# -- GC events ----------------------------------------------------------------------------------

def _resolve(s: AgentSession, event: str) -> None:
    """Match the event to the command it answers (``SessionState.answered``)."""
    st = s.st
    if st.answered is None and not any(event in p.expects for p in st.pending):
        return  # nothing to match (the common case of an unsolicited event)
    _apply(s, Step(s.st, s.env).resolve(event).done())


def gc_event(s: AgentSession, e: GcEvent, now: float) -> None:
    """A GC event for this agent (any other name than the four is a call event)."""
    what = _AGENT_INPUT.get(e.name, Input.CALL_EVENT)
    if what is not Input.ERROR:
        _resolve(s, e.name)
    if (s.phase, what) in TRANSITIONS:
        _run(s, what, e, now)
        if s.st.held and not s.st.resyncing and s.phase is Phase.LOGGED_IN:
            step, held = resync.take_held(Step(s.st, s.env))
            _apply(s, step.done())
            for h in held:  # the resync answered: held commands run now
                code, text = invoke(s, h.cmd_track_id, h.command, h.string_param, h.params,
                                    now)
                if code:
                    _apply(s, Step(s.st, s.env).cb(HandleError(
                        s.handle, cmd_track_id=h.cmd_track_id, error=text)).done())
    elif what is Input.CALL_EVENT:
        s.out.append(Log("info", "call event {event} for an agent not logged in: ignored",
                         {"service": s.handle, "agent": s.agent_id, "event": e.name}))


def gc_system(s: AgentSession, e: GcEvent, now: float) -> None:
    """A system event (IN_SERVICE/OUT_OF_SERVICE), given to every service."""
    _resolve(s, e.name)
    _run(s, Input.SERVICE, e, now)


# -- the rest -------------------------------------------------------------------------------------

def link_lost(s: AgentSession, status_key: str, now: float) -> None:
    _run(s, Input.LINK_LOST, status_key, now)


def link_back(s: AgentSession, now: float) -> None:
    _run(s, Input.LINK_BACK, now)


def gc_switch(s: AgentSession, source: str, target: str, now: float) -> None:
    """The agent's GC failed; it is placed on GC ``target`` (queue names, for texts)."""
    _run(s, Input.GC_SWITCH, source, target, now)


def timer(s: AgentSession, key: Key, now: float) -> None:
    if key.kind == "cmd":
        _run(s, Input.COMMAND_TIMEOUT, key, now)
    elif key.kind == "notify":
        _run(s, Input.NOTIFY_TIMEOUT, key, now)
    elif key.kind == resync.HELD:
        _run(s, Input.HELD_TIMEOUT, key, now)


def publish_failed(s: AgentSession, ref: Key, why: str) -> None:
    _run(s, Input.PUBLISH_FAILED, ref, why)


def notify_finished(s: AgentSession, tracking_id: str) -> tuple[int, str]:
    outcome = _run(s, Input.NOTIFY_FINISHED, tracking_id)
    assert outcome is not None and outcome.reply is not None  # a row in every phase
    return outcome.reply


def release(s: AgentSession, now: float) -> None:
    _run(s, Input.RELEASE, now)


def service_created(s: AgentSession, now: float) -> None:
    """A new service (RequestService): a restarted gateway's agent is asked for
    (``recover.probe``), the toolbar is sent, and that the GC is away if it is."""
    _apply(s, recover.probe(Step(s.st, s.env), now).done())
    s.refresh_toolbar()
    if not s.env.gc_available:
        _apply(s, Step(s.st, s.env).cb(ShowStatusText(
            s.handle, text=s.t("status.gc_out_of_service"))).done())


def resumed(s: AgentSession, now: float) -> None:
    """The service's driver was resumed on a new connection (``reattach.resync_service``)."""
    _apply(s, resync_service(s.st, now, s.env))


# -- for the docs ----------------------------------------------------------------------

def render_table() -> str:
    """The table as Markdown rows (docs/architecture.md holds this text; a test checks)."""
    lines = ["| phase | input | handler | may lead to |", "|---|---|---|---|"]
    for phases, what, handler, to in _ROWS:
        shown = what.value if isinstance(what, Input) else what
        where = "any" if phases == ALL else ", ".join(p.name for p in phases)
        leads = {STAY: "(same)", STAY_OR_OUT: "(same), LOGGED_OUT"}.get(
            to, ", ".join(p.name for p in to))
        lines.append(f"| {where} | {shown} | "
                     f"`{handler.__module__.rsplit('.', 1)[1]}.{handler.__name__}` | {leads} |")
    return "\n".join(lines) + "\n"
