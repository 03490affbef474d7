"""A login storm larger than the broker's memory limit is paced, not lost (issue 14).

ActiveMQ at its memory limit (``sendFailIfNoSpace``) answers SENDs with ERROR frames and
drops the messages: before pacing, a third of such a storm's logins timed out ("GC did not
answer Login") and hundreds of "broker refused a frame" lines were logged.  Here a broker
with a 64 kB limit takes a storm of 300 logins (~1,500 GC commands and ~2,000 events, far
beyond what it can hold at once): every agent gets in, both the gateway and the simulator
log that they paced, and the link never drops."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from ..netutil import free_port
from .lab import ROOT, Desk, Processes, wait_gc

pytestmark = pytest.mark.broker
TOOL = ROOT / "tools" / "activemq"
AGENTS = [str(100000 + i) for i in range(300)]
PROBE = "99999"


@pytest.fixture
def small_broker(tmp_path: Path) -> Iterator[tuple[str, int]]:
    base, stomp, openwire = tmp_path / "amq", free_port(), free_port()
    ports = ["--base", str(base), "--stomp-port", str(stomp), "--openwire-port", str(openwire)]
    proc = subprocess.run([sys.executable, str(TOOL), "start", *ports, "--memory-limit",
                           "64 kb"], capture_output=True, text=True, timeout=180, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    yield "127.0.0.1", stomp
    subprocess.run([sys.executable, str(TOOL), "stop", *ports], capture_output=True,
                   timeout=120, check=False)


def test_a_storm_beyond_the_broker_limit_logs_every_agent_in(
        small_broker: tuple[str, int], tmp_path: Path) -> None:
    lab = Processes(tmp_path, small_broker, f"Storm{uuid.uuid4().hex[:6]}")
    try:
        lab.simulator([*AGENTS, PROBE])
        port = lab.gateway("gw", "gw.storm")
        asyncio.run(storm(port))
        gw, sim = lab.log("gw"), lab.log("sim")
    finally:
        lab.stop()
    assert "pacing sends to the broker: the broker refused" in gw, gw[-3000:]
    assert "pacing sends to the broker: the broker refused" in sim, sim[-3000:]
    for log in (gw, sim):
        assert "broker link down" not in log
        assert "Traceback" not in log
    assert "GC did not answer" not in gw


async def storm(port: int) -> None:
    desk = await Desk.open(port)
    await desk.service(PROBE)
    await wait_gc(desk, PROBE)
    for agent in AGENTS:
        await desk.service(agent)
    results = await asyncio.gather(*(desk.log_in(a) for a in AGENTS))  # all at once
    assert [r["code"] for r in results] == [0] * len(AGENTS)
    await desk.until(lambda: all("EventAgentLogin" in desk.events(a) or desk.errors(a)
                                 for a in AGENTS), 120, "every login answered")
    refused = {a: desk.errors(a) for a in AGENTS if desk.errors(a)}
    assert refused == {}
    await desk.close()
