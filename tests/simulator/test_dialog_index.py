"""The simulator finds an agent's calls through its own index (``ModelBase.dialogs_of``),
not by scanning every dialog of the run: the calls it lists must be the same ones."""

from __future__ import annotations

from .harness import Sim


def dialogs(sim: Sim, agent: str) -> list[tuple[str, str]]:
    reply, _ = sim.control(action="dialogs", agent=agent)
    return [(d["dialogId"], d["state"]) for d in reply["dialogs"]]


def call(sim: Sim, agent: str) -> str:
    reply, _ = sim.control(action="inbound-call", agent=agent, ani="4155550100",
                           dnis="8005550100")
    assert reply["ok"], reply
    return str(reply["dialogId"])


def test_a_transferred_call_is_listed_for_the_agent_who_received_it() -> None:
    sim = Sim()
    sim.login("1001", ready=True)
    sim.login("1002")
    for _ in range(3):  # finished calls stay in the model; they must not be listed
        d = call(sim, "1001")
        sim.send("AnswerCall", AgentId="1001", DialogId=d)
        sim.send("ReleaseCall", AgentId="1001", DialogId=d)
        sim.send("MakeReady", AgentId="1001")
    assert dialogs(sim, "1001") == []
    d1 = call(sim, "1001")
    sim.send("AnswerCall", AgentId="1001", DialogId=d1)
    events = sim.send("ConsultCall", AgentId="1001", Destination="2002", DialogId=d1)
    d2 = next(e for e in events if e.name == "ConsultCall").text("DialogId")
    assert dialogs(sim, "1001") == [(d1, "HELD"), (d2, "INITIATED")]  # oldest first
    assert dialogs(sim, "1002") == [(d2, "ALERTING")]
    sim.send("AnswerCall", AgentId="1002", DialogId=d2)
    sim.send("TransferCall", AgentId="1001", Extension="2001", DialogId=d1)
    # 1002 joined d1 at the transfer (a leg added to an existing call)
    assert dialogs(sim, "1002") == [(d1, "ACTIVE")]
    assert dialogs(sim, "1001") == [(d1, "WRAP_UP")]  # its leg wraps up (UCCE)
    reply, _ = sim.control(action="far-end-drop", agent="1002")
    assert reply["dialogId"] == d1, reply
    assert dialogs(sim, "1002") == [(d1, "WRAP_UP")]
