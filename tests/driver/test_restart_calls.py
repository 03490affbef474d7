"""Gateway restart mid-call (issue 15): the new gateway takes the agent over from the GC
(Connect + GetState) and asks for its calls at once (GetDialogState without a dialog id);
each call is a work item again with its tracking id and the start time the GC gives, held
if it is held, so the agent can go on with it.  A GC that refuses the question shows the
agent nothing wrong: the calls then appear when the GC next reports them."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

import pytest

from siebel_gateway.adapters.gateway_service import GatewayService
from siebel_gateway.core.gateway import GatewayCore
from siebel_gateway.simulator import model as model_module
from siebel_gateway.simulator.state import Refused

from .harness import CATALOG, Agent, Rig


def on_a_held_call(rig: Rig) -> tuple[Agent, str, int]:
    a = rig.logged_in()
    a.invoke("ChangeReadyState")
    rig.pump(1)
    rig.control(action="inbound-call", agent="1001", ani="4155550100", dnis="8005550100")
    rig.pump(1)
    a.invoke("AnswerCall")
    rig.pump(1)
    a.invoke("HoldCall")
    rig.pump(1)
    started = [c["params"] for c in a.take() if c["method"] == "WorkItemStarted"]
    [item] = started
    return a, item["trackingId"], item["startTime"]


def service_requested(rig: Rig) -> tuple[Agent, list[dict[str, Any]]]:
    """The shim's new driver and service on the new gateway (no LogIn); what it got."""
    c = rig.client()
    driver = c.call("CreateISCDriverInstance", mediaType="Voice", language="ENU",
                    connectString="", params=[["Flavour", "UCCE"]])
    svc = c.call("RequestService", driver=driver["driver"], connectString="",
                 params=[["AgentId", "1001"], ["Extension", "2001"]])
    a = Agent(c, svc["service"])
    return a, a.take()


def restart(rig: Rig) -> None:
    """The gateway process dies (its broker connection with it) and a new one starts on the
    same broker and client destination; new SCS clients reach the new one."""
    rig.link.interrupt()
    rig.core = GatewayCore(rig.codec, CATALOG, rig.options)
    rig.link = rig.broker.link()
    rig.service = GatewayService(rig.core, rig.link, rig.clock, wall=rig.clock.seconds)
    rig.service.start()
    rig.pump()


def test_a_new_gateway_shows_the_held_call_at_once_with_its_id_and_start_time() -> None:
    rig = Rig()
    _a, tid, started = on_a_held_call(rig)
    rig.pump(120)  # two minutes into the call, the gateway is killed
    restart(rig)
    b, seen = service_requested(rig)
    names = [c["params"].get("name", c["method"]) for c in seen]
    assert "EventAgentLogin" in names and "EventAgentLogout" not in names
    items = [c["params"] for c in seen if c["method"] == "WorkItemStarted"]
    assert [(i["trackingId"], i["startTime"]) for i in items] == [(tid, started)]
    assert rig.clock.seconds() - started >= 120  # not the time of the new report
    assert names.index("WorkItemSuspended") > names.index("WorkItemStarted")
    toolbar = [c["params"] for c in seen if c["method"] == "CacheCommandInformation"][-1]
    flags = dict(zip(toolbar["commands"], toolbar["statuses"], strict=True))
    assert not flags["RetrieveCall"] & 3 and not flags["ReleaseCall"] & 3  # enabled
    # the agent goes on with the call on the new gateway
    assert b.invoke("RetrieveCall", TrackingID=tid) == {"code": 0}
    rig.pump(1)
    assert ("EventRetrieved", tid) in [(n, f.get("TrackingID")) for n, f in b.client.events()]
    assert b.invoke("ReleaseCall", TrackingID=tid) == {"code": 0}
    rig.pump(1)
    assert any(c["method"] == "WorkItemReleased" and c["params"]["trackingId"] == tid
               for c in b.take())


def test_an_agent_without_calls_gets_no_work_item_and_no_waiting_question() -> None:
    rig = Rig()
    rig.logged_in()
    restart(rig)
    _b, seen = service_requested(rig)
    names = [c["params"].get("name", c["method"]) for c in seen]
    assert "EventAgentLogin" in names and "WorkItemStarted" not in names
    # the GC answered "no calls" (a DialogStatus without a DialogId): nothing left waiting
    [session] = rig.core.services.values()
    assert not session.pending


def test_a_gc_that_refuses_the_question_shows_nothing_wrong(
        monkeypatch: pytest.MonkeyPatch) -> None:
    rig = Rig()
    on_a_held_call(rig)
    original = model_module.COMMANDS["GetDialogState"]

    def catalogue_gc(self: Any, agent_id: str, v: dict[str, str]) -> None:
        if not v.get("DialogId"):  # the public catalogue's GC needs a dialog id
            raise Refused("Not Found", "dialog  is not a call of the agent", "Invalid dialogId")
        original(self, agent_id, v)

    monkeypatch.setattr(model_module, "COMMANDS", MappingProxyType(
        {**model_module.COMMANDS, "GetDialogState": catalogue_gc}))
    restart(rig)
    _b, seen = service_requested(rig)
    names = [c["params"].get("name", c["method"]) for c in seen]
    assert "EventAgentLogin" in names
    assert "HandleError" not in names and "EventError" not in names
    assert "WorkItemStarted" not in names  # the limit: it comes with the GC's next report
