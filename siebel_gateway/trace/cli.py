"""``siebel-gateway trace replay|show``.

replay exits 0 when every output is identical, 1 when the core now behaves differently
(the first divergences printed as diffs), 2 when the file cannot be read as a trace.
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from typing import Any, TextIO

from .records import obj

__all__ = ["add_parser"]


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("trace", help="replay or show a driver trace (serve --trace FILE)")
    tsub = p.add_subparsers(dest="trace_command", required=True, metavar="{replay,show}")
    r = tsub.add_parser("replay", help="run a trace's inputs through this gateway's core and "
                                       "compare every output (exit 0 same, 1 diverged)")
    r.add_argument("file", metavar="FILE")
    r.add_argument("--max-diffs", type=int, default=3, metavar="N",
                   help="divergences shown in full (default 3; all are counted)")
    r.set_defaults(func=cmd_replay)
    s = tsub.add_parser("show", help="print a trace as a readable timeline")
    s.add_argument("file", metavar="FILE")
    s.add_argument("--agent", metavar="ID", help="only what concerns this agent")
    s.set_defaults(func=cmd_show)


def cmd_replay(args: argparse.Namespace) -> int:
    from .replay import TraceError, load_trace, replay

    if args.max_diffs < 0:
        print("siebel-gateway trace replay: --max-diffs must be >= 0", file=sys.stderr)
        return 2
    try:
        report = replay(load_trace(args.file))
    except TraceError as exc:
        print(f"siebel-gateway trace replay: {exc}", file=sys.stderr)
        return 2
    out = sys.stdout
    if report.identical:
        print(f"{args.file}: identical ({report.inputs} inputs, {report.outputs} outputs)",
              file=out)
        return 0
    print(f"{args.file}: DIVERGED at {len(report.divergences)} of {report.inputs} inputs "
          f"({report.outputs} recorded outputs)", file=out)
    for d in report.divergences[:args.max_diffs]:
        _print_divergence(d, args.file, out)
    if len(report.divergences) > args.max_diffs:
        print(f"... and {len(report.divergences) - args.max_diffs} more divergence(s) "
              f"(--max-diffs to see them)", file=out)
    return 1


def _print_divergence(d: Any, path: str, out: TextIO) -> None:
    if d.input is None:
        print(f"\n{path}: outputs recorded before any input:", file=out)
    else:
        print(f"\n{path}:{d.input.number}: after {_summary(d.input.record)} "
              f"(wall {d.input.record['wall']}):", file=out)
    keys = [_key(r) for r in d.expected], [_key(r) for r in d.got]
    matcher = difflib.SequenceMatcher(None, *keys, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            continue
        pairs = list(zip(range(i1, i2), range(j1, j2), strict=False)) if op == "replace" else []
        for i, j in pairs:
            print(f"  output #{i + 1} ({_summary(d.expected[i])}) differs:", file=out)
            for line in difflib.unified_diff(_pretty(d.expected[i]), _pretty(d.got[j]),
                                             "recorded", "replayed", n=1, lineterm=""):
                if not line.startswith(("---", "+++", "@@")):
                    print(f"    {line}", file=out)
        for i in range(i1 + len(pairs), i2):
            print(f"  output #{i + 1} recorded but not produced now: {_summary(d.expected[i])}",
                  file=out)
        for j in range(j1 + len(pairs), j2):
            print(f"  produced now but not recorded: {_summary(d.got[j])}", file=out)


def _key(record: dict[str, Any]) -> str:
    return json.dumps(record, sort_keys=True, ensure_ascii=False)


def _summary(record: dict[str, Any]) -> str:
    """One line naming a trace line (an input or an output)."""
    msg = obj(record.get("msg"))
    edge, direction = record.get("edge"), record.get("dir")
    if edge == "scs" and direction in ("open", "close"):
        return f"SCS connection {record.get('conn')} {direction}"
    if edge == "scs":
        params = obj(msg.get("params"))
        what = msg.get("method") or ("result" if "result" in msg else "error")
        name = params.get("name")
        text = f"SCS {'request ' if direction == 'in' else ''}{what}" + (f" {name}" if name
                                                                         else "")
        return text + (f" on {params['service']}" if direction == "in" and "service" in params
                       else "")
    if edge == "gc" and direction == "in":
        return f"GC event {str(msg.get('body', ''))[:60]!r}"
    if edge == "gc" and direction == "failed":
        return f"GC publish failed ({record.get('ref')}: {record.get('why')})"
    if edge == "gc":
        return f"GC {(msg.get('headers') or {}).get('type', '?')}"
    if edge == "timer":
        return f"timer {record.get('key')} expired" if direction == "fire" \
            else f"timer {direction} {record.get('key')}"
    if edge == "log":
        return f"log {direction}: {record.get('text', '')}"
    if edge == "link":
        return f"broker link {direction}"
    return f"{edge} {direction}"


def _pretty(record: dict[str, Any]) -> list[str]:
    return json.dumps(record, indent=1, ensure_ascii=False, sort_keys=True).splitlines()


def cmd_show(args: argparse.Namespace) -> int:
    from .replay import TraceError, load_trace
    from .show import timeline

    try:
        trace = load_trace(args.file)
    except TraceError as exc:
        print(f"siebel-gateway trace show: {exc}", file=sys.stderr)
        return 2
    try:
        for line in timeline(trace, args.agent):
            print(line)
    except BrokenPipeError:  # `trace show FILE | head`
        return 0
    return 0
