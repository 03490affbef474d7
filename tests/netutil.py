"""Network helpers shared by the tests."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path
from typing import Any

__all__ = ["NO_MONITOR", "free_port", "wait_listening"]

#: gateway.def lines for a ``serve`` that does not need the monitor: without them it would
#: try the fixed default 127.0.0.1:8077, which parallel test runs would compete for (tests
#: that need the monitor give ``[Monitor] Listen`` a ``free_port()``).
NO_MONITOR = '[Monitor]\nListen = ""\n'


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now.

    Tests that start their own broker take ports this way, so several checkouts can run the
    suite side by side without fighting over fixed numbers.
    """
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_listening(p: subprocess.Popen[Any], port: int, log: Path | None = None,
                   timeout: float = 30.0) -> None:
    """Return once something accepts connections on 127.0.0.1:``port``; fail, with the
    process's ``log`` when there is one, if ``p`` exits first or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            text = log.read_text() if log is not None and log.exists() else ""
            assert p.poll() is None, f"the process exited before it listened: {text}"
            assert time.monotonic() < deadline, \
                f"nothing listens on {port} after {timeout:g} s: {text}"
            time.sleep(0.05)
