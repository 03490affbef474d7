"""A scripted SCS-protocol gateway on real TCP, for what the real one cannot show yet
(ResumeDriverInstance) or must never do (bad UTF-8, late answers)."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["FakeGateway", "GwConn"]


class GwConn:
    def __init__(self, gw: FakeGateway, sock: socket.socket, number: int) -> None:
        self.gw = gw
        self.sock = sock
        self.number = number
        self.lock = threading.Lock()

    def send_raw(self, data: bytes) -> None:
        with self.lock:
            self.sock.sendall(data)

    def send(self, obj: dict[str, Any]) -> None:
        self.send_raw(json.dumps({"jsonrpc": "2.0", **obj}, ensure_ascii=False).encode()
                      + b"\n")

    def result(self, rid: Any, **result: Any) -> None:
        self.send({"id": rid, "result": result})

    def callback(self, method: str, **params: Any) -> None:
        self.send({"method": method, "params": params})

    def close(self) -> None:
        self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()


Handler = Callable[[GwConn, dict[str, Any]], bool]


class FakeGateway:
    """Answers like the gateway (handles drv-N / svc-N); ``handler`` runs first and returns
    True when it answered itself."""

    def __init__(self, handler: Handler | None = None, session: str | None = None) -> None:
        self.handler = handler
        self.session = session
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.listener.getsockname()[1]
        self.address = f"127.0.0.1:{self.port}"
        self.requests: list[tuple[int, dict[str, Any]]] = []
        self.cond = threading.Condition()
        self.count = 0
        self.handles = 0
        self.conns: list[GwConn] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return
            self.count += 1
            conn = GwConn(self, sock, self.count)
            self.conns.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: GwConn) -> None:
        buf = b""
        while True:
            try:
                data = conn.sock.recv(65536)
            except OSError:
                return
            if not data:
                return
            buf += data
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                msg = json.loads(line)
                with self.cond:
                    self.requests.append((conn.number, msg))
                    self.cond.notify_all()
                if not (self.handler and self.handler(conn, msg)):
                    self.answer(conn, msg)

    def handle(self, prefix: str) -> str:
        self.handles += 1
        return f"{prefix}-{self.handles}"

    def answer(self, conn: GwConn, msg: dict[str, Any]) -> None:
        method, rid = msg["method"], msg["id"]
        if method == "CreateISCDriverInstance":
            extra = {"session": self.session} if self.session else {}
            conn.result(rid, code=0, driver=self.handle("drv"), **extra)
        elif method == "RequestCommandEventList":
            conn.result(rid, code=0, commands=["LogIn"], events=["EventAgentLogin"])
        elif method == "RequestService":
            conn.result(rid, code=0, service=self.handle("svc"))
        elif method == "ResumeDriverInstance":
            conn.send({"id": rid, "error": {"code": -32601,
                                            "message": "unknown method 'ResumeDriverInstance'"}})
        else:
            conn.result(rid, code=0)

    def wait_request(self, method: str, after: int = 0, timeout: float = 30
                     ) -> tuple[int, dict[str, Any]]:
        """The first request ``method`` at index >= after: (index, message)."""
        with self.cond:
            while True:
                for i, (_, m) in enumerate(self.requests[after:], after):
                    if m["method"] == method:
                        return i, m
                if not self.cond.wait(timeout):
                    raise TimeoutError(f"no {method} request; got "
                                       f"{[m['method'] for _, m in self.requests]}")

    def methods(self) -> list[str]:
        with self.cond:
            return [m["method"] for _, m in self.requests]

    def close(self) -> None:
        self.listener.close()
        for c in self.conns:
            with contextlib.suppress(OSError):
                c.close()
