"""Interop with a real JMS client over OpenWire: what the Java Generic Connector sees.

Commands from the gateway's link arrive as TextMessage with JMSType = Command#agentId and
the CSV body; events a JMS producer publishes on the client destination reach the gateway
and decode with the dialect.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from twisted.internet import reactor as _reactor
from twisted.internet.threads import deferToThread

from siebel_gateway.adapters.link import parse_broker_url
from siebel_gateway.adapters.stomp_link import StompLink
from siebel_gateway.core.broker_messages import BrokerMessage
from siebel_gateway.gc.codec import GcCodec
from siebel_gateway.gc.dialect import load_dialect

from .test_stomp_link_broker import until

reactor: Any = _reactor
pytestmark = [pytest.mark.broker, pytest.mark.java]
JARS = ["activemq-client", "geronimo-jms_1.1_spec", "geronimo-j2ee-management-1.1-spec",
        "hawtbuf", "slf4j-api", "slf4j-nop"]
SOURCE = Path(__file__).parent / "java" / "GcPeer.java"


@pytest.fixture(scope="module")
def java_peer(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    jars = [Path(f"/usr/share/java/{j}.jar") for j in JARS]
    missing = [str(j) for j in jars if not j.exists()]
    if shutil.which("javac") is None or shutil.which("java") is None or missing:
        why = f"javac/java or JMS jars missing ({', '.join(missing) or 'javac'})"
        if os.environ.get("SIEBEL_GW_REQUIRE_BROKER") or os.environ.get("CI"):
            pytest.fail(why + ": tools/test installs default-jdk-headless and libactivemq-java")
        pytest.skip(why)
    out = tmp_path_factory.mktemp("java")
    classpath = ":".join(map(str, jars))
    subprocess.run(["javac", "-cp", classpath, "-d", str(out), str(SOURCE)], check=True,
                   capture_output=True, timeout=120)
    return ["java", "-cp", f"{out}:{classpath}", "GcPeer"]


@pytest_twisted.ensureDeferred
async def test_commands_arrive_as_text_messages_and_jms_events_decode(
        java_peer: list[str], broker_stomp: tuple[str, int],
        broker_openwire: tuple[str, int]) -> None:
    host, port = broker_stomp
    ow_host, ow_port = broker_openwire
    gc_queue, client = f"GC{uuid.uuid4().hex[:8]}", f"sgw.{uuid.uuid4().hex[:8]}"
    codec = GcCodec(load_dialect(), queue=gc_queue, client_destination=client)
    event_text = "1001#State#READY#-1####Chris Smith##2001"
    peer = subprocess.Popen([*java_peer, f"tcp://{ow_host}:{ow_port}", gc_queue, client,
                             event_text], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    link = StompLink(parse_broker_url(f"stomp://{host}:{port}"), reactor=reactor, clock=reactor)
    received: list[BrokerMessage] = []
    link.subscribe(codec.event_destination, received.append)
    try:
        assert peer.stdout is not None
        first = await deferToThread(peer.stdout.readline)
        assert first.strip() == "LISTENING", first + (peer.stderr.read() if peer.stderr else "")
        await link.start()
        await link.publish(codec.encode("Login", {"AgentId": "1001", "Password": "secret1001",
                                                  "Extension": "2001"}))
        line = await deferToThread(peer.stdout.readline)
        assert line.strip() == "RECEIVED ActiveMQTextMessage|Login#1001|secret1001,2001"
        assert (await deferToThread(peer.stdout.readline)).strip() == "SENT"
        await until(lambda: len(received) == 1)
        event = codec.decode(received[0].body)
        assert (event.name, event.agent_id, event.fields["State"], event.fields["FullName"],
                event.fields["Extension"]) == ("State", "1001", "READY", "Chris Smith", "2001")
    finally:
        await link.stop()
        peer.kill()
        peer.wait(timeout=10)
