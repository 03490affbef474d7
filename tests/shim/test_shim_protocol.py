"""The shim against scripted gateways on real TCP: time-outs and late answers, resuming a
session (ResumeDriverInstance) or re-creating it when the gateway does not offer that, and
strings both ways (UTF-16 <-> UTF-8, invalid input replaced)."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from .agent_day import NON_ASCII
from .fake_gateway import FakeGateway, GwConn, Handler
from .fakecm import FakeCM

PARAMS = [["Driver:Flavour", "UCCE"], ["Driver:NotifyWhenDone", "TRUE"]]
SERVICE = [["Service:AgentId", "1001"], ["Service:Extension", "2001"]]


@pytest.fixture
def gateways() -> Iterator[list[FakeGateway]]:
    made: list[FakeGateway] = []
    yield made
    for g in made:
        g.close()


def scripted(start_cm: Callable[..., FakeCM], gateways: list[FakeGateway], handler: Handler,
             *, timeout_ms: int = 2000, session: str | None = None
             ) -> tuple[FakeCM, FakeGateway]:
    """A gateway answering as ``handler`` says, and a channel manager whose driver "d" is
    created on it."""
    gw = FakeGateway(handler, session=session)
    gateways.append(gw)
    cm = start_cm()
    r = cm.driver("d", [*PARAMS, ["GatewayAddress", gw.address],
                        ["RequestTimeoutMs", str(timeout_ms)]])
    assert r["code"] == 0, r
    assert (r["commands"], r["events"]) == (["LogIn"], ["EventAgentLogin"])
    return cm, gw


def test_a_gateway_that_never_answers(start_cm: Callable[..., FakeCM]) -> None:
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts, never replies
        cm = start_cm()
        address = f"127.0.0.1:{silent.getsockname()[1]}"
        r = cm.driver("d", [["GatewayAddress", address], ["RequestTimeoutMs", "500"]])
        assert r["code"] == 6  # SC_EC_NETWORK_ERROR, not a hang
        assert 500 <= r["ms"] < 2500
        cm.close()


def test_nothing_listening_fails_creation_at_once(start_cm: Callable[..., FakeCM]) -> None:
    with socket.create_server(("127.0.0.1", 0)) as s:
        address = f"127.0.0.1:{s.getsockname()[1]}"
    cm = start_cm()
    assert cm.driver("d", [["GatewayAddress", address]])["code"] == 6
    assert cm.driver("d", [["GatewayAddress", "nonsense"]])["code"] == 9  # named in the log
    assert "GatewayAddress has 'nonsense'" in cm.log.read_text()
    assert cm.driver("d", [["RequestTimeoutMs", "soon"]])["code"] == 9
    cm.close()


def test_a_late_answer_is_dropped_and_the_next_request_gets_its_own(
        start_cm: Callable[..., FakeCM], gateways: list[FakeGateway]) -> None:
    held: list[Any] = []

    def slow(conn: GwConn, msg: dict[str, Any]) -> bool:
        if msg["method"] != "InvokeCommand":
            return False
        if msg["params"]["name"] == "Slow":
            held.append(msg["id"])  # answered only when the next request arrives
            return True
        for rid in held:
            conn.result(rid, code=18, error="too late")
        conn.result(msg["id"], code=0)
        return True

    cm, _ = scripted(start_cm, gateways, slow, timeout_ms=400)
    assert cm.cmd("service", "a", "d", "", SERVICE)["code"] == 0
    r = cm.cmd("invoke", "a", "c1", "Slow", "", [])
    assert r["code"] == 6 and 350 <= r["ms"] < 2400  # it waited, but not much longer
    assert cm.cmd("invoke", "a", "c2", "Fast", "", [])["code"] == 0  # not the late 18
    assert "dropped an answer nobody waits for" in cm.log.read_text()
    cm.close()


def test_every_export_forwards_as_its_request(start_cm: Callable[..., FakeCM],
                                               gateways: list[FakeGateway]) -> None:
    codes = {"AcceptWorkItem": 13, "ReleaseWorkItem": 18, "SuspendWorkItem": 18,
             "ResumeWorkItem": 13, "HandleQueuedWorkItem": 2, "NotifyEventHandlingFinished": 13,
             "InvokeCommandEx": 2}

    def answer(conn: GwConn, msg: dict[str, Any]) -> bool:
        if msg["method"] in codes:
            conn.result(msg["id"], code=codes[msg["method"]], error="refused")
            return True
        return False

    cm, gw = scripted(start_cm, gateways, answer)
    assert cm.cmd("service", "a", "d", "conn", SERVICE)["code"] == 0
    got = {
        "AcceptWorkItem": cm.cmd("accept", "a", "t1")["code"],
        "ReleaseWorkItem": cm.cmd("releasewi", "a", "t1")["code"],
        "SuspendWorkItem": cm.cmd("suspend", "a", "t1")["code"],
        "ResumeWorkItem": cm.cmd("resume", "a", "t1")["code"],
        "HandleQueuedWorkItem": cm.cmd("queued", "a", "Email", [["k", "v"]], "q1")["code"],
        "NotifyEventHandlingFinished": cm.cmd("notify", "a", "t1", True)["code"],
        "InvokeCommandEx": cm.cmd("invokeex", "a", "c9", 1, [["PhoneNumber", "123"]])["code"],
    }
    assert got == codes
    assert cm.cmd("impl", "d")["code"] == 16  # the protocol has no such request
    assert cm.cmd("release_service", "a")["code"] == 0
    assert cm.cmd("release_driver", "d")["code"] == 0
    cm.close()
    sent = {m["method"]: m["params"] for _, m in gw.requests}
    assert sent["CreateISCDriverInstance"] == {
        "mediaType": "Voice", "language": "ENU", "connectString": "",
        "params": [*PARAMS, ["GatewayAddress", gw.address], ["RequestTimeoutMs", "2000"]]}
    assert sent["RequestService"] == {"driver": "drv-1", "connectString": "conn",
                                      "params": SERVICE}
    assert sent["HandleQueuedWorkItem"] == {"service": "svc-2", "name": "Email",
                                            "fields": [["k", "v"]], "trackingId": "q1"}
    assert sent["NotifyEventHandlingFinished"] == {"service": "svc-2", "trackingId": "t1",
                                                   "result": True}
    assert sent["InvokeCommandEx"] == {"service": "svc-2", "cmdTrackId": "c9",
                                       "commandType": 1, "params": [["PhoneNumber", "123"]]}
    assert sent["ReleaseISCServiceInstance"] == {"service": "svc-2"}
    assert sent["ReleaseISCDriverInstance"] == {"driver": "drv-1"}
    assert "ResumeDriverInstance" not in gw.methods()


def test_resume_keeps_the_session(start_cm: Callable[..., FakeCM],
                                  gateways: list[FakeGateway]) -> None:
    def resume(conn: GwConn, msg: dict[str, Any]) -> bool:
        if msg["method"] == "ResumeDriverInstance":
            conn.result(msg["id"], code=0, services=["svc-2"])
            conn.callback("HandleEvent", service="svc-2", name="EventAgentLogin",
                          fields=[["AgentId", "1001"]], notifyWhenDone=False, trackingId="")
            return True
        if msg["method"] == "InvokeCommand" and msg["params"]["name"] == "Drop":
            conn.result(msg["id"], code=0)
            conn.close()
            return True
        return False

    cm, gw = scripted(start_cm, gateways, resume, session="tok-1")
    a = cm.service("a", "d", SERVICE)
    assert a.invoke("Drop") == {"code": 0}
    a.wait_callback("ShowStatusText", text="Connection to the Siebel gateway lost; reconnecting")
    _, msg = gw.wait_request("ResumeDriverInstance")
    assert msg["params"] == {"driver": "drv-1", "session": "tok-1"}
    a.wait_event("EventAgentLogin")  # the resync reaches the same Siebel service
    a.wait_seen("ShowStatusText", text="Connection to the Siebel gateway restored")
    assert a.invoke("Next") == {"code": 0}
    assert not any(c["method"] == "CleanAllWorkItem" for c in a.history())
    cm.close()
    assert gw.methods().count("RequestService") == 1  # nothing created again
    assert gw.methods().count("CreateISCDriverInstance") == 1
    _, nxt = gw.wait_request("InvokeCommand", after=gw.wait_request("ResumeDriverInstance")[0])
    assert nxt["params"]["service"] == "svc-2"


@pytest.mark.parametrize("refusal", ["unknown-method", "code"])
def test_resume_refused_creates_driver_and_services_again(
        start_cm: Callable[..., FakeCM], gateways: list[FakeGateway], refusal: str) -> None:
    def drop(conn: GwConn, msg: dict[str, Any]) -> bool:
        if msg["method"] == "ResumeDriverInstance" and refusal == "code":
            conn.result(msg["id"], code=4, error="unknown session")
            return True
        if msg["method"] == "InvokeCommand" and msg["params"]["name"] == "Drop":
            conn.close()  # no answer: the request fails with 6
            return True
        if msg["method"] == "RequestService" and conn.number == 2:
            conn.result(msg["id"], code=0, service="svc-9")
            conn.callback("CacheCommandInformation", service="svc-9", commands=["LogIn"],
                          descriptions=["Log in"], statuses=[16])
            return True
        return False

    cm, gw = scripted(start_cm, gateways, drop, session="tok-1")
    a = cm.service("a", "d", SERVICE)
    assert a.invoke("Drop") == {"code": 6}
    a.wait_callback("CleanAllWorkItem")
    a.wait_callback("CacheCommandInformation", commands=["LogIn"])  # the new gateway service
    a.wait_seen("ShowStatusText", text="Connection to the Siebel gateway restored")
    texts = [c["params"].get("text") for c in a.history()]
    assert "Reconnected to the Siebel gateway as a new session: log in again" in texts
    assert a.invoke("LogIn") == {"code": 0}
    cm.close()
    second = [m for n, m in gw.requests if n == 2]
    assert [m["method"] for m in second[:3]] == [
        "ResumeDriverInstance", "CreateISCDriverInstance", "RequestService"]
    first = {m["method"]: m["params"] for n, m in gw.requests if n == 1}
    assert second[1]["params"] == first["CreateISCDriverInstance"]  # the same parameters
    assert second[2]["params"] == {**first["RequestService"], "driver": "drv-3"}
    assert second[3]["params"]["service"] == "svc-9"  # Siebel's handle, the new session


def test_strings_cross_as_utf16_and_bad_input_is_replaced(
        start_cm: Callable[..., FakeCM], gateways: list[FakeGateway]) -> None:
    def answer(conn: GwConn, msg: dict[str, Any]) -> bool:
        if msg["method"] == "InvokeCommand":
            conn.result(msg["id"], code=0)
            # raw bytes: good UTF-8, then a stray continuation byte, an overlong NUL, a
            # truncated 3-byte sequence, an encoded surrogate, escapes with a lone surrogate
            text = (NON_ASCII.encode() + b"|\x80|\xc0\x80|\xe4\xbd|\xed\xa0\x80|"
                    + b"\\ud83d\\ude00|\\udc00")
            conn.send_raw(b'{"jsonrpc":"2.0","method":"ShowStatusText","params":{"service":"'
                          + msg["params"]["service"].encode() + b'","text":"' + text + b'"}}\n')
            return True
        return False

    cm, gw = scripted(start_cm, gateways, answer)
    a = cm.service("a", "d", SERVICE)
    # from Siebel: UTF-16 with a pair (the emoji) and a lone high surrogate
    assert a.invoke("Say", f"{NON_ASCII} \ud800!", Note=NON_ASCII) == {"code": 0}
    shown = a.wait_callback("ShowStatusText")["text"]
    cm.close()
    _, sent = gw.wait_request("InvokeCommand")
    assert sent["params"]["stringParam"] == f"{NON_ASCII} \ufffd!"
    assert sent["params"]["params"] == [["Note", NON_ASCII]]
    # the same replacements as Python's own decoder (maximal subparts, Unicode 3.9)
    expected = (NON_ASCII.encode() + b"|\x80|\xc0\x80|\xe4\xbd|\xed\xa0\x80|").decode(
        "utf-8", "replace")
    assert shown == expected + "\U0001F600|\ufffd"
    assert shown.split("|")[1:5] == ["\ufffd", "\ufffd\ufffd", "\ufffd", "\ufffd" * 3]
