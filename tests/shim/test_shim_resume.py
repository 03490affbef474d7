"""The shim resuming its driver (SCS protocol v1.1, ``ResumeDriverInstance``) against a real
``serve`` + ``simulate-gc`` on the suite's ActiveMQ, through a TCP relay that cuts the
connection while the agent is on a call: what the agent sees is the same session going on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ..faults.test_scs_faults import Proxy
from .agent_day import login
from .fakecm import FakeCM
from .lab import ShimLab
from .test_shim_activemq import warm_up

pytestmark = pytest.mark.broker

LOST = "Connection to the Siebel gateway lost; reconnecting"
BACK = "Connection to the Siebel gateway restored"
NEW_SESSION = "Reconnected to the Siebel gateway as a new session: log in again"


def caches(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in c["params"].items() if k != "service"}
            for c in history if c["method"] == "CacheCommandInformation"]


def test_the_connection_cut_mid_call_is_resumed_not_recreated(
        start_cm: Callable[..., FakeCM], lab: ShimLab) -> None:
    warm_up(lab)
    relay = Proxy(lab.port)
    try:
        cm = start_cm()
        r = cm.driver("d", [["Driver:Flavour", "UCCE"],  # through the relay only
                            ["Driver:GatewayAddress", f"127.0.0.1:{relay.port}"],
                            # room for a loaded CI machine: the resume is not retried
                            ["Driver:RequestTimeoutMs", "10000"]])
        assert r["code"] == 0, (r, cm.stderr())
        a = cm.service("a", "d", [["Service:AgentId", "1001"], ["Service:Extension", "2001"]])
        login(a, "1001")
        assert a.invoke("ChangeReadyState") == {"code": 0}
        a.wait_event("EventAgentReady")
        lab.control(action="inbound-call", agent="1001", ani="4155550123", dnis="8005550100")
        call = a.wait_event("EventRinging")["trackingId"]
        assert a.notify(call) == 0
        assert a.invoke("AnswerCall") == {"code": 0}
        a.wait_event("EventEstablished", TrackingID=call)
        # the rest of the answer's batch too (its status text came after the cut under load)
        a.wait_seen("ShowStatusText", text="Connected with 4155550123")
        before = a.history()

        relay.cut()
        a.wait_callback("ShowStatusText", text=LOST)
        a.wait_callback("ShowStatusText", text=BACK)
        after = a.history()[len(before):]
        assert relay.accepted >= 2  # the new connection went through the relay again

        # resumed, not re-created: the gateway bound the old driver to the new connection
        # and resynchronised the call; nobody asked the agent to log in again
        gw_log = (lab.workdir / f"gw{lab.runs}.log").read_text()
        assert "resumed on connection" in gw_log and "(1 services)" in gw_log, gw_log[-3000:]
        assert "ResumeDriverInstance refused" not in gw_log
        shim_log = cm.log.read_text()
        assert "resumed on the new connection" in shim_log, shim_log
        assert "ResumeDriverInstance was not accepted" not in shim_log
        assert shim_log.count("connected to the gateway at") == 2, shim_log  # one reconnect
        texts = [c["params"]["text"] for c in after if c["method"] == "ShowStatusText"]
        assert NEW_SESSION not in texts and texts == [LOST, BACK], texts
        events = [c["params"]["name"] for c in after if c["method"] == "HandleEvent"]
        assert "EventAgentLogout" not in events, events
        started = [c["params"] for c in after if c["method"] == "WorkItemStarted"]
        assert [w["trackingId"] for w in started] == [call], started  # the same call, same id
        lost = next(i for i, c in enumerate(after) if c["method"] == "ShowStatusText")
        down = caches(after[:lost])  # the shim disabled every command while down ...
        assert down and all(x & 2 for x in down[-1]["statuses"]), down
        on_call = caches(before + after[:lost])[-2]  # ... and the state before the cut was
        assert not all(x & 2 for x in on_call["statuses"])
        assert caches(after)[-1] == on_call  # ... what the resync brought back

        # the next commands are answered at once, on the same call
        assert a.invoke("HoldCall") == {"code": 0}
        a.wait_event("EventHeld", TrackingID=call)
        assert a.invoke("RetrieveCall") == {"code": 0}
        a.wait_event("EventRetrieved", TrackingID=call)
        assert a.invoke("ReleaseCall") == {"code": 0}
        a.wait_event("EventReleased", TrackingID=call)
        assert a.release() == 0
        assert cm.cmd("release_driver", "d")["code"] == 0
        cm.close()
    finally:
        relay.close()
    assert "secret1001" not in cm.log.read_text()
