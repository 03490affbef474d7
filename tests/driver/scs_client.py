"""A plain-socket SCS client that follows docs/scs-protocol.md, as a C++ shim would:
one JSON object per line, results by id, callbacks collected in order."""

from __future__ import annotations

import json
import socket
import time
from typing import Any


class ScsSocketClient:
    def __init__(self, host: str, port: int, timeout: float = 10.0) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.timeout = timeout
        self.buf = b""
        self.next_id = 0
        self.callbacks: list[dict[str, Any]] = []
        #: Every callback received, in order, never consumed.
        self.history: list[dict[str, Any]] = []
        self.results: dict[Any, dict[str, Any]] = {}

    def close(self) -> None:
        self.sock.close()

    def _read(self, deadline: float) -> bool:
        self.sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            data = self.sock.recv(65536)
        except TimeoutError:
            return False
        if not data:
            raise ConnectionError("gateway closed the connection")
        self.buf += data
        while b"\n" in self.buf:
            line, self.buf = self.buf.split(b"\n", 1)
            msg = json.loads(line)
            if "method" in msg:
                self.callbacks.append(msg)
                self.history.append(msg)
            else:
                self.results[msg["id"]] = msg.get("result") or {"rpc_error": msg["error"]}
        return True

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        rid = self.next_id
        self.sock.sendall(json.dumps({"jsonrpc": "2.0", "id": rid, "method": method,
                                      "params": params}).encode() + b"\n")
        deadline = time.monotonic() + self.timeout
        while rid not in self.results:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no result for {method}")
            self._read(deadline)
        return self.results.pop(rid)

    def wait_event(self, name: str, timeout: float | None = None,
                   **fields: str) -> dict[str, Any]:
        """The first HandleEvent ``name`` (with these fields) not yet consumed; callbacks
        before it are consumed too."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            for i, c in enumerate(self.callbacks):
                p = c["params"]
                if c["method"] == "HandleEvent" and p["name"] == name:
                    f = dict(p["fields"])
                    if all(f.get(k) == v for k, v in fields.items()):
                        del self.callbacks[:i + 1]
                        return {**p, "fields": f}
            if time.monotonic() > deadline:
                seen = [c["params"].get("name", c["method"]) for c in self.callbacks]
                raise TimeoutError(f"no {name} {fields} within the timeout; saw {seen}")
            self._read(deadline)

    def history_names(self) -> list[str]:
        return [c["params"]["name"] if c["method"] == "HandleEvent" else c["method"]
                for c in self.history]

    def wait_callback(self, method: str, timeout: float | None = None) -> dict[str, Any]:
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            for i, c in enumerate(self.callbacks):
                if c["method"] == method:
                    del self.callbacks[:i + 1]
                    return dict(c["params"])
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {method} within the timeout")
            self._read(deadline)
