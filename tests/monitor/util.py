"""Helpers for the monitor tests: a ``serve`` process and HTTP calls that check every
answer for secrets."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..driver.scs_client import ScsSocketClient
from ..hidden import assert_hidden
from ..netutil import free_port, wait_listening

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "def_templates"
TOKEN = "tok-3f9a1c0e5b"
#: Never in any HTTP answer: agent passwords and the admin token.
SECRETS = ("secret1001", "secret1002", TOKEN)


@dataclass
class Http:
    base: str
    answers: list[bytes] = field(default_factory=list)

    def request(self, path: str, *, method: str = "GET", body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        req = urllib.request.Request(self.base + path, data=body, method=method,
                                     headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                code, hdrs, data = r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as exc:
            code, hdrs, data = exc.code, dict(exc.headers), exc.read()
        self.answers.append(data)
        assert_hidden(data, SECRETS, f"the answer to {path}")
        return code, hdrs, data

    def json(self, path: str, **kw: Any) -> tuple[int, Any]:
        code, hdrs, data = self.request(path, **kw)
        assert hdrs["Content-Type"].startswith("application/json"), (path, hdrs)
        return code, json.loads(data)

    def post(self, path: str, body: Any, token: str | None = None) -> tuple[int, Any]:
        headers = {"Content-Type": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        return self.json(path, method="POST", body=raw, headers=headers)


@dataclass
class Gateway:
    process: subprocess.Popen[bytes]
    scs_port: int
    http: Http
    log: Path

    def client(self) -> ScsSocketClient:
        return ScsSocketClient("127.0.0.1", self.scs_port, timeout=20)


@contextmanager
def serve(tmp: Path, *, monitor_extra: str = "", env: dict[str, str] | None = None,
          broker: str = "", queue: str = "Connector1", flavour: str = "ucce",
          args: tuple[str, ...] = (), server_extra: str = "") -> Iterator[Gateway]:
    scs, mon = free_port(), free_port()
    cfg = tmp / "gateway.def"
    broker_part = (f'[Broker]\nUrl = "{broker}"\n[GenericConnector]\nQueue = "{queue}"\n'
                   f'ClientDestination = "gw.{queue}"\n') if broker else ""
    cfg.write_text(f'[Server]\nListen = "127.0.0.1:{scs}"\n{server_extra}{broker_part}'
                   f'[Monitor]\nListen = "127.0.0.1:{mon}"\n{monitor_extra}')
    log = tmp / "gw.log"
    p = subprocess.Popen([sys.executable, "-m", "siebel_gateway.cli", "serve", "--config",
                          str(cfg), "--def", str(TEMPLATES / f"siebel-{flavour}.def"), *args],
                         cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log.open("wb"),
                         env={**os.environ, **(env or {})})
    try:
        wait_listening(p, scs, log)
        wait_listening(p, mon, log)
        yield Gateway(p, scs, Http(f"http://127.0.0.1:{mon}"), log)
    finally:
        p.send_signal(signal.SIGINT)
        p.wait(timeout=20)
    text = log.read_text()
    assert "Traceback" not in text, text
    assert_hidden(text, SECRETS, "the gateway log")


def wait_ready(http: Http) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        code, body = http.json("/readyz")
        if code == 200 or time.monotonic() > deadline:
            assert code == 200, body
            return dict(body)
        time.sleep(0.1)


def login(c: ScsSocketClient, agent: str, extension: str) -> str:
    d = c.call("CreateISCDriverInstance", mediaType="Voice", language="ENU",
               connectString="", params=[])
    s: str = c.call("RequestService", driver=d["driver"], connectString="",
                    params=[["AgentId", agent], ["Extension", extension]])["service"]
    r = c.call("InvokeCommand", service=s, cmdTrackId="1", name="LogIn", stringParam="",
               params=[["AgentId", agent], ["AgentPin", f"secret{agent}"],
                       ["Extension", extension]])
    assert r == {"code": 0}, r
    c.wait_event("EventAgentLogin")
    return s


def invoke(c: ScsSocketClient, service: str, name: str, **params: str) -> dict[str, Any]:
    return c.call("InvokeCommand", service=service, cmdTrackId="7", name=name,
                  stringParam="", params=[[k, v] for k, v in params.items()])
