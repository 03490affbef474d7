"""One scripted agent day for two agents, run the same way through the plain SCS socket
client and through the shim + fake channel manager, and the callbacks of each normalised
for comparison (times and generated ids replaced by their order of appearance)."""

from __future__ import annotations

import re
import time
from typing import Any, Protocol

from ..driver.scs_client import ScsSocketClient
from .lab import ShimLab

__all__ = ["NON_ASCII", "Agent", "ScsAgent", "agent_day", "login", "normalise"]

#: Arabic, CJK and an emoji outside the BMP (a UTF-16 surrogate pair)
NON_ASCII = "مرحبا 你好 \U0001F600"


class Agent(Protocol):
    def invoke(self, name: str, string_param: str = "", **params: str) -> dict[str, Any]: ...
    def notify(self, tracking_id: str, result: bool = True) -> int: ...
    def wait_event(self, name: str, timeout: float | None = None,
                   **fields: str) -> dict[str, Any]: ...
    def wait_callback(self, method: str, timeout: float | None = None,
                      **params: Any) -> dict[str, Any]: ...
    def history(self) -> list[dict[str, Any]]: ...
    def release(self) -> int: ...


class ScsAgent:
    """The reference: the plain SCS socket client the gateway's own tests use."""

    def __init__(self, address: str, agent_id: str) -> None:
        host, _, port = address.rpartition(":")
        self.c = ScsSocketClient(host, int(port), timeout=30)
        d = self.c.call("CreateISCDriverInstance", mediaType="Voice", language="ENU",
                        connectString="", params=[["Driver:Flavour", "UCCE"]])
        self.driver = d["driver"]
        s = self.c.call("RequestService", driver=self.driver, connectString="",
                        params=[["Service:AgentId", agent_id],
                                ["Service:Extension", f"20{agent_id[2:]}"]])
        self.service = s["service"]
        self.n = 0

    def invoke(self, name: str, string_param: str = "", **params: str) -> dict[str, Any]:
        self.n += 1
        return self.c.call("InvokeCommand", service=self.service, cmdTrackId=str(self.n),
                           name=name, stringParam=string_param,
                           params=[[k, v] for k, v in params.items()])

    def notify(self, tracking_id: str, result: bool = True) -> int:
        code: int = self.c.call("NotifyEventHandlingFinished", service=self.service,
                                trackingId=tracking_id, result=result)["code"]
        return code

    def wait_event(self, name: str, timeout: float | None = None, **fields: str
                   ) -> dict[str, Any]:
        return self.c.wait_event(name, timeout, **fields)

    def wait_callback(self, method: str, timeout: float | None = None, **params: Any
                      ) -> dict[str, Any]:
        assert not params
        return self.c.wait_callback(method, timeout)

    def history(self) -> list[dict[str, Any]]:
        return list(self.c.history)

    def release(self) -> int:
        code: int = self.c.call("ReleaseISCServiceInstance", service=self.service)["code"]
        self.c.call("ReleaseISCDriverInstance", driver=self.driver)
        self.c.close()
        return code


def login(agent: Agent, agent_id: str) -> None:
    deadline = time.monotonic() + 30
    while True:  # the gateway may still be saying Hello to the GC
        r = agent.invoke("LogIn", AgentId=agent_id, AgentPin=f"secret{agent_id}",
                         Extension=f"20{agent_id[2:]}")
        if r["code"] != 6 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert r == {"code": 0}, r
    agent.wait_event("EventAgentLogin")
    for category in ("NOT_READY", "LOGOUT", "WRAP_UP"):  # asked for at login
        agent.wait_event("EventReasonCodes", Category=category)


def agent_day(lab: ShimLab, a: Agent, b: Agent) -> None:
    """login, ready, an inbound call with call data, answer, hold, retrieve, consult
    transfer, release, wrap-up, not ready, logout."""
    login(a, "1001")
    login(b, "1002")
    for x in (a, b):
        assert x.invoke("ChangeReadyState") == {"code": 0}
        x.wait_event("EventAgentReady")
    lab.control(action="inbound-call", agent="1001", ani="4155550100", dnis="8005550100",
                ced="12345", callVariables={"callVariable1": "1-23456",
                                            "callVariable2": NON_ASCII},
                ecc={"AccountId": "A-9"})
    ring = a.wait_event("EventRinging")
    assert ring["fields"]["CallVariable2"] == NON_ASCII
    main = ring["trackingId"]
    assert a.notify(main) == 0
    assert a.invoke("AnswerCall") == {"code": 0}
    a.wait_event("EventEstablished", TrackingID=main)
    assert a.invoke("HoldCall") == {"code": 0}
    a.wait_event("EventHeld", TrackingID=main)
    assert a.invoke("RetrieveCall") == {"code": 0}
    a.wait_event("EventRetrieved", TrackingID=main)
    assert a.invoke("TransferInit", PhoneNumber="2002") == {"code": 0}
    consult = a.wait_event("EventDialing", CallType="CONSULT")
    pop = b.wait_event("EventRinging", CallType="CONSULT")
    assert pop["fields"]["CallVariable2"] == NON_ASCII
    assert b.invoke("AnswerCall") == {"code": 0}
    b.wait_event("EventEstablished", CallType="CONSULT")
    a.wait_event("EventEstablished", TrackingID=consult["trackingId"])
    assert a.invoke("TransferComplete") == {"code": 0}
    a.wait_event("EventReleased", TrackingID=main)
    b.wait_event("EventPartyChanged", CallType="TRANSFER")
    a.wait_event("EventAgentWorkReady")  # wrap-up
    assert a.invoke("SetWrapUpReason", ReasonCode="Support") == {"code": 0}
    a.wait_callback("CacheCommandInformation")
    assert a.invoke("ChangeNotReadyState", ReasonCode="1") == {"code": 0}
    a.wait_event("EventAgentNotReady", ReasonCode="1")
    assert b.invoke("ReleaseCall") == {"code": 0}
    b.wait_event("EventReleased", TrackingID=main)
    b.wait_event("EventAgentWorkReady")
    assert b.invoke("ChangeNotReadyState", ReasonCode="2") == {"code": 0}
    b.wait_event("EventAgentNotReady", ReasonCode="2")
    for x in (a, b):
        assert x.invoke("LogOut", ReasonCode="10") == {"code": 0}
        x.wait_event("EventAgentLogout")
        x.wait_callback("EndBatch")  # the rest of the logout's burst


_TIME_FIELDS = {"Timestamp"}
_ID_FIELDS = {"TrackingID", "DialogId", "ParentTrackingID"}


def normalise(history: list[dict[str, Any]]) -> list[tuple[str, Any]]:
    """Callbacks without the service handle, times or the simulator's generated ids."""
    ids: dict[str, str] = {}

    def ident(value: str) -> str:
        if not value:
            return value
        base = re.sub(r"-wrapup$", "", value)
        name = ids.setdefault(base, f"<id{len(ids) + 1}>")
        return name + value[len(base):]

    out: list[tuple[str, Any]] = []
    for c in history:
        p = {k: v for k, v in c["params"].items() if k != "service"}
        for key in ("trackingId", "oldTrackingId"):
            if key in p:
                p[key] = ident(p[key])
        for key in ("startTime", "stopTime"):
            if key in p:
                assert isinstance(p[key], int) and p[key] > 1_600_000_000, p
                p[key] = "<time>"
        if "fields" in p:
            p["fields"] = [[k, "<time>" if k in _TIME_FIELDS else
                            ident(v) if k in _ID_FIELDS else v] for k, v in p["fields"]]
        out.append((c["method"], p))
    return out
