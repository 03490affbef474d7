#!/usr/bin/env python3
"""Long fuzz run against a ``siebel-gateway serve`` process (issue 12).

    python tools/fuzz.py [--lines 1000000] [--seed 1] [--connections 4] [--window 200]
                         [--broker 127.0.0.1:61613 --gc-events 100000]

SCS edge: ``--connections`` connections in parallel, each with its own driver and agent
(1001, 1002, ...) logged in and its own random stream (seed, connection).  Valid requests,
mutated (types, methods, ids incl. NaN / Infinity / 1e400, lone surrogates, nesting up to
100,000 levels, sizes past MaxLineBytes, invalid UTF-8, junk), are pipelined in windows of
``--window`` lines written in random pieces (lines split across reads) while answers are
read; a sentinel request closes each window.  Every non-blank line must get exactly one
well-formed (strict) JSON answer: a line whose id survives its mutation must be answered
with that id exactly once, and the other lines' answers must make up the count.  The
connections must stay open, their agents logged in (no ``EventAgentLogout``), and the
gateway process up (checked after every window).

GC edge (with ``--broker``, a real ActiveMQ; ``simulate-gc`` runs there on a private
queue): event texts of the simulator, mutated (fields replaced, inserted, dropped, long;
junk ``gcTimestamp`` headers), are published on the gateway's event topic; after each
batch the SCS connection must still answer.

Prints lines tried / answered / unanswered / answers without their id / duplicate and extra
answers / malformed answers / internal errors (-32603) / dropped connections / crashes /
agent logouts / defects in the gateway log, with the first examples of each problem; exits
1 when any is not 0.  Without ``--broker`` the gateway runs on memory:// (its embedded GC
simulator) and only the SCS edge is fuzzed.  The requests and event texts mutated are the
ones of the CI fuzz test (``tests/hardening/corpus.py``).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import select
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from siebel_gateway.crypto import DEFAULT_KEY_ENV, new_key  # noqa: E402
from siebel_gateway.logtext import peer_text  # noqa: E402
from tests.hardening.corpus import BODIES, COMMANDS, JUNK, METHODS, body  # noqa: E402

#: Mutation kinds, drawn with equal odds (one line in 14 is 1.1 MB, past MaxLineBytes).
KINDS = ("valid", "type", "drop", "id", "method", "size", "deep", "surrogate", "nonfinite",
         "junk", "bytes", "notobject", "extra", "huge")
#: Kinds whose line keeps the request's own integer id: the answer must carry it.
KEEPS_ID = frozenset({"valid", "type", "drop", "method", "size", "extra"})
# Characters of the random texts: ASCII, accents, CJK, Arabic, controls and NUL, the DEF
# and GC separators, astral emoji.
ALPHABET = tuple("abc XYZ 123" "äöü éè ñ" "中文字符" "عربي" "\x00\x01\x1b\t\r" "#,|;\"\\" "😀🙈")
HUGE = ('{"jsonrpc":"2.0","id":1,"method":"APIVersion","x":"' + "y" * 1_100_000
        + '"}').encode()
BIG = "x" * 200_000


class Mutator:
    def __init__(self, rng: random.Random, service: str,
                 kinds: tuple[str, ...] = KINDS) -> None:
        self.rng, self.service, self.kinds = rng, service, kinds

    def text(self, n: int = 12) -> str:
        r = self.rng
        return "".join(r.choices(ALPHABET, k=r.randint(0, n)))

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
        kind = r.choice(self.kinds)
        if kind == "huge":
            return kind, HUGE
        if kind == "bytes":
            return kind, r.randbytes(r.randint(1, 60)).replace(b"\n", b"")
        if kind == "notobject":
            return kind, json.dumps(r.choice([1, "x", [1, 2], None, 2.5])).encode()
        req = self.request(rid)
        params = req["params"]
        if kind == "type":
            params[r.choice(sorted(params))] = self.value()
        elif kind == "drop":
            del params[r.choice(sorted(params))]
        elif kind == "id":
            req["id"] = r.choice([None, True, [1], {"a": 1}, self.text(), -0.5, 2**80])
        elif kind == "method":
            req["method"] = r.choice([self.text(), self.value(), "authenticate", ""])
        elif kind == "size":
            params[r.choice(sorted(params))] = BIG[:r.randint(1000, 200_000)]
        elif kind == "extra":
            req[self.text(5)] = self.value()
        if kind not in ("surrogate", "nonfinite", "deep"):
            text = json.dumps(req, ensure_ascii=r.random() < 0.5)
        elif kind == "surrogate":
            text = json.dumps(req).replace('"Voice"', '"Vo\\ud800ice"').replace(
                '"drv-1"', r.choice(['"drv\\udfff"', '"drv-1"'])).replace(
                f'"id": {rid}', f'"id": "r{rid}\\ud83d"' if r.random() < 0.3 else
                f'"id": {rid}')
        elif kind == "nonfinite":
            text = json.dumps(req).replace(f'"id": {rid}', '"id": ' + r.choice(
                ["NaN", "Infinity", "-Infinity", "1e400"]))
        else:  # deep
            n = r.choice([100, 1000, 5000, 100_000])
            text = json.dumps(req).replace('"params": [', '"params": [' + "[" * n + "]" * n
                                           + ",", 1)
        data = text.encode("utf-8", "surrogatepass")
        if kind == "junk":
            data = r.choice(JUNK) + data[:r.randint(0, 30)]
        return kind, data

    def gc_event(self, agent: str) -> tuple[str, dict[str, str]]:
        r = self.rng
        fields = body(r.choice(BODIES), agent).split("#")
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
        self.lock = threading.Lock()
        self.starts = 0
        # The templates set UseSecurePassword = TRUE: serve and simulate-gc share a key.
        self.env = {**os.environ}
        if not self.env.get(DEFAULT_KEY_ENV):
            self.env[DEFAULT_KEY_ENV] = new_key().hex()

    def start(self) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        url = f"stomp://{self.broker}" if self.broker else "memory://"
        (self.tmp / "gw.def").write_text(
            f'[Server]\nListen = "127.0.0.1:{self.port}"\n[Broker]\nUrl = "{url}"\n'
            f'[GenericConnector]\nQueue = "{self.queue}"\nClientDestination = '
            f'"gw.{self.queue}"\n'
            # no monitor: its default 127.0.0.1:8077 would compete with any other serve
            '[Monitor]\nListen = ""\n')
        if self.broker and self.sim is None:
            self.sim = self._run(["simulate-gc", "--broker", url, "--queue", self.queue],
                                 "sim.err")
        self.proc = self._run(["serve", "--config", str(self.tmp / "gw.def"), "--def",
                               str(ROOT / "def_templates" / "siebel-ucce.def"),
                               "--log-file", str(self.tmp / "gw.log")], "gw.err")
        self.starts += 1
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
                                env=self.env)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def ensure(self, seen_start: int) -> bool:
        """Restarts a dead gateway once (whoever sees it first); True if it had crashed."""
        with self.lock:
            if self.alive() or self.starts != seen_start:
                return False
            self.start()
            return True

    def stop(self) -> None:
        for p in (self.proc, self.sim):
            if p is not None and p.poll() is None:
                p.terminate()
                p.wait(20)


class Connection:
    """One SCS connection with its own driver and agent (``1001 + n``) logged in."""

    def __init__(self, port: int, n: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.n = n
        self.buf = b""
        self.logouts = 0

    def lines(self, deadline: float) -> list[bytes]:
        self.sock.settimeout(max(0.01, deadline - time.monotonic()))
        return self._take(self.sock.recv(1 << 20))

    def _take(self, data: bytes) -> list[bytes]:
        if not data:
            raise ConnectionError("closed by the gateway")
        self.buf += data
        *complete, self.buf = self.buf.split(b"\n")
        return complete

    def send_reading(self, stream: bytes, rng: random.Random) -> list[bytes]:
        """Writes ``stream`` in random pieces (lines split across reads), reading what the
        gateway answers meanwhile so neither side blocks on a full buffer."""
        view, got = memoryview(stream), []
        self.sock.setblocking(False)
        try:
            while view:
                readable, writable, _ = select.select([self.sock], [self.sock], [], 60)
                if not readable and not writable:
                    raise ConnectionError("gateway neither reads nor answers for 60 s")
                if readable:
                    got += self._take(self.sock.recv(1 << 20))
                if writable:
                    cut = rng.randint(1, min(len(view), 70_000))
                    sent = self.sock.send(view[:cut])
                    view = view[sent:]
        finally:
            self.sock.setblocking(True)
        return got

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
        agent = str(1001 + self.n)
        d = self.call("d", "CreateISCDriverInstance", mediaType="Voice", language="ENU",
                      connectString="", params=[])["driver"]
        s = self.call("s", "RequestService", driver=d, connectString="",
                      params=[["AgentId", agent], ["Extension", str(2001 + self.n)]])["service"]
        deadline = time.monotonic() + 90
        while True:  # until the GC is available and a dropped session's claim is gone
            r = self.call("l", "InvokeCommand", service=s, cmdTrackId="l", name="LogIn",
                          stringParam="", params=[["AgentPin", f"secret{agent}"]])
            if r.get("code") == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        if r.get("code") != 0:
            raise SystemExit(f"fuzz: agent {agent} cannot log in: {r}")
        return str(s)


def strict(line: bytes) -> Any:
    def refuse(name: str) -> None:
        raise ValueError(name)

    return json.loads(line.decode("utf-8"), parse_constant=refuse)


class Run:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.counts: Counter[str] = Counter()
        self.examples: dict[str, list[str]] = {}
        #: Problems by the mutation of the line (for a drop: the first unanswered line).
        self.by_kind: dict[str, Counter[str]] = {}
        self.lock = threading.Lock()
        self.tmp = Path(tempfile.mkdtemp(prefix="fuzz."))
        self.gw = Gateway(self.tmp, args.broker, f"FUZZ{uuid.uuid4().hex[:6]}")
        self.kinds = tuple(k for k in KINDS if k not in args.skip.split(","))

    def problem(self, what: str, kind: str, line: bytes, n: int = 1) -> None:
        with self.lock:
            self.counts[what] += n
            self.by_kind.setdefault(what, Counter())[kind] += n
            seen = self.examples.setdefault(what, [])
            if len(seen) < 3:
                seen.append(f"[{kind}] {peer_text(line, 160)}")

    def add(self, counts: Counter[str]) -> None:
        with self.lock:
            self.counts.update(counts)

    def connect(self, n: int, rng: random.Random) -> tuple[Connection, Mutator]:
        if self.gw.ensure(self.gw.starts):
            self.add(Counter({"crashes": 1}))
        conn = Connection(self.gw.port, n)
        return conn, Mutator(rng, conn.login(), self.kinds)

    def scs(self) -> None:
        share, rest = divmod(self.args.lines, self.args.connections)
        workers = [threading.Thread(target=self.worker, args=(n, share + (n < rest)),
                                    name=f"fuzz-{n}") for n in range(self.args.connections)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()

    def worker(self, n: int, lines: int) -> None:
        rng = random.Random(f"{self.args.seed}-{n}")
        conn, mut = self.connect(n, rng)
        tried = 0
        while tried < lines:
            batch = [mut.line(tried + i + 1) for i in range(min(self.args.window,
                                                               lines - tried))]
            tried += len(batch)
            expected = [(k, ln, tried - len(batch) + i + 1) for i, (k, ln) in enumerate(batch)
                        if ln.strip(b" \t\r")]
            sentinel = f"sentinel-{tried}"
            stream = b"".join(ln + b"\n" for _, ln in batch) + json.dumps(
                {"jsonrpc": "2.0", "id": sentinel, "method": "APIVersion"}).encode() + b"\n"
            answers: list[Any] = []
            try:
                early = conn.send_reading(stream, rng)
                self.collect(conn, sentinel, early, answers)
            except (OSError, ConnectionError):
                self.check(expected, answers, len(batch), dropped=True)
                conn.sock.close()
                conn, mut = self.connect(n, rng)  # a dead gateway: a crash
                continue
            self.check(expected, answers, len(batch))
            if not self.gw.alive():
                conn.sock.close()
                conn, mut = self.connect(n, rng)
        self.add(Counter({"agent logouts": conn.logouts}))
        conn.sock.close()

    def collect(self, conn: Connection, sentinel: str, raws: list[bytes],
                answers: list[Any]) -> None:
        """Answers up to the sentinel's, parsed strictly, into ``answers`` (a malformed one
        as ``None``); notifications only count logouts."""
        deadline = time.monotonic() + 120
        while True:
            for raw in raws:
                try:
                    msg = strict(raw)
                except ValueError:
                    self.problem("malformed answers", "?", raw)
                    answers.append(None)
                    continue
                if not isinstance(msg, dict):
                    self.problem("malformed answers", "?", raw)
                    answers.append(None)
                elif msg.get("id") == sentinel:
                    return
                elif "id" in msg:
                    answers.append(msg)
                elif msg.get("method") == "HandleEvent" and \
                        msg.get("params", {}).get("name") == "EventAgentLogout":
                    conn.logouts += 1
            raws = conn.lines(deadline)

    def check(self, expected: list[tuple[str, bytes, int]], answers: list[Any], tried: int,
              dropped: bool = False) -> None:
        """Matches a window's answers to its lines by id: a line that kept its integer id
        gets exactly one answer with it; the others' answers make up the count."""
        known = {rid: (kind, line) for kind, line, rid in expected if kind in KEEPS_ID}
        seen: set[int] = set()
        anonymous = duplicates = 0
        for msg in answers:
            if msg is None:
                anonymous += 1
                continue
            rid = msg.get("id")
            if type(rid) is int and rid in known:
                if rid in seen:
                    duplicates += 1
                    self.problem("duplicate answers", known[rid][0], known[rid][1])
                seen.add(rid)
            else:
                anonymous += 1
            error = msg.get("error")
            if isinstance(error, dict) and error.get("code") == -32603:
                kind, line = known[rid] if type(rid) is int and rid in known else (
                    "?", json.dumps(msg).encode())
                self.problem("internal errors (-32603)", kind, line)
        others = len(expected) - len(known)
        missing = [rid for rid in known if rid not in seen]
        lost = min(len(missing), max(0, anonymous - others))
        for rid in missing[:lost]:
            self.problem("answers without their id", *known[rid])
        answered = len(seen) + min(anonymous, others) + lost
        counts = Counter({"lines tried": tried, "answered": answered,
                          "blank lines (no answer due)": tried - len(expected)})
        if anonymous > others + lost:
            counts["extra answers"] += anonymous - others - lost
        if answered < len(expected):
            counts["unanswered"] += len(expected) - answered
            if dropped:
                first = next((e for e in expected if e[2] not in seen), ("?", b"", 0))
                self.problem("dropped connections", first[0], first[1])
        elif dropped:
            self.problem("dropped connections", "?", b"")
        self.add(counts)

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
        rng = random.Random(f"{self.args.seed}-gc")
        conn, mut = self.connect(0, rng)
        for n in range(self.args.gc_events):
            text, headers = mut.gc_event(rng.choice(["1001", "1002", "system"]))
            broker.send(topic, text, headers=headers)
            self.counts["GC events sent"] += 1
            if n % 500 == 499 or n == self.args.gc_events - 1:
                try:
                    conn.call(f"gc-{n}", "APIVersion")
                except (OSError, ConnectionError):
                    self.counts["dropped connections (GC fuzz)"] += 1
                    conn, mut = self.connect(0, rng)
        broker.disconnect()
        conn.sock.close()

    def report(self, seconds: float) -> int:
        log = (self.tmp / "gw.log").read_text(errors="replace") \
            if (self.tmp / "gw.log").exists() else ""
        self.counts["defect lines in the log"] = sum(
            1 for ln in log.splitlines()
            if "#critical]" in ln or "internal error" in ln or "Unhandled Error" in ln)
        order = ("lines tried", "blank lines (no answer due)", "answered", "unanswered",
                 "answers without their id",
                 "duplicate answers", "extra answers", "malformed answers",
                 "internal errors (-32603)", "dropped connections", "crashes",
                 "agent logouts", "GC events sent", "dropped connections (GC fuzz)",
                 "defect lines in the log")
        for key in order:
            print(f"{key:32} {self.counts[key]}")
        lines = self.counts["lines tried"]
        print(f"{'seconds':32} {seconds:.0f}   ({lines / max(seconds, 1e-9):,.0f} lines/s; "
              f"seed {self.args.seed}, {self.args.connections} connections, window "
              f"{self.args.window}; files in {self.tmp})")
        for what, kinds in self.by_kind.items():
            print(f"{what} by mutation: " + ", ".join(f"{k} {n}" for k, n in
                                                      kinds.most_common()))
        for what, examples in self.examples.items():
            print(f"first examples of {what}:")
            for e in examples:
                print(f"    {e}")
        good = ("lines tried", "blank lines (no answer due)", "answered", "GC events sent")
        bad = sum(self.counts[k] for k in order if k not in good)
        return 1 if bad else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lines", type=int, default=20_000, help="SCS lines to send")
    ap.add_argument("--connections", type=int, default=4, choices=range(1, 11),
                    metavar="1-10", help="SCS connections in parallel, one agent each")
    ap.add_argument("--window", "--batch", type=int, default=200,
                    help="lines pipelined before their answers are matched")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--skip", default="", metavar="KIND,...",
                    help=f"mutations left out (of {', '.join(KINDS)})")
    ap.add_argument("--broker", help="ActiveMQ STOMP host:port (enables the GC edge)")
    ap.add_argument("--gc-events", type=int, default=20_000, help="GC events to publish")
    args = ap.parse_args()
    run = Run(args)
    started = time.monotonic()
    try:
        run.gw.start()
        run.scs()
        run.gc()
        if not run.gw.alive():
            run.counts["crashes"] += 1
    finally:
        run.gw.stop()
    return run.report(time.monotonic() - started)


if __name__ == "__main__":
    sys.exit(main())
