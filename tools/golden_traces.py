#!/usr/bin/env python3
"""Re-record the golden traces in tests/data/traces/ (replayed by the test suite).

    python tools/golden_traces.py [--check]

Each trace is a ``siebel-gateway demo`` run on the embedded default with ``--trace``: the
UCCE and UCCX template scripts (login, ready, inbound with pop, hold, consult + transfer,
wrap-up reason, conference, outbound, not ready with reason, logout) and the GC outage
script beside the traces.  Re-record only when a change in behaviour is intended, and read
``siebel-gateway trace replay`` of the old trace first: its diff is the change under review.
``--check`` replays the stored traces instead (exit 1 when one diverges).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TRACES = ROOT / "tests" / "data" / "traces"
RUNS = {
    "ucce-shift.jsonl": ["--flavour", "ucce"],
    "uccx-shift.jsonl": ["--flavour", "uccx"],
    "gc-outage.jsonl": ["--flavour", "ucce", "--script", str(TRACES / "gc-outage.script")],
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="replay instead of recording")
    args = parser.parse_args()
    cli = [sys.executable, "-m", "siebel_gateway"]
    worst = 0
    for name, extra in RUNS.items():
        path = TRACES / name
        if args.check:
            worst = max(worst, subprocess.run([*cli, "trace", "replay", str(path)],
                                              check=False).returncode)
            continue
        path.unlink(missing_ok=True)
        done = subprocess.run([*cli, "demo", *extra, "--trace", str(path)],
                              capture_output=True, text=True, check=False)
        if done.returncode:
            print(done.stdout[-2000:], done.stderr[-2000:], sep="\n", file=sys.stderr)
            print(f"{name}: the demo failed; nothing recorded", file=sys.stderr)
            return 1
        print(f"{name}: {sum(1 for _ in path.open())} lines, {path.stat().st_size} bytes")
    return worst


if __name__ == "__main__":
    sys.exit(main())
