"""The fault lab: ``serve`` and ``simulate-gc`` as processes on real ActiveMQ brokers, agents
as plain SCS socket clients that stamp every callback with the time it arrived, and what an
agent would notice after a fault (still signed in, same state and reason, same calls, every
command answered)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import stomp

from ..driver.scs_client import ScsSocketClient
from ..driver.test_serve_cli import TEMPLATES
from ..netutil import free_port

ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT / "tools" / "activemq"
RESULTS = ROOT / "build" / "faults"
STATE_EVENTS = ("EventAgentNotReady", "EventAgentReady", "EventAgentWork",
                "EventAgentWorkReady", "EventAgentLogout")


def amq(action: str, base: Path, stomp_port: int, openwire: int) -> None:
    proc = subprocess.run([sys.executable, str(TOOL), action, "--base", str(base),
                           "--stomp-port", str(stomp_port), "--openwire-port", str(openwire)],
                          capture_output=True, text=True, timeout=180, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def kill9(base: Path) -> None:
    pid = int((base / "broker.pid").read_text().split()[0])
    os.kill(pid, signal.SIGKILL)


@dataclass
class Broker:
    """A private broker of one test (killed and restarted by it)."""

    base: Path
    stomp: int = field(default_factory=free_port)
    openwire: int = field(default_factory=free_port)

    @property
    def url(self) -> str:
        return f"stomp://127.0.0.1:{self.stomp}"

    def start(self) -> None:
        amq("start", self.base, self.stomp, self.openwire)

    def stop(self) -> None:
        amq("stop", self.base, self.stomp, self.openwire)


class TimedClient(ScsSocketClient):
    """Every callback carries ``_t``: when it arrived (time.monotonic)."""

    def _read(self, deadline: float) -> bool:
        n = len(self.history)
        got = super()._read(deadline)
        now = time.monotonic()
        for msg in self.history[n:]:
            msg["_t"] = now
        return got


@dataclass
class Agent:
    c: TimedClient
    service: str
    agent_id: str
    n: int = 0

    def invoke(self, name: str, **params: str) -> tuple[str, dict[str, Any]]:
        self.n += 1
        track = f"{self.agent_id}-{self.n}"
        return track, self.c.call("InvokeCommand", service=self.service, cmdTrackId=track,
                                  name=name, stringParam="",
                                  params=[[k, v] for k, v in params.items()])

    def login(self) -> None:
        deadline = time.monotonic() + 30
        while True:  # the gateway may still be saying Hello to the GCs
            _, r = self.invoke("LogIn", AgentId=self.agent_id,
                               AgentPin=f"secret{self.agent_id}",
                               Extension=f"20{self.agent_id[2:]}")
            if r["code"] != 6 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert r == {"code": 0}, r
        self.c.wait_event("EventAgentLogin", timeout=20)

    def pump(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.c._read(deadline)

    def wait_for(self, what: str, predicate: Callable[[dict[str, Any]], bool], start: int,
                 timeout: float = 30.0) -> dict[str, Any]:
        """The first callback from history index ``start`` on that satisfies ``predicate``."""
        deadline = time.monotonic() + timeout
        while True:
            for msg in self.c.history[start:]:
                if predicate(msg):
                    return msg
            if time.monotonic() > deadline:
                seen = [m["params"].get("name", m["method"]) for m in self.c.history[start:]]
                raise AssertionError(f"agent {self.agent_id}: no {what} within {timeout} s; "
                                     f"saw {seen}")
            self.c._read(deadline)

    # -- what the agent sees -----------------------------------------------------------------

    def last_state(self) -> tuple[str, str]:
        """The last agent state event: its name and ReasonCode."""
        for msg in reversed(self.c.history):
            p = msg["params"]
            if msg["method"] == "HandleEvent" and p["name"] in STATE_EVENTS:
                return p["name"], dict(p["fields"]).get("ReasonCode", "")
        return "", ""

    def open_items(self) -> set[str]:
        """The work items Siebel holds open, replayed from the callbacks."""
        items: set[str] = set()
        for msg in self.c.history:
            p = msg["params"]
            if msg["method"] in ("IndicateNewWorkItem", "WorkItemStarted"):
                items.add(p["trackingId"])
            elif msg["method"] == "WorkItemReleased":
                items.discard(p["trackingId"])
            elif msg["method"] == "CleanAllWorkItem":
                items.clear()
        return items

    def logged_out_since(self, start: int) -> bool:
        return any(m["method"] == "HandleEvent" and m["params"]["name"] == "EventAgentLogout"
                   for m in self.c.history[start:])

    def resynced(self, start: int, before: tuple[str, str], items: set[str],
                 timeout: float = 30.0) -> float:
        """Waits until, after history index ``start``, the agent was resynchronised: its
        state (the last state event) and reason are the ones it had and its open work items
        are the ones it had, announced again; returns when that was seen (monotonic)."""
        deadline = time.monotonic() + timeout
        while True:
            # the evidence of a resync: the state event told again once the GC answered
            # the new sign-in; an agent on a call (TALKING has no state event) keeps its
            # work items without their being announced again, so its evidence is the GC's
            # answer to the new sign-in (EventAgentInfo), which no agent left signed out
            # there gets
            shown = ("EventAgentInfo",) if items else STATE_EVENTS
            evidence = [m for m in self.c.history[start:]
                        if m["method"] == "HandleEvent" and m["params"]["name"] in shown]
            if evidence and self.last_state() == before and self.open_items() == items:
                return float(max(m["_t"] for m in self.c.history[start:]))
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"agent {self.agent_id} not resynced within {timeout} s: state "
                    f"{self.last_state()} (was {before}), items {sorted(self.open_items())} "
                    f"(were {sorted(items)}); saw "
                    f"{[m['params'].get('name', m['method']) for m in self.c.history[start:]]}")
            self.c._read(min(deadline, time.monotonic() + 0.2))


@dataclass
class Lab:
    tmp: Path
    url: str
    queues: tuple[str, str]
    mode: str = "active-passive"
    url2: str = ""
    heartbeat: int = 1
    missed: int = 2
    gw_port: int = field(default_factory=free_port)
    monitor_port: int = field(default_factory=free_port)
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    agents: list[Agent] = field(default_factory=list)

    def start(self, control_host: tuple[str, int]) -> None:
        self.control_host = control_host
        q1, q2 = self.queues
        cfg = self.tmp / "gateway.def"
        url2 = f'Url2 = "{self.url2}"\n' if self.url2 else ""
        cfg.write_text(
            f'[Server]\nListen = "127.0.0.1:{self.gw_port}"\n'
            f'[Broker]\nUrl = "{self.url}"\n{url2}'
            f'[GenericConnector]\nQueue = "{q1}, {q2}"\nMode = "{self.mode}"\n'
            f'ClientDestination = "gw.{q1}"\nHeartbeatSeconds = "{self.heartbeat}"\n'
            f'MissedHeartbeats = "{self.missed}"\n'
            f'[Monitor]\nListen = "127.0.0.1:{self.monitor_port}"\n')
        self.procs.append(self._run(["simulate-gc", "--broker", self.url, "--queue", q1,
                                     "--queue", q2, "--ring-timeout", "600"], "sim.log"))
        self.procs.append(self._run(["serve", "--config", str(cfg), "--def",
                                     str(TEMPLATES / "siebel-ucce.def")], "gw.log"))
        deadline = time.monotonic() + 30
        while True:
            try:
                TimedClient("127.0.0.1", self.gw_port, timeout=1).close()
                break
            except OSError:
                assert self.procs[-1].poll() is None, self.log()
                assert time.monotonic() < deadline, "gateway did not listen within 30 s"
                time.sleep(0.1)
        # both GCs answered Hello: agents are placed as the mode says, not by who was first
        self.wait_status(lambda s: [g["status"] for g in s["gcs"]] == ["IN_SERVICE"] * 2)

    def _run(self, args: list[str], log: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, "-m", "siebel_gateway.cli", *args], cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=(self.tmp / log).open("wb"),
                                env={**os.environ})

    def log(self) -> str:
        return (self.tmp / "gw.log").read_text()[-4000:]

    def stop(self) -> None:
        for a in self.agents:
            a.c.close()
        for p in reversed(self.procs):
            p.terminate()
            p.wait(timeout=20)
        log = (self.tmp / "gw.log").read_text()
        assert "Traceback" not in log, log[-4000:]
        assert "secret100" not in log

    def agent(self, agent_id: str) -> Agent:
        c = TimedClient("127.0.0.1", self.gw_port, timeout=20)
        d = c.call("CreateISCDriverInstance", mediaType="Voice", language="ENU",
                   connectString="", params=[["Driver:Flavour", "UCCE"]])
        s = c.call("RequestService", driver=d["driver"], connectString="",
                   params=[["Service:AgentId", agent_id],
                           ["Service:Extension", f"20{agent_id[2:]}"]])
        a = Agent(c, s["service"], agent_id)
        self.agents.append(a)
        return a

    def control(self, **msg: Any) -> dict[str, Any]:
        """A simulator control action, once the simulator has carried it out (its reply)."""
        return sim_control(self.control_host, self.queues[0], msg)

    def status(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.monitor_port}/api/status",
                                    timeout=5) as r:
            answer: dict[str, Any] = json.loads(r.read())
            return answer

    def wait_status(self, predicate: Callable[[dict[str, Any]], bool],
                    timeout: float = 30.0) -> float:
        deadline = time.monotonic() + timeout
        while True:
            try:
                status = self.status()
            except urllib.error.URLError as exc:  # the monitor listens just after the SCS port
                assert time.monotonic() < deadline, f"monitor never answered: {exc}"
                time.sleep(0.05)
                continue
            if predicate(status):
                return time.monotonic()
            assert time.monotonic() < deadline, f"monitor status never matched: {status}"
            time.sleep(0.05)

    # -- a working floor -----------------------------------------------------------------

    def floor(self) -> tuple[Agent, Agent]:
        """Agent 1001 Not Ready with reason 1; agent 1002 talking on an inbound call."""
        a, b = self.agent("1001"), self.agent("1002")
        a.login()
        b.login()
        assert a.invoke("ChangeNotReadyState", ReasonCode="1")[1] == {"code": 0}
        a.c.wait_event("EventAgentNotReady", ReasonCode="1")
        assert b.invoke("ChangeReadyState")[1] == {"code": 0}
        b.c.wait_event("EventAgentReady")
        self.control(action="inbound-call", agent="1002", ani="4155550100", dnis="8005550100")
        ring = b.c.wait_event("EventRinging")
        b.c.call("NotifyEventHandlingFinished", service=b.service,
                 trackingId=ring["trackingId"], result=True)
        assert b.invoke("AnswerCall")[1] == {"code": 0}
        b.c.wait_event("EventEstablished", TrackingID=ring["trackingId"])
        return a, b


def sim_control(broker: tuple[str, int], queue: str, msg: dict[str, Any]) -> dict[str, Any]:
    """A simulator control action on ``queue``'s control channel, once the simulator has
    carried it out: its reply (which must say ok)."""
    host, port = broker
    replies: list[dict[str, Any]] = []
    got = threading.Event()

    class Listener(stomp.ConnectionListener):  # type: ignore[misc]
        def on_message(self, frame: Any) -> None:
            replies.append(json.loads(frame.body))
            got.set()

    reply_to = f"/queue/{queue}.fault-reply.{uuid.uuid4().hex[:8]}"
    conn = stomp.Connection12([(host, port)], auto_content_length=False)
    conn.set_listener("reply", Listener())
    conn.connect(wait=True)
    conn.subscribe(reply_to, id="1", ack="auto")
    conn.send(f"/queue/{queue}.sim-control", json.dumps(msg), headers={"reply-to": reply_to})
    try:
        assert got.wait(15), f"the simulator did not answer {msg}"
    finally:
        conn.disconnect()
    assert replies[0].get("ok"), replies[0]
    return replies[0]


def record(name: str, figures: dict[str, Any]) -> None:
    """Prints the measured figures and writes them to build/faults/<name>.json."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    rounded = {k: round(v, 3) if isinstance(v, float) else v for k, v in figures.items()}
    (RESULTS / f"{name}.json").write_text(json.dumps(rounded, indent=2) + "\n")
    print(f"\nfault {name}: {json.dumps(rounded)}")


@dataclass
class Load:
    """One agent toggling Ready / Not Ready as fast as the gateway answers, each command
    waited for until its state event or a HandleError naming it arrives (or a refusal):
    ``lost`` counts commands accepted and then never answered."""

    agent: Agent
    answered: int = 0
    refused: int = 0
    lost: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    @contextlib.contextmanager
    def run(self) -> Iterator[None]:
        thread = threading.Thread(target=self._loop, daemon=True)
        thread.start()
        try:
            yield
        finally:
            self._stop.set()
            thread.join(timeout=60)

    def _loop(self) -> None:
        while not self._stop.is_set():
            # toggle from the state the agent is in (a command the fault cut off did not
            # change it): each accepted command must then show its state event
            ready = self.agent.last_state()[0] != "EventAgentReady"
            start = len(self.agent.c.history)
            name, event = (("ChangeReadyState", "EventAgentReady") if ready
                           else ("ChangeNotReadyState", "EventAgentNotReady"))
            params = {} if ready else {"ReasonCode": "2"}
            try:
                track, result = self.agent.invoke(name, **params)
            except (OSError, TimeoutError):
                self.lost.append("no result")
                continue
            if result["code"] != 0:
                self.refused += 1
                time.sleep(0.05)
                continue
            def answers(m: dict[str, Any], track: str = track, event: str = event) -> bool:
                return bool((m["method"] == "HandleError"
                             and m["params"]["cmdTrackId"] == track)
                            or (m["method"] == "HandleEvent" and m["params"]["name"] == event))

            try:
                self.agent.wait_for(f"an answer to {track}", answers, start, timeout=20)
                self.answered += 1
            except AssertionError:
                self.lost.append(track)
