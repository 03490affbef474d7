"""The whole product on a real ActiveMQ: ``siebel-gateway serve`` and ``simulate-gc`` as
processes, SCS clients on real TCP following docs/scs-protocol.md.  A shift for two agents
(UCCE) and the UCCX differences, observing the documented callbacks in order."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import stomp

from ..netutil import NO_MONITOR, free_port
from .scs_client import ScsSocketClient
from .test_serve_cli import TEMPLATES

pytestmark = pytest.mark.broker
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Lab:
    host: str
    port: int
    queue: str
    flavour: str

    def control(self, **msg: Any) -> None:
        conn = stomp.Connection12([(self.host, self.port)], auto_content_length=False)
        conn.connect(wait=True)
        conn.send(f"/queue/{self.queue}.sim-control", json.dumps(msg))
        conn.disconnect()

    def agent(self, agent_id: str, *params: tuple[str, str]) -> AgentClient:
        c = ScsSocketClient("127.0.0.1", self.gateway_port, timeout=20)
        d = c.call("CreateISCDriverInstance", mediaType="Voice", language="ENU",
                   connectString="", params=[["Driver:Flavour", self.flavour.upper()],
                                             *[list(p) for p in params]])
        s = c.call("RequestService", driver=d["driver"], connectString="",
                   params=[["Service:AgentId", agent_id],
                           ["Service:Extension", f"20{agent_id[2:]}"]])
        return AgentClient(c, s["service"], agent_id)

    gateway_port: int = 0


@dataclass
class AgentClient:
    c: ScsSocketClient
    service: str
    agent_id: str
    n: int = 0

    def invoke(self, name: str, string_param: str = "", **params: str) -> dict[str, Any]:
        self.n += 1
        return self.c.call("InvokeCommand", service=self.service, cmdTrackId=str(self.n),
                           name=name, stringParam=string_param,
                           params=[[k, v] for k, v in params.items()])

    def login(self) -> None:
        deadline = time.monotonic() + 30
        while True:  # the gateway may still be saying Hello to the GC
            r = self.invoke("LogIn", AgentId=self.agent_id, AgentPin=f"secret{self.agent_id}",
                            Extension=f"20{self.agent_id[2:]}")
            if r["code"] != 6 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert r == {"code": 0}, r
        self.c.wait_event("EventAgentLogin")


def in_order(names: list[str], *expected: str) -> None:
    it = iter(names)
    missing = [e for e in expected if e not in it]
    assert not missing, f"{expected} not in this order in {names}"


def start(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "siebel_gateway.cli", *args], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=log.open("wb"),
                            env={**os.environ})


def gateway_config(path: Path, gw_port: int, broker: str, queue: str,
                   server: str = "") -> Path:
    """A lab's gateway.def at ``path``: SCS on 127.0.0.1:``gw_port`` (``server``: more
    ``[Server]`` lines), the GC on ``queue`` of ``broker`` answering to ``gw.<queue>``, no
    monitor."""
    path.write_text(f'[Server]\nListen = "127.0.0.1:{gw_port}"\n{server}[Broker]\n'
                    f'Url = "{broker}"\n[GenericConnector]\n'
                    f'Queue = "{queue}"\nClientDestination = "gw.{queue}"\n{NO_MONITOR}')
    return path


@pytest.fixture(params=["ucce", "uccx"])
def lab(request: pytest.FixtureRequest, broker_stomp: tuple[str, int],
        tmp_path: Path) -> Iterator[Lab]:
    host, port = broker_stomp
    flavour = request.param
    queue = f"GC{uuid.uuid4().hex[:8]}"
    siebel = TEMPLATES / f"siebel-{flavour}.def"
    gw_port = free_port()
    cfg = gateway_config(tmp_path / "gateway.def", gw_port,
                         f"failover:(stomp://{host}:{port})", queue)
    sim = start(["simulate-gc", "--broker", f"stomp://{host}:{port}", "--queue", queue,
                 "--flavour", flavour, "--ring-timeout", "60"], tmp_path / "sim.log")
    gw = start(["serve", "--config", str(cfg), "--def", str(siebel)], tmp_path / "gw.log")
    lab = Lab(host, port, queue, flavour, gateway_port=gw_port)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                ScsSocketClient("127.0.0.1", gw_port, timeout=1).close()
                break
            except OSError:
                assert gw.poll() is None, (tmp_path / "gw.log").read_text()
                assert time.monotonic() < deadline, "gateway did not listen within 30 s"
                time.sleep(0.1)
        yield lab
    finally:
        for p in (gw, sim):
            p.terminate()
            p.wait(timeout=20)
        log = (tmp_path / "gw.log").read_text()
        assert "secret100" not in log
        assert "Traceback" not in log, log


def test_a_shift_for_two_agents(lab: Lab) -> None:
    a, b = lab.agent("1001"), lab.agent("1002")
    a.login()
    b.login()
    for x in (a, b):
        assert x.invoke("ChangeReadyState") == {"code": 0}
        x.c.wait_event("EventAgentReady")

    # inbound call with call data and a screen pop
    lab.control(action="inbound-call", agent="1001", ani="4155550100", dnis="8005550100",
                ced="12345", callVariables={"callVariable1": "1-23456"},
                ecc={"AccountId": "A-9"})
    ring = a.c.wait_event("EventRinging")
    f = ring["fields"]
    assert (f["CallType"], f["ANI"], f["DNIS"], f["CED"], f["CallVariable1"],
            f["user.AccountId"]) == ("INBOUND", "4155550100", "8005550100", "12345",
                                     "1-23456", "A-9")
    assert ring["notifyWhenDone"] is True  # the templates ask for it
    a.c.call("NotifyEventHandlingFinished", service=a.service, trackingId=ring["trackingId"],
             result=True)
    main = ring["trackingId"]
    assert a.invoke("AnswerCall") == {"code": 0}
    a.c.wait_event("EventEstablished", TrackingID=main)
    assert a.invoke("HoldCall") == {"code": 0}
    a.c.wait_event("EventHeld", TrackingID=main)
    assert a.invoke("RetrieveCall") == {"code": 0}
    a.c.wait_event("EventRetrieved", TrackingID=main)

    # consult the second agent, who sees the pop, and transfer
    assert a.invoke("TransferInit", PhoneNumber="2002") == {"code": 0}
    consult = a.c.wait_event("EventDialing", CallType="CONSULT")
    pop = b.c.wait_event("EventRinging", CallType="CONSULT")
    assert (pop["fields"]["ANI"], pop["fields"]["CallVariable1"]) == ("4155550100", "1-23456")
    assert b.invoke("AnswerCall") == {"code": 0}
    a.c.wait_event("EventEstablished", TrackingID=consult["trackingId"])
    assert a.invoke("TransferComplete") == {"code": 0}
    a.c.wait_event("EventReleased", TrackingID=main)
    party = b.c.wait_event("EventPartyChanged", CallType="TRANSFER")
    assert party["trackingId"] == main

    if lab.flavour == "ucce":
        # the transferring agent wraps up with a reason, then goes not ready
        a.c.wait_event("EventAgentWorkReady")
        assert a.invoke("SetWrapUpReason", ReasonCode="Support") == {"code": 0}
        a.c.wait_callback("CacheCommandInformation")
    assert a.invoke("ChangeNotReadyState", ReasonCode="1") == {"code": 0}
    a.c.wait_event("EventAgentNotReady", ReasonCode="1")

    # the second agent conferences the first one in
    assert b.invoke("ConferenceInit", PhoneNumber="2001") == {"code": 0}
    a.c.wait_event("EventRinging", CallType="CONSULT")
    assert a.invoke("AnswerCall") == {"code": 0}
    b.c.wait_event("EventEstablished", CallType="CONSULT")
    assert b.invoke("ConferenceComplete") == {"code": 0}
    b.c.wait_event("EventPartyChanged", CallType="CONFERENCE")
    a.c.wait_event("EventPartyChanged", CallType="CONFERENCE")
    assert a.invoke("ReleaseCall") == {"code": 0}
    a.c.wait_event("EventReleased", TrackingID=main)
    assert b.invoke("ReleaseCall") == {"code": 0}
    b.c.wait_event("EventReleased", TrackingID=main)

    # outbound call from Not Ready
    if lab.flavour == "ucce":
        a.c.wait_event("EventAgentWork")
    assert a.invoke("ChangeNotReadyState", ReasonCode="2") == {"code": 0}
    a.c.wait_event("EventAgentNotReady", ReasonCode="2")
    assert a.invoke("MakeCall", PhoneNumber="4085550199") == {"code": 0}
    dial = a.c.wait_event("EventDialing", CallType="OUTBOUND")
    a.c.wait_event("EventEstablished", TrackingID=dial["trackingId"])
    assert a.invoke("ReleaseCall") == {"code": 0}
    a.c.wait_event("EventReleased", TrackingID=dial["trackingId"])

    # log out with a reason
    a.invoke("ChangeNotReadyState", ReasonCode="1")
    a.c.wait_event("EventAgentNotReady", ReasonCode="1")
    assert a.invoke("LogOut", ReasonCode="10") == {"code": 0}
    out = a.c.wait_event("EventAgentLogout")
    assert (out["fields"]["ReasonCode"], out["fields"]["ReasonLabel"]) == ("10",
                                                                          "End of Shift")


def test_callback_order_of_an_inbound_call(lab: Lab) -> None:
    a = lab.agent("1003")
    a.login()
    a.invoke("ChangeReadyState")
    a.c.wait_event("EventAgentReady")
    start = len(a.c.history)
    lab.control(action="inbound-call", agent="1003", ani="4155550111", dnis="8005550100")
    a.c.wait_event("EventRinging")
    for command, event in [("AnswerCall", "EventEstablished"), ("HoldCall", "EventHeld"),
                           ("RetrieveCall", "EventRetrieved"), ("ReleaseCall", "EventReleased")]:
        assert a.invoke(command) == {"code": 0}
        a.c.wait_event(event)
    a.c.wait_callback("WorkItemReleased")
    names = a.c.history_names()[start:]
    in_order(names, "IndicateNewWorkItem", "EventRinging", "CacheCommandInformation",
             "WorkItemStarted", "EventEstablished", "WorkItemSuspended", "EventHeld",
             "WorkItemResumed", "EventRetrieved", "EventReleased", "WorkItemReleased")
    # every burst that is one state change comes as one batch
    assert names.count("BeginBatch") == names.count("EndBatch") > 0
    tracking = {c["params"]["trackingId"] for c in a.c.history[start:]
                if c["method"].startswith("WorkItem") or c["method"] == "IndicateNewWorkItem"}
    assert len(tracking) == 1  # one stable tracking id from ringing to release


def test_uccx_rules_and_ucce_single_step(lab: Lab) -> None:
    a = lab.agent("1004")
    a.login()
    a.invoke("ChangeReadyState")
    a.c.wait_event("EventAgentReady")
    lab.control(action="inbound-call", agent="1004", ani="4155550122", dnis="8005550100")
    a.c.wait_event("EventRinging")
    a.invoke("AnswerCall")
    a.c.wait_event("EventEstablished")
    r = a.invoke("TransferMute", PhoneNumber="4085550100")
    if lab.flavour == "uccx":
        assert r == {"code": 2, "error": "TransferMute is not available on UCCX"}
        a.invoke("ReleaseCall")
        a.c.wait_event("EventReleased")
        a.c.wait_event("EventAgentReady")  # agent 1004 has no wrap-up
        assert a.invoke("LogOut", ReasonCode="10") == {"code": 0}  # from READY: UCCX only
        a.c.wait_event("EventAgentLogout")
    else:
        assert r == {"code": 0}
        a.c.wait_event("EventReleased")


def test_wrap_up_reason_required_over_the_wire(lab: Lab) -> None:
    a = lab.agent("1001", ("Driver:WrapUpReasonRequired", "TRUE"))
    a.login()
    assert a.invoke("ChangeReadyState") == {"code": 0}
    a.c.wait_event("EventAgentReady")
    lab.control(action="inbound-call", agent="1001", ani="4155550100", dnis="8005550100")
    a.c.wait_event("EventRinging")
    assert a.invoke("AnswerCall") == {"code": 0}
    a.c.wait_event("EventEstablished")
    assert a.invoke("ReleaseCall") == {"code": 0}
    a.c.wait_event("EventWrapUp")
    for command, reason in (("ChangeReadyState", ""), ("ChangeNotReadyState", "1")):
        assert a.invoke(command, reason) == {
            "code": 1, "error": f"{command}: set a wrap-up reason first (SetWrapUpReason); "
                                "choose one of: Sales Call, Support, Complaint"}
    assert a.invoke("SetWrapUpReason", ReasonCode="Support") == {"code": 0}
    assert a.invoke("ChangeReadyState") == {"code": 0}
    a.c.wait_event("EventAgentReady")
