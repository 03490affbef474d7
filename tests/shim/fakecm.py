"""Drives the fake channel manager (siebel_gateway/shim/fakecm) from Python: one JSON command
per line in, results and the callbacks Siebel would receive out.  Its interface matches the
plain SCS socket client's (tests/driver/scs_client.py) where the agent-day script needs it."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

__all__ = ["SANITIZER_MARKS", "FakeCM", "ShimService"]

SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                   "WARNING: ThreadSanitizer", "ERROR: ThreadSanitizer")


class FakeCM:
    def __init__(self, exe: Path, lib: Path, workdir: Path, timeout: float = 30.0) -> None:
        self.timeout = timeout
        self.log = workdir / f"shim-{id(self)}.log"
        self.stderr_path = workdir / f"fakecm-{id(self)}.err"
        env = {**os.environ, "SIEBELGW_SHIM_LOG": str(self.log),
               "ASAN_OPTIONS": "detect_leaks=1:halt_on_error=1:abort_on_error=0",
               "UBSAN_OPTIONS": "halt_on_error=1:print_stacktrace=1",
               "TSAN_OPTIONS": "halt_on_error=1:second_deadlock_stack=1"}
        self._err = self.stderr_path.open("wb")
        self.proc = subprocess.Popen([str(exe), str(lib)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self._err, env=env)
        self.results: queue.Queue[dict[str, Any]] = queue.Queue()
        self.cond = threading.Condition()
        #: every callback per service name, in order, never consumed
        self.history: dict[str, list[dict[str, Any]]] = {}
        self.pending: dict[str, list[dict[str, Any]]] = {}
        self.violations: list[str] = []
        #: one summary per agent of a ["stress", ...] command
        self.stress_agents: list[dict[str, Any]] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        loaded = self.results.get(timeout=timeout)
        assert loaded == {"r": "loaded", "version": 2}, loaded

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            msg = json.loads(raw)
            if msg.get("r") == "stress-agent":
                self.stress_agents.append(msg)
                continue
            if "r" in msg:
                self.results.put(msg)
                continue
            with self.cond:
                if "violation" in msg:
                    self.violations.append(msg["violation"])
                else:
                    svc = msg["params"]["service"]
                    self.history.setdefault(svc, []).append(msg)
                    self.pending.setdefault(svc, []).append(msg)
                self.cond.notify_all()

    def cmd(self, *args: Any, timeout: float | None = None) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(list(args)).encode() + b"\n")  # ASCII, \u escapes
        self.proc.stdin.flush()
        try:
            return self.results.get(timeout=timeout or self.timeout)
        except queue.Empty:
            raise TimeoutError(f"fakecm gave no result for {args[0]}: {self.stderr()}") from None

    def driver(self, name: str, params: list[list[str]], media: str = "Voice",
               language: str = "ENU") -> dict[str, Any]:
        return self.cmd("driver", name, media, language, "", params)

    def service(self, name: str, driver: str, params: list[list[str]]) -> ShimService:
        r = self.cmd("service", name, driver, "", params)
        assert r["code"] == 0, r
        return ShimService(self, name)

    def wait(self, svc: str, pred: Any, what: str, timeout: float | None = None
             ) -> dict[str, Any]:
        """The first unconsumed callback of svc matching pred; earlier ones are consumed."""
        deadline = time.monotonic() + (timeout or self.timeout)
        with self.cond:
            while True:
                items = self.pending.setdefault(svc, [])
                for i, c in enumerate(items):
                    if pred(c):
                        del items[:i + 1]
                        return c
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [c["params"].get("name", c["method"]) for c in items]
                    raise TimeoutError(f"{svc}: no {what} within the timeout; saw {seen}")
                self.cond.wait(left)

    def stderr(self) -> str:
        if not self._err.closed:
            self._err.flush()
        return self.stderr_path.read_text(errors="replace")

    def close(self) -> str:
        """Quits (releasing what is left, as SCS does) and checks the run was clean."""
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            try:
                self.proc.stdin.write(b'["quit"]\n')
                self.proc.stdin.close()
            except BrokenPipeError:
                pass
        rc = self.proc.wait(timeout=60)
        self.reader.join(timeout=10)
        self._err.close()
        err = self.stderr()
        assert not [m for m in SANITIZER_MARKS if m in err], err[-6000:]
        assert rc == 0, (rc, err[-3000:])
        assert not self.violations, self.violations
        return err


class ShimService:
    """One agent's service in the fake channel manager, shaped like an SCS client agent."""

    def __init__(self, cm: FakeCM, name: str) -> None:
        self.cm = cm
        self.name = name
        self.n = 0

    def invoke(self, name: str, string_param: str = "", **params: str) -> dict[str, Any]:
        self.n += 1
        r = self.cm.cmd("invoke", self.name, str(self.n), name, string_param,
                        [[k, v] for k, v in params.items()])
        return {"code": r["code"]}

    def notify(self, tracking_id: str, result: bool = True) -> int:
        code: int = self.cm.cmd("notify", self.name, tracking_id, result)["code"]
        return code

    def release(self) -> int:
        code: int = self.cm.cmd("release_service", self.name)["code"]
        return code

    def wait_event(self, name: str, timeout: float | None = None, **fields: str
                   ) -> dict[str, Any]:
        def match(c: dict[str, Any]) -> bool:
            p = c["params"]
            return (c["method"] == "HandleEvent" and p["name"] == name
                    and all(dict(p["fields"]).get(k) == v for k, v in fields.items()))
        c = self.cm.wait(self.name, match, f"{name} {fields}", timeout)
        return {**c["params"], "fields": dict(c["params"]["fields"])}

    def wait_callback(self, method: str, timeout: float | None = None, **params: Any
                      ) -> dict[str, Any]:
        c = self.cm.wait(self.name, lambda c: c["method"] == method and all(
            c["params"].get(k) == v for k, v in params.items()), method, timeout)
        return dict(c["params"])

    def wait_seen(self, method: str, timeout: float | None = None, **params: Any) -> None:
        """Waits until a callback like this has arrived at any time (nothing consumed)."""
        deadline = time.monotonic() + (timeout or self.cm.timeout)
        with self.cm.cond:
            while not any(c["method"] == method and all(c["params"].get(k) == v
                                                         for k, v in params.items())
                          for c in self.cm.history.get(self.name, [])):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{self.name}: no {method} {params} within the timeout")
                self.cm.cond.wait(left)

    def history(self) -> list[dict[str, Any]]:
        with self.cm.cond:
            return list(self.cm.history.get(self.name, []))
