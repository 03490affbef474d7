"""A gateway process that gets no CPU for seconds keeps its broker link (issue 14).

In a 10,000-agent storm ActiveMQ closed the gateway's connection ("Channel was inactive for
too (>1000) long"): the stock broker checks every offered heart-beat interval (1 s) and the
gateway's beat came exactly that often, so a starved process lost the link.  And after a
stall stomp.py saw the broker's coalesced beats as no beat at all and declared the broker
dead 3 s later.  Here the gateway process is stopped outright (SIGSTOP) for 6 s -- longer
than the old 1 s offer and than its own 3 s watch on the broker -- then resumed: the link
stays up, the agent logged in before keeps working and a new agent logs in."""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid
from pathlib import Path

import pytest

from .lab import Desk, Processes, wait_gc

pytestmark = pytest.mark.broker
STALL = 6.0


def test_a_gateway_stalled_for_seconds_keeps_its_broker_link(
        broker_stomp: tuple[str, int], tmp_path: Path) -> None:
    lab = Processes(tmp_path, broker_stomp, f"Busy{uuid.uuid4().hex[:6]}")
    try:
        lab.simulator(["5001", "5002"])
        port = lab.gateway("gw", "gw.busy")
        asyncio.run(stall_and_resume(port, lab.procs[-1].pid))
        log = lab.log("gw")
    finally:
        lab.stop()
    assert "broker link down" not in log, log[-3000:]
    assert "Traceback" not in log


async def stall_and_resume(port: int, pid: int) -> None:
    desk = await Desk.open(port)
    await desk.service("5001")
    await wait_gc(desk, "5001")  # 5001 is logged in before the stall
    await asyncio.sleep(1.5)  # the broker's beats after a quiet second, as in production
    os.kill(pid, signal.SIGSTOP)
    try:
        time.sleep(STALL)  # nothing else runs here meanwhile
    finally:
        os.kill(pid, signal.SIGCONT)
    await asyncio.sleep(4.0)  # past the gateway's own 3 s watch on the broker
    # the agent logged in before keeps working: its command reaches the GC and is answered
    assert (await desk.invoke("5001", "ChangeReadyState", "r")) == {"code": 0}
    await desk.until(lambda: "EventAgentReady" in desk.events("5001"), 30, "5001 Ready")
    assert desk.errors("5001") == []
    await desk.service("5002")
    r = await desk.log_in("5002")
    assert r["code"] == 0, r
    await desk.until(lambda: "EventAgentLogin" in desk.events("5002"), 30, "5002 logged in")
    await desk.close()
