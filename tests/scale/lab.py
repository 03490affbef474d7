"""Processes for the scale tests: ``simulate-gc`` with generated agents and ``serve``
gateways on a real ActiveMQ, and an asyncio SCS client that drives many agents at once."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..netutil import free_port

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "def_templates"
KEY = "0123456789abcdeffedcba9876543210"


def pin(agent: str) -> str:
    return f"pw{agent}"


def extension(agent: str) -> str:
    return "7" + agent


def users_xml(agents: list[str]) -> str:
    rows = "".join(
        f"<User><loginId>{a}</loginId><loginName>a{a}</loginName><firstName>A</firstName>"
        f"<lastName>{a}</lastName><extension>{extension(a)}</extension>"
        f"<roles><role>Agent</role></roles><settings><wrapUpOnIncoming>NOT_ALLOWED"
        f"</wrapUpOnIncoming><wrapUpOnOutgoing>NOT_ALLOWED</wrapUpOnOutgoing></settings>"
        f"<teamId>1</teamId><teamName>T</teamName><password>{pin(a)}</password></User>"
        for a in agents)
    return f"<Users>{rows}</Users>\n"


@dataclass
class Processes:
    work: Path
    stomp: tuple[str, int]
    queue: str
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def spawn(self, name: str, argv: list[str]) -> subprocess.Popen[bytes]:
        p = subprocess.Popen([sys.executable, "-m", "siebel_gateway.cli", *argv], cwd=ROOT,
                             stdout=subprocess.DEVNULL,
                             stderr=(self.work / f"{name}.log").open("wb"), env={**os.environ})
        self.procs.append(p)
        return p

    def simulator(self, agents: list[str]) -> None:
        users = self.work / "users.xml"
        users.write_text(users_xml(agents))
        (self.work / "des.key").write_text(KEY)
        host, port = self.stomp
        self.spawn("sim", ["simulate-gc", "--broker", f"stomp://{host}:{port}", "--queue",
                           self.queue, "--flavour", "ucce", "--users", str(users),
                           "--des-key-file", str(self.work / "des.key")])

    def gateway(self, name: str, destination: str, connector: str = "") -> int:
        """``connector``: more ``[GenericConnector]`` lines for this gateway."""
        host, port = self.stomp
        listen = free_port()
        cfg = self.work / f"{name}.def"
        (self.work / "des.key").write_text(KEY)
        cfg.write_text(f'[Server]\nListen = "127.0.0.1:{listen}"\n'
                       f'[Broker]\nUrl = "stomp://{host}:{port}"\n'
                       f'[GenericConnector]\nQueue = "{self.queue}"\n'
                       f'ClientDestination = "{destination}"\n{connector}'
                       f'[Security]\nSecurePasswordKeyFile = "{self.work / "des.key"}"\n'
                       '[Monitor]\nListen = ""\n')
        gw = self.spawn(name, ["serve", "--config", str(cfg), "--def",
                               str(TEMPLATES / "siebel-ucce.def")])
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", listen), timeout=1).close()
                return listen
            except OSError:
                assert gw.poll() is None, self.log(name)
                assert time.monotonic() < deadline, f"{name} did not listen within 60 s"
                time.sleep(0.1)

    def log(self, name: str) -> str:
        return (self.work / f"{name}.log").read_text(errors="replace")

    def stop(self) -> None:
        for p in reversed(self.procs):
            p.terminate()
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


class Desk:
    """One SCS connection carrying many agent services (the way Siebel's channel manager
    uses one), recording every callback by service."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.next_id = 0
        self.results: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.callbacks: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        self.changed = asyncio.Event()
        self.driver = ""
        self.services: dict[str, str] = {}  # agent -> service
        self._task = asyncio.get_running_loop().create_task(self._read())

    @classmethod
    async def open(cls, port: int) -> Desk:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 22)
        desk = cls(reader, writer)
        r = await desk.call("CreateISCDriverInstance", mediaType="Voice", language="ENU",
                            connectString="", params=[["Driver:Flavour", "UCCE"],
                                                      ["Driver:UseSecurePassword", "TRUE"]])
        assert r["code"] == 0, r
        desk.driver = r["driver"]
        return desk

    def call(self, method: str, **params: Any) -> asyncio.Future[dict[str, Any]]:
        self.next_id += 1
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.results[self.next_id] = fut
        self.writer.write(json.dumps({"jsonrpc": "2.0", "id": self.next_id, "method": method,
                                      "params": params}).encode() + b"\n")
        return fut

    async def _read(self) -> None:
        while line := await self.reader.readline():
            msg = json.loads(line)
            if "method" not in msg:
                fut = self.results.pop(msg["id"], None)
                if fut is not None:
                    fut.set_result(msg.get("result") or {"code": -1, "error": msg.get("error")})
                continue
            p = msg["params"]
            self.callbacks.setdefault(p.get("service", ""), []).append((msg["method"], p))
            self.changed.set()

    async def service(self, agent: str) -> str:
        r = await self.call("RequestService", driver=self.driver, connectString="",
                            params=[["Service:AgentId", agent],
                                    ["Service:Extension", extension(agent)]])
        assert r["code"] == 0, r
        self.services[agent] = r["service"]
        return str(r["service"])

    def invoke(self, agent: str, name: str, track: str = "1",
               **params: str) -> asyncio.Future[dict[str, Any]]:
        return self.call("InvokeCommand", service=self.services[agent], cmdTrackId=track,
                         name=name, stringParam="", params=[[k, v] for k, v in params.items()])

    def log_in(self, agent: str) -> asyncio.Future[dict[str, Any]]:
        return self.invoke(agent, "LogIn", "login", AgentId=agent, AgentPin=pin(agent),
                           Extension=extension(agent))

    def seen(self, agent: str) -> list[tuple[str, dict[str, Any]]]:
        return self.callbacks.get(self.services[agent], [])

    def events(self, agent: str) -> list[str]:
        return [p["name"] for m, p in self.seen(agent) if m == "HandleEvent"]

    def errors(self, agent: str) -> list[str]:
        return [p["error"] for m, p in self.seen(agent) if m == "HandleError"]

    async def until(self, done: Any, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            left = deadline - time.monotonic()
            assert left > 0, f"{what} not reached within {timeout} s"
            self.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), min(left, 1.0))

    async def close(self) -> None:
        self.writer.close()
        self._task.cancel()


async def wait_gc(desk: Desk, agent: str, timeout: float = 60) -> None:
    """Until the gateway has the GC in service: ``agent`` logs in (code 6 before that)."""
    deadline = time.monotonic() + timeout
    while True:
        r = await desk.log_in(agent)
        if r["code"] != 6:
            assert r["code"] == 0, r
            await desk.until(lambda: "EventAgentLogin" in desk.events(agent), 30,
                             f"{agent} logged in")
            return
        assert time.monotonic() < deadline, "the gateway did not reach the GC"
        await asyncio.sleep(0.2)
