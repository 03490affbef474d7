"""The shim on real ActiveMQ: ``serve`` + ``simulate-gc`` processes, the shim library loaded
by the fake channel manager (built with AddressSanitizer + UBSan in the suite)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ..netutil import free_port
from .agent_day import ScsAgent, agent_day, login, normalise
from .fakecm import FakeCM
from .lab import ShimLab, users_xml

pytestmark = pytest.mark.broker


def shim_driver(cm: FakeCM, lab: ShimLab, name: str = "d", **extra: str) -> None:
    """``GatewayAddress`` in ``extra`` replaces the lab's address (the shim reads the first
    GatewayAddress parameter it is given, so a second one would never be used)."""
    address = extra.pop("GatewayAddress", lab.address)
    params = [["Driver:Flavour", "UCCE"], ["Driver:GatewayAddress", address],
              *([k, v] for k, v in extra.items())]
    r = cm.driver(name, params)
    assert r["code"] == 0, (r, cm.stderr())
    assert "AnswerCall" in r["commands"] and "EventRinging" in r["events"]


def warm_up(lab: ShimLab) -> None:
    """Waits until the gateway has the GC in service (both runs then start alike)."""
    x = ScsAgent(lab.address, "1003")
    login(x, "1003")
    assert x.invoke("LogOut", ReasonCode="10") == {"code": 0}
    x.wait_event("EventAgentLogout")
    x.release()


def test_an_agent_day_through_the_shim_matches_the_scs_client(
        start_cm: Callable[..., FakeCM], lab: ShimLab) -> None:
    warm_up(lab)
    ref_a, ref_b = ScsAgent(lab.address, "1001"), ScsAgent(lab.address, "1002")
    agent_day(lab, ref_a, ref_b)
    expected = [normalise(x.history()) for x in (ref_a, ref_b)]
    for x in (ref_a, ref_b):
        assert x.release() == 0

    cm = start_cm()
    shim_driver(cm, lab)
    a = cm.service("a", "d", [["Service:AgentId", "1001"], ["Service:Extension", "2001"]])
    b = cm.service("b", "d", [["Service:AgentId", "1002"], ["Service:Extension", "2002"]])
    agent_day(lab, a, b)
    got = [normalise(x.history()) for x in (a, b)]
    assert a.release() == 0
    assert b.release() == 0
    assert cm.cmd("release_driver", "d")["code"] == 0
    cm.close()
    for mine, theirs in zip(got, expected, strict=True):
        assert [m if m != "HandleEvent" else p["name"] for m, p in mine] == [
            m if m != "HandleEvent" else p["name"] for m, p in theirs]  # readable first
        assert mine == theirs
    assert "secret1001" not in cm.log.read_text()


@pytest.mark.parametrize("build", ["suite", "thread"])
def test_fifty_services_driven_from_eight_threads(start_cm: Callable[..., FakeCM],
                                                  broker_stomp: tuple[str, int],
                                                  tmp_path: Path, build: str,
                                                  request: pytest.FixtureRequest) -> None:
    """With the suite's ASan+UBSan build, then with ThreadSanitizer: no race, no leak, no
    agent sees another's events."""
    built = request.getfixturevalue("shim_tsan") if build == "thread" else None
    lab = ShimLab(broker_stomp, tmp_path, users=users_xml(tmp_path / "users.xml", 3000, 50))
    try:
        cm = start_cm(timeout=300, built=built)
        shim_driver(cm, lab)
        r = cm.cmd("stress", "d", 50, 8, 3000, 4000, timeout=300)
        cm.close()
    finally:
        lab.stop()
    failed = [x for x in cm.stress_agents if not x["ok"] or x["foreign"]]
    assert not failed, failed[:3]
    assert (r["code"], r["ok"], len(cm.stress_agents)) == (0, 50, 50)
    for x in cm.stress_agents:  # each saw its own day, in order, and nobody else's events
        names = [e for e in x["events"] if e in ("EventAgentLogin", "EventAgentReady",
                                                 "EventAgentNotReady", "EventAgentLogout")]
        assert names[0] == "EventAgentLogin" and names[-1] == "EventAgentLogout", x


def test_the_gateway_killed_and_started_again(start_cm: Callable[..., FakeCM],
                                              lab: ShimLab) -> None:
    warm_up(lab)
    dead = free_port()  # GatewayAddress is tried in order: the first one is down
    cm = start_cm()
    shim_driver(cm, lab, GatewayAddress=f"127.0.0.1:{dead},{lab.address}",
                RequestTimeoutMs="3000", ConnectTimeoutMs="500")
    a = cm.service("a", "d", [["Service:AgentId", "1001"], ["Service:Extension", "2001"]])
    login(a, "1001")
    assert a.invoke("ChangeReadyState") == {"code": 0}
    a.wait_event("EventAgentReady")

    lab.kill_gateway()
    lost = a.wait_callback("ShowStatusText",
                           text="Connection to the Siebel gateway lost; reconnecting")
    assert lost
    caches = [c["params"] for c in a.history() if c["method"] == "CacheCommandInformation"]
    assert len(caches[-1]["statuses"]) == len(caches[-2]["statuses"]) > 0
    assert all(s & 2 for s in caches[-1]["statuses"])  # every command disabled
    assert not all(s & 2 for s in caches[-2]["statuses"])
    r = cm.cmd("invoke", "a", "x1", "ChangeNotReadyState", "", [["ReasonCode", "1"]])
    assert r["code"] == 6  # refused at once while disconnected
    assert r["ms"] < 1000

    lab.start_gateway()
    a.wait_callback("CleanAllWorkItem", timeout=60)  # a new session: old work items are gone
    a.wait_seen("ShowStatusText", text="Connection to the Siebel gateway restored")
    login(a, "1001")  # the same handle Siebel holds works on the new gateway session
    assert a.release() == 0
    assert cm.cmd("release_driver", "d")["code"] == 0
    cm.close()
    log = cm.log.read_text()
    assert "secret1001" not in log
    # every (re)connection went past the dead first address to the lab's gateway
    host, port = lab.address.rsplit(":", 1)
    connected = log.count(f"connected to the gateway at {host}:{port}")
    assert connected >= 2, log[-3000:]
    assert log.count(f"127.0.0.1:{dead}") >= connected, log[-3000:]
