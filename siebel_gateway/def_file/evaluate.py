"""Which event handler fires for a device event, and what its response would do.

As SCS does it (def-format.md section 5): the candidates are the handlers whose
``DeviceEvent`` names the event (``@`` names case-insensitively) and whose
``Profile`` is empty or the event's profile.  They are tried by ascending integer
``Order`` (missing Order last), ties broken by file position; the first whose
every ``Filter.X`` matches and whose ``FilterSpec`` holds wins, and only its
response runs.  When another matching handler shares the winner's Order the result
is marked ambiguous, because Siebel's own tie-break is database order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .macros import MacroContext, expand
from .matching import FilterSpecError, compile_filter_spec, is_like
from .model import DefModel, EventHandler

__all__ = ["Evaluation", "evaluate_event", "handler_matches"]

#: Response parameters whose ``[Field]`` is search-spec syntax, not a macro.
_SEARCH_SPECS = frozenset({"queryspec", "filterspec", "selectqueryspec"})


@dataclass(frozen=True)
class Evaluation:
    event: str
    handler: str | None
    candidates: tuple[str, ...]
    matched: tuple[str, ...]
    ambiguous: bool
    response: str | None
    parameters: tuple[tuple[str, str], ...]
    logs: tuple[str, ...]
    unexpanded: tuple[str, ...]

    def to_json(self) -> dict[str, object]:
        return {
            "event": self.event,
            "handler": self.handler,
            "candidates": list(self.candidates),
            "matched": list(self.matched),
            "ambiguous": self.ambiguous,
            "response": self.response,
            "parameters": dict(self.parameters),
            "logs": list(self.logs),
            "unexpanded": list(self.unexpanded),
        }


def _same_event(declared: str, event: str) -> bool:
    if declared.startswith("@") or event.startswith("@"):
        return declared.casefold() == event.casefold()
    return declared == event


def handler_matches(handler: EventHandler, fields: Mapping[str, str],
                    context: MacroContext | None = None) -> bool:
    for name, pattern in handler.filters:
        if not is_like(fields.get(name), pattern):
            return False
    spec = handler.filter_spec
    if spec is None:
        return True
    ctx = context or MacroContext(values=dict(fields))
    try:
        predicate = compile_filter_spec(expand(spec, ctx, brackets=False).text)
    except FilterSpecError:
        return False  # the validator reports it; an unreadable spec never matches
    return predicate(fields)


def evaluate_event(model: DefModel, event: str,
                   fields: Sequence[tuple[str, str]] | Mapping[str, str],
                   *, profile: str | None = None,
                   macros: Mapping[str, str] | None = None) -> Evaluation:
    field_map = dict(fields.items() if isinstance(fields, Mapping) else fields)
    values = {**(macros or {}), **field_map}
    context = MacroContext(values=values, dialing_rules=model.dialing_rules)
    handlers = [
        h for h in model.handlers.values()
        if _same_event(h.device_event, event) and (not h.profile or profile is None
                                                   or h.profile == profile)
    ]
    handlers.sort(key=lambda h: (h.order if h.order is not None else 2**31, h.line))
    matched = [h for h in handlers if handler_matches(h, field_map, context)]
    winner = matched[0] if matched else None
    ambiguous = winner is not None and any(
        h is not winner and h.order == winner.order for h in matched)
    response_name = winner.response if winner is not None and winner.response else None
    response = model.responses.get(response_name) if response_name else None
    parameters: list[tuple[str, str]] = []
    unexpanded: list[str] = []
    logs: tuple[str, ...] = ()
    if response is not None:
        for p in response.params:
            result = expand(p.value, context,
                            brackets=p.base.casefold() not in _SEARCH_SPECS)
            parameters.append((p.key, result.text))
            unexpanded.extend(result.unknown)
        logs = tuple(dict.fromkeys(name for _k, name in response.log_refs))
    return Evaluation(
        event=event,
        handler=winner.name if winner is not None else None,
        candidates=tuple(h.name for h in handlers),
        matched=tuple(h.name for h in matched),
        ambiguous=ambiguous,
        response=response.name if response is not None else response_name,
        parameters=tuple(parameters),
        logs=logs,
        unexpanded=tuple(dict.fromkeys(unexpanded)),
    )

