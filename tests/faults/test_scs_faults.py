"""Faults on the Siebel side, on a real ActiveMQ with ``serve`` and ``simulate-gc`` as
processes (as tests/driver/test_e2e_activemq.py): the SCS connection dropped and resumed
(protocol v1.1), dropped past the grace period, and the console resuming its own session
through a connection that is cut.  Each fault measures its time to recovery (printed and
written to build/faults/<name>.json; docs/operations.md "Measured recovery" shows them)
and asserts what the agent sees: still logged in, same state and reason, the same calls
with the same tracking ids and start times, every command answered."""

from __future__ import annotations

import datetime
import json
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pytest

from siebel_gateway.core.vocabulary import AGENT_EVENT

from ..driver.scs_client import ScsSocketClient
from ..driver.test_e2e_activemq import ROOT, AgentClient, Lab, gateway_config, start
from ..driver.test_serve_cli import TEMPLATES
from ..netutil import free_port
from .lab import sim_control

pytestmark = pytest.mark.broker
RESULTS = ROOT / "build" / "faults"
STATE_EVENTS = frozenset(AGENT_EVENT.values())


def record(name: str, **figures: Any) -> None:
    """Print the fault's figures and keep them in build/faults/<name>.json."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(f"\nfault {name}: " + ", ".join(f"{k}={v}" for k, v in figures.items()))


@contextmanager
def lab(broker: tuple[str, int], tmp: Path, *, server: str = "",
        procs: list[subprocess.Popen[bytes]] | None = None) -> Iterator[Lab]:
    """The simulator and a gateway; ``procs`` gets the gateway process (and any the test
    adds there is stopped at the end too)."""
    procs = [] if procs is None else procs
    host, port = broker
    queue = f"GC{uuid.uuid4().hex[:8]}"
    gw_port = free_port()
    cfg = gateway_config(tmp / "gateway.def", gw_port, f"failover:(stomp://{host}:{port})",
                         queue, server)
    sim = start(["simulate-gc", "--broker", f"stomp://{host}:{port}", "--queue", queue,
                 "--flavour", "ucce", "--ring-timeout", "60"], tmp / "sim.log")
    procs.append(serve(cfg, tmp / "gw.log", gw_port))
    try:
        yield Lab(host, port, queue, "ucce", gateway_port=gw_port)
    finally:
        for p in (*procs, sim):
            if p.poll() is None:
                p.terminate()
            p.wait(timeout=20)
        for log in tmp.glob("gw*.log"):
            assert "Traceback" not in log.read_text(), log.read_text()


def serve(cfg: Path, log: Path, port: int) -> subprocess.Popen[bytes]:
    """A gateway process, once it listens."""
    gw = start(["serve", "--config", str(cfg), "--def", str(TEMPLATES / "siebel-ucce.def")],
               log)
    deadline = time.monotonic() + 30
    while True:
        try:
            ScsSocketClient("127.0.0.1", port, timeout=1).close()
            return gw
        except OSError:
            assert gw.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "gateway did not listen within 30 s"
            time.sleep(0.05)


def drop(c: ScsSocketClient) -> None:
    """The connection dies as in a network failure: a reset, no goodbye."""
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    c.sock.close()


def on_a_held_call(lab: Lab, a: AgentClient) -> tuple[str, int]:
    """Agent 1001 signed in, ready, then on an inbound call it holds; (tracking id, the
    work item's start time)."""
    a.login()
    assert a.invoke("ChangeReadyState") == {"code": 0}
    a.c.wait_event("EventAgentReady")
    lab.control(action="inbound-call", agent="1001", ani="4155550100", dnis="8005550100")
    tid = a.c.wait_event("EventRinging")["trackingId"]
    assert a.invoke("AnswerCall") == {"code": 0}
    a.c.wait_event("EventEstablished", TrackingID=tid)
    assert a.invoke("HoldCall") == {"code": 0}
    a.c.wait_event("EventHeld", TrackingID=tid)
    started = [c["params"]["startTime"] for c in a.c.history
               if c["method"] == "WorkItemStarted" and c["params"]["trackingId"] == tid]
    assert len(started) == 1
    return tid, started[0]


def last_state(history: list[dict[str, Any]]) -> tuple[str, str]:
    """(AgentState, ReasonCode) of the last agent state event seen."""
    events = [dict(c["params"]["fields"]) for c in history if c["method"] == "HandleEvent"
              and c["params"]["name"] in STATE_EVENTS]
    return events[-1]["AgentState"], events[-1]["ReasonCode"]


def test_scs_connection_dropped_and_resumed(broker_stomp: tuple[str, int],
                                           tmp_path: Path) -> None:
    with lab(broker_stomp, tmp_path) as the_lab:
        d = ScsSocketClient("127.0.0.1", the_lab.gateway_port, timeout=20)
        created = d.call("CreateISCDriverInstance", mediaType="Voice", language="ENU",
                         connectString="", params=[["Driver:Flavour", "UCCE"]])
        assert d.call("APIVersion") == {"code": 0, "version": 2, "protocol": "1.1"}
        s = d.call("RequestService", driver=created["driver"], connectString="",
                   params=[["Service:AgentId", "1001"], ["Service:Extension", "2001"]])
        a = AgentClient(d, s["service"], "1001")
        tid, started = on_a_held_call(the_lab, a)
        c, on_call_ms = resume(the_lab, a, created)
        names = [x["params"].get("name", x["method"]) for x in c.history
                 if x["method"] not in ("BeginBatch", "EndBatch")]
        assert names[0] == "CleanAllWorkItem" and "EventAgentLogout" not in names
        items = [x["params"] for x in c.history if x["method"] == "WorkItemStarted"]
        assert [(i["trackingId"], i["startTime"]) for i in items] == [(tid, started)]
        assert names.index("WorkItemSuspended") > names.index("WorkItemStarted")

        # Every command is answered on the new connection; the agent goes on with the call,
        # then takes a break with a reason, and the connection drops once more.
        assert a.invoke("RetrieveCall") == {"code": 0}
        c.wait_event("EventRetrieved", TrackingID=tid)
        assert a.invoke("ReleaseCall") == {"code": 0}
        c.wait_event("EventReleased", TrackingID=tid)
        assert a.invoke("ChangeNotReadyState", ReasonCode="1") == {"code": 0}
        c.wait_event("EventAgentNotReady", ReasonCode="1")
        c, idle_ms = resume(the_lab, a, created)
        names = [x["params"].get("name", x["method"]) for x in c.history
                 if x["method"] not in ("BeginBatch", "EndBatch")]
        assert names[:2] == ["CleanAllWorkItem", "EventAgentNotReady"], names
        assert last_state(c.history) == ("NOT_READY", "1")
        assert "WorkItemStarted" not in names  # the released call stays released
        assert a.invoke("ChangeReadyState") == {"code": 0}
        c.wait_event("EventAgentReady")
        c.close()
    record("scs-resume", resume_on_a_held_call_ms=round(on_call_ms, 1),
           resume_idle_ms=round(idle_ms, 1), agents_logged_out=0, calls_kept=1,
           commands_unanswered=0, target_ms=100)


def resume(lab: Lab, a: AgentClient, created: dict[str, Any]
           ) -> tuple[ScsSocketClient, float]:
    """Drop the agent's connection, resume on a new one; (new client, milliseconds from
    ResumeDriverInstance to the toolbar: CacheCommandInformation received)."""
    drop(a.c)
    time.sleep(0.3)  # the gateway notices the reset; the agent is kept, not released
    c = ScsSocketClient("127.0.0.1", lab.gateway_port, timeout=20)
    t0 = time.monotonic()
    resumed = c.call("ResumeDriverInstance", driver=created["driver"],
                     session=created["session"])
    c.wait_callback("CacheCommandInformation")
    took = (time.monotonic() - t0) * 1000
    assert resumed == {"code": 0, "services": [{"service": a.service, "agentId": "1001"}]}
    a.c = c
    return c, took


def test_scs_connection_dropped_past_the_grace(broker_stomp: tuple[str, int],
                                              tmp_path: Path) -> None:
    with lab(broker_stomp, tmp_path, server='ResumeGraceSeconds = "1"\n') as the_lab:
        d = ScsSocketClient("127.0.0.1", the_lab.gateway_port, timeout=20)
        created = d.call("CreateISCDriverInstance", mediaType="Voice", language="ENU",
                         connectString="", params=[["Driver:Flavour", "UCCE"]])
        s = d.call("RequestService", driver=created["driver"], connectString="",
                   params=[["Service:AgentId", "1001"], ["Service:Extension", "2001"]])
        a = AgentClient(d, s["service"], "1001")
        a.login()
        drop(d)
        t0 = time.monotonic()
        c = ScsSocketClient("127.0.0.1", the_lab.gateway_port, timeout=20)
        # A wrong token is refused while the driver waits, and changes nothing.
        r = c.call("ResumeDriverInstance", driver=created["driver"],
                   session=created["session"] + "-wrong")
        assert r["code"] == 4 and "session token" in r["error"], r
        log = tmp_path / "gw.log"
        deadline = time.monotonic() + 20
        while "not resumed within" not in log.read_text():  # the gateway's own word
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.05)
        released_s = time.monotonic() - t0
        r = c.call("ResumeDriverInstance", driver=created["driver"],
                   session=created["session"])
        assert r["code"] == 4 and "grace period expired" in r["error"], r
        assert created["session"] not in log.read_text()
        # The services were released as in protocol v1: ForceLogoutOnRelease logged the agent
        # out, so a new driver signs in from scratch (once the GC has answered that
        # ForceLogout: a sign-in racing it would get its LOGOUT state -- v1 behaviour too).
        time.sleep(1.0)
        again = the_lab.agent("1001")
        again.login()
        assert "EventAgentLogin" in again.c.history_names()
        c.close()
    record("scs-past-grace", grace_s=1, release_after_s=round(released_s, 2),
           agents_logged_out=1)


class Proxy:
    """A TCP relay whose connections the test can cut (the network failing)."""

    def __init__(self, upstream: int) -> None:
        self.upstream = upstream
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.live: list[socket.socket] = []
        self.accepted = 0
        # cut() and a connection accepted meanwhile (a client reconnecting at once) must not
        # interleave: the new connection is not one cut() was asked to cut.
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                down, _ = self.server.accept()
            except OSError:
                return
            up = socket.create_connection(("127.0.0.1", self.upstream))
            with self._lock:
                self.accepted += 1
                self.live += [down, up]
            for a, b in ((down, up), (up, down)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(a: socket.socket, b: socket.socket) -> None:
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        for s in (a, b):
            with suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        with self._lock:
            live, self.live = self.live, []
        for s in live:
            with suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self.cut()
        self.server.close()


SCRIPT = """\
agent 1001 secret1001 2001
LoginToPBX
expect EventAgentLogin
ReadyCmd
expect EventAgentReady
simulate inbound-call agent=1001 ani=4155550123 dnis=8005550100
expect EventRinging ANI=4155550123
AnswerCallCmd
expect EventEstablished
say cut the connection now
wait 2
HoldCallCmd
expect EventHeld
RetrieveCallCmd
expect EventRetrieved
ReleaseCallCmd
expect EventReleased
"""


def test_the_console_resumes_its_session_when_its_connection_drops(
        broker_stomp: tuple[str, int], tmp_path: Path) -> None:
    host, port = broker_stomp
    script = tmp_path / "resume.script"
    script.write_text(SCRIPT)
    with lab(broker_stomp, tmp_path) as the_lab:
        proxy = Proxy(the_lab.gateway_port)
        console = subprocess.Popen(
            [sys.executable, "-m", "siebel_gateway.cli", "console", "--def",
             str(TEMPLATES / "siebel-ucce.def"), "--connect", f"127.0.0.1:{proxy.port}",
             "--simulator", f"stomp://{host}:{port}", "--queue", the_lab.queue,
             "--script", str(script)], cwd=ROOT, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True)
        lines: list[str] = []
        try:
            assert console.stdout is not None
            for line in console.stdout:
                lines.append(line)
                if "== cut the connection now" in line:
                    proxy.cut()
            console.wait(timeout=60)
        finally:
            if console.poll() is None:
                console.kill()
            proxy.close()
    out = "".join(lines)
    assert console.returncode == 0, out[-4000:]
    assert "resumed with 1 services" in out, out[-4000:]
    assert "creating the driver and services again" not in out, out[-4000:]
    assert proxy.accepted >= 2  # the first connection and the one that resumed
    printed = [line.rstrip() for line in lines if line.strip()]
    assert printed[-1].endswith("every step behaved"), out[-4000:]


def test_gateway_killed_and_a_new_gateway(broker_stomp: tuple[str, int],
                                          tmp_path: Path) -> None:
    """kill -9 of the gateway, a new one on the same address: RequestService finds the
    agent still signed in at the GC and shows it so (state and reason), logs nobody out."""
    procs: list[subprocess.Popen[bytes]] = []
    with lab(broker_stomp, tmp_path, procs=procs) as the_lab:
        a = the_lab.agent("1001")
        a.login()
        assert a.invoke("ChangeNotReadyState", ReasonCode="1") == {"code": 0}
        a.c.wait_event("EventAgentNotReady", ReasonCode="1")
        before = last_state(a.c.history)
        procs[0].send_signal(signal.SIGKILL)
        procs[0].wait(timeout=20)
        t0 = time.monotonic()
        procs.append(serve(tmp_path / "gateway.def", tmp_path / "gw2.log",
                           the_lab.gateway_port))
        started_s = time.monotonic() - t0
        # SCS (the shim) reconnects: its resume is refused by the new process, so it
        # creates the driver and the service again -- and does not send LogIn.
        c = ScsSocketClient("127.0.0.1", the_lab.gateway_port, timeout=20)
        created = c.call("CreateISCDriverInstance", mediaType="Voice", language="ENU",
                         connectString="", params=[["Driver:Flavour", "UCCE"]])
        t1 = time.monotonic()
        svc = c.call("RequestService", driver=created["driver"], connectString="",
                     params=[["Service:AgentId", "1001"], ["Service:Extension", "2001"]])
        c.wait_event("EventAgentLogin")
        c.wait_event("EventAgentNotReady")
        c.wait_callback("CacheCommandInformation")
        state_ms = (time.monotonic() - t1) * 1000
        recovery_s = time.monotonic() - t0
        assert last_state(c.history) == before == ("NOT_READY", "1")
        assert "EventAgentLogout" not in c.history_names()
        b = AgentClient(c, svc["service"], "1001")
        # Siebel's AutoLogin LogIn after the GC's answer: answered 0, nothing changes
        assert b.invoke("LogIn", AgentId="1001", AgentPin="secret1001",
                        Extension="2001") == {"code": 0}
        assert b.invoke("ChangeReadyState") == {"code": 0}
        c.wait_event("EventAgentReady")
        assert c.history_names().count("EventAgentLogin") == 1
        assert "HandleError" not in c.history_names()
        c.close()
        # Again, with the LogIn sent right after RequestService (before the GC's answer,
        # most likely): the same outcome, the agent shown Ready as the GC has it.
        procs[1].send_signal(signal.SIGKILL)
        procs[1].wait(timeout=20)
        procs.append(serve(tmp_path / "gateway.def", tmp_path / "gw3.log",
                           the_lab.gateway_port))
        c = ScsSocketClient("127.0.0.1", the_lab.gateway_port, timeout=20)
        created = c.call("CreateISCDriverInstance", mediaType="Voice", language="ENU",
                         connectString="", params=[["Driver:Flavour", "UCCE"]])
        c.call("RequestService", driver=created["driver"], connectString="",
               params=[["Service:Extension", "2009"]])  # (no agent: to see the GC come)
        toolbar = c.wait_callback("CacheCommandInformation")
        if all(status & 2 for status in toolbar["statuses"]):  # all disabled: GC not yet
            c.wait_event("EventLinkConnected")
        svc = c.call("RequestService", driver=created["driver"], connectString="",
                     params=[["Service:AgentId", "1001"], ["Service:Extension", "2001"]])
        b = AgentClient(c, svc["service"], "1001")
        assert b.invoke("LogIn", AgentId="1001", AgentPin="secret1001",
                        Extension="2001") == {"code": 0}
        c.wait_event("EventAgentLogin")
        c.wait_event("EventAgentReady")
        assert last_state(c.history) == ("READY", "")
        assert b.invoke("ChangeNotReadyState", ReasonCode="1") == {"code": 0}
        c.wait_event("EventAgentNotReady", ReasonCode="1")
        names = c.history_names()
        assert names.count("EventAgentLogin") == 1 and "HandleError" not in names
        assert "EventAgentLogout" not in names
        c.close()
    record("gateway-restart", new_gateway_listening_s=round(started_s, 2),
           request_service_to_state_ms=round(state_ms, 1),
           kill_to_toolbar_s=round(recovery_s, 2), agents_logged_out=0)


def test_gateway_killed_mid_call_and_a_new_gateway(broker_stomp: tuple[str, int],
                                                  tmp_path: Path) -> None:
    """kill -9 of the gateway while the agent holds a call, a new one on the same address:
    RequestService shows the agent signed in and the call on the toolbar at once, with its
    tracking id and the start time the GC gives (not the time of the restart), and the
    agent goes on with the call."""
    procs: list[subprocess.Popen[bytes]] = []
    with lab(broker_stomp, tmp_path, procs=procs) as the_lab:
        a = the_lab.agent("1001")
        tid, started = on_a_held_call(the_lab, a)
        time.sleep(1.5)  # the call goes on a while
        procs[0].send_signal(signal.SIGKILL)
        procs[0].wait(timeout=20)
        killed_at = time.time()
        t0 = time.monotonic()
        procs.append(serve(tmp_path / "gateway.def", tmp_path / "gw2.log",
                           the_lab.gateway_port))
        started_s = time.monotonic() - t0
        [gc_call] = sim_control(broker_stomp, the_lab.queue,
                                {"action": "dialogs", "agent": "1001"})["dialogs"]
        assert (gc_call["dialogId"], gc_call["state"]) == (tid, "HELD")
        gc_start = int(datetime.datetime.fromisoformat(
            gc_call["startTime"].replace("Z", "+00:00")).timestamp())
        c = ScsSocketClient("127.0.0.1", the_lab.gateway_port, timeout=20)
        created = c.call("CreateISCDriverInstance", mediaType="Voice", language="ENU",
                         connectString="", params=[["Driver:Flavour", "UCCE"]])
        t1 = time.monotonic()
        svc = c.call("RequestService", driver=created["driver"], connectString="",
                     params=[["Service:AgentId", "1001"], ["Service:Extension", "2001"]])
        c.wait_event("EventAgentLogin")
        item = c.wait_callback("WorkItemStarted")
        c.wait_callback("WorkItemSuspended")
        toolbar = c.wait_callback("CacheCommandInformation")
        call_ms = (time.monotonic() - t1) * 1000
        assert item["trackingId"] == tid
        assert item["startTime"] == gc_start  # what the GC says ...
        assert abs(item["startTime"] - started) <= 1  # ... the answer, as Siebel had it
        assert item["startTime"] < int(killed_at)  # not the time the new gateway heard of it
        flags = dict(zip(toolbar["commands"], toolbar["statuses"], strict=True))
        assert not flags["RetrieveCall"] & 3 and not flags["ReleaseCall"] & 3
        assert "EventAgentLogout" not in c.history_names()
        b = AgentClient(c, svc["service"], "1001")
        assert b.invoke("RetrieveCall", TrackingID=tid) == {"code": 0}
        c.wait_event("EventRetrieved", TrackingID=tid)
        assert b.invoke("ReleaseCall", TrackingID=tid) == {"code": 0}
        c.wait_event("EventReleased", TrackingID=tid)
        c.close()
    record("gateway-restart-mid-call", new_gateway_listening_s=round(started_s, 2),
           request_service_to_call_ms=round(call_ms, 1), calls_kept=1,
           start_time_from_gc=True, agents_logged_out=0)
