"""Where the time goes in bench_scale's steady phase: per-process CPU, run queue, profiles.

Used by ``tools/bench_scale.py --spy DIR``.  While the steady phase runs, a thread samples
every 0.5 s: ``procs_running`` and the machine's idle share from ``/proc/stat``, the load
average, and the CPU seconds of each named process (gateway, simulator, broker JVM, bench
client).  With ``py-spy`` installed (``pip install py-spy``) the gateway and the simulator
are also sampled with ``py-spy record --nonblocking`` (the process is not paused) into
``DIR/<name>.txt`` (collapsed stacks: ``frame;frame;... count``); ``top`` summarises them.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path

__all__ = ["SteadyProbe", "top"]


def _cpu_seconds(pid: int) -> float:
    stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")


def _machine() -> tuple[int, float, float]:
    """(procs_running, busy jiffies, total jiffies)."""
    running, busy, total = 0, 0.0, 0.0
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith("cpu "):
            v = [float(x) for x in line.split()[1:]]
            total = sum(v[:8])
            busy = total - v[3] - v[4]  # idle, iowait
        elif line.startswith("procs_running"):
            running = int(line.split()[1])
    return running, busy, total


class SteadyProbe:
    def __init__(self, pids: dict[str, int], out: Path | None, duration: float) -> None:
        self.pids, self.out, self.duration = pids, out, duration
        self.spies: list[subprocess.Popen[bytes]] = []
        self._stop = threading.Event()
        self.running: list[int] = []
        self.loads: list[float] = []
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def start(self) -> None:
        self.t0 = time.monotonic()
        self.cpu0 = {k: _cpu_seconds(p) for k, p in self.pids.items()}
        _, self.busy0, self.total0 = _machine()
        spy = shutil.which("py-spy") or ""
        if self.out is not None and spy:
            for name in ("gateway", "simulator"):
                if name in self.pids:
                    self.spies.append(subprocess.Popen(
                        [spy, "record", "--nonblocking", "--rate", "100", "--format", "raw",
                         "--duration", str(int(self.duration)), "--pid", str(self.pids[name]),
                         "--output", str(self.out / f"{name}.txt")],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(0.5):
            running, _, _ = _machine()
            self.running.append(running)
            self.loads.append(float(Path("/proc/loadavg").read_text().split()[0]))

    def stop(self) -> dict[str, object]:
        self._stop.set()
        self._thread.join()
        wall = time.monotonic() - self.t0
        shares = {k: round((_cpu_seconds(p) - self.cpu0[k]) / wall, 3)
                  for k, p in self.pids.items()}
        _, busy, total = _machine()
        cores = os.cpu_count() or 1
        for p in self.spies:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
        run = sorted(self.running) or [0]
        return {"cpu_share": shares,
                "machine_busy_cores": round((busy - self.busy0) / (total - self.total0)
                                            * cores, 2) if total > self.total0 else None,
                "procs_running_p50_p90_max": [run[len(run) // 2], run[int(len(run) * 0.9)],
                                              run[-1]],
                "load_avg_1min": [min(self.loads, default=0.0), max(self.loads, default=0.0)]}


def top(path: Path, n: int = 15) -> list[tuple[str, float, float]]:
    """(function, self share, inclusive share) of a py-spy raw file, most self time first."""
    own: Counter[str] = Counter()
    incl: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        c = int(count)
        total += c
        frames = [re.sub(r":\d+\)$", ")", f) for f in stack.split(";")]
        own[frames[-1]] += c
        for f in set(frames):
            incl[f] += c
    return [(f, c / total, incl[f] / total) for f, c in own.most_common(n)] if total else []
