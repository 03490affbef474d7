#!/usr/bin/env python3
"""Benchmark: a contact centre on one gateway process -- a login storm, then steady traffic.

    python tools/bench_scale.py [--agents 1000] [--connections 4] [--calls-per-second 20]
                                [--duration 60] [--broker HOST:PORT] [--flavour ucce]
                                [--json FILE] [--keep DIR]

Starts (or joins, with ``--broker``) ActiveMQ, ``simulate-gc`` with N generated agents and
``serve`` as processes, then drives the N agents over C SCS connections the way Siebel's
channel manager would (docs/scs-protocol.md):

1. the storm: every agent's ``LogIn`` is sent at once; the storm ends when every agent has
   its ``EventAgentLogin`` (or a refusal);
2. every agent goes Ready; the simulator places inbound calls at ``--calls-per-second`` on
   Ready agents; every ringing call is answered; a share is held and retrieved; a share is
   consult-transferred to another Ready agent (who answers the consult and then owns the
   call); every call is released after a short talk time; agents whose Finesse settings
   require wrap-up set a wrap-up reason and go Ready again.

Printed (and written as JSON with ``--json``): storm time and failures; p50 / p99 / max of
every command -> event pair by command; events lost (a command accepted whose event never
came); refusals by code; gateway RSS per logged-in agent; gateway CPU seconds per call; the
GC queue's depth at the end (browsed, not consumed); CPU seconds of the gateway, the
simulator and this client during the storm, and their share of a core in the steady phase
(this client is one asyncio process: at 10,000 agents check it is not the bottleneck).
``--profile DIR`` runs the gateway and the simulator under cProfile; ``--spy DIR`` samples
the steady phase only (py-spy, per-process CPU with the broker's JVM, run queue, load:
tools/steady_probe.py); ``--samples FILE`` writes each pair's timestamps for
tools/bench_split.py, which splits them into hops with the gateway's ``--trace``.  A LogIn
refused after it was accepted (``HandleError``: no answer, gateway busy) counts as a
refusal.  Figures go to docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import stomp
from steady_probe import SteadyProbe, top

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = ROOT / "def_templates"
KEY = "0123456789abcdeffedcba987654321000112233445566778"[:48]
FIRST_ID = 100000
PROBE_ID = "99999"
#: The event that answers each measured command.
ANSWERED_BY = {
    "LogIn": "EventAgentLogin",
    "ChangeReadyState": "EventAgentReady",
    "AnswerCall": "EventEstablished",
    "HoldCall": "EventHeld",
    "RetrieveCall": "EventRetrieved",
    "ReleaseCall": "EventReleased",
    "TransferInit": "EventDialing",
    "TransferComplete": "EventReleased",
}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def users_xml(n: int, wrap_up_share: float, rng: random.Random) -> str:
    rows = []
    for i in range(n + 1):
        agent = PROBE_ID if i == n else str(FIRST_ID + i)
        wrap = "REQUIRED" if i < n and rng.random() < wrap_up_share else "NOT_ALLOWED"
        rows.append(
            f"<User><loginId>{agent}</loginId><loginName>a{agent}</loginName>"
            f"<firstName>A</firstName><lastName>{agent}</lastName>"
            f"<extension>{extension(agent)}</extension><roles><role>Agent</role></roles>"
            f"<settings><wrapUpOnIncoming>{wrap}</wrapUpOnIncoming>"
            f"<wrapUpOnOutgoing>NOT_ALLOWED</wrapUpOnOutgoing><wrapUpTimer>120</wrapUpTimer>"
            f"</settings><teamId>1</teamId><teamName>T</teamName>"
            f"<password>pw{agent}</password></User>")
    return "<Users>" + "".join(rows) + "</Users>\n"


def extension(agent: str) -> str:
    return "7" + agent


@dataclass
class Agent:
    agent_id: str
    service: str = ""
    conn: Connection | None = None
    state: str = "LOGGED_OUT"
    #: command name -> time sent, while its event is awaited
    waiting: dict[str, float] = field(default_factory=dict)
    #: cmdTrackId -> command name, until its result or HandleError
    tracks: dict[str, str] = field(default_factory=dict)
    #: command name -> its cmdTrackId, while its event is awaited (``--samples``)
    waiting_track: dict[str, str] = field(default_factory=dict)
    talking: int = 0
    consulting: bool = False
    #: its ChangeReadyState after the storm was refused: the Ready phase does not wait for it
    ready_refused: bool = False


@dataclass
class Stats:
    latency: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    refused: Counter[str] = field(default_factory=Counter)
    sent: Counter[str] = field(default_factory=Counter)
    rpc_errors: int = 0
    calls_answered: int = 0
    calls_released: int = 0
    transfers: int = 0
    holds: int = 0
    wrap_ups: int = 0


class Connection:
    """One SCS connection carrying many agent services."""

    def __init__(self, bench: Bench, reader: asyncio.StreamReader,
                 writer: asyncio.StreamWriter) -> None:
        self.bench, self.reader, self.writer = bench, reader, writer
        self.next_id = 0
        self.results: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.by_service: dict[str, Agent] = {}
        self.driver = ""

    def send(self, method: str, **params: Any) -> asyncio.Future[dict[str, Any]]:
        self.next_id += 1
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.results[self.next_id] = fut
        self.writer.write(json.dumps({"jsonrpc": "2.0", "id": self.next_id, "method": method,
                                      "params": params}, separators=(",", ":")).encode()
                          + b"\n")
        return fut

    async def read_loop(self) -> None:
        while True:
            line = await self.reader.readline()
            if not line:
                return
            msg = json.loads(line)
            if "id" in msg and "method" not in msg:
                fut = self.results.pop(msg["id"], None)
                if fut is not None and not fut.done():
                    fut.set_result(msg.get("result") or {"code": -1, "rpc": msg.get("error")})
                continue
            p = msg["params"]
            agent = self.by_service.get(p.get("service", ""))
            if agent is None:
                continue
            if msg["method"] == "HandleError":  # a command refused after it was accepted
                self.bench.on_handle_error(agent, p.get("cmdTrackId", ""), p.get("error", ""))
            elif msg["method"] == "HandleEvent":
                self.bench.on_event(agent, p["name"], p["fields"])
                if p.get("notifyWhenDone"):
                    self.send("NotifyEventHandlingFinished", service=agent.service,
                              trackingId=p["trackingId"], result=True)


class Bench:
    def __init__(self, args: argparse.Namespace, port: int) -> None:
        self.args, self.port = args, port
        self.rng = random.Random(args.seed)
        self.stats = Stats()
        self.agents = [Agent(str(FIRST_ID + i)) for i in range(args.agents)]
        self.by_id = {a.agent_id: a for a in self.agents}
        self.conns: list[Connection] = []
        self.logged_in = 0
        self.storm_done = asyncio.Event()
        self.storm_failed = 0
        self.steady = False
        #: (cmdTrackId, command, sent, event read), CLOCK_MONOTONIC like the gateway's trace
        self.samples: list[tuple[str, str, float, float]] | None = (
            [] if args.samples else None)

    # -- commands ---------------------------------------------------------------------
    def invoke(self, agent: Agent, name: str, **params: str) -> None:
        assert agent.conn is not None
        now = time.perf_counter()
        self.stats.sent[name] += 1
        track = str(self.stats.sent.total())
        if name in ANSWERED_BY:
            agent.waiting[name] = now
            agent.waiting_track[name] = track
        agent.tracks[track] = name
        if len(agent.tracks) > 64:  # answered long ago: keep the map small
            agent.tracks.pop(next(iter(agent.tracks)))
        fut = agent.conn.send("InvokeCommand", service=agent.service, cmdTrackId=track,
                              name=name, stringParam="",
            params=[[k, v] for k, v in params.items()])
        fut.add_done_callback(lambda f: self.on_result(agent, name, f.result()))

    def on_handle_error(self, agent: Agent, track: str, text: str) -> None:
        name = agent.tracks.pop(track, "")
        if not name:
            return
        kind = ("busy" if "busy" in text else "no-answer" if "did not answer" in text
                else "other")
        self.refused_after(agent, name, f"{name}:HandleError:{kind}")

    def on_result(self, agent: Agent, name: str, result: dict[str, Any]) -> None:
        code = result.get("code")
        if code == 0:
            return
        if code == -1:
            self.stats.rpc_errors += 1
        self.refused_after(agent, name, f"{name}:{code}")

    def refused_after(self, agent: Agent, name: str, why: str) -> None:
        if agent.waiting.pop(name, None) is None and name in ANSWERED_BY:
            return  # its event came first (or a second report of the same refusal)
        self.stats.refused[why] += 1
        if name == "LogIn":
            self.storm_failed += 1
            self.check_storm()
        elif name == "ChangeReadyState":
            agent.ready_refused = True
        elif name in {"TransferComplete", "TransferInit"}:
            agent.consulting = False
            self.later(agent, 0.5, "ReleaseCall")

    def later(self, agent: Agent, delay: float, name: str, **params: str) -> None:
        asyncio.get_running_loop().call_later(delay, lambda: self.invoke(agent, name, **params))

    # -- events -----------------------------------------------------------------------
    def on_event(self, agent: Agent, name: str, fields: list[list[str]]) -> None:
        now = time.perf_counter()
        for cmd, sent in list(agent.waiting.items()):
            if ANSWERED_BY[cmd] == name:
                del agent.waiting[cmd]
                self.stats.latency[cmd].append(now - sent)
                if self.samples is not None:
                    self.samples.append((agent.waiting_track.get(cmd, ""), cmd, sent, now))
                break
        getattr(self, "ev_" + name, lambda *_: None)(agent, dict(fields))

    def ev_EventAgentLogin(self, agent: Agent, f: dict[str, str]) -> None:  # noqa: N802
        agent.state = "NOT_READY"
        self.logged_in += 1
        self.check_storm()

    def ev_EventAgentReady(self, agent: Agent, f: dict[str, str]) -> None:  # noqa: N802
        agent.state = "READY"

    def ev_EventAgentWorkReady(self, agent: Agent, f: dict[str, str]) -> None:  # noqa: N802
        self.wrap_up(agent)

    def ev_EventAgentWork(self, agent: Agent, f: dict[str, str]) -> None:  # noqa: N802
        self.wrap_up(agent)

    def wrap_up(self, agent: Agent) -> None:
        if agent.state == "WRAP_UP":
            return
        agent.state = "WRAP_UP"
        self.stats.wrap_ups += 1
        self.later(agent, 0.3, "SetWrapUpReason", ReasonCode="Support")
        self.later(agent, 0.6, "ChangeReadyState")

    def ev_EventRinging(self, agent: Agent, f: dict[str, str]) -> None:  # noqa: N802
        agent.state = "RINGING"
        self.later(agent, self.rng.uniform(0.05, 0.3), "AnswerCall",
                   TrackingID=f.get("TrackingID", ""))

    def ev_EventEstablished(self, agent: Agent, f: dict[str, str]) -> None:  # noqa: N802
        agent.state = "TALKING"
        self.stats.calls_answered += 1
        if f.get("CallType") == "CONSULT":
            if agent.consulting:  # the consult answered: finish the transfer
                self.later(agent, 0.2, "TransferComplete")
            return  # the consulted agent waits for the transfer
        self.plan_call(agent)

    def ev_EventPartyChanged(self, agent: Agent, f: dict[str, str]) -> None:  # noqa: N802
        if f.get("CallType") == "TRANSFER" and not agent.consulting:
            self.plan_call(agent, transfer_allowed=False)  # the call is now ours

    def plan_call(self, agent: Agent, transfer_allowed: bool = True) -> None:
        talk = self.rng.uniform(1.0, 3.0)
        roll = self.rng.random()
        if roll < self.args.hold_share:
            self.stats.holds += 1
            self.later(agent, talk / 3, "HoldCall")
            self.later(agent, 2 * talk / 3, "RetrieveCall")
        elif transfer_allowed and roll < self.args.hold_share + self.args.transfer_share:
            target = self.pick_ready(agent)
            if target is not None:
                agent.consulting = True
                target.state = "RESERVED"
                self.stats.transfers += 1
                self.later(agent, talk / 2, "TransferInit", PhoneNumber=extension(
                    target.agent_id))
                return
        self.later(agent, talk, "ReleaseCall")

    def pick_ready(self, me: Agent) -> Agent | None:
        for _ in range(20):
            a = self.rng.choice(self.agents)
            if a is not me and a.state == "READY":
                return a
        return None

    def ev_EventReleased(self, agent: Agent, f: dict[str, str]) -> None:  # noqa: N802
        if f.get("CallType") == "CONSULT" and not agent.consulting:
            return
        agent.consulting = False
        self.stats.calls_released += 1
        if agent.state != "WRAP_UP":
            agent.state = "AFTER_CALL"

    def check_storm(self) -> None:
        if self.logged_in + self.storm_failed >= len(self.agents):
            self.storm_done.set()

    # -- phases -----------------------------------------------------------------------
    async def connect(self) -> None:
        for i in range(self.args.connections):
            reader, writer = await asyncio.open_connection("127.0.0.1", self.port,
                                                           limit=1 << 22)
            conn = Connection(self, reader, writer)
            self.conns.append(conn)
            asyncio.get_running_loop().create_task(conn.read_loop())
            r = await conn.send("CreateISCDriverInstance", mediaType="Voice", language="ENU",
                                connectString="", params=[
                                    ["Driver:Flavour", self.args.flavour.upper()],
                                    ["Driver:UseSecurePassword", "TRUE"]])
            assert r["code"] == 0, r
            conn.driver = r["driver"]
            del i
        pending = []
        for n, agent in enumerate(self.agents):
            conn = self.conns[n % len(self.conns)]
            agent.conn = conn
            pending.append((agent, conn.send(
                "RequestService", driver=conn.driver, connectString="",
                params=[["Service:AgentId", agent.agent_id],
                        ["Service:Extension", extension(agent.agent_id)]])))
        for agent, fut in pending:
            r = await fut
            assert r["code"] == 0, r
            agent.service = r["service"]
            assert agent.conn is not None
            agent.conn.by_service[agent.service] = agent

    async def probe(self) -> None:
        """Wait until the gateway has the GC in service: a spare agent logs in."""
        conn = self.conns[0]
        r = await conn.send("RequestService", driver=conn.driver, connectString="",
                            params=[["Service:AgentId", PROBE_ID],
                                    ["Service:Extension", extension(PROBE_ID)]])
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            res = await conn.send("InvokeCommand", service=r["service"], cmdTrackId="p",
                                  name="LogIn", stringParam="",
                                  params=[["AgentId", PROBE_ID], ["AgentPin", f"pw{PROBE_ID}"],
                                          ["Extension", extension(PROBE_ID)]])
            if res["code"] != 6:
                return
            await asyncio.sleep(0.2)
        raise RuntimeError("the gateway did not reach the GC within 60 s")

    async def storm(self) -> float:
        t0 = time.perf_counter()
        for agent in self.agents:
            self.invoke(agent, "LogIn", AgentId=agent.agent_id,
                        AgentPin=f"pw{agent.agent_id}", Extension=extension(agent.agent_id))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.storm_done.wait(), self.args.storm_timeout)
        return time.perf_counter() - t0

    async def ready_all(self) -> None:
        for agent in self.agents:
            if agent.state == "NOT_READY":
                self.invoke(agent, "ChangeReadyState")
        deadline = time.monotonic() + self.args.storm_timeout
        while time.monotonic() < deadline:
            if all(a.state != "NOT_READY" or a.ready_refused for a in self.agents
                   if a.conn):
                return
            await asyncio.sleep(0.2)


class Lab:
    """The processes: broker (unless joined), simulator, gateway."""

    def __init__(self, args: argparse.Namespace, work: Path) -> None:
        self.args, self.work = args, work
        self.procs: list[subprocess.Popen[bytes]] = []
        self.own_broker = args.broker is None
        self.queue = f"Scale{uuid.uuid4().hex[:6]}"
        self.calls_placed = 0
        if args.broker:
            host, _, port = args.broker.partition(":")
            self.broker = (host, int(port))
        else:
            self.broker = ("127.0.0.1", free_port())

    def start(self) -> int:
        host, port = self.broker
        if self.own_broker:
            subprocess.run([sys.executable, str(ROOT / "tools" / "activemq"), "start",
                            "--stomp-port", str(port), "--openwire-port", str(free_port()),
                            "--base", str(self.work / "amq")], check=True)
        key = self.work / "des.key"
        key.write_text(KEY)
        users = self.work / "users.xml"
        users.write_text(users_xml(self.args.agents, self.args.wrap_up_share,
                                   random.Random(self.args.seed)))
        gw_port = free_port()
        cfg = self.work / "gateway.def"
        cfg.write_text(f'[Server]\nListen = "127.0.0.1:{gw_port}"\n'
                       f'[Broker]\nUrl = "failover:(stomp://{host}:{port})"\n'
                       f'[GenericConnector]\nQueue = "{self.queue}"\n'
                       f'ClientDestination = "gw.{self.queue}"\n'
                       f'CommandTimeoutSeconds = "{self.args.command_timeout:g}"\n'
                       + (f'SignInWindow = "{self.args.sign_in_window}"\n'
                          if self.args.sign_in_window else "") +
                       f'[Security]\nSecurePasswordKeyFile = "{key}"\n'
                       + (f'[Trace]\nFile = "{self.args.trace}"\n' if self.args.trace else ""))
        self.spawn("sim", ["simulate-gc", "--broker", f"stomp://{host}:{port}", "--queue",
                           self.queue, "--flavour", self.args.flavour, "--users", str(users),
                           "--des-key-file", str(key), "--ring-timeout", "120",
                           "--seed", str(self.args.seed)])
        self.gateway = self.spawn("gw", ["serve", "--config", str(cfg), "--def",
                                         str(TEMPLATES / f"siebel-{self.args.flavour}.def")])
        deadline = time.monotonic() + 60
        import socket
        while True:
            try:
                socket.create_connection(("127.0.0.1", gw_port), timeout=1).close()
                return gw_port
            except OSError:
                if self.gateway.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the gateway did not start: "
                                       + (self.work / "gw.log").read_text()[-2000:]) from None
                time.sleep(0.1)

    def spawn(self, name: str, argv: list[str]) -> subprocess.Popen[bytes]:
        prof = (["-m", "cProfile", "-o", str(self.args.profile.resolve() / f"{name}.prof")]
                if self.args.profile else [])
        p = subprocess.Popen([sys.executable, *prof, "-m", "siebel_gateway.cli", *argv],
                             cwd=ROOT,
                             stdout=subprocess.DEVNULL,
                             stderr=(self.work / f"{name}.log").open("wb"))
        self.procs.append(p)
        return p

    def queue_depth(self) -> int:
        """Messages waiting on the GC queue, browsed (ActiveMQ's STOMP ``browser`` header)."""
        seen: list[int] = []
        done = __import__("threading").Event()

        class Listener(stomp.ConnectionListener):  # type: ignore[misc]
            def on_message(self, frame: Any) -> None:
                if frame.headers.get("browser") == "end":
                    done.set()
                else:
                    seen.append(1)

        conn = stomp.Connection12([self.broker], auto_content_length=False)
        conn.set_listener("", Listener())
        conn.connect(wait=True)
        conn.subscribe(f"/queue/{self.queue}", id="browse", ack="auto",
                       headers={"browser": "true"})
        done.wait(10)
        conn.disconnect()
        return len(seen)

    def broker_pid(self) -> int | None:
        """The JVM of the broker this bench started (None when joined)."""
        try:
            return int((self.work / "amq" / "broker.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def gateway_usage(self) -> tuple[float, float]:
        """(RSS in bytes, CPU seconds) of the gateway process."""
        return self.usage(self.gateway.pid)

    def sim_cpu(self) -> float:
        return self.usage(self.procs[0].pid)[1]

    @staticmethod
    def usage(pid: int) -> tuple[float, float]:
        """(RSS in bytes, CPU seconds) of process ``pid``."""
        status = Path(f"/proc/{pid}/status").read_text()
        rss = next(int(line.split()[1]) * 1024 for line in status.splitlines()
                   if line.startswith("VmRSS:"))
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        tick = os.sysconf("SC_CLK_TCK")
        return float(rss), (int(stat[11]) + int(stat[12])) / tick

    def stop(self) -> None:
        for p in reversed(self.procs):
            p.terminate()
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
        if self.own_broker:
            subprocess.run([sys.executable, str(ROOT / "tools" / "activemq"), "stop",
                            "--base", str(self.work / "amq")], check=False,
                           capture_output=True)


async def place_calls(lab: Lab, rate: float, duration: float) -> None:
    """Inbound calls at ``rate`` per second for ``duration`` seconds, each routed by the
    simulator to the Ready agent waiting longest (the ``inbound-call`` control action)."""
    if rate <= 0:
        await asyncio.sleep(duration)
        return
    conn = stomp.Connection12([lab.broker], auto_content_length=False)
    conn.connect(wait=True)
    rng = random.Random(7)
    t0 = time.perf_counter()
    n = 0
    while (elapsed := time.perf_counter() - t0) < duration:
        due = int(elapsed * rate) + 1
        while n < due:
            n += 1
            conn.send(f"/queue/{lab.queue}.sim-control", json.dumps({
                "action": "inbound-call", "ani": f"415555{rng.randrange(10000):04d}",
                "dnis": "8005550100", "callVariables": {"callVariable1": f"1-{n}"}}))
        await asyncio.sleep(max(0.0, (n / rate) - (time.perf_counter() - t0)))
    conn.disconnect()
    lab.calls_placed = n


async def run(args: argparse.Namespace, lab: Lab, port: int) -> dict[str, Any]:
    bench = Bench(args, port)
    rss0, _ = lab.gateway_usage()  # before any service: the sessions count per agent
    await bench.connect()
    await bench.probe()
    await asyncio.sleep(args.settle)  # RequestService's restart probes answered first
    _, gw_storm0 = lab.gateway_usage()
    sim_storm0, own_storm0 = lab.sim_cpu(), time.process_time()
    storm_s = await bench.storm()
    rss1, gw_storm = lab.gateway_usage()
    storm_cpu = {"gateway": round(gw_storm - gw_storm0, 2),
                 "simulator": round(lab.sim_cpu() - sim_storm0, 2),
                 "bench": round(time.process_time() - own_storm0, 2)}
    print(f"storm: {bench.logged_in}/{len(bench.agents)} logged in in {storm_s:.1f} s, "
          f"{bench.storm_failed} refused", flush=True)
    await bench.ready_all()
    storm_latency = list(bench.stats.latency.pop("LogIn", []))
    bench.stats.latency.clear()
    if bench.samples is not None:
        bench.samples.clear()
    _, cpu0 = lab.gateway_usage()
    sim0, own0, wall0 = lab.sim_cpu(), time.process_time(), time.perf_counter()
    released0 = bench.stats.calls_released
    pids = {"gateway": lab.gateway.pid, "simulator": lab.procs[0].pid, "bench": os.getpid()}
    if (jvm := lab.broker_pid()) is not None:
        pids["broker"] = jvm
    probe = SteadyProbe(pids, args.spy, args.duration)
    probe.start()
    await place_calls(lab, args.calls_per_second, args.duration)
    steady = probe.stop()
    await asyncio.sleep(args.drain)
    _, cpu1 = lab.gateway_usage()
    wall = time.perf_counter() - wall0
    busy = {"gateway": (cpu1 - cpu0) / wall, "simulator": (lab.sim_cpu() - sim0) / wall,
            "bench": (time.process_time() - own0) / wall}
    calls = bench.stats.calls_released - released0
    lost = Counter(cmd for a in bench.agents for cmd in a.waiting)
    pairs = {cmd: {"n": len(v), "p50_ms": percentile(v, 0.5) * 1e3,
                   "p99_ms": percentile(v, 0.99) * 1e3, "max_ms": max(v) * 1e3}
             for cmd, v in sorted(bench.stats.latency.items()) if v}
    if storm_latency:
        pairs["LogIn (storm)"] = {"n": len(storm_latency),
                                  "p50_ms": percentile(storm_latency, 0.5) * 1e3,
                                  "p99_ms": percentile(storm_latency, 0.99) * 1e3,
                                  "max_ms": max(storm_latency) * 1e3}
    report = {
        "agents": args.agents, "connections": args.connections,
        "command_timeout_s": args.command_timeout,
        "calls_per_second": args.calls_per_second, "duration_s": args.duration,
        "storm_s": round(storm_s, 2), "logged_in": bench.logged_in,
        "storm_failed": bench.storm_failed, "pairs": pairs,
        "events_lost": dict(lost), "refused": dict(bench.stats.refused),
        "rpc_errors": bench.stats.rpc_errors,
        "calls_placed": lab.calls_placed, "calls_released": calls, "holds": bench.stats.holds,
        "transfers": bench.stats.transfers,
        "wrap_ups": bench.stats.wrap_ups,
        "rss_per_agent_kb": round((rss1 - rss0) / max(1, bench.logged_in) / 1024, 1),
        "cpu_s_per_call": round((cpu1 - cpu0) / calls, 5) if calls else None,
        "gc_queue_depth": lab.queue_depth(),
        "cpu_share_steady": {k: round(v, 2) for k, v in busy.items()},
        "storm_cpu_s": storm_cpu,
        "steady_probe": steady,
    }
    if bench.samples is not None:
        args.samples.write_text(json.dumps(bench.samples) + "\n")
    return report


def print_report(r: dict[str, Any]) -> None:
    print(f"\n{r['agents']} agents on {r['connections']} connections; storm "
          f"{r['storm_s']} s, {r['logged_in']} logged in, {r['storm_failed']} refused")
    print(f"{'command -> event':<34}{'n':>7}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}")
    for cmd, v in r["pairs"].items():
        ev = ANSWERED_BY.get(cmd.split()[0], "")
        print(f"{cmd + ' -> ' + ev:<34}{v['n']:>7}{v['p50_ms']:>9.2f}{v['p99_ms']:>9.2f}"
              f"{v['max_ms']:>9.2f}")
    for key in ("calls_placed", "calls_released", "holds", "transfers", "wrap_ups",
                "events_lost", "refused", "rpc_errors", "rss_per_agent_kb", "cpu_s_per_call",
                "gc_queue_depth", "storm_cpu_s", "cpu_share_steady", "steady_probe",
                "link_drops",
                "sign_ins_waited"):
        print(f"{key}: {r[key]}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else "")
    ap.add_argument("--agents", type=int, default=1000)
    ap.add_argument("--connections", type=int, default=4)
    ap.add_argument("--calls-per-second", type=float, default=20.0)
    ap.add_argument("--duration", type=float, default=60.0, help="steady phase, seconds")
    ap.add_argument("--drain", type=float, default=8.0,
                    help="seconds after the steady phase for calls to finish")
    ap.add_argument("--storm-timeout", type=float, default=300.0)
    ap.add_argument("--hold-share", type=float, default=0.2)
    ap.add_argument("--transfer-share", type=float, default=0.1)
    ap.add_argument("--wrap-up-share", type=float, default=0.3,
                    help="share of agents whose Finesse settings require wrap-up")
    ap.add_argument("--flavour", choices=("ucce", "uccx"), default="ucce")
    ap.add_argument("--command-timeout", type=float, default=10.0,
                    help="the gateway's CommandTimeoutSeconds (shipped default 10); a larger "
                         "one shows how long a storm takes when no login times out")
    ap.add_argument("--broker", metavar="HOST:PORT", help="join this ActiveMQ (STOMP)")
    ap.add_argument("--sign-in-window", type=int, default=0, metavar="N",
                    help="the gateway's SignInWindow (default: the shipped one)")
    ap.add_argument("--trace", type=Path, metavar="FILE",
                    help="the gateway writes its trace here (siebel-gateway trace show)")
    ap.add_argument("--settle", type=float, default=0.0, metavar="S",
                    help="seconds between requesting the services and the storm (each "
                    "RequestService asks the GC whether its agent is still signed in)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", type=Path, metavar="FILE")
    ap.add_argument("--keep", type=Path, metavar="DIR", help="keep logs and config here")
    ap.add_argument("--profile", type=Path, metavar="DIR",
                    help="run the gateway and the simulator under cProfile; gw.prof and "
                         "sim.prof are written here when they stop")
    ap.add_argument("--spy", type=Path, metavar="DIR",
                    help="in the steady phase, sample the gateway and the simulator with "
                         "py-spy into DIR/gateway.txt and DIR/simulator.txt (and print "
                         "their top functions)")
    ap.add_argument("--samples", type=Path, metavar="FILE",
                    help="write every measured pair as [cmdTrackId, command, sent, event "
                         "read] (CLOCK_MONOTONIC, like the trace's 'mono') to FILE")
    args = ap.parse_args()
    if args.agents < 1 or args.connections < 1 or args.agents < args.connections:
        ap.error("--agents and --connections must be >= 1, and agents >= connections")
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    if args.spy:
        args.spy.mkdir(parents=True, exist_ok=True)
    lab = Lab(args, work)
    try:
        port = lab.start()
        report = asyncio.run(run(args, lab, port))
    finally:
        lab.stop()
    logs = {name: (work / f"{name}.log").read_text(errors="replace") for name in ("gw", "sim")}
    report["link_drops"] = {name: log.count("broker link down") for name, log in logs.items()}
    report["sign_ins_waited"] = "sign-ins wait for the GC" in logs["gw"]
    print_report(report)
    for name in ("gateway", "simulator"):
        if args.spy and (args.spy / f"{name}.txt").exists():
            print(f"\n{name}, py-spy in the steady phase (self / inclusive share of samples):")
            for func, own, incl in top(args.spy / f"{name}.txt"):
                print(f"  {own:6.1%} {incl:6.1%}  {func}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
