"""Siebel macro expansion: ``{Field}``, ``{@Macro}``, ``[Field]``, ``{Obj.'Field'}``, escapes.

Expansion takes a context of values (event fields, ``@`` macros, business-component
fields as ``Obj.Field``) and returns the expanded text plus the names it could not
resolve.  Those are left in the text exactly as written, so an administrator sees
``{@Nope}`` rather than a silently empty string.

Modifiers after ``:``: ``Lookup`` and ``PhoneTypeLookup`` run the value through the
``DialingFilter.RuleN`` rules; ``Number`` keeps the digits; ``a-b`` keeps digits a to b
(1-based).  A full name with its colon (``@SelectedWorkItem:DriverWorkTrackID``) is
looked up first, so work-item attributes resolve as whole names.

In ``FilterSpec``/``QuerySpec``, ``[Field]`` is search-spec syntax, not a macro:
pass ``brackets=False`` there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

__all__ = ["Expansion", "MacroContext", "apply_dialing_rules", "expand"]

_ESCAPABLE = frozenset("[]{}:\\")


@dataclass(frozen=True)
class MacroContext:
    values: Mapping[str, str] = field(default_factory=dict)
    #: ``(rule name, "match->replacement")`` pairs from ``DialingFilter.RuleN``.
    dialing_rules: Sequence[tuple[str, str]] = ()

    def lookup(self, name: str) -> str | None:
        if name in self.values:
            return self.values[name]
        if name.startswith(("@", "$")):
            folded = name.casefold()
            for key, value in self.values.items():
                if key.casefold() == folded:
                    return value
        return None


@dataclass(frozen=True)
class Expansion:
    text: str
    unknown: tuple[str, ...] = ()


def apply_dialing_rules(number: str, rules: Sequence[tuple[str, str]]) -> str:
    """First rule (by string order of its name) whose prefix matches wins."""
    digits = "".join(c for c in number if c.isdigit() or c == "+")
    for _name, rule in sorted(rules):
        match, arrow, replacement = rule.partition("->")
        if arrow and digits.startswith(match):
            return replacement + digits[len(match):]
    return digits


def expand(text: str, context: MacroContext, *, brackets: bool = True) -> Expansion:
    if "{" not in text and "\\" not in text and (not brackets or "[" not in text):
        return Expansion(text)
    out: list[str] = []
    unknown: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n and text[i + 1] in _ESCAPABLE:
            out.append(text[i + 1])
            i += 2
            continue
        if c == "{" or (c == "[" and brackets):
            close = _find_close(text, i + 1, "}" if c == "{" else "]")
            if close < 0:
                out.append(text[i:])
                unknown.append(text[i:])
                break
            raw = text[i:close + 1]
            value = _resolve(_unescape(text[i + 1:close]), context)
            if value is None:
                out.append(raw)
                unknown.append(raw)
            else:
                out.append(value)
            i = close + 1
            continue
        out.append(c)
        i += 1
    return Expansion("".join(out), tuple(unknown))


def _find_close(text: str, start: int, closer: str) -> int:
    i = start
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == closer:
            return i
        i += 1
    return -1


def _unescape(inner: str) -> str:
    # Keep escaped colons marked so they are not read as modifier separators.
    return inner.replace("\\:", "\x00")


def _normalise(name: str) -> str:
    """``Contact.'Account Id'`` and ``Contact."Account Id"`` -> ``Contact.Account Id``."""
    base, dot, sub = name.partition(".")
    if dot and len(sub) >= 2 and sub[0] in "'\"" and sub[-1] == sub[0]:
        return f"{base}.{sub[1:-1]}"
    return name


def _resolve(inner: str, context: MacroContext) -> str | None:
    whole = inner.replace("\x00", ":").strip()
    found = context.lookup(whole)
    if found is None:
        found = context.lookup(_normalise(whole))
    if found is not None:
        return found
    if inner.startswith("$") or ":" not in inner:
        return None
    name, *modifiers = inner.split(":")
    value = context.lookup(_normalise(name.replace("\x00", ":").strip()))
    if value is None:
        return None
    for modifier in (m.strip() for m in modifiers):
        applied = _modify(value, modifier, context)
        if applied is None:
            return None
        value = applied
    return value


def _modify(value: str, modifier: str, context: MacroContext) -> str | None:
    lowered = modifier.casefold()
    if lowered in ("lookup", "phonetypelookup"):
        return apply_dialing_rules(value, context.dialing_rules)
    if lowered == "number":
        return "".join(c for c in value if c.isdigit())
    first, dash, last = modifier.partition("-")
    if dash and first.isdigit() and last.isdigit():
        digits = "".join(c for c in value if c.isdigit())
        return digits[int(first) - 1:int(last)]
    return None
