#!/usr/bin/env python3
"""Long fuzz run against a ``siebel-gateway serve`` process (issue 12).

    python tools/fuzz.py [--lines 1000000] [--seed 1] [--batch 200]
                         [--broker 127.0.0.1:61613 --gc-events 100000]

SCS edge: agent 1001 logs in on one connection; then valid requests, mutated (types,
methods, ids incl. NaN / Infinity / 1e400, lone surrogates, nesting up to 100,000 levels,
sizes past MaxLineBytes, invalid UTF-8, junk), are pipelined in batches and written in
random pieces.  After each batch a sentinel request shows where the batch's answers end.
Every non-blank line must get exactly one well-formed JSON answer; the connection must
stay open and the agent logged in.

GC edge (with ``--broker``, a real ActiveMQ; ``simulate-gc`` runs there on a private
queue): event texts of the simulator, mutated (fields replaced, inserted, dropped, long;
junk ``gcTimestamp`` headers), are published on the gateway's event topic; after each
batch the SCS connection must still answer.

Prints lines tried / answered / unanswered / malformed answers / internal errors (-32603) /
dropped connections / crashes / agent logouts / defects in the gateway log, with the first
examples of each problem; exits 1 when any is not 0.  Without ``--broker`` the gateway
runs on memory:// (its embedded GC simulator) and only the SCS edge is fuzzed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from siebel_gateway.logtext import peer_text  # noqa: E402

COMMANDS = ("ChangeReadyState", "ChangeNotReadyState", "MakeCall", "AnswerCall", "HoldCall",
            "RetrieveCall", "ReleaseCall", "SendDTMF", "SetWrapUpReason", "TransferInit",
            "ConferenceInit", "SetCurrentWorkItem", "NoSuchCommand")
METHODS = ("APIVersion", "RequestCommandEventList", "InvokeCommand", "InvokeCommandEx",
           "NotifyEventHandlingFinished", "AcceptWorkItem", "SuspendWorkItem",
           "ResumeWorkItem", "HandleQueuedWorkItem", "CreateISCDriverInstance",
           "RequestService", "ReleaseWorkItem")
BODIES = ("{a}#AgentInfo#Chris#Smith#false#OPTIONAL#x:1#Sales#Chris Smith",
          "{a}#State#NOT_READY#-1###2025-11-21T04:40:00.000Z#Chris Smith#-1#2001",
          "{a}#State#READY#-1###2025-11-21T04:40:00.000Z#Chris Smith#-1#2001",
          "{a}#ReasonCodes#WRAP_UP#Sales Call,Support#Sales Call,Support",
          "{a}#NewInboundCall#4155550100#8005550100#key:168#PREROUTE_DIRECT_AGENT###",
          "{a}#InboundCall#ACTIVE#168#4155550100#ACTIVE#8005550100#PREROUTE_DIRECT_AGENT####",
          "{a}#InboundCall#DROPPED#168#4155550100#DROPPED#8005550100#ACD_IN####",
          "{a}#Error#Generic Error#20999#something failed#MakeReady",
          "system#IN_SERVICE#")


KINDS = ("valid", "type", "drop", "id", "method", "size", "deep", "surrogate", "nonfinite",
         "junk", "bytes", "notobject", "extra", "huge")


class Mutator:
    def __init__(self, rng: random.Random, service: str,
                 kinds: tuple[str, ...] = KINDS) -> None:
        self.rng, self.service, self.kinds = rng, service, kinds

    def text(self, n: int = 12) -> str:
        r = self.rng
        pools = ("abc XYZ 123", "äöü éè ñ", "中文字符", "عربي", "\x00\x01\x1b\t\r",
                 "#,|;\"\\", "😀🙈")
        return "".join(r.choice(r.choice(pools)) for _ in range(r.randint(0, n)))

    def value(self, depth: int = 0) -> Any:
        r = self.rng
        kind = r.randint(0, 7 if depth < 3 else 4)
        if kind == 5:
            return [self.value(depth + 1) for _ in range(r.randint(0, 3))]
        if kind == 6:
            return {self.text(5): self.value(depth + 1) for _ in range(r.randint(0, 3))}
        return (None, r.random() < 0.5, r.randint(-2**70, 2**70), r.uniform(-1e9, 1e9),
                self.text(), None, None, self.text(40))[kind]

    def request(self, rid: int) -> dict[str, Any]:
        r = self.rng
        return {"jsonrpc": "2.0", "id": rid, "method": r.choice(METHODS), "params": {
            "service": self.service, "cmdTrackId": self.text(4), "name": r.choice(COMMANDS),
            "stringParam": self.text(6), "trackingId": self.text(6),
            "commandType": r.randint(-2, 3), "mediaType": "Voice", "language": "ENU",
            "driver": "drv-1", "params": [[self.text(6), self.text(6)]
                                          for _ in range(r.randint(0, 3))]}}

    def line(self, rid: int) -> tuple[str, bytes]:
        """(mutation kind, the line without its newline)."""
        r = self.rng
        req = self.request(rid)
        params = req["params"]
        kind = r.choice(self.kinds)
        text = ""
        if kind == "type":
            params[r.choice(sorted(params))] = self.value()
        elif kind == "drop":
            del params[r.choice(sorted(params))]
        elif kind == "id":
            req["id"] = r.choice([None, True, [1], {"a": 1}, self.text(), -0.5, 2**80])
        elif kind == "method":
            req["method"] = r.choice([self.text(), self.value(), "authenticate", ""])
        elif kind == "size":
            params[r.choice(sorted(params))] = "x" * r.randint(1000, 200_000)
        elif kind == "extra":
            req[self.text(5)] = self.value()
        if kind not in ("surrogate", "nonfinite", "deep", "huge"):
            text = json.dumps(req, ensure_ascii=r.random() < 0.5)
        elif kind == "surrogate":
            text = json.dumps(req).replace('"Voice"', '"Vo\\ud800ice"').replace(
                '"drv-1"', r.choice(['"drv\\udfff"', '"drv-1"'])).replace(
                f'"id": {rid}', f'"id": "r{rid}\\ud83d"' if r.random() < 0.3 else
                f'"id": {rid}')
        elif kind == "nonfinite":
            text = json.dumps(req).replace(f'"id": {rid}', '"id": ' + r.choice(
                ["NaN", "Infinity", "-Infinity", "1e400"]))
        elif kind == "deep":
            n = r.choice([100, 1000, 5000, 100_000])
            text = json.dumps(req).replace('"params": [', '"params": [' + "[" * n + "]" * n
                                           + ",", 1)
        elif kind == "huge":
            text = '{"jsonrpc":"2.0","id":1,"method":"APIVersion","x":"' + "y" * 1_100_000 + '"}'
        data = text.encode("utf-8", "surrogatepass")
        if kind == "junk":
            data = r.choice([b"{", b"[1,2", b"null", b"nan", b"}{"]) + data[:r.randint(0, 30)]
        elif kind == "bytes":
            data = bytes(r.randint(0, 255) for _ in range(r.randint(1, 60))).replace(b"\n", b"")
        elif kind == "notobject":
            data = json.dumps(r.choice([1, "x", [1, 2], None, 2.5])).encode()
        return kind, data

    def gc_event(self, agent: str) -> tuple[str, dict[str, str]]:
        r = self.rng
        fields = r.choice(BODIES).format(a=agent).split("#")
        for _ in range(r.randint(0, 3)):
            i = r.randint(0, len(fields))
            action = r.choice(("replace", "insert", "delete", "long"))
            if action == "insert":
                fields.insert(i, self.text().replace("\x00", ""))
            elif i < len(fields) and action == "replace":
                fields[i] = self.text().replace("\x00", "")
            elif i < len(fields) and action == "delete" and len(fields) > 1:
                del fields[i]
            elif i < len(fields):
                fields[i] = "L" * r.randint(1000, 50_000)
        headers = {}
        if r.random() < 0.7:
            headers["gcTimestamp"] = r.choice([str(int(time.time() * 1000)), "abc", "9" * 5000,
                                               "²³", "-1", "", "1e3"])
        return "#".join(fields), headers


class Gateway:
    def __init__(self, tmp: Path, broker: str | None, queue: str) -> None:
        self.tmp, self.broker, self.queue = tmp, broker, queue
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self.sim: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        url = f"stomp://{self.broker}" if self.broker else "memory://"
        (self.tmp / "gw.def").write_text(
            f'[Server]\nListen = "127.0.0.1:{self.port}"\n[Broker]\nUrl = "{url}"\n'
            f'[GenericConnector]\nQueue = "{self.queue}"\nClientDestination = '
            f'"gw.{self.queue}"\n')
        if self.broker and self.sim is None:
            self.sim = self._run(["simulate-gc", "--broker", url, "--queue", self.queue],
                                 "sim.err")
        self.proc = self._run(["serve", "--config", str(self.tmp / "gw.def"), "--def",
                               str(ROOT / "def_templates" / "siebel-ucce.def"),
                               "--log-file", str(self.tmp / "gw.log")], "gw.err")
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise SystemExit("fuzz: serve did not start; see "
                                     f"{self.tmp / 'gw.err'}") from None
                time.sleep(0.05)

    def _run(self, args: list[str], err: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, "-m", "siebel_gateway.cli", *args], cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=(self.tmp / err).open("ab"),
                                env={**os.environ})

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        for p in (self.proc, self.sim):
            if p is not None and p.poll() is None:
                p.terminate()
                p.wait(20)


class Connection:
    """One SCS connection with agent 1001 logged in; reads answers by batch."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.buf = b""
        self.logouts = 0

    def lines(self, deadline: float) -> list[bytes]:
        self.sock.settimeout(max(0.01, deadline - time.monotonic()))
        data = self.sock.recv(1 << 20)
        if not data:
            raise ConnectionError("closed by the gateway")
        self.buf += data
        *complete, self.buf = self.buf.split(b"\n")
        return complete

    def call(self, rid: str, method: str, **params: Any) -> dict[str, Any]:
        self.sock.sendall(json.dumps({"jsonrpc": "2.0", "id": rid, "method": method,
                                      "params": params}).encode() + b"\n")
        deadline = time.monotonic() + 20
        while True:
            for line in self.lines(deadline):
                msg = json.loads(line)
                if msg.get("id") == rid:
                    return dict(msg.get("result") or msg)

    def login(self) -> str:
        d = self.call("d", "CreateISCDriverInstance", mediaType="Voice", language="ENU",
                      connectString="", params=[])["driver"]
        s = self.call("s", "RequestService", driver=d, connectString="",
                      params=[["AgentId", "1001"], ["Extension", "2001"]])["service"]
        deadline = time.monotonic() + 30
        while True:  # until the GC is available (a real broker: the simulator answers Hello)
            r = self.call("l", "InvokeCommand", service=s, cmdTrackId="l", name="LogIn",
                          stringParam="", params=[["AgentPin", "secret1001"]])
            if r.get("code") != 6 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        if r.get("code") != 0:
            raise SystemExit(f"fuzz: agent 1001 cannot log in: {r}")
        return str(s)


def strict(line: bytes) -> Any:
    def refuse(name: str) -> None:
        raise ValueError(name)

    return json.loads(line.decode("utf-8"), parse_constant=refuse)


class Run:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.rng = random.Random(args.seed)
        self.counts: Counter[str] = Counter()
        self.examples: dict[str, list[str]] = {}
        #: Problems by the mutation of the line (for a drop: the first unanswered line).
        self.by_kind: dict[str, Counter[str]] = {}
        self._answers = 0
        self.tmp = Path(tempfile.mkdtemp(prefix="fuzz."))
        self.gw = Gateway(self.tmp, args.broker, f"FUZZ{uuid.uuid4().hex[:6]}")

    def problem(self, what: str, kind: str, line: bytes, n: int = 1) -> None:
        self.counts[what] += n
        self.by_kind.setdefault(what, Counter())[kind] += n
        seen = self.examples.setdefault(what, [])
        if len(seen) < 3:
            seen.append(f"[{kind}] {peer_text(line, 160)}")

    def connect(self) -> tuple[Connection, Mutator]:
        if not self.gw.alive():
            if self.gw.proc is not None:
                self.counts["crashes"] += 1
            self.gw.start()
        conn = Connection(self.gw.port)
        kinds = tuple(k for k in KINDS if k not in self.args.skip.split(","))
        return conn, Mutator(self.rng, conn.login(), kinds)

    def scs(self) -> None:
        conn, mut = self.connect()
        tried = 0
        while tried < self.args.lines:
            batch = [mut.line(tried + i + 1) for i in range(min(self.args.batch,
                                                               self.args.lines - tried))]
            tried += len(batch)
            expected = [(k, ln) for k, ln in batch if ln.strip(b" \t\r")]
            self.counts["lines tried"] += len(batch)
            stream = b"".join(ln + b"\n" for _, ln in batch)
            sentinel = f"sentinel-{tried}"
            stream += json.dumps({"jsonrpc": "2.0", "id": sentinel,
                                  "method": "APIVersion"}).encode() + b"\n"
            try:
                while stream:  # random pieces: lines split across reads
                    cut = self.rng.randint(1, min(len(stream), 70_000))
                    conn.sock.sendall(stream[:cut])
                    stream = stream[cut:]
                answers = self.collect(conn, sentinel, expected)
            except (OSError, ConnectionError):
                # the first line without an answer is the likely culprit
                got = self._answers
                kind, line = expected[got] if got < len(expected) else ("?", b"")
                self.problem("dropped connections", kind, line)
                self.counts["answered"] += got
                self.counts["unanswered"] += len(expected) - got
                conn.sock.close()
                conn, mut = self.connect()
                continue
            self.counts["answered"] += min(answers, len(expected))
            if answers < len(expected):
                self.counts["unanswered"] += len(expected) - answers
            elif answers > len(expected):
                self.counts["extra answers"] += answers - len(expected)
        self.counts["agent logouts"] += conn.logouts
        conn.sock.close()

    def collect(self, conn: Connection, sentinel: str,
                expected: list[tuple[str, bytes]]) -> int:
        self._answers = 0
        deadline = time.monotonic() + 60
        while True:
            for raw in conn.lines(deadline):
                n = self._answers
                kind, line = expected[n] if n < len(expected) else ("?", b"")
                try:
                    msg = strict(raw)
                except ValueError:
                    self.problem("malformed answers", kind, raw)
                    self._answers += 1
                    continue
                if msg.get("id") == sentinel:
                    return self._answers
                if "id" in msg:
                    self._answers += 1
                    if msg.get("error", {}).get("code") == -32603:
                        self.problem("internal errors (-32603)", kind, line)
                elif msg.get("method") == "HandleEvent" and \
                        msg["params"].get("name") == "EventAgentLogout":
                    conn.logouts += 1

    def gc(self) -> None:
        if not self.args.broker or not self.args.gc_events:
            return
        import stomp

        from siebel_gateway.gc.codec import GcCodec
        from siebel_gateway.gc.dialect import load_dialect

        host, _, port = self.args.broker.rpartition(":")
        topic = GcCodec(load_dialect(), queue=self.gw.queue,
                        client_destination=f"gw.{self.gw.queue}").event_destination
        broker = stomp.Connection12([(host, int(port))], auto_content_length=False)
        broker.connect(wait=True)
        conn, mut = self.connect()
        for n in range(self.args.gc_events):
            body, headers = mut.gc_event(self.rng.choice(["1001", "1002", "system"]))
            broker.send(topic, body, headers=headers)
            self.counts["GC events sent"] += 1
            if n % 500 == 499 or n == self.args.gc_events - 1:
                try:
                    conn.call(f"gc-{n}", "APIVersion")
                except (OSError, ConnectionError):
                    self.counts["dropped connections (GC fuzz)"] += 1
                    conn, mut = self.connect()
        broker.disconnect()
        conn.sock.close()

    def report(self, seconds: float) -> int:
        log = (self.tmp / "gw.log").read_text(errors="replace") \
            if (self.tmp / "gw.log").exists() else ""
        self.counts["defect lines in the log"] = sum(
            1 for ln in log.splitlines()
            if "#critical]" in ln or "internal error" in ln or "Unhandled Error" in ln)
        order = ("lines tried", "answered", "unanswered", "extra answers",
                 "malformed answers", "internal errors (-32603)", "dropped connections",
                 "crashes", "agent logouts", "GC events sent",
                 "dropped connections (GC fuzz)", "defect lines in the log")
        for key in order:
            print(f"{key:32} {self.counts[key]}")
        print(f"{'seconds':32} {seconds:.0f}   (seed {self.args.seed}; files in {self.tmp})")
        for what, kinds in self.by_kind.items():
            print(f"{what} by mutation: " + ", ".join(f"{k} {n}" for k, n in
                                                      kinds.most_common()))
        for what, examples in self.examples.items():
            print(f"first examples of {what}:")
            for e in examples:
                print(f"    {e}")
        bad = sum(self.counts[k] for k in order if k not in ("lines tried", "answered",
                                                              "GC events sent"))
        return 1 if bad else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lines", type=int, default=20_000, help="SCS lines to send")
    ap.add_argument("--batch", type=int, default=200, help="lines per pipelined batch")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--skip", default="", metavar="KIND,...",
                    help=f"mutations left out (of {', '.join(KINDS)})")
    ap.add_argument("--broker", help="ActiveMQ STOMP host:port (enables the GC edge)")
    ap.add_argument("--gc-events", type=int, default=20_000, help="GC events to publish")
    args = ap.parse_args()
    run = Run(args)
    started = time.monotonic()
    try:
        run.scs()
        run.gc()
        if not run.gw.alive():
            run.counts["crashes"] += 1
    finally:
        run.gw.stop()
    return run.report(time.monotonic() - started)


if __name__ == "__main__":
    sys.exit(main())
