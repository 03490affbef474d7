"""D5: a client cannot make the gateway hold unbounded output, nor hold connections open
for nothing -- over real TCP against ``serve`` (the limits of ``[Server]``)."""

from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path
from typing import Any

from ..driver.scs_client import ScsSocketClient
from .serving import start

LIST = b'{"jsonrpc":"2.0","id":%d,"method":"RequestCommandEventList","params":{}}\n'


def _connect(port: int, buffers: int = 0) -> socket.socket:
    s = socket.socket()
    if buffers:  # small kernel buffers: the gateway's own buffering shows sooner
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, buffers)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, buffers)
    s.settimeout(10)
    s.connect(("127.0.0.1", port))
    return s


def _read_all(sock: socket.socket) -> bytes:
    out = b""
    try:
        while data := sock.recv(65536):
            out += data
    except (ConnectionResetError, TimeoutError):
        pass
    return out


def _pipeline_until_stalled(sock: socket.socket, cap: int) -> tuple[int, bytes]:
    """Sends RequestCommandEventList lines and never reads, until the gateway takes
    nothing for 2 s or ``cap`` bytes went out; (requests started, the unsent tail)."""
    sock.setblocking(False)
    sent, rid, pending, last = 0, 0, b"", time.monotonic()
    while sent < cap and time.monotonic() - last < 2:
        if not pending:
            pending = b"".join(LIST % (rid + i) for i in range(1, 501))
            rid += 500
        try:
            n = sock.send(pending)
        except BlockingIOError:
            time.sleep(0.02)
            continue
        sent += n
        pending = pending[n:]
        last = time.monotonic()
    sock.setblocking(True)
    sock.settimeout(30)
    return rid, pending


def test_a_client_that_never_reads_is_paused_and_loses_nothing(tmp_path: Path) -> None:
    served = start(tmp_path, 'OutputPauseBytes = "65536"\nOutputCloseBytes = "268435456"')
    try:
        greedy = _connect(served.port, buffers=65536)
        requests, tail = _pipeline_until_stalled(greedy, cap=64 << 20)
        # the gateway stopped reading it long before 64 MiB (today it reads everything and
        # buffers ~9 bytes of answer per byte of request)
        assert tail, "the gateway kept reading a client that never reads"
        other = ScsSocketClient("127.0.0.1", served.port)
        assert other.call("APIVersion") == {"code": 0, "version": 2, "protocol": "1.1"}
        other.close()
        answers: list[bytes] = []
        reader = threading.Thread(target=lambda: answers.append(_read_all(greedy)))
        reader.start()
        greedy.sendall(tail)
        greedy.shutdown(socket.SHUT_WR)
        reader.join(120)
        ids = [json.loads(line)["id"] for line in answers[0].splitlines()]
        assert ids == list(range(1, requests + 1))  # every request answered, in order
        greedy.close()
    finally:
        served.stop()


def _agent(port: int, agent: str, extension: str, sock: socket.socket | None = None
           ) -> tuple[ScsSocketClient, str]:
    c = ScsSocketClient("127.0.0.1", port)
    if sock is not None:
        c.sock.close()
        c.sock = sock
    d = c.call("CreateISCDriverInstance", mediaType="Voice", language="ENU",
               connectString="", params=[])["driver"]
    svc = c.call("RequestService", driver=d, connectString="",
                 params=[["AgentId", agent], ["Extension", extension]])["service"]
    r = c.call("InvokeCommand", service=svc, cmdTrackId="1", name="LogIn", stringParam="",
               params=[["AgentPin", f"secret{agent}"]])
    assert r == {"code": 0}, r
    c.wait_event("EventAgentLogin")
    return c, svc


def test_past_the_second_bound_the_connection_is_closed_and_its_agent_released(
        tmp_path: Path) -> None:
    # ResumeGraceSeconds 0: a lost connection's services are released at once (with the
    # default grace the driver waits 60 s for a ResumeDriverInstance, protocol v1.1)
    served = start(tmp_path, 'OutputPauseBytes = "4096"\nOutputCloseBytes = "8192"\n'
                   'ResumeGraceSeconds = "0"')
    try:
        # agent 1001's connection stops reading; agent 1002 calls it again and again, so
        # events keep coming: once the kernel's socket buffers are full (a few MB on
        # loopback) the gateway holds the rest, and closes the connection past 8 KiB
        deaf, _ = _agent(served.port, "1001", "2001", _connect(served.port, buffers=4096))
        caller, svc = _agent(served.port, "1002", "2002")
        for n in range(20_000):
            if n % 50 == 0 and "does not read what the gateway sends" in served.log_text():
                break
            r = caller.call("InvokeCommand", service=svc, cmdTrackId=f"m{n}",
                            name="MakeCall", stringParam="2001", params=[])
            assert r == {"code": 0}, r
            caller.wait_event("EventDialing")
            r = caller.call("InvokeCommand", service=svc, cmdTrackId=f"r{n}",
                            name="ReleaseCall", stringParam="", params=[])
            assert r == {"code": 0}, r
            caller.wait_event("EventReleased")
        else:
            raise AssertionError("the gateway kept buffering output for a client that "
                                 "never reads")
        # its agent was released as after a lost connection: 1001 can log in elsewhere
        again, _ = _agent(served.port, "1001", "2001")
        again.close()
        deaf.close()
        caller.close()
    finally:
        served.stop()
    log = served.log_text()
    assert log.count("does not read what the gateway sends") == 1
    assert "OutputCloseBytes = 8192" in log


def test_half_lines_are_closed_after_the_idle_timeout(tmp_path: Path) -> None:
    served = start(tmp_path, 'IdleTimeoutSeconds = "0.5"')
    try:
        idle = [_connect(served.port) for _ in range(50)]
        for s in idle:
            s.sendall(b'{"jsonrpc":"2.0","id":1,"meth')
        busy = ScsSocketClient("127.0.0.1", served.port)
        assert busy.call("APIVersion")["code"] == 0
        for s in idle:
            answer = _read_all(s)  # the gateway says why, then closes
            error: dict[str, Any] = json.loads(answer)["error"]
            assert error["code"] == -32000 and "no complete request within 0.5 s" in \
                error["message"]
            s.close()
        # a connection that completed a request is not idle, however quiet afterwards
        assert busy.call("APIVersion")["code"] == 0
        busy.close()
    finally:
        served.stop()
    log = served.log_text()
    assert "IdleTimeoutSeconds" in log
    assert "more like it were not logged" in log or log.count("IdleTimeoutSeconds") <= 5


def _admitted(port: int) -> ScsSocketClient:
    """A client the gateway serves, retried while a connection just closed (the start-up
    probe, a freed slot) still counts as open in the gateway."""
    deadline = time.monotonic() + 10
    while True:
        c = ScsSocketClient("127.0.0.1", port)
        try:
            assert c.call("APIVersion")["code"] == 0
            return c
        except (ConnectionError, KeyError):
            c.close()
            assert time.monotonic() < deadline, "the gateway refused a free slot"
            time.sleep(0.05)


def test_connections_past_the_maximum_are_refused_politely(tmp_path: Path) -> None:
    served = start(tmp_path, 'MaxConnections = "3"')
    try:
        clients = [_admitted(served.port) for _ in range(3)]
        extra = _connect(served.port)
        refusal = json.loads(_read_all(extra))
        assert refusal["id"] is None and refusal["error"]["code"] == -32000
        assert "already serves 3 connections" in refusal["error"]["message"]
        extra.close()
        for c in clients:  # the refusal touched none of them
            assert c.call("APIVersion")["code"] == 0
        clients.pop().close()
        clients.append(_admitted(served.port))
        for c in clients:
            c.close()
    finally:
        served.stop()
    assert "MaxConnections" in served.log_text()
