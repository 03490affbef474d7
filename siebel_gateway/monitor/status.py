"""``siebel-gateway status [--monitor URL]``: one screen from a running gateway's monitor.

Reads ``/api/status`` and ``/api/agents``; exit 0 when the gateway is ready, 1 when it is
not (or cannot be reached: the reason is printed), 2 for a bad URL.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request
from typing import Any, TextIO

__all__ = ["add_parser", "render", "run"]

DEFAULT_URL = "http://127.0.0.1:8077"


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("status", help="one-screen summary of a running gateway (exit 0 "
                                      "ready, 1 not ready)")
    p.add_argument("--monitor", metavar="URL", default=DEFAULT_URL,
                   help=f"the gateway's monitor ([Monitor] Listen; default {DEFAULT_URL})")
    p.add_argument("--cafile", metavar="PEM",
                   help="CA bundle to verify an https:// monitor ([Monitor] TlsCertificate)")
    p.add_argument("--timeout", type=float, default=5.0, metavar="SECONDS")
    p.set_defaults(func=run)


def _get(base: str, path: str, timeout: float, cafile: str | None = None) -> Any:
    context = None
    if cafile:
        import ssl

        context = ssl.create_default_context(cafile=cafile)
    try:
        with urllib.request.urlopen(base.rstrip("/") + path, timeout=timeout,
                                    context=context) as r:
            return json.loads(r.read())
    except urllib.error.HTTPError as exc:  # /readyz answers 503 with a JSON body
        return json.loads(exc.read())


def render(status: dict[str, Any], agents: dict[str, Any], out: TextIO) -> None:
    def p(text: str = "") -> None:
        print(text, file=out)

    link = status["link"]
    verdict = "READY" if status["ready"] else "NOT READY"
    p(f"siebel-gateway {status['version']}  {verdict}  up {_age(status['uptime_seconds'])}")
    for name, why in status["checks"].items():
        p(f"  ! {name}: {why}")
    p(f"SCS      {'listening' if status['scs']['listening'] else 'NOT listening'} on "
      f"{status['scs']['address']}, {status['scs']['connections']} connection(s)")
    p(f"Broker   {'up' if link['up'] else 'DOWN'} since {link['since'] or '-'}  "
      f"{link['broker']}  reconnects {link['reconnects']}")
    for gc in status["gcs"]:
        p(f"GC       {gc['queue']}: {'in service' if gc['in_service'] else 'NOT in service'}"
          f" since {gc['since'] or '-'}")
    by_state = agents.get("by_state", {})
    counts = "  ".join(f"{k} {v}" for k, v in sorted(by_state.items())) or "none"
    p(f"Agents   {sum(by_state.values())}: {counts}")
    rows = agents.get("agents", [])[:10]
    if rows:
        p(f"  {'agent':<10} {'ext':<8} {'state':<14} {'reason':<8} calls")
        for a in rows:
            p(f"  {a['agent_id']:<10} {a['extension']:<8} {a['state']:<14} "
              f"{a['reason']:<8} {a['calls']}")
        if len(agents.get("agents", [])) > 10:
            p(f"  ... {len(agents['agents']) - 10} more")
    errors = status.get("errors", [])[-5:]
    if errors:
        p("Recent errors")
        for e in errors:
            p(f"  {e['time']} {e['level']:<5} {e['agent_id'] or '-':<8} {e['text'][:90]}")


def _age(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 86400}d {s % 86400 // 3600}h" if s >= 86400 else \
        f"{s // 3600}h {s % 3600 // 60}m" if s >= 3600 else f"{s // 60}m {s % 60}s"


def run(args: argparse.Namespace) -> int:
    url = args.monitor if "://" in args.monitor else f"http://{args.monitor}"
    if not url.startswith(("http://", "https://")):
        print(f"siebel-gateway status: --monitor {args.monitor!r} is not an http(s) URL",
              file=sys.stderr)
        return 2
    try:
        status = _get(url, "/api/status", args.timeout, args.cafile)
        agents = _get(url, "/api/agents?limit=10", args.timeout, args.cafile)
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        print(f"siebel-gateway status: cannot read the monitor at {url}: {reason}",
              file=sys.stderr)
        return 1
    if "ready" not in status or "link" not in status:
        print(f"siebel-gateway status: {url}/api/status is not a siebel-gateway monitor "
              "answer", file=sys.stderr)
        return 1
    render(status, agents, sys.stdout)
    return 0 if status["ready"] else 1
