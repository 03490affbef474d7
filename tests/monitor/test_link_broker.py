"""The monitor names the broker the link is connected to, not the configured failover list."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from ..netutil import free_port
from .util import serve


def test_status_names_the_broker_of_a_failover_list_in_use(
        broker_stomp: tuple[str, int], tmp_path: Path) -> None:
    host, port = broker_stomp
    dead = free_port()
    url = f"failover:(stomp://127.0.0.1:{dead},stomp://{host}:{port})"
    with serve(tmp_path, broker=url) as gw:
        deadline = time.monotonic() + 30  # a bound on a hang, not a timing assertion
        while True:
            code, status = gw.http.json("/api/status")
            link: dict[str, Any] = status["link"]
            if link["up"] or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert code == 200 and link["up"] is True, link
        assert link["broker"] == f"stomp://{host}:{port}"
