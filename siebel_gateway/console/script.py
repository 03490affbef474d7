"""Console scripts: one step per line, read before anything runs (errors name the line).

    # a comment; blank lines are ignored
    agent 1001 secret1001 2001        add agent 1001 (PIN, extension): RequestService; it
                                      becomes the current agent
    as 1002                           make 1002 the current agent
    LoginToPBX                        run a DEF command for the current agent
    MakeCallToEditControl @EditControl=2002    ... with macro or field values
    expect EventRinging CallType=INBOUND ANI=4155*  @Handler=InboundCallANI
                                      wait (5 s, or ``within=N``) for that event; values are
                                      Siebel patterns (* and ?); @Handler, @Response, @View
                                      and @Log check what the DEF made of it
    expect-refused ReadyCmd           run a command and expect the gateway to refuse it
    records 0|1|N                     how many records the pop's query is assumed to find
    simulate inbound-call agent=1001 ani=4155550100 callVariables.callVariable1=1-234
                                      a simulator control message (docs/simulator.md)
    wait 2                            let 2 seconds pass (default 1)
    say Some text                     print a line (the demo's narration)

Values with spaces are quoted: ``expect EventRinging @View="Contact Detail View"``.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ScriptError", "Step", "parse_script", "read_script"]

KEYWORDS = frozenset({"agent", "as", "expect", "expect-refused", "records", "simulate",
                      "wait", "say"})


class ScriptError(ValueError):
    pass


@dataclass(frozen=True)
class Step:
    line: int
    kind: str  # a keyword, or "command"
    name: str = ""
    args: tuple[str, ...] = ()
    values: tuple[tuple[str, str], ...] = ()
    number: float = 0.0
    text: str = ""


def _values(words: list[str], where: str) -> tuple[tuple[str, str], ...]:
    out = []
    for w in words:
        key, eq, value = w.partition("=")
        if not eq or not key:
            raise ScriptError(f"{where}: {w!r} must be written NAME=VALUE")
        out.append((key, value))
    return tuple(out)


def _number(text: str, where: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ScriptError(f"{where}: {what} must be a number, not {text!r}") from None
    if value < 0:
        raise ScriptError(f"{where}: {what} must not be negative")
    return value


def parse_script(text: str, name: str = "<script>") -> list[Step]:
    steps: list[Step] = []
    for n, raw in enumerate(text.splitlines(), 1):
        where = f"{name}:{n}"
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        first, _, rest = stripped.partition(" ")
        if first == "say":
            steps.append(Step(n, "say", text=rest.strip()))
            continue
        try:
            words = shlex.split(stripped, comments=True)
        except ValueError as exc:
            raise ScriptError(f"{where}: {exc}") from None
        head, args = words[0], words[1:]
        if head == "agent":
            if not 1 <= len(args) <= 3:
                raise ScriptError(f"{where}: agent ID [PIN [EXTENSION]]")
            steps.append(Step(n, "agent", args=tuple(args)))
        elif head == "as":
            if len(args) != 1:
                raise ScriptError(f"{where}: as AGENT_ID")
            steps.append(Step(n, "as", name=args[0]))
        elif head == "expect":
            if not args:
                raise ScriptError(f"{where}: expect EVENT [FIELD=VALUE ...] [within=SECONDS]")
            values = _values(args[1:], where)
            within = [v for k, v in values if k == "within"]
            steps.append(Step(n, "expect", name=args[0],
                              values=tuple((k, v) for k, v in values if k != "within"),
                              number=_number(within[-1], where, "within") if within else 5.0))
        elif head == "expect-refused":
            if not args:
                raise ScriptError(f"{where}: expect-refused COMMAND [NAME=VALUE ...]")
            steps.append(Step(n, "expect-refused", name=args[0],
                              values=_values(args[1:], where)))
        elif head == "records":
            if len(args) != 1 or not args[0].isdigit():
                raise ScriptError(f"{where}: records N (how many records a pop's query finds)")
            steps.append(Step(n, "records", number=float(args[0])))
        elif head == "simulate":
            if not args:
                raise ScriptError(f"{where}: simulate ACTION [KEY=VALUE ...]")
            steps.append(Step(n, "simulate", name=args[0], values=_values(args[1:], where)))
        elif head == "wait":
            if len(args) > 1:
                raise ScriptError(f"{where}: wait [SECONDS]")
            steps.append(Step(n, "wait", number=_number(args[0], where, "wait")
                              if args else 1.0))
        else:
            steps.append(Step(n, "command", name=head, values=_values(args, where)))
    return steps


def read_script(path: str | Path) -> list[Step]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ScriptError(f"cannot read script {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ScriptError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    return parse_script(text, str(path))
