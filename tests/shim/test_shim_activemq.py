"""The shim on real ActiveMQ: ``serve`` + ``simulate-gc`` processes, the shim library loaded
by the fake channel manager (built with AddressSanitizer + UBSan in the suite)."""

from __future__ import annotations

from pathlib import Path

import pytest

from .agent_day import NON_ASCII, ScsAgent, agent_day, login, normalise
from .conftest import Built
from .fakecm import FakeCM
from .lab import ShimLab, users_xml

pytestmark = pytest.mark.broker


def shim_driver(cm: FakeCM, lab: ShimLab, name: str = "d", **extra: str) -> None:
    params = [["Driver:Flavour", "UCCE"], ["Driver:GatewayAddress", lab.address],
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
        shim: Built, lab: ShimLab, tmp_path: Path) -> None:
    warm_up(lab)
    ref_a, ref_b = ScsAgent(lab.address, "1001"), ScsAgent(lab.address, "1002")
    agent_day(lab, ref_a, ref_b)
    expected = [normalise(x.history()) for x in (ref_a, ref_b)]
    for x in (ref_a, ref_b):
        assert x.release() == 0

    cm = FakeCM(shim.fakecm, shim.lib, tmp_path)
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
