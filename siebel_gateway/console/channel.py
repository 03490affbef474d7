"""What Siebel's channel manager does with a DEF file, without any I/O.

* the driver's parameters (``Driver:`` values of the profile's driver, profile overrides on
  top) and each agent's ``Service:`` parameters, macro-expanded;
* a toolbar command by its DEF name: the command, its ``CmdData``, ``Param.*`` expanded with
  the agent's macros, ``RequiredField.*`` checked, group commands through ``SubCommand_N``
  (first enabled child; ``ExecuteAll``; ``ExecUntilOK``);
* each ``HandleEvent``: the handler that fires, what its response does (screen pop, dashboard
  service call, activity log), kept per call so the activity is shown when the call ends;
* the agent's picture: state, calls with their start times, status text, toolbar.

The Twisted client (``console/client.py``) sends what this decides and feeds back what the
gateway says.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..core.driver import strip_prefix
from ..def_file import DefModel
from ..def_file.evaluate import Evaluation, evaluate_event
from ..def_file.macros import MacroContext, expand
from ..def_file.matching import is_like
from ..def_file.model import Command
from ..def_file.respond import Activity, Plan, activity, plan_response

__all__ = ["AgentView", "CallView", "Channel", "ConsoleError", "EventSeen", "Invocation",
           "Outcome"]

NOTSUPPORTED, DISABLED, CHECKED, BLINKING = 1, 2, 4, 8
_ENDED = frozenset({"EventReleased"})


class ConsoleError(Exception):
    """A mistake the user can fix (unknown command, missing value...): shown, never a crash."""


@dataclass(frozen=True)
class Invocation:
    command: str          # the DEF command name
    device_command: str   # what InvokeCommand carries (or an @ command Siebel runs itself)
    params: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class EventSeen:
    name: str
    fields: Mapping[str, str]
    at: float
    evaluation: Evaluation
    plan: Plan | None


@dataclass
class CallView:
    tracking_id: str
    call_type: str
    other: str
    state: str
    started: float
    activity_log: str = ""
    fields: dict[str, str] = field(default_factory=dict)


@dataclass
class AgentView:
    agent_id: str
    pin: str = ""
    extension: str = ""
    driver: str = ""
    service: str = ""
    state: str = ""
    reason: str = ""
    pending: str = ""
    status: str = ""
    full_name: str = ""
    toolbar: dict[str, int] = field(default_factory=dict)
    calls: dict[str, CallView] = field(default_factory=dict)
    selected: str = ""
    recent: deque[str] = field(default_factory=lambda: deque(maxlen=8))
    #: HandleEvents not yet consumed by a script's ``expect``.
    inbox: list[EventSeen] = field(default_factory=list)


@dataclass(frozen=True)
class Outcome:
    """What one callback meant: lines to show, an event seen, a reply to send."""

    lines: tuple[str, ...] = ()
    event: EventSeen | None = None
    notify: str | None = None  # a trackingId to answer with NotifyEventHandlingFinished


class Channel:
    def __init__(self, model: DefModel, *, profile: str | None = None, language: str = "ENU",
                 records: int = 1, wall: Any = time.time) -> None:
        self.model = model
        self.language = language
        self.records = records
        self.wall = wall
        profiles = list(model.profiles.values())
        if profile is not None:
            chosen = model.profiles.get(profile)
            if chosen is None:
                raise ConsoleError(f"{model.path}: no [Profile:{profile}] (the file has "
                                   f"{', '.join(model.profiles) or 'no profiles'})")
        elif profiles:
            chosen = profiles[0]
        else:
            raise ConsoleError(f"{model.path}: no [Profile:...] section: the console needs one "
                               "to know the driver")
        self.profile = chosen
        self.media_type = "Voice"
        driver = model.drivers.get(chosen.driver)
        if driver is not None:
            self.media_type = driver.get("Channel Type") or driver.channel_string or "Voice"
        params = model.driver_parameters.get(chosen.driver)
        self._values: list[tuple[str, str]] = list(params.values) if params else []
        self._values += list(chosen.overrides)

    # -- load sequence ---------------------------------------------------------------------

    def driver_params(self) -> list[list[str]]:
        """``Driver:`` (and unprefixed) parameters without the prefix, as SCS sends them."""
        out: dict[str, list[str]] = {}
        for k, v in self._values:
            if not k.startswith("Service:"):
                name = strip_prefix(k)
                out[name.casefold()] = [name, v]
        return list(out.values())

    def service_params(self, agent: AgentView) -> list[list[str]]:
        context = self.context(agent, {})
        out: dict[str, list[str]] = {}
        for k, v in self._values:
            if k.startswith("Service:"):
                name = strip_prefix(k)
                out[name.casefold()] = [name, expand(v, context).text]
        return list(out.values())

    # -- commands ---------------------------------------------------------------------------

    def context(self, agent: AgentView, values: Mapping[str, str]) -> MacroContext:
        selected = agent.selected if agent.selected in agent.calls else (
            next(reversed(agent.calls), ""))
        macros = {
            "@AgentId": agent.agent_id, "@AgentPin": agent.pin, "@SelectedDN": agent.extension,
            "@DNList": agent.extension, "@ACDDNList": agent.extension,
            "@UserName": agent.agent_id, "@UserId": agent.agent_id,
            "@Language": self.language, "@Now": time.strftime("%m/%d/%Y %H:%M:%S"),
            "@SelectedWorkItem:DriverWorkTrackID": selected,
            "@SelectedWorkItem:WorkItemID": selected,
        }
        given = {(f"@{k[1:]}" if k.startswith("@") else k): v for k, v in values.items()}
        return MacroContext(values={**macros, **given}, dialing_rules=self.model.dialing_rules)

    def find(self, name: str) -> Command:
        commands = self.model.commands
        if name in commands:
            return commands[name]
        folded = name.casefold()
        exact = [c for n, c in commands.items() if n.casefold() == folded]
        if exact:
            return exact[0]
        prefixed = [n for n in commands if n.casefold().startswith(folded)]
        if len(prefixed) == 1:
            return commands[prefixed[0]]
        if prefixed:
            raise ConsoleError(f"{name!r} could be {', '.join(sorted(prefixed))}")
        raise ConsoleError(f"no [Command:{name}] in {self.model.path} (commands: "
                           f"{', '.join(self.command_names())})")

    def command_names(self) -> list[str]:
        return sorted(n for n, c in self.model.commands.items() if not c.hidden) + sorted(
            n for n, c in self.model.commands.items() if c.hidden)

    def invocations(self, agent: AgentView, name: str,
                    values: Mapping[str, str]) -> tuple[str, list[Invocation]]:
        """``(mode, children)``: mode ``single``, ``first`` (first enabled child), ``all``
        (ExecuteAll) or ``until_ok`` (ExecUntilOK); raises ``ConsoleError``."""
        command = self.find(name)
        if not command.subcommands:
            return "single", [self._one(agent, command, values, strict=True)]
        children: list[Invocation] = []
        problems: list[str] = []
        for _n, child_name in command.subcommands:
            child = self.model.commands.get(child_name)
            if child is None:
                problems.append(f"SubCommand {child_name!r} does not exist")
                continue
            try:
                inv = self._one(agent, child, values, strict=False)
            except ConsoleError as exc:
                problems.append(str(exc))
                continue
            if self.enabled(agent, inv):
                children.append(inv)
            else:
                problems.append(f"{child.name}: {inv.device_command} is not enabled now")
        if not children:
            raise ConsoleError(f"{command.name}: no subcommand can run ("
                               + "; ".join(problems) + ")")
        mode = "all" if command.execute_all else "until_ok" if command.exec_until_ok \
            else "first"
        return mode, children if mode != "first" else children[:1]

    def enabled(self, agent: AgentView, inv: Invocation) -> bool:
        if inv.device_command.startswith("@") or not agent.toolbar:
            return True
        status = agent.toolbar.get(inv.device_command, NOTSUPPORTED)
        return not status & (NOTSUPPORTED | DISABLED)

    def _one(self, agent: AgentView, command: Command, values: Mapping[str, str], *,
             strict: bool) -> Invocation:
        context = self.context(agent, values)
        params: list[tuple[str, str]] = []
        data = self.model.cmd_data.get(command.cmd_data) if command.cmd_data else None
        if command.cmd_data and data is None:
            raise ConsoleError(f"{command.name}: CmdData {command.cmd_data!r} does not exist")
        if data is not None:
            for field_name, pattern in data.required_fields:
                value = context.lookup(field_name)
                if value is None:
                    value = context.lookup(f"@{field_name.lstrip('@')}") \
                        if field_name.startswith("@") else None
                if not is_like(value, pattern):
                    raise ConsoleError(f"{command.name} needs {field_name} matching "
                                       f"{pattern!r} (give {field_name}=VALUE)")
            missing: list[str] = []
            for key, template in data.params_out:
                result = expand(template, context)
                missing.extend(result.unknown)
                params.append((key, result.text))
            if missing:
                raise ConsoleError(f"{command.name}: no value for "
                                   f"{', '.join(dict.fromkeys(missing))} (give NAME=VALUE, "
                                   "e.g. @EditControl=2002)")
        return Invocation(command.name, command.device_command, tuple(params))

    # -- callbacks --------------------------------------------------------------------------

    def callback(self, agent: AgentView, method: str, params: Mapping[str, Any]) -> Outcome:
        now = self.wall()
        if method == "HandleEvent":
            return self._event(agent, params, now)
        if method == "ShowStatusText":
            agent.status = str(params.get("text", ""))
            return Outcome((f'status "{agent.status}"',))
        if method == "HandleError":
            text = f"ERROR {params.get('code', '')}: {params.get('error', '')}"
            agent.recent.append(text)
            return Outcome((text,))
        if method == "CacheCommandInformation":
            before = self.enabled_names(agent)
            agent.toolbar = dict(zip(params.get("commands") or [], params.get("statuses") or [],
                                     strict=False))
            after = self.enabled_names(agent)
            return Outcome(() if after == before else
                           (f"toolbar: {', '.join(after) or 'nothing enabled'}",))
        return Outcome()

    def enabled_names(self, agent: AgentView) -> list[str]:
        return [f"{n}{'*' if s & BLINKING else ''}{' [x]' if s & CHECKED else ''}"
                for n, s in agent.toolbar.items() if not s & (NOTSUPPORTED | DISABLED)]

    def _event(self, agent: AgentView, params: Mapping[str, Any], now: float) -> Outcome:
        name = str(params.get("name", ""))
        fields = {str(k): str(v) for k, v in _pairs(params.get("fields"))}
        macros = {k: v for k, v in self.context(agent, {}).values.items()}
        ev = evaluate_event(self.model, name, fields, profile=self.profile.name, macros=macros)
        plan = plan_response(ev, records=self.records) if ev.response else None
        seen = EventSeen(name, fields, now, ev, plan)
        agent.inbox.append(seen)
        lines = [self._describe(name, fields)]
        if ev.handler:
            lines.append(f"  handler {ev.handler}" + (
                f" (AMBIGUOUS with {', '.join(m for m in ev.matched if m != ev.handler)})"
                if ev.ambiguous else "") + (f" -> {ev.response}" if ev.response else ""))
            if plan is not None:
                lines.extend(f"    {step}" for step in plan.steps)
            if ev.unexpanded:
                lines.append(f"    not expanded: {', '.join(ev.unexpanded)}")
        lines.extend(self._track(agent, name, fields, plan, now))
        agent.recent.append(lines[0])
        notify = str(params.get("trackingId") or "") if params.get("notifyWhenDone") else None
        return Outcome(tuple(lines), seen, notify)

    @staticmethod
    def _describe(name: str, fields: Mapping[str, str]) -> str:
        parts = [name]
        for key in ("AgentState", "ReasonLabel", "TrackingID", "CallType", "ANI", "DNIS",
                    "OtherParty", "CED", "ErrorText", "Category"):
            if fields.get(key):
                parts.append(f"{key}={fields[key]}")
        data = [f"{k}={v}" for k, v in fields.items()
                if v and (k.startswith(("CallVariable", "user.")))]
        return "  ".join(parts + data)

    def _track(self, agent: AgentView, name: str, fields: Mapping[str, str],
               plan: Plan | None, now: float) -> list[str]:
        if name in ("EventAgentLogin", "EventAgentReady", "EventAgentNotReady",
                    "EventAgentWork", "EventAgentWorkReady", "EventAgentLogout"):
            agent.state = fields.get("AgentState", agent.state)
            agent.reason = fields.get("ReasonLabel", "")
            agent.pending = fields.get("PendingState", "")
        if name == "EventAgentInfo":
            agent.full_name = fields.get("FullName", "")
        tid = fields.get("TrackingID", "")
        if not tid:
            return []
        call = agent.calls.get(tid)
        if call is None and name in ("EventRinging", "EventDialing", "EventEstablished",
                                     "EventPartyChanged", "EventRetrieved", "EventHeld"):
            call = CallView(tid, fields.get("CallType", ""), fields.get("ANI") or
                            fields.get("OtherParty", ""), "", now)
            agent.calls[tid] = call
            agent.selected = tid
        if call is None:
            return []
        call.fields = dict(fields)
        if plan is not None and plan.log and not call.activity_log:
            call.activity_log = plan.log
        call.state = {"EventRinging": "ringing", "EventDialing": "dialing",
                      "EventEstablished": "talking", "EventHeld": "held",
                      "EventRetrieved": "talking", "EventWrapUp": "wrap-up"}.get(name, call.state)
        if name in _ENDED:
            del agent.calls[tid]
            if agent.selected == tid:
                agent.selected = next(reversed(agent.calls), "")
            return self._activity_lines(call, now)
        return []

    def _activity_lines(self, call: CallView, now: float) -> list[str]:
        if not call.activity_log:
            return [f"  call {call.tracking_id} ended after {now - call.started:.0f} s; "
                    "no activity is logged for it"]
        seconds = int(now - call.started)
        values = {**call.fields, "@WorkDuration": f"{seconds // 3600:02d}:"
                  f"{seconds % 3600 // 60:02d}:{seconds % 60:02d}",
                  "@Now": time.strftime("%m/%d/%Y %H:%M:%S", time.localtime(now))}
        act: Activity | None = activity(self.model, call.activity_log, values)
        if act is None:
            return [f"  call {call.tracking_id} ended; EventLog {call.activity_log!r} does "
                    "not exist"]
        out = [f"  call {call.tracking_id} ended after {seconds} s; activity "
               f"({act.bus_comp or 'Action'}) by {act.log}:"]
        out.extend(f"    {k} = {v}" for k, v in act.fields)
        if act.unresolved:
            out.append(f"    (filled by Siebel from the popped record: "
                       f"{', '.join(act.unresolved)})")
        return out


def _pairs(value: Any) -> Sequence[tuple[Any, Any]]:
    if not isinstance(value, list | tuple):
        return []
    return [(p[0], p[1]) for p in value if isinstance(p, list | tuple) and len(p) == 2]
