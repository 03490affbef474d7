"""What Siebel would do with an event response, and the activity its event log would write.

Follows def-format.md section 6 in order: ``ServiceMethod`` (a dashboard update is one),
``Script``, ``Command``, ``UseCtxData``, the query branch, ``OpenView``, then the general
``Log``.  The query's result is not known offline, so the caller says how many records it
assumes (0, 1 or more); the plan names the branch, the view and the log that follows.
Screen context never travels with a call through this gateway, so ``UseCtxData`` is
reported and skipped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .evaluate import Evaluation
from .macros import MacroContext, expand
from .model import DefModel

__all__ = ["Activity", "Plan", "activity", "plan_response"]

@dataclass(frozen=True)
class Plan:
    """``steps``: readable lines in the order Siebel runs them; ``view`` the view that opens
    (or ""), ``log`` the event log that records the call (or "")."""

    steps: tuple[str, ...]
    view: str
    log: str
    service_method: str
    service_params: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Activity:
    log: str
    bus_comp: str
    fields: tuple[tuple[str, str], ...]
    unresolved: tuple[str, ...]


def _params(ev: Evaluation, base: str) -> tuple[tuple[str, str], ...]:
    prefix = base.casefold() + "."
    return tuple((k.split(".", 1)[1].strip("'\""), v) for k, v in ev.parameters
                 if k.casefold().startswith(prefix))


def plan_response(ev: Evaluation, *, records: int = 1) -> Plan:
    values = {k.casefold(): v for k, v in ev.parameters}

    def get(name: str) -> str:
        return values.get(name.casefold(), "")

    steps: list[str] = []
    view = log = ""
    method = get("ServiceMethod")
    service_params = _params(ev, "ServiceParam")
    if method:
        args = ", ".join(f"{k}={v}" for k, v in service_params)
        steps.append(f"business service {method}({args})")
    if get("Script"):
        steps.append(f"script {get('Script')}")
    if get("Command"):
        steps.append(f"command {get('Command')}")
    if get("UseCtxData").upper() in ("TRUE", "Y"):
        steps.append("UseCtxData: no screen context travels with this call; carrying on")
    if get("QueryBusComp") or get("QuerySpec"):
        where = get("QuerySpec") or "(no QuerySpec)"
        steps.append(f"query {get('QueryBusObj') or '?'}/{get('QueryBusComp') or '?'} "
                     f"where {where}, assuming {_count(records)}")
        if records == 1:
            view, log = get("SingleView"), get("SingleLog")
        elif records > 1:
            view, log = get("MultiView") or get("SingleView"), get("MultiLog")
        elif get("FindDialog"):
            found = ", ".join(f"{k}={v}" for k, v in _params(ev, "FindField"))
            steps.append(f"find dialog {get('FindDialog')}" + (f" with {found}" if found else ""))
            log = get("FindLog")
        elif get("AddRecordView") or get("AddBusComp"):
            steps.append(f"add a record in {get('AddRecordView') or get('AddBusComp')}")
            log = get("AddLog")
    elif get("OpenView"):
        view = get("OpenView")
    elif get("FindDialog"):
        steps.append(f"find dialog {get('FindDialog')}")
        log = get("FindLog")
    if view:
        steps.append(f"screen pop: {view}")
    log = log or get("Log")
    if log:
        steps.append(f"activity log {log}")
    return Plan(tuple(steps), view, log, method, service_params)


def _count(records: int) -> str:
    return {0: "no record matches", 1: "one record matches"}.get(records,
                                                                 f"{records} records match")


def activity(model: DefModel, log_name: str, values: Mapping[str, str], *,
             after_work: bool = True) -> Activity | None:
    """The fields ``[EventLog:log_name]`` writes (``LogField.*``, then ``AfterWork.*`` when
    the work item has ended), expanded with event fields and ``@`` values."""
    section = model.logs.get(log_name)
    if section is None:
        return None
    context = MacroContext(values=dict(values), dialing_rules=model.dialing_rules)
    fields: list[tuple[str, str]] = []
    unresolved: list[str] = []
    pairs = list(section.log_fields) + (list(section.after_work) if after_work else [])
    for name, template in pairs:
        result = expand(template, context)
        fields.append((name, result.text))
        unresolved.extend(result.unknown)
    return Activity(log_name, section.get("BusComp") or "", tuple(fields),
                    tuple(dict.fromkeys(unresolved)))
