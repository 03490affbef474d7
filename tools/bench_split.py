#!/usr/bin/env python3
"""Split bench_scale's command -> event latencies into hops, from the gateway's trace.

    python tools/bench_split.py SAMPLES.json TRACE.jsonl [--slowest 0.01]

``SAMPLES.json`` is ``bench_scale.py --samples`` (cmdTrackId, command, sent, event read; the
client's CLOCK_MONOTONIC), ``TRACE.jsonl`` the gateway's ``[Trace] File`` of the same run
(``bench_scale.py --trace``; every line has ``mono``, the same clock, and ``wall``).  For
each pair it finds the ``InvokeCommand`` (scs in), the GC command it produced (gc out), the
GC event that produced the answering ``HandleEvent`` (gc in: the last input before that scs
out) and the ``HandleEvent`` (scs out), and prints p50 / p99 of each hop for all pairs and
for the slowest share:

    client > gw     client's write until the gateway's core took the request
    gw core (cmd)   the request until its GC command was decided
    gw > broker ts  the GC command decided until the broker stamped the GC's event
                    (gateway pacer + STOMP send + broker + simulator; ``timestamp`` header,
                    ms, wall clock)
    broker > gw     broker stamp until the gateway's core took the event (dispatch,
                    stomp.py receiver thread, hand-off to the reactor)
    gw core (ev)    the event until its HandleEvent was decided
    gw > client     HandleEvent decided until the client read it (socket write, client
                    read loop)
"""

from __future__ import annotations

import argparse
import bisect
import json
from pathlib import Path
from typing import Any

ANSWERED_BY = {"ChangeReadyState": "EventAgentReady", "AnswerCall": "EventEstablished",
               "HoldCall": "EventHeld", "RetrieveCall": "EventRetrieved",
               "ReleaseCall": "EventReleased", "TransferInit": "EventDialing",
               "TransferComplete": "EventReleased"}
HOPS = ("client > gw", "gw core (cmd)", "gw > broker ts", "broker > gw", "gw core (ev)",
        "gw > client")


def pct(v: list[float], q: float) -> float:
    v = sorted(v)
    return v[min(len(v) - 1, int(q * len(v)))] if v else float("nan")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else "")
    ap.add_argument("samples", type=Path)
    ap.add_argument("trace", type=Path)
    ap.add_argument("--slowest", type=float, default=0.01, help="share of slowest pairs")
    args = ap.parse_args()
    recs: list[dict[str, Any]] = []
    for path in sorted(args.trace.parent.glob(args.trace.name + "*")):
        recs.extend(json.loads(line) for line in path.read_text().splitlines() if line)
    recs = [r for r in recs if "edge" in r]
    recs.sort(key=lambda r: r["mono"])
    monos = [r["mono"] for r in recs]
    by_track: dict[str, int] = {}
    outs: dict[tuple[str, str], list[int]] = {}  # (service, event) -> indexes of scs out
    for i, r in enumerate(recs):
        msg: dict[str, Any] = r["msg"] if isinstance(r.get("msg"), dict) else {}
        p: dict[str, Any] = msg["params"] if isinstance(msg.get("params"), dict) else {}
        if r["edge"] == "scs" and r["dir"] == "in" and msg.get("method") == "InvokeCommand":
            by_track[str(p.get("cmdTrackId"))] = i
        elif r["edge"] == "scs" and r["dir"] == "out" and msg.get("method") == "HandleEvent":
            outs.setdefault((str(p.get("service")), str(p.get("name"))), []).append(i)
    rows: list[tuple[float, list[float]]] = []
    samples = json.loads(args.samples.read_text())
    # the steady phase only (older --samples files also hold the Ready phase after the storm)
    first_call = min((s[2] for s in samples if s[1] == "AnswerCall"), default=0.0)
    for track, cmd, sent, read in samples:
        if sent < first_call - 1:
            continue
        found = by_track.get(track)
        if found is None or cmd not in ANSWERED_BY:
            continue
        i = found
        rin = recs[i]
        service, agent = str(rin["msg"]["params"].get("service")), rin.get("agent")
        gco = next((j for j in range(i + 1, min(i + 50, len(recs)))
                    if recs[j]["edge"] == "gc" and recs[j]["dir"] == "out"
                    and recs[j].get("agent") == agent), None)
        cand = outs.get((service, ANSWERED_BY[cmd]), [])
        k = bisect.bisect_right(cand, i)
        if gco is None or k == len(cand):
            continue
        o = cand[k]
        gci = next((j for j in range(o - 1, i, -1) if recs[j]["edge"] == "gc"
                    and recs[j]["dir"] == "in"), None)
        if gci is None:
            continue
        stamp = recs[gci]["msg"].get("headers", {}).get("timestamp")
        if stamp is None:
            continue
        # broker stamp (wall, ms) moved onto the monotonic clock through the gc in record
        b = recs[gci]["mono"] - (recs[gci]["wall"] - int(stamp) / 1000)
        hops = [monos[i] - sent, monos[gco] - monos[i], b - monos[gco], monos[gci] - b,
                monos[o] - monos[gci], read - monos[o]]
        rows.append((read - sent, hops))
    rows.sort(key=lambda r: r[0])
    slow = rows[int(len(rows) * (1 - args.slowest)):]
    print(f"{len(rows)} pairs matched; ms")
    slow_head = f"slowest {args.slowest:.0%} p50"
    print(f"{'hop':<16}{'all p50':>9}{'all p99':>9}{slow_head:>18}")
    for n, name in enumerate(HOPS):
        allv = [h[n] * 1e3 for _, h in rows]
        sv = [h[n] * 1e3 for _, h in slow]
        print(f"{name:<16}{pct(allv, .5):>9.2f}{pct(allv, .99):>9.2f}{pct(sv, .5):>18.2f}")
    tot = [t * 1e3 for t, _ in rows]
    print(f"{'total':<16}{pct(tot, .5):>9.2f}{pct(tot, .99):>9.2f}"
          f"{pct([t * 1e3 for t, _ in slow], .5):>18.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
