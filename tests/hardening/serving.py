"""``siebel-gateway serve`` as a child process on the embedded memory:// GC, for the
hardening tests (real TCP, the shipped templates, a gateway file of the test's own)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from ..netutil import NO_MONITOR, free_port

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "def_templates"
UCCE = TEMPLATES / "siebel-ucce.def"


@dataclass
class Served:
    process: subprocess.Popen[str]
    port: int
    log: Path

    def stop(self) -> str:
        """Stops the gateway; returns its standard error."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        _, err = self.process.communicate(timeout=30)
        return err

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8") if self.log.exists() else ""


def start(tmp: Path, server: str = "", *args: str, env: dict[str, str] | None = None,
          listen: str = "127.0.0.1", extra_config: str = "") -> Served:
    """``serve`` with ``[Server]`` lines ``server``; waits until it accepts connections."""
    port = free_port()
    cfg = tmp / "gw.def"
    monitor = "" if "[Monitor]" in extra_config else NO_MONITOR
    cfg.write_text(f'[Server]\nListen = "{listen}:{port}"\n{server}\n{monitor}{extra_config}',
                   encoding="utf-8")
    log = tmp / "gw.log"
    p = subprocess.Popen([sys.executable, "-m", "siebel_gateway.cli", "serve", "--config",
                          str(cfg), "--def", str(UCCE), "--log-file", str(log), *args],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env={**os.environ, **(env or {})})
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return Served(p, port, log)
        except OSError:
            if p.poll() is not None or time.monotonic() > deadline:
                _, err = p.communicate(timeout=10)
                raise AssertionError(f"serve did not start: {err}") from None
            time.sleep(0.05)


def refused(tmp: Path, server: str, *args: str, listen: str = "127.0.0.1",
            env: dict[str, str] | None = None) -> str:
    """``serve`` that must refuse to start (exit 2, no traceback); its standard error."""
    cfg = tmp / "gw.def"
    cfg.write_text(f'[Server]\nListen = "{listen}:{free_port()}"\n{server}\n',
                   encoding="utf-8")
    p = subprocess.run([sys.executable, "-m", "siebel_gateway.cli", "serve", "--config",
                        str(cfg), "--def", str(UCCE), *args], capture_output=True, text=True,
                       timeout=60, env={**os.environ, **(env or {})}, check=False)
    assert p.returncode == 2, (p.returncode, p.stderr)
    assert "Traceback" not in p.stderr
    return p.stderr
