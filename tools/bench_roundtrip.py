#!/usr/bin/env python3
"""Benchmark: command -> GC -> event through the gateway, next to the same request -> reply
done directly on the broker, in the same run, against the same GC simulator.

    python tools/bench_roundtrip.py --broker 127.0.0.1:61613 [--n 2000] [--warmup 200]

Starts ``simulate-gc`` and ``serve`` as processes on a private queue.  Two agents alternate
between Ready and Not Ready:

* gateway: agent 1001 through an SCS client on TCP: InvokeCommand ChangeReadyState /
  ChangeNotReadyState -> (gateway -> ActiveMQ -> simulator -> ActiveMQ -> gateway) ->
  HandleEvent EventAgentReady / EventAgentNotReady on the socket.
* raw: agent 1002 through plain stomp.py: MakeReady#1002 / MakeNotReady#1002 on the GC queue
  -> the State event on its own topic.

Samples are interleaved (one gateway, one raw, ...) so drift hits both alike.  Target
(issue 4): gateway <= 1.3x raw at p50 and <= 1.5x at p99.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import stomp

ROOT = Path(__file__).resolve().parents[1]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Scs:
    """Minimal SCS protocol client: send a request, read lines until a condition."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.n = 0

    def send(self, method: str, **params: Any) -> int:
        self.n += 1
        self.sock.sendall(json.dumps({"jsonrpc": "2.0", "id": self.n, "method": method,
                                      "params": params}).encode() + b"\n")
        return self.n

    def until(self, test: Any, prefilter: bytes = b"") -> dict[str, Any]:
        while True:
            while b"\n" in self.buf:
                line, self.buf = self.buf.split(b"\n", 1)
                if prefilter and prefilter not in line:
                    continue  # a shim dispatches by method; only the awaited line is parsed
                msg = json.loads(line)
                if test(msg):
                    return dict(msg)
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("gateway closed the connection")
            self.buf += data

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        rid = self.send(method, **params)
        return self.until(lambda m: m.get("id") == rid)["result"]  # type: ignore[no-any-return]


def event_named(name: str) -> Any:
    return lambda m: m.get("method") == "HandleEvent" and m["params"]["name"] == name


class Raw(stomp.ConnectionListener):  # type: ignore[misc]
    def __init__(self, host: str, port: int, gc_queue: str, topic: str) -> None:
        self.inbox: queue.Queue[str] = queue.Queue()
        self.gc_queue = gc_queue
        self.conn = stomp.Connection12([(host, port)], auto_content_length=False)
        self.conn.set_listener("raw", self)
        self.conn.connect(wait=True)
        self.conn.subscribe(f"/topic/{topic}", id="1", ack="auto")
        self.topic = topic

    def on_message(self, frame: Any) -> None:
        self.inbox.put(frame.body)

    def send(self, jms_type: str, body: str = "") -> None:
        self.conn.send(f"/queue/{self.gc_queue}", body, headers={"type": jms_type})

    def until(self, prefix: str) -> str:
        while True:
            text = self.inbox.get(timeout=10)
            if text.startswith(prefix):
                return text


def start(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "siebel_gateway.cli", *args], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=log.open("wb"),
                            env={**os.environ})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--broker", default="127.0.0.1:61613", help="ActiveMQ STOMP host:port")
    ap.add_argument("--n", type=int, default=2000, help="samples per path")
    ap.add_argument("--warmup", type=int, default=200, help="samples dropped per path")
    args = ap.parse_args()
    host, _, port_text = args.broker.rpartition(":")
    port = int(port_text)
    gc_queue = f"BENCH{uuid.uuid4().hex[:6]}"
    tmp = Path(tempfile.mkdtemp(prefix="bench_roundtrip."))
    gw_port = free_port()
    (tmp / "gateway.def").write_text(
        f'[Server]\nListen = "127.0.0.1:{gw_port}"\n[Broker]\nUrl = "stomp://{host}:{port}"\n'
        f'[GenericConnector]\nQueue = "{gc_queue}"\nClientDestination = "gw.{gc_queue}"\n'
        '[Monitor]\nListen = ""\n')  # not measured; 8077 may be another gateway's
    sim = start(["simulate-gc", "--broker", f"stomp://{host}:{port}", "--queue", gc_queue],
                tmp / "sim.log")
    gw = start(["serve", "--config", str(tmp / "gateway.def"), "--def",
                str(ROOT / "def_templates" / "siebel-ucce.def")], tmp / "gw.log")
    try:
        scs = None
        deadline = time.monotonic() + 30
        while scs is None:
            try:
                scs = Scs(gw_port)
            except OSError:
                if time.monotonic() > deadline or gw.poll() is not None:
                    print((tmp / "gw.log").read_text(), file=sys.stderr)
                    return 1
                time.sleep(0.1)
        driver = scs.call("CreateISCDriverInstance", mediaType="Voice", language="ENU",
                          connectString="", params=[["NotifyWhenDone", "FALSE"]])["driver"]
        service = scs.call("RequestService", driver=driver, connectString="",
                           params=[])["service"]
        n = 0

        def invoke(name: str, **params: str) -> dict[str, Any]:
            nonlocal n
            n += 1
            return scs.call("InvokeCommand", service=service, cmdTrackId=str(n), name=name,
                            stringParam="", params=[[k, v] for k, v in params.items()])

        while invoke("LogIn", AgentId="1001", AgentPin="secret1001",
                     Extension="2001")["code"] == 6:  # still saying Hello to the GC
            time.sleep(0.2)
        scs.until(event_named("EventAgentLogin"))
        raw = Raw(host, port, gc_queue, f"raw.{gc_queue}")
        raw.send(f"Hello#{raw.topic}")
        raw.until("system#IN_SERVICE")
        raw.send("Connect#1002", f"{raw.topic},secret1002")
        raw.send("Login#1002", "secret1002,2002")
        raw.until("1002#State#NOT_READY")

        gateway: list[float] = []
        direct: list[float] = []
        ping: list[float] = []
        ready = False
        for i in range(args.n + args.warmup):
            ready = not ready
            t0 = time.perf_counter()
            if ready:
                scs.send("InvokeCommand", service=service, cmdTrackId=f"b{i}",
                         name="ChangeReadyState", stringParam="", params=[])
                scs.until(event_named("EventAgentReady"), b'"EventAgentReady"')
            else:
                scs.send("InvokeCommand", service=service, cmdTrackId=f"b{i}",
                         name="ChangeNotReadyState", stringParam="",
                         params=[["ReasonCode", "1"]])
                scs.until(event_named("EventAgentNotReady"), b'"EventAgentNotReady"')
            t1 = time.perf_counter()
            raw.send("MakeReady#1002" if ready else "MakeNotReadyWithReason#1002",
                     "" if ready else "1")
            raw.until("1002#State#READY" if ready else "1002#State#NOT_READY")
            t2 = time.perf_counter()
            scs.call("APIVersion")  # the SCS hop alone: TCP both ways + JSON + dispatch
            t3 = time.perf_counter()
            if i >= args.warmup:
                gateway.append((t1 - t0) * 1e6)
                direct.append((t2 - t1) * 1e6)
                ping.append((t3 - t2) * 1e6)
        raw.conn.disconnect()
    finally:
        for p in (gw, sim):
            p.terminate()
            p.wait(timeout=20)

    print(f"command -> GC -> event round trip, {args.n} samples each (warm-up {args.warmup} "
          f"dropped), interleaved, broker {args.broker}")
    print(f"{'path':<40}{'p50 us':>10}{'p90 us':>10}{'p99 us':>10}{'mean us':>10}")
    for label, values in (("raw stomp.py request -> State event", direct),
                          ("gateway: InvokeCommand -> HandleEvent", gateway),
                          ("(breakdown) SCS hop alone: APIVersion", ping)):
        print(f"{label:<40}{percentile(values, .5):>10.0f}{percentile(values, .9):>10.0f}"
              f"{percentile(values, .99):>10.0f}{sum(values) / len(values):>10.0f}")
    r50 = percentile(gateway, .5) / percentile(direct, .5)
    r99 = percentile(gateway, .99) / percentile(direct, .99)
    print(f"ratio gateway/raw: p50 {r50:.2f}x (target <= 1.3x), p99 {r99:.2f}x "
          f"(target <= 1.5x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
