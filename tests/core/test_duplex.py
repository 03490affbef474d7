"""Two GCs in front of the core (core/gcs.py, core/duplex.py, core/failover.py): which GC
an agent is on, what a failed GC does to it, and that nobody is logged out by a switch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import rule

from siebel_gateway.core.agent import Phase
from siebel_gateway.core.broker_messages import BrokerMessage
from siebel_gateway.core.duplex import DuplexGateway, duplex_client_destination
from siebel_gateway.core.effects import Effect, Key, Publish
from siebel_gateway.core.gcs import GcSet, Mode, parse_mode
from siebel_gateway.gc.codec import FieldValue, GcCodec

from .driver import CATALOG, DIALECT, CoreDriver, callbacks, names, published
from .test_state_machine import CoreWalk

QUEUES = ("Connector1", "Connector2")
SYSTEM = DIALECT.system_agent


@dataclass
class DuplexDriver(CoreDriver):
    mode: Mode = Mode.ACTIVE_PASSIVE
    fail_back: bool = False
    missed: int = 2

    def __post_init__(self) -> None:
        self.codecs = [GcCodec(DIALECT, queue=q, client_destination=duplex_client_destination(
            "gw1", q)) for q in QUEUES]
        self.codec = self.codecs[0]
        self.core: DuplexGateway = DuplexGateway(self.codecs, CATALOG, self.options,
                                                 mode=self.mode, missed_heartbeats=self.missed,
                                                 fail_back=self.fail_back)

    def gc_on(self, i: int, name: str, agent: str, **values: FieldValue) -> list[Effect]:
        codec = self.codecs[i]
        body = codec.encode_event(name, agent, values)
        return self._keep(self.core.broker_message(
            BrokerMessage(destination=codec.event_destination, body=body), self.now))

    def available(self) -> list[Effect]:
        return [*self.link(True), *self.gc_on(0, "IN_SERVICE", SYSTEM, Reason="up"),
                *self.gc_on(1, "IN_SERVICE", SYSTEM, Reason="up")]

    def logged_in(self, agent: str = "1001", extension: str = "2001") -> str:
        """A service signed in on the GC the core placed its agent on."""
        svc = self.service(agent, extension)
        answer, _ = self.request("InvokeCommand", service=svc, cmdTrackId="c1", name="LogIn",
                                 params=[["AgentPin", "pin"]])
        assert answer["result"] == {"code": 0}, answer
        i = self.core.gcs.placed[agent]
        self.gc_on(i, "IN_SERVICE", SYSTEM, Reason="up")
        self.gc_on(i, "State", agent, State="NOT_READY", ReasonCode=-1)
        return svc

    def silence(self, i: int) -> list[Effect]:
        """GC ``i`` stops answering: its silence deadline runs out."""
        return self.fire(Key("gateway", "silence", QUEUES[i]))


def destinations(effects: list[Effect]) -> list[tuple[str, str]]:
    return [(e.message.destination, e.message.type) for e in effects if isinstance(e, Publish)]


def errors(effects: list[Effect]) -> list[dict[str, Any]]:
    return [c["params"] for c in callbacks(effects) if c["method"] == "HandleError"]


def test_mode_and_queue_count_must_agree() -> None:
    assert parse_mode("Active-Passive") is Mode.ACTIVE_PASSIVE
    with pytest.raises(ValueError, match="simplex, active-passive or active-active"):
        parse_mode("hot-standby")
    with pytest.raises(ValueError, match="needs two GCs"):
        GcSet(("Connector1",), Mode.ACTIVE_ACTIVE)
    with pytest.raises(ValueError, match="must differ"):
        GcSet(("Connector1", "Connector1"), Mode.ACTIVE_PASSIVE)


def test_hello_goes_to_each_gc_and_agents_sign_in_on_the_active_one() -> None:
    d = DuplexDriver()
    out = d.available()
    assert [t for _, t in destinations(out)] == ["Hello#gw1.Connector1", "Hello#gw1.Connector2"]
    assert [dest for dest, _ in destinations(out)] == ["/queue/Connector1", "/queue/Connector2"]
    d.logged_in("1001")
    assert {dest for dest, t in destinations(d.log) if "1001" in t} == {"/queue/Connector1"}


def test_the_first_gc_is_active_whichever_answers_hello_first() -> None:
    d = DuplexDriver()
    d.link(True)
    d.gc_on(1, "IN_SERVICE", SYSTEM, Reason="up")
    assert d.core.gcs.active == 1  # the only one in service
    d.gc_on(0, "IN_SERVICE", SYSTEM, Reason="up")
    assert d.core.gcs.active == 0  # nobody signed in yet: the first in Queue order
    d.logged_in("1001")
    assert d.core.gcs.placed["1001"] == 0


def test_active_passive_switch_on_out_of_service_keeps_the_agent_signed_in() -> None:
    d = DuplexDriver()
    d.available()
    svc = d.logged_in("1001")
    d.request("InvokeCommand", service=svc, cmdTrackId="r1", name="ChangeReadyState",
              params=[])
    out = d.gc_on(0, "OUT_OF_SERVICE", SYSTEM, Reason="maintenance")
    # the command in flight is answered, naming the failover; the agent is not logged out
    [err] = [e for e in errors(out) if e["cmdTrackId"] == "r1"]
    assert "Connector1" in err["error"] \
        and "Connector2" in err["error"]
    assert "EventLoggedOut" not in names(out)
    assert [t for dest, t in destinations(out)] == ["Connect#1001", "Login#1001"]
    assert {dest for dest, _ in destinations(out)} == {"/queue/Connector2"}
    assert d.core.gcs.active == 1
    # the new GC reports the agent's state: signed in again, same state, and Siebel is told
    # that state again (no new sign-in, no work item cleared)
    out = d.gc_on(1, "State", "1001", State="NOT_READY", ReasonCode=-1)
    assert "EventAgentNotReady" in names(out)
    assert "EventAgentLogin" not in names(out) and "CleanAllWorkItem" not in names(out)
    [view] = d.core.snapshot().sessions
    assert view.phase is Phase.LOGGED_IN and view.state == "NOT_READY"
    # no fail-back when Connector1 returns
    out = d.gc_on(0, "IN_SERVICE", SYSTEM, Reason="back")
    assert not destinations(out) and d.core.gcs.active == 1


def test_the_gc_an_agent_left_cannot_sign_it_out() -> None:
    # Both GCs back after an outage, the second answered first: the agent moved to it, and
    # the first reports the agent signed out (its sign-in on the second took it over).
    d = DuplexDriver()
    d.available()
    d.logged_in("1001")
    d.gc_on(0, "OUT_OF_SERVICE", SYSTEM, Reason="x")
    assert d.core.gcs.placed["1001"] == 1
    out = d.gc_on(0, "State", "1001", State="LOGOUT", ReasonCode=-1)
    assert "EventAgentLogout" not in names(out)
    out = d.gc_on(1, "State", "1001", State="NOT_READY", ReasonCode=-1)
    assert "EventAgentNotReady" in names(out)
    [view] = d.core.snapshot().sessions
    assert view.phase is Phase.LOGGED_IN and view.state == "NOT_READY"


def test_silent_gc_is_detected_after_missed_heartbeats_and_agents_move() -> None:
    d = DuplexDriver()
    d.available()
    d.logged_in("1001")
    first = d.fire(Key("gateway", "beat", "Connector1"))
    assert published(first) == ["Beat#gw1.Connector1"]  # beats go on: not yet silent
    assert d.core.snapshot().gcs[0].status == "IN_SERVICE"
    out = d.fire(Key("gateway", "silence", "Connector1"))
    assert published(out) == ["Connect#1001", "Login#1001"]
    [gc1, gc2] = d.core.snapshot().gcs
    assert gc1.status == "SILENT" and not gc1.usable and gc2.active and gc2.agents == 1


def test_fail_back_returns_to_the_first_gc_when_asked() -> None:
    d = DuplexDriver(fail_back=True)
    d.available()
    d.logged_in("1001")
    d.gc_on(0, "OUT_OF_SERVICE", SYSTEM, Reason="x")
    d.gc_on(1, "State", "1001", State="READY", ReasonCode=-1)
    out = d.gc_on(0, "IN_SERVICE", SYSTEM, Reason="back")
    assert {dest for dest, _ in destinations(out)} == {"/queue/Connector1"}
    assert d.core.gcs.active == 0


def test_active_active_spreads_agents_and_moves_those_of_a_failed_gc() -> None:
    d = DuplexDriver(mode=Mode.ACTIVE_ACTIVE)
    d.available()
    agents = [str(a) for a in range(1001, 1009)]
    homes = {a: d.core.gcs.home(a) for a in agents}
    assert set(homes.values()) == {0, 1}  # both GCs get agents
    for a in agents:
        d.logged_in(a, "2" + a[1:])
    for a in agents:
        assert d.core.gcs.placed[a] == homes[a]
    out = d.silence(1)
    moved = [a for a in agents if homes[a] == 1]
    assert sorted(t.split("#")[1] for t in published(out) if t.startswith("Login")) == moved
    assert "EventLoggedOut" not in names(out)
    # Connector2 returns: moved agents stay, a new login of its agent uses it again
    d.gc_on(1, "IN_SERVICE", SYSTEM, Reason="back")
    assert all(d.core.gcs.placed[a] == 0 for a in agents)
    newcomer = next(str(a) for a in range(2000, 2100) if d.core.gcs.home(str(a)) == 1)
    d.logged_in(newcomer, "3000")
    assert d.core.gcs.placed[newcomer] == 1


def test_both_gcs_down_tells_every_agent_as_one_gc_did() -> None:
    d = DuplexDriver()
    d.available()
    svc = d.logged_in("1001")
    d.gc_on(0, "OUT_OF_SERVICE", SYSTEM, Reason="x")
    d.gc_on(1, "State", "1001", State="NOT_READY", ReasonCode=-1)  # resynced on Connector2
    out = d.gc_on(1, "OUT_OF_SERVICE", SYSTEM, Reason="y")
    assert "EventLinkDisconnected" in names(out)
    answer, _ = d.request("InvokeCommand", service=svc, cmdTrackId="r2",
                          name="ChangeReadyState", params=[])
    assert answer["result"]["code"] != 0  # refused at once, not left unanswered
    out = d.gc_on(0, "IN_SERVICE", SYSTEM, Reason="back")
    assert published(out) == ["Connect#1001", "Login#1001"]


def test_a_sign_in_in_progress_is_sent_again_on_the_new_gc() -> None:
    d = DuplexDriver()
    d.available()
    svc = d.service("1001")
    d.request("InvokeCommand", service=svc, cmdTrackId="c1", name="LogIn",
              params=[["AgentPin", "pin"]])
    out = d.gc_on(0, "OUT_OF_SERVICE", SYSTEM, Reason="x")
    assert destinations(out) == [("/queue/Connector2", "Hello#gw1.Connector2")]
    assert not errors(out)
    d.gc_on(1, "IN_SERVICE", SYSTEM, Reason="up")
    d.gc_on(1, "State", "1001", State="NOT_READY", ReasonCode=-1)
    [view] = d.core.snapshot().sessions
    assert view.phase is Phase.LOGGED_IN


class DuplexWalk(CoreWalk):
    """The whole-core walk with two GCs (active-active), plus outages of the second."""

    def __init__(self) -> None:
        super().__init__()
        self.dd = DuplexDriver(mode=Mode.ACTIVE_ACTIVE)
        self.d = self.dd
        self.timers.clear()
        self.toolbar.clear()
        self.observe(self.d.available())

    @rule(kind=st.sampled_from(("OUT_OF_SERVICE", "IN_SERVICE", "silent")))
    def second_gc(self, kind: str) -> None:
        if kind == "silent":
            self.observe(self.dd.silence(1))
        else:
            self.observe(self.dd.gc_on(1, kind, SYSTEM, Reason="test"))


DuplexWalk.TestCase.settings = settings(max_examples=40, stateful_step_count=40,
                                        deadline=None,
                                        suppress_health_check=[HealthCheck.too_slow])
TestDuplexWalk = DuplexWalk.TestCase
