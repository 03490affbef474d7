#!/usr/bin/env python3
"""Re-record the golden traces in tests/data/traces/ (replayed by the test suite).

    python tools/golden_traces.py [--check]

Each trace is a ``siebel-gateway demo`` run on the embedded default with ``--trace``: the
UCCE and UCCX template scripts (login, ready, inbound with pop, hold, consult + transfer,
wrap-up reason, conference, outbound, not ready with reason, logout) and the GC outage
script beside the traces.  Re-record only when a change in behaviour is intended, and read
``siebel-gateway trace replay`` of the old trace first: its diff is the change under review.
``--check`` replays the stored traces instead (exit 1 when one diverges).

``--broker stomp://HOST:PORT`` also records ``duplex-gc-down.jsonl`` from a real duplex run
on that ActiveMQ: ``simulate-gc`` serving Connector1 and Connector2 and ``serve --trace``
(active-passive, HeartbeatSeconds 1, MissedHeartbeats 2) as processes, and the console
running ``duplex-gc-down.script`` (Connector1 goes silent mid-call through the simulator's
``gc-down``, the agent goes on on Connector2, Connector1 comes back).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from siebel_gateway.crypto import DEFAULT_KEY_ENV, new_key

ROOT = Path(__file__).resolve().parent.parent
TRACES = ROOT / "tests" / "data" / "traces"
RUNS = {
    "ucce-shift.jsonl": ["--flavour", "ucce"],
    "uccx-shift.jsonl": ["--flavour", "uccx"],
    "gc-outage.jsonl": ["--flavour", "ucce", "--script", str(TRACES / "gc-outage.script")],
}


DUPLEX = "duplex-gc-down.jsonl"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def record_duplex(broker: str, path: Path) -> int:
    """A duplex run as processes on ``broker``, traced into ``path``; the console's exit."""
    cli = [sys.executable, "-m", "siebel_gateway"]
    port = free_port()
    # The templates set UseSecurePassword = TRUE: serve and simulate-gc share a key.
    env = {**os.environ, DEFAULT_KEY_ENV: os.environ.get(DEFAULT_KEY_ENV) or new_key().hex()}
    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "gateway.def"
        cfg.write_text(f'[Server]\nListen = "127.0.0.1:{port}"\n[Broker]\nUrl = "{broker}"\n'
                       '[GenericConnector]\nQueue = "Connector1, Connector2"\n'
                       'Mode = "active-passive"\nHeartbeatSeconds = "1"\n'
                       'MissedHeartbeats = "2"\n'
                       # no monitor: its default 127.0.0.1:8077 may be another serve's
                       '[Monitor]\nListen = ""\n')
        logs = [open(Path(tmp) / name, "wb") for name in ("sim.log", "gw.log")]  # noqa: SIM115
        sim = subprocess.Popen([*cli, "simulate-gc", "--broker", broker, "--queue",
                                "Connector1", "--queue", "Connector2"], stderr=logs[0],
                               stdout=subprocess.DEVNULL, env=env)
        gw = subprocess.Popen([*cli, "serve", "--config", str(cfg), "--def",
                               str(ROOT / "def_templates" / "siebel-ucce.def"), "--trace",
                               str(path)], stderr=logs[1], stdout=subprocess.DEVNULL,
                              env=env)
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if time.monotonic() > deadline or gw.poll() is not None:
                        print((Path(tmp) / "gw.log").read_text()[-2000:], file=sys.stderr)
                        return 1
                    time.sleep(0.1)
            time.sleep(2)  # both GCs answer Hello: Connector1 is the active one
            done = subprocess.run([*cli, "console", "--def",
                                   str(ROOT / "def_templates" / "siebel-ucce.def"),
                                   "--connect", f"127.0.0.1:{port}", "--simulator", broker,
                                   "--queue", "Connector1", "--script",
                                   str(TRACES / "duplex-gc-down.script")],
                                  capture_output=True, text=True, check=False)
            time.sleep(1)  # the release reaches the GC and its answer the trace
            if done.returncode:
                print(done.stdout[-3000:], done.stderr[-2000:], sep="\n", file=sys.stderr)
            return done.returncode
        finally:
            for proc in (gw, sim):
                proc.terminate()
                proc.wait(timeout=30)
            for f in logs:
                f.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="replay instead of recording")
    parser.add_argument("--broker", metavar="URL",
                        help=f"also record {DUPLEX} on this ActiveMQ (stomp://host:port)")
    args = parser.parse_args()
    cli = [sys.executable, "-m", "siebel_gateway"]
    worst = 0
    if args.broker and not args.check:
        path = TRACES / DUPLEX
        path.unlink(missing_ok=True)
        if record_duplex(args.broker, path):
            print(f"{DUPLEX}: the duplex run failed; nothing recorded", file=sys.stderr)
            path.unlink(missing_ok=True)
            return 1
        print(f"{DUPLEX}: {sum(1 for _ in path.open())} lines, {path.stat().st_size} bytes")
    elif args.check:
        worst = subprocess.run([*cli, "trace", "replay", str(TRACES / DUPLEX)],
                               check=False).returncode
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
