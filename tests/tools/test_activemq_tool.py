"""tools/activemq against the real broker it manages."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import stomp

from ..hidden import assert_hidden
from ..netutil import free_port

ROOT = Path(__file__).parents[2]
TOOL = ROOT / "tools" / "activemq"

pytestmark = pytest.mark.broker


def tool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(TOOL), *args], capture_output=True, text=True,
                          check=False, timeout=120)


class Inbox(stomp.ConnectionListener):  # type: ignore[misc]
    def __init__(self) -> None:
        self.frames: list[stomp.utils.Frame] = []
        self.errors: list[str] = []
        self.arrived = threading.Event()
        self.refused = threading.Event()
        self.receipted = threading.Event()

    def on_receipt(self, frame: stomp.utils.Frame) -> None:
        self.receipted.set()

    def on_message(self, frame: stomp.utils.Frame) -> None:
        self.frames.append(frame)
        self.arrived.set()

    def on_error(self, frame: stomp.utils.Frame) -> None:
        self.errors.append(frame.headers.get("message", ""))
        self.refused.set()


def login(port: int, user: str | None, password: str | None) -> tuple[stomp.Connection12, Inbox]:
    conn = stomp.Connection12([("127.0.0.1", port)], auto_content_length=False)
    inbox = Inbox()
    conn.set_listener("inbox", inbox)
    conn.connect(user, password, wait=True)
    return conn, inbox


def test_the_test_broker_speaks_stomp_text_messages(broker_stomp: tuple[str, int]) -> None:
    conn = stomp.Connection12([broker_stomp], auto_content_length=False)
    inbox = Inbox()
    conn.set_listener("inbox", inbox)
    conn.connect(wait=True)
    queue = f"/queue/tool-test.{uuid.uuid4().hex}"
    try:
        conn.subscribe(queue, id="1", ack="auto")
        conn.send(queue, "Login#1001 é€", headers={"type": "Login#1001"})
        assert inbox.arrived.wait(10)
        frame = inbox.frames[0]
        assert frame.body == "Login#1001 é€"
        assert frame.headers["type"] == "Login#1001"
        assert "content-length" not in frame.headers  # a JMS TextMessage, not bytes
    finally:
        conn.disconnect()


def assert_low_latency(conf: Path) -> None:
    """Every connector of the broker sets TCP_NODELAY on what it accepts (ActiveMQ's
    server-side option takes the ``transport.`` prefix; without it Nagle met the clients'
    delayed ACKs: ~40 ms per multi-frame answer)."""
    ns = "{http://activemq.apache.org/schema/core}"
    uris = [c.get("uri", "") for c in ET.parse(conf).iter(f"{ns}transportConnector")]
    assert len(uris) >= 2
    for uri in uris:
        assert "transport.tcpNoDelay=true" in uri.split("?", 1)[-1].split("&"), uri


def test_second_instance_status_and_exact_stop(tmp_path: Path) -> None:
    base = tmp_path / "second"
    stomp = free_port()
    ports = ["--stomp-port", str(stomp), "--openwire-port", str(free_port()), "--base", str(base)]
    started = tool("start", *ports)
    assert started.returncode == 0, started.stdout + started.stderr
    try:
        assert f"ready: stomp=127.0.0.1:{stomp}" in started.stdout
        assert tool("status", *ports).returncode == 0
        again = tool("start", *ports)
        assert again.returncode == 0 and "already running" in again.stdout
        conf = (base / "conf" / "activemq.xml").read_text()
        assert 'sendFailIfNoSpace="true"' in conf and f"stomp://127.0.0.1:{stomp}" in conf
        assert (base / "conf" / "log4j.properties").exists()
        assert_low_latency(base / "conf" / "activemq.xml")
    finally:
        stopped = tool("stop", *ports)
    assert stopped.returncode == 0 and "stopped" in stopped.stdout
    status = tool("status", *ports)
    assert status.returncode == 1 and "not ready" in status.stdout


def test_status_and_stop_find_the_ports_of_the_base(tmp_path: Path) -> None:
    """A broker started on other ports than ActiveMQ's defaults is found from --base alone."""
    base, stomp = tmp_path / "elsewhere", free_port()
    started = tool("start", "--base", str(base), "--stomp-port", str(stomp),
                   "--openwire-port", str(free_port()))
    assert started.returncode == 0, started.stdout + started.stderr
    try:
        status = tool("status", "--base", str(base))
        assert status.returncode == 0 and f"stomp {stomp}" in status.stdout, status.stdout
    finally:
        stopped = tool("stop", "--base", str(base))
    assert stopped.returncode == 0 and f"stomp {stomp}" in stopped.stdout, stopped.stdout
    after = tool("status", "--base", str(base))
    assert after.returncode == 1 and f"not ready (stomp {stomp}" in after.stdout


def test_stop_without_a_broker_of_ours_touches_nothing(tmp_path: Path) -> None:
    (tmp_path / "broker.pid").write_text("1 0\n")  # pid 1 exists, but was not started by us
    result = tool("stop", "--base", str(tmp_path))
    assert result.returncode == 0 and "not running" in result.stdout


def test_authentication_and_the_authorization_map(tmp_path: Path) -> None:
    """--user/--password-file (gateway) and --gc-user/--gc-password-file (GC): nobody else
    connects, the gateway writes the GC queue and reads the event topics, the GC the
    reverse; no password is written into the broker's configuration or command line."""
    gw_pw, gc_pw = f"gw-{uuid.uuid4().hex}", f"gc-{uuid.uuid4().hex}"
    (tmp_path / "gw.pw").write_text(gw_pw + "\n")
    (tmp_path / "gc.pw").write_text(gc_pw + "\n")
    base, port = tmp_path / "auth", free_port()
    ports = ["--base", str(base), "--stomp-port", str(port), "--openwire-port", str(free_port())]
    started = tool("start", *ports, "--user", "gw", "--password-file", str(tmp_path / "gw.pw"),
                   "--gc-user", "gc", "--gc-password-file", str(tmp_path / "gc.pw"),
                   "--queue", "CQ")
    assert started.returncode == 0, started.stdout + started.stderr
    conns: list[stomp.Connection12] = []
    try:
        conf = (base / "conf" / "activemq.xml").read_text()
        assert "simpleAuthenticationPlugin" in conf and "authorizationMap" in conf
        pid = int((base / "broker.pid").read_text().split()[0])
        cmdline = Path(f"/proc/{pid}/cmdline").read_text()
        assert_hidden(conf, (gw_pw, gc_pw), "activemq.xml")
        assert_hidden(cmdline, (gw_pw, gc_pw), "the broker's command line")
        assert_hidden(started.stdout + started.stderr, (gw_pw, gc_pw), "the tool's output")
        for user, password in ((None, None), ("gw", gc_pw), ("intruder", "x")):
            with pytest.raises(stomp.exception.ConnectFailedException):
                login(port, user, password)
        gw, gw_in = login(port, "gw", gw_pw)
        gc, gc_in = login(port, "gc", gc_pw)
        conns += [gw, gc]
        # a topic keeps nothing for late subscribers: wait until both subscriptions exist
        gc.subscribe("/queue/CQ", id="1", ack="auto", headers={"receipt": "gc-sub"})
        gw.subscribe("/topic/siebel-gateway", id="1", ack="auto", headers={"receipt": "gw-sub"})
        assert gc_in.receipted.wait(10) and gw_in.receipted.wait(10)
        gw.send("/queue/CQ", "Login#1001", headers={"type": "Login"})
        gc.send("/topic/siebel-gateway", "1001#State#READY", headers={"type": "State"})
        assert gc_in.arrived.wait(10) and gw_in.arrived.wait(10)
        assert gc_in.frames[0].body == "Login#1001"
        assert gw_in.frames[0].body == "1001#State#READY"
        # a forged event from the gateway's account, a command from the GC's: refused
        gw.send("/topic/siebel-gateway", "NewInboundCall#forged")
        gc.send("/queue/CQ", "Logout#1001")
        assert gw_in.refused.wait(10) and gc_in.refused.wait(10)
        assert "User gw is not authorized to write to: topic://siebel-gateway" in gw_in.errors[0]
        assert "User gc is not authorized to write to: queue://CQ" in gc_in.errors[0]
        assert [f.body for f in gc_in.frames] == ["Login#1001"]  # nothing forged got through
    finally:
        for conn in conns:
            if conn.is_connected():
                conn.disconnect()
        assert tool("stop", "--base", str(base)).returncode == 0


def test_authentication_needs_both_accounts(tmp_path: Path) -> None:
    (tmp_path / "gw.pw").write_text("secret\n")
    result = tool("start", "--base", str(tmp_path / "b"), "--stomp-port", str(free_port()),
                  "--user", "gw", "--password-file", str(tmp_path / "gw.pw"))
    assert result.returncode == 2 and "--gc-user" in result.stdout
    empty = tmp_path / "empty.pw"
    empty.write_text("\n")
    result = tool("start", "--base", str(tmp_path / "b"), "--stomp-port", str(free_port()),
                  "--user", "gw", "--password-file", str(empty), "--gc-user", "gc",
                  "--gc-password-file", str(empty))
    assert result.returncode == 1 and f"{empty} holds no gateway's password" in result.stderr


def test_a_port_held_by_another_process_is_a_clear_failure_not_ready(tmp_path: Path) -> None:
    # Another broker (here: any listener) on a port we were given could even answer STOMP:
    # "ready" comes from this broker's own log, and a port it cannot bind is named.
    stomp_port = free_port()
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        taken = held.getsockname()[1]
        base = tmp_path / "clash"
        r = tool("start", "--base", str(base), "--stomp-port", str(stomp_port),
                 "--openwire-port", str(taken))
        assert r.returncode == 1, r.stdout + r.stderr
        assert f"cannot listen: tcp://127.0.0.1:{taken}: " in r.stdout + r.stderr
        assert "Address already in use" in r.stdout + r.stderr
    status = tool("status", "--base", str(base))
    assert status.returncode == 1, status  # not ready: no broker of this base runs
    assert not (base / "broker.pid").exists()  # nothing left running or recorded
