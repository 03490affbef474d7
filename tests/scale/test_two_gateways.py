"""Two ``serve`` processes on one broker and one GC queue, each with its own
ClientDestination and its own agents (docs/operations.md "Several gateway processes")."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest

from .lab import Desk, Processes, wait_gc

pytestmark = pytest.mark.broker
FIRST = ["200101", "200102", "200103"]
SECOND = ["200201", "200202", "200203"]


def test_two_gateways_share_one_gc_queue(broker_stomp: tuple[str, int],
                                         tmp_path: Path) -> None:
    queue = f"Two{uuid.uuid4().hex[:6]}"
    lab = Processes(tmp_path, broker_stomp, queue)
    try:
        lab.simulator([*FIRST, *SECOND])
        one = lab.gateway("gw1", f"gw1.{queue}")
        two = lab.gateway("gw2", f"gw2.{queue}")
        asyncio.run(shift(one, two))
        logs = lab.log("gw1") + lab.log("gw2")
    finally:
        lab.stop()
    assert "Traceback" not in logs
    assert "broker link down" not in logs


async def ready(desk: Desk, agent: str) -> None:
    assert (await desk.invoke(agent, "ChangeReadyState", "r")) == {"code": 0}
    await desk.until(lambda: "EventAgentReady" in desk.events(agent), 30, f"{agent} Ready")


def login_state(desk: Desk, agent: str) -> str:
    """The AgentState the agent's (only) EventAgentLogin showed."""
    [fields] = [dict(p["fields"]) for m, p in desk.seen(agent)
                if m == "HandleEvent" and p["name"] == "EventAgentLogin"]
    return str(fields["AgentState"])


async def shift(one_port: int, two_port: int) -> None:
    one, two = await Desk.open(one_port), await Desk.open(two_port)
    for desk, agents in ((one, FIRST), (two, SECOND)):
        for agent in agents:
            await desk.service(agent)
        await wait_gc(desk, agents[0])
        results = await asyncio.gather(*(desk.log_in(a) for a in agents[1:]))
        assert [r["code"] for r in results] == [0, 0]
    for desk, agents in ((one, FIRST), (two, SECOND)):
        await desk.until(lambda d=desk, ags=agents: all(
            "EventAgentLogin" in d.events(a) for a in ags), 30, "logins")
        for agent in agents:
            await ready(desk, agent)
    # each gateway heard only its own agents
    for agent in FIRST:
        assert agent not in str(two.callbacks)
    for agent in SECOND:
        assert agent not in str(one.callbacks)

    # The same agent's desk opens on the second gateway while it is signed in (Ready)
    # through the first: RequestService names its AgentId, so the new gateway asks the GC
    # (core/recover.py: Connect + GetState) and takes the agent over; Siebel's AutoLogin
    # LogIn, sent at once, may arrive before or after the GC's answer: either way it is
    # answered 0, the agent is shown signed in once with the state the GC has (Ready), and
    # the first gateway's agent is told it was signed out there.
    moved = FIRST[1]
    await two.service(moved)
    assert (await two.log_in(moved)) == {"code": 0}
    await two.until(lambda: "EventAgentLogin" in two.events(moved), 30, "login on gw2")
    await one.until(lambda: "EventAgentLogout" in one.events(moved), 30, "logout on gw1")
    assert login_state(two, moved) == "READY"
    assert (await one.invoke(moved, "ChangeNotReadyState", "n"))["code"] != 0  # not signed in
    heard_on_one = len(one.seen(moved))
    r = await two.invoke(moved, "ChangeNotReadyState", "n", ReasonCode="1")
    assert r == {"code": 0}, r  # the agent works on the second gateway
    await two.until(lambda: "EventAgentNotReady" in two.events(moved), 30, "Not Ready on gw2")
    await asyncio.sleep(0.5)
    assert len(one.seen(moved)) == heard_on_one  # and the first hears nothing more of it
    assert two.events(moved).count("EventAgentLogin") == 1 and not two.errors(moved)

    # The same with the LogIn sent only once the GC has answered (the agent already shown
    # signed in): answered 0 too, nothing more shown (docs/scs-protocol.md "After a
    # gateway restart").  A second LogIn, the service now signed in by it, is refused.
    taken = FIRST[0]
    await two.service(taken)
    await two.until(lambda: "EventAgentLogin" in two.events(taken), 30, "taken over on gw2")
    await one.until(lambda: "EventAgentLogout" in one.events(taken), 30, "logout on gw1")
    assert (await two.log_in(taken)) == {"code": 0}
    assert login_state(two, taken) == "READY"
    assert (await two.log_in(taken)) == {"code": 1, "error":
                                         f"Agent {taken} is already logged in"}
    r = await two.invoke(taken, "ChangeNotReadyState", "n", ReasonCode="1")
    assert r == {"code": 0}, r
    await two.until(lambda: "EventAgentNotReady" in two.events(taken), 30, "Not Ready on gw2")
    assert two.events(taken).count("EventAgentLogin") == 1 and not two.errors(taken)
    for desk in (one, two):
        await desk.close()
