"""``siebel-gateway def check|eval|fmt``: the administrator's DEF tools.

Kept apart from the network code so these commands start fast: nothing here
imports Twisted or stomp.py.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TextIO

from .def_file import ParseResult, Problem, check_file, parse_file
from .def_file.evaluate import evaluate_event
from .def_file.schema import SECTION_TYPES
from .def_file.writer import UnwritableError, write

__all__ = ["add_def_parser"]

EXIT_OK, EXIT_ERRORS, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    pass


def add_def_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("def", help="check, evaluate and format Siebel DEF files")
    dsub = p.add_subparsers(dest="def_command", required=True, metavar="{check,eval,fmt}")

    check = dsub.add_parser("check", help="report every error and warning in DEF files")
    check.add_argument("files", nargs="+", metavar="FILE")
    check.add_argument("--json", action="store_true", help="machine-readable output")
    check.set_defaults(func=cmd_check)

    ev = dsub.add_parser("eval", help="show which event handler and response an event fires")
    ev.add_argument("file", metavar="FILE")
    ev.add_argument("--event", required=True, metavar="NAME", help="device event name")
    ev.add_argument("fields", nargs="*", metavar="FIELD=VALUE", help="event fields")
    ev.add_argument("--profile", help="the profile that produced the event")
    ev.add_argument("--macro", action="append", default=[], metavar="@NAME=VALUE",
                    help="a macro value for expansion (repeatable), e.g. @UserName=jdoe")
    ev.add_argument("--json", action="store_true", help="machine-readable output")
    ev.set_defaults(func=cmd_eval)

    fmt = dsub.add_parser("fmt", help="print the normalised DEF text")
    fmt.add_argument("file", metavar="FILE")
    fmt.set_defaults(func=cmd_fmt)


def _load(path: str, *, validate: bool = True) -> ParseResult:
    try:
        return check_file(path) if validate else parse_file(path)
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from exc


def _counts(result: ParseResult) -> dict[str, int]:
    return {t: result.model.count(t) for t in SECTION_TYPES}


def _print_problems(problems: list[Problem], out: TextIO) -> None:
    for p in sorted(problems, key=lambda p: (p.line, p.column)):
        print(p.format(), file=out)


def cmd_check(args: argparse.Namespace) -> int:
    results = [(path, _load(path)) for path in args.files]
    if args.json:
        docs = [
            {
                "file": path,
                "sections": _counts(r),
                "errors": [p.to_json() for p in sorted(r.errors)],
                "warnings": [p.to_json() for p in sorted(r.warnings)],
            }
            for path, r in results
        ]
        json.dump(docs[0] if len(docs) == 1 else docs, sys.stdout, indent=2)
        print()
    else:
        for path, r in results:
            _print_problems(r.problems, sys.stdout)
            counts = ", ".join(f"{n} {t}" for t, n in _counts(r).items() if n)
            print(f"{path}: {len(r.errors)} error(s), {len(r.warnings)} warning(s); "
                  f"{counts or 'no sections'}")
    return EXIT_ERRORS if any(r.errors for _p, r in results) else EXIT_OK


def _pairs(items: list[str], what: str) -> list[tuple[str, str]]:
    out = []
    for item in items:
        name, eq, value = item.partition("=")
        if not eq or not name:
            raise UsageError(f"{what} {item!r} must be written NAME=VALUE")
        out.append((name, value))
    return out


def cmd_eval(args: argparse.Namespace) -> int:
    fields = _pairs(args.fields, "event field")
    macros = dict(_pairs(args.macro, "--macro"))
    result = _load(args.file)
    if result.errors:
        _print_problems(result.errors, sys.stderr)
        print(f"{args.file}: fix the errors above before evaluating events", file=sys.stderr)
        return EXIT_ERRORS
    ev = evaluate_event(result.model, args.event, fields, profile=args.profile, macros=macros)
    if args.json:
        json.dump(ev.to_json(), sys.stdout, indent=2)
        print()
        return EXIT_OK
    print(f"event {ev.event}: {len(ev.candidates)} handler(s) listen for it"
          + (f" ({', '.join(ev.candidates)})" if ev.candidates else ""))
    if ev.handler is None:
        print("no handler matches; Siebel does nothing with this event")
        return EXIT_OK
    print(f"handler {ev.handler} fires" + (
        f" (AMBIGUOUS: {', '.join(m for m in ev.matched if m != ev.handler)} also match with "
        "the same Order)" if ev.ambiguous else ""))
    if ev.response is None:
        print("it names no response")
        return EXIT_OK
    print(f"response {ev.response}:")
    for key, value in ev.parameters:
        print(f"  {key} = {value}")
    print(f"event logs: {', '.join(ev.logs) if ev.logs else 'none'}")
    if ev.unexpanded:
        print(f"not expanded (unknown names): {', '.join(ev.unexpanded)}")
    return EXIT_OK


def cmd_fmt(args: argparse.Namespace) -> int:
    result = _load(args.file, validate=False)
    if result.errors:
        _print_problems(result.errors, sys.stderr)
        print(f"{args.file}: not formatted; fix the syntax errors above first", file=sys.stderr)
        return EXIT_ERRORS
    try:
        sys.stdout.write(write(result.model))
    except UnwritableError as exc:
        print(f"{args.file}: {exc}", file=sys.stderr)
        return EXIT_ERRORS
    return EXIT_OK


def run(args: argparse.Namespace) -> int:
    try:
        code: int = args.func(args)
    except UsageError as exc:
        print(f"siebel-gateway def: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return code


