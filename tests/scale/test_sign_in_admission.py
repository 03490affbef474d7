"""A login storm is admitted at the rate the GC answers it (issue 14).

Before: every LogIn went to the GC at once, so the k-th agent's Login waited behind k-1
others at the GC while its CommandTimeoutSeconds ran; in a 10,000-agent storm all logins
past the first ~1,000-2,000 timed out together.  Here 400 agents log in at once through a
gateway whose GC commands must be answered within 2 s and which lets 10 sign-ins be at the
GC at a time: every agent gets in (without the window, the storm outlasts the 2 s and the
later logins fail with "GC did not answer ...").  A second gateway with a 1 s
SignInQueueSeconds and a GC that stopped answering shows the refusal: agents that could
not be admitted in time are told the gateway is busy, not that the switch cannot be
reached."""

from __future__ import annotations

import asyncio
import os
import signal
import uuid
from pathlib import Path

import pytest

from .lab import Desk, Processes, wait_gc

pytestmark = pytest.mark.broker
AGENTS = [str(300000 + i) for i in range(1000)]
PROBE = "399999"


def test_a_storm_beyond_the_window_signs_every_agent_in(broker_stomp: tuple[str, int],
                                                         tmp_path: Path) -> None:
    lab = Processes(tmp_path, broker_stomp, f"Admit{uuid.uuid4().hex[:6]}")
    try:
        lab.simulator([*AGENTS, PROBE])
        port = lab.gateway("gw", f"gw.admit.{uuid.uuid4().hex[:6]}",
                           'CommandTimeoutSeconds = "2"\nSignInWindow = "10"\n')
        refused = asyncio.run(storm(port, AGENTS))
        log = lab.log("gw")
    finally:
        lab.stop()
    assert refused == {}
    assert "sign-ins wait for the GC: 10 in flight" in log
    assert "sign-ins wait no more" in log
    assert "GC did not answer" not in log and "broker link down" not in log
    assert "Traceback" not in log


def test_a_sign_in_that_cannot_be_admitted_in_time_is_told_the_gateway_is_busy(
        broker_stomp: tuple[str, int], tmp_path: Path) -> None:
    lab = Processes(tmp_path, broker_stomp, f"Busy{uuid.uuid4().hex[:6]}")
    agents = AGENTS[:50]
    try:
        lab.simulator([*agents, PROBE])
        port = lab.gateway("gw", f"gw.busy.{uuid.uuid4().hex[:6]}",
                           'SignInWindow = "1"\nSignInQueueSeconds = "1"\n')
        refused = asyncio.run(storm(port, agents, gc_pid=lab.procs[0].pid))
        log = lab.log("gw")
    finally:
        lab.stop()
    # The GC stopped answering: the one sign-in at the GC times out ("did not answer"),
    # every other one waits 1 s for its turn and is told the gateway is busy -- also a
    # LogIn that waited for its service's restart probe, refused as busy itself.
    texts = [t for errors in refused.values() for t in errors]
    assert len(refused) == len(agents), refused
    assert sum("busy" in t.lower() for t in texts) == len(agents) - 1, texts
    assert not any("cannot be reached" in t for t in texts), texts
    assert "Traceback" not in log


async def storm(port: int, agents: list[str], gc_pid: int = 0) -> dict[str, list[str]]:
    """Every agent logs in at once; each LogIn is accepted (code 0); returns the agents
    refused afterwards, with their HandleError texts.  ``gc_pid``: the simulator, stopped
    (SIGSTOP) for the storm, so that no sign-in is answered."""
    desk = await Desk.open(port)
    await desk.service(PROBE)
    await wait_gc(desk, PROBE)
    for agent in agents:
        await desk.service(agent)
    if gc_pid:  # the services' restart probes may still be waiting: their LogIns wait too
        os.kill(gc_pid, signal.SIGSTOP)
    results = await asyncio.gather(*(desk.log_in(a) for a in agents))  # all at once
    assert [r["code"] for r in results] == [0] * len(agents)
    await desk.until(lambda: all("EventAgentLogin" in desk.events(a) or desk.errors(a)
                                 for a in agents), 180, "every login answered")
    refused = {a: desk.errors(a) for a in agents if desk.errors(a)}
    if gc_pid:
        os.kill(gc_pid, signal.SIGCONT)
    await desk.close()
    return refused
