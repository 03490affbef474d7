"""tools/activemq against the real broker it manages."""

from __future__ import annotations

import subprocess
import sys
import threading
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import stomp

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
        self.arrived = threading.Event()

    def on_message(self, frame: stomp.utils.Frame) -> None:
        self.frames.append(frame)
        self.arrived.set()


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


def test_stop_without_a_broker_of_ours_touches_nothing(tmp_path: Path) -> None:
    (tmp_path / "broker.pid").write_text("1 0\n")  # pid 1 exists, but was not started by us
    result = tool("stop", "--base", str(tmp_path))
    assert result.returncode == 0 and "not running" in result.stdout
