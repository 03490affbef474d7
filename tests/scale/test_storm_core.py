"""A login storm in the core: the GC's answer to one LogIn's Hello is that LogIn's business.

Before issue 14 every IN_SERVICE answer was handed to every service (each one's toolbar
re-evaluated), so N agents logging in cost N x N session inputs: at 1,000 agents no agent
got in (each answer took ~0.1 s, the logins timed out behind them)."""

from __future__ import annotations

import pytest

from siebel_gateway.core import machine
from siebel_gateway.core.agent import AgentSession, Phase
from siebel_gateway.core.effects import ToScs
from siebel_gateway.gc.states import AgentState

from ..core.driver import DIALECT, CoreDriver, published


def log_in(d: CoreDriver, svc: str) -> None:
    answer, _ = d.request("InvokeCommand", service=svc, cmdTrackId="c", name="LogIn",
                          params=[["AgentPin", "pin"]])
    assert answer["result"] == {"code": 0}


def test_an_in_service_answer_reaches_only_the_logins_waiting_for_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    d = CoreDriver()
    d.available()
    signed_in = [d.service(str(1000 + i), str(2000 + i)) for i in range(20)]
    for i, svc in enumerate(signed_in):
        log_in(d, svc)
        d.gc("IN_SERVICE", DIALECT.system_agent, Reason="up")
        d.gc("State", str(1000 + i), State="NOT_READY", ReasonCode=-1)
    waiting = [d.service(str(1100 + i), str(2100 + i)) for i in range(3)]
    for svc in waiting:
        log_in(d, svc)
    heard: list[str] = []
    real = machine.gc_system

    def spy(s: AgentSession, *args: object) -> None:
        heard.append(s.handle)
        real(s, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(machine, "gc_system", spy)
    effects = d.gc("IN_SERVICE", DIALECT.system_agent, Reason="up")
    assert sorted(heard) == sorted(waiting)  # not the 20 agents already signed in
    assert published(effects) == [f"{c}#{1100 + i}" for i in range(3)
                                  for c in ("Connect", "Login")]
    phases = {v.service: v.phase for v in d.core.snapshot().sessions}
    assert all(phases[s] is Phase.LOGGING_IN for s in waiting)
    assert all(phases[s] is Phase.LOGGED_IN for s in signed_in)
    heard.clear()
    d.gc("IN_SERVICE", DIALECT.system_agent, Reason="up")  # a Beat answer: nobody waits
    assert heard == []


def test_out_of_service_still_reaches_every_service(monkeypatch: pytest.MonkeyPatch) -> None:
    d = CoreDriver()
    d.available()
    svcs = [d.service(str(1000 + i), str(2000 + i)) for i in range(5)]
    for i, svc in enumerate(svcs):
        log_in(d, svc)
        d.gc("IN_SERVICE", DIALECT.system_agent, Reason="up")
        d.gc("State", str(1000 + i), State="NOT_READY", ReasonCode=-1)
    effects = d.gc("OUT_OF_SERVICE", DIALECT.system_agent, Reason="down")
    told = {e.message["params"]["service"] for e in effects
            if isinstance(e, ToScs) and e.message.get("method") == "HandleEvent"
            and e.message["params"]["name"] == "EventLinkDisconnected"}
    assert told == set(svcs)
    assert all(v.state is AgentState.NOT_READY for v in d.core.snapshot().sessions)
