"""``serve`` + ``simulate-gc`` as processes on the suite's ActiveMQ, for the shim tests: the
gateway can be killed and started again on the same port."""

from __future__ import annotations

import json
import subprocess
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import stomp

from ..driver.test_e2e_activemq import gateway_config, start
from ..driver.test_serve_cli import TEMPLATES
from ..netutil import free_port, wait_listening

__all__ = ["ShimLab", "users_xml"]


def users_xml(path: Path, first: int, count: int) -> Path:
    """A Finesse Users file for agents first .. first+count-1 (extension = id + 1000)."""
    users = "".join(
        f"<User><loginId>{a}</loginId><firstName>Agent</firstName><lastName>{a}</lastName>"
        f"<extension>{a + 1000}</extension><roles><role>Agent</role></roles>"
        f"<teamName>Load</teamName><password>secret{a}</password></User>"
        for a in range(first, first + count))
    path.write_text(f'<?xml version="1.0" encoding="UTF-8"?><Users>{users}</Users>')
    return path


@dataclass
class ShimLab:
    broker: tuple[str, int]
    workdir: Path
    flavour: str = "ucce"
    users: Path | None = None
    queue: str = field(default_factory=lambda: f"GC{uuid.uuid4().hex[:8]}")
    port: int = field(default_factory=free_port)
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    gateway: subprocess.Popen[bytes] | None = None
    runs: int = 0

    def __post_init__(self) -> None:
        host, port = self.broker
        args = ["simulate-gc", "--broker", f"stomp://{host}:{port}", "--queue", self.queue,
                "--flavour", self.flavour, "--ring-timeout", "60"]
        if self.users:
            args += ["--users", str(self.users)]
        self.procs.append(start(args, self.workdir / "sim.log"))
        self.start_gateway()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start_gateway(self) -> None:
        host, port = self.broker
        cfg = gateway_config(self.workdir / "gateway.def", self.port,
                             f"failover:(stomp://{host}:{port})", self.queue)
        self.runs += 1
        log = self.workdir / f"gw{self.runs}.log"
        self.gateway = start(["serve", "--config", str(cfg), "--def",
                              str(TEMPLATES / f"siebel-{self.flavour}.def")], log)
        self.procs.append(self.gateway)
        wait_listening(self.gateway, self.port, log)

    def kill_gateway(self) -> None:
        assert self.gateway is not None
        self.gateway.kill()
        self.gateway.wait(timeout=20)

    def control(self, **msg: Any) -> None:
        host, port = self.broker
        conn = stomp.Connection12([(host, port)], auto_content_length=False)
        conn.connect(wait=True)
        conn.send(f"/queue/{self.queue}.sim-control", json.dumps(msg))
        conn.disconnect()

    def stop(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
                p.wait(timeout=20)
        for log in self.workdir.glob("gw*.log"):
            text = log.read_text()
            assert "Traceback" not in text, text[-3000:]
