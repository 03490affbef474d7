"""StompLink against real ActiveMQ brokers: round trip, kill -9 and restart, failover."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from twisted.internet import reactor as _reactor
from twisted.internet.defer import Deferred
from twisted.internet.task import deferLater
from twisted.internet.threads import deferToThread
from twisted.python.failure import Failure

from siebel_gateway.adapters.link import LinkDownError, LinkStatus, parse_broker_url
from siebel_gateway.adapters.stomp_link import Backoff, StompLink
from siebel_gateway.core.broker_messages import BrokerMessage

from ..hidden import assert_hidden
from ..logcapture import gateway_log_lines
from ..netutil import free_port

reactor: Any = _reactor
pytestmark = pytest.mark.broker
TOOL = Path(__file__).parents[2] / "tools" / "activemq"


def amq(action: str, base: Path, stomp: int, openwire: int) -> None:
    proc = subprocess.run([sys.executable, str(TOOL), action, "--base", str(base),
                           "--stomp-port", str(stomp), "--openwire-port", str(openwire)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def kill9(base: Path) -> None:
    pid = int((base / "broker.pid").read_text().split()[0])
    os.kill(pid, signal.SIGKILL)


def until(predicate: Callable[[], bool], timeout: float = 20.0) -> Deferred[None]:
    """Poll on the reactor until predicate holds (fails the test after timeout)."""
    async def wait() -> None:
        waited = 0.0
        while not predicate():
            if waited > timeout:
                raise AssertionError(f"condition not met within {timeout} s")
            await deferLater(reactor, 0.05, lambda: None)
            waited += 0.05
    return Deferred.fromCoroutine(wait())


def make_link(url: str) -> StompLink:
    return StompLink(parse_broker_url(url), reactor=reactor, clock=reactor,
                     backoff=Backoff(initial=0.2, factor=1.5, maximum=1.0))


@pytest_twisted.ensureDeferred
async def test_round_trip_keeps_type_and_text(broker_stomp: tuple[str, int]) -> None:
    host, port = broker_stomp
    link = make_link(f"stomp://{host}:{port}")
    queue = f"/queue/link-test.{uuid.uuid4().hex}"
    got: list[BrokerMessage] = []
    link.subscribe(queue, got.append)
    await link.start()
    try:
        for i in range(50):
            await link.publish(BrokerMessage(destination=queue, body=f"{i},é€",
                                             headers={"type": f"Login#{i}"}))
        await until(lambda: len(got) == 50)
        # Nagle off: a GC answer of several frames is not held for a delayed ACK (~40 ms)
        sock = link._conn.transport.socket
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
        assert [m.body for m in got] == [f"{i},é€" for i in range(50)]  # order kept
        assert got[7].type == "Login#7"
        assert "content-length" not in got[7].headers
    finally:
        await link.stop()


@pytest.fixture
def own_broker(tmp_path: Path) -> Generator[tuple[Path, int, int], None, None]:
    base, stomp, openwire = tmp_path / "amq", free_port(), free_port()
    amq("start", base, stomp, openwire)
    yield base, stomp, openwire
    amq("stop", base, stomp, openwire)


@pytest_twisted.ensureDeferred
async def test_kill_and_restart_reconnects_and_resubscribes(
        own_broker: tuple[Path, int, int]) -> None:
    base, stomp, openwire = own_broker
    link = make_link(f"stomp://127.0.0.1:{stomp}")
    statuses: list[LinkStatus] = []
    link.on_status(statuses.append)
    got: list[str] = []
    link.subscribe("/topic/sgw.events", lambda m: got.append(m.body))
    await link.start()
    try:
        await link.publish(BrokerMessage(destination="/topic/sgw.events", body="before"))
        await until(lambda: got == ["before"])
        kill9(base)
        await until(lambda: not link.is_up)
        failures: list[object] = []

        def failed(f: Failure) -> None:
            failures.append(f.type)

        link.publish(BrokerMessage(destination="/topic/sgw.events", body="while down")
                     ).addErrback(failed)
        assert failures == [LinkDownError]  # reported at once, not dropped
        await deferToThread(amq, "start", base, stomp, openwire)
        await until(lambda: link.is_up)
        await link.publish(BrokerMessage(destination="/topic/sgw.events", body="after"))
        await until(lambda: got == ["before", "after"])  # the subscription is back
        assert [(s.up, s.recovered) for s in statuses] == [(True, False), (False, False),
                                                            (True, True)]
    finally:
        await link.stop()


@pytest_twisted.ensureDeferred
async def test_failover_to_the_second_broker(own_broker: tuple[Path, int, int],
                                             broker_stomp: tuple[str, int]) -> None:
    base, stomp, _openwire = own_broker
    host, port = broker_stomp
    link = make_link(f"failover:(stomp://127.0.0.1:{stomp},stomp://{host}:{port})")
    topic = f"/topic/failover.{uuid.uuid4().hex}"
    got: list[str] = []
    link.subscribe(topic, lambda m: got.append(m.body))
    await link.start()
    try:
        assert link.broker == f"127.0.0.1:{stomp}"
        kill9(base)
        await until(lambda: link.is_up and link.broker == f"{host}:{port}")
        await link.publish(BrokerMessage(destination=topic, body="on the second broker"))
        await until(lambda: got == ["on the second broker"])
    finally:
        await link.stop()



@pytest_twisted.ensureDeferred
async def test_pauses_in_traffic_never_drop_the_link(broker_stomp: tuple[str, int]) -> None:
    """ActiveMQ answers a message with silence of up to two heartbeat intervals (it sends a
    keepalive only after a whole interval without writing): the link must not call that a
    dead broker.  With stomp.py's default grace (1.5 intervals) about every other message
    here dropped the link."""
    host, port = broker_stomp
    link = StompLink(parse_broker_url(f"stomp://{host}:{port}"), reactor=reactor,
                     clock=reactor, heartbeats=(500, 500))
    statuses: list[LinkStatus] = []
    link.on_status(statuses.append)
    topic = f"/topic/pauses.{uuid.uuid4().hex}"
    got: list[str] = []
    link.subscribe(topic, lambda m: got.append(m.body))
    await link.start()
    try:
        for i in range(12):
            await link.publish(BrokerMessage(destination=topic, body=str(i)))
            await deferLater(reactor, 0.65, lambda: None)
        await until(lambda: len(got) == 12)
        assert [s.up for s in statuses] == [True], [s.reason for s in statuses]
    finally:
        await link.stop()


@pytest_twisted.ensureDeferred
async def test_a_hung_broker_is_noticed_by_heartbeats(own_broker: tuple[Path, int, int]) -> None:
    base, stomp, _openwire = own_broker
    link = make_link(f"stomp://127.0.0.1:{stomp}")
    statuses: list[LinkStatus] = []
    link.on_status(statuses.append)
    await link.start()
    pid = int((base / "broker.pid").read_text().split()[0])
    # stomp.py grants the first heartbeat one extra grace period after CONNECTED; a link
    # that has been up that long shows the steady-state detection time.
    await deferLater(reactor, 3.5, lambda: None)
    try:
        os.kill(pid, signal.SIGSTOP)
        t0 = reactor.seconds()
        await until(lambda: not link.is_up, timeout=10)
        assert reactor.seconds() - t0 < 5  # heartbeats of 1 s, grace 3 s: about 3-4 s
        assert "heartbeat timeout: nothing from the broker for" in statuses[-1].reason
    finally:
        os.kill(pid, signal.SIGCONT)
        await link.stop()


@pytest_twisted.ensureDeferred
async def test_a_full_broker_refuses_sends_with_errors_that_are_reported(tmp_path: Path) -> None:
    base, stomp, openwire = tmp_path / "full", free_port(), free_port()
    proc = subprocess.run([sys.executable, str(TOOL), "start", "--base", str(base),
                           "--stomp-port", str(stomp), "--openwire-port", str(openwire),
                           "--memory-limit", "1 mb"], capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    link = make_link(f"stomp://127.0.0.1:{stomp}")
    errors: list[str] = []
    link.on_broker_error(errors.append)
    try:
        await link.start()
        body = "x" * 10_000
        for _ in range(400):  # 4 MB into a queue nobody reads, against a 1 MB limit
            await link.publish(BrokerMessage(destination="/queue/nobody.reads", body=body))
            if errors:
                break
        await until(lambda: bool(errors), timeout=20)
        assert "Usage Manager Memory Limit reached" in errors[0]
        assert link.is_up  # the broker refuses sends but keeps the connection
        assert link.broker_errors >= 1
    finally:
        await link.stop()
        amq("stop", base, stomp, openwire)


@pytest_twisted.ensureDeferred
async def test_tls_link_to_a_real_broker(tmp_path: Path) -> None:
    if shutil.which("keytool") is None:
        pytest.fail("keytool (from the JDK that tools/test installs) is missing")
    keystore, pem = tmp_path / "broker.p12", tmp_path / "broker.pem"
    password = "changeit-" + uuid.uuid4().hex[:8]
    subprocess.run(["keytool", "-genkeypair", "-alias", "broker", "-keyalg", "RSA",
                    "-keysize", "2048", "-storetype", "PKCS12", "-keystore", str(keystore),
                    "-storepass", password, "-dname", "CN=localhost", "-validity", "2",
                    "-ext", "SAN=ip:127.0.0.1,dns:localhost"], check=True, capture_output=True)
    subprocess.run(["keytool", "-exportcert", "-rfc", "-alias", "broker", "-keystore",
                    str(keystore), "-storepass", password, "-file", str(pem)], check=True,
                   capture_output=True)
    base, stomp, openwire, tls = tmp_path / "tls", free_port(), free_port(), free_port()
    (tmp_path / "keystore.pw").write_text(password + "\n")
    proc = subprocess.run([sys.executable, str(TOOL), "start", "--base", str(base),
                           "--stomp-port", str(stomp), "--openwire-port", str(openwire),
                           "--stomp-ssl-port", str(tls), "--keystore", str(keystore),
                           "--keystore-password-file", str(tmp_path / "keystore.pw")],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # the password is read from the file and never written into the configuration
    assert_hidden((base / "conf" / "activemq.xml").read_text(), (password,), "activemq.xml")
    # Without the broker's CA the handshake fails: the gateway's own log says why.
    untrusted = StompLink(parse_broker_url(f"stomp+ssl://127.0.0.1:{tls}"), reactor=reactor,
                          clock=reactor, backoff=Backoff(initial=0.2, factor=1.0, maximum=0.2))
    with gateway_log_lines() as lines:
        untrusted.start()
        try:
            await until(lambda: any("CERTIFICATE_VERIFY_FAILED" in line for line in lines))
            assert not untrusted.is_up
            assert_hidden("".join(lines), (password,), "the gateway log")
        finally:
            await untrusted.stop()
    link = StompLink(parse_broker_url(f"stomp+ssl://127.0.0.1:{tls}"), reactor=reactor,
                     clock=reactor, ca_certs=str(pem))
    got: list[str] = []
    link.subscribe("/topic/tls.test", lambda m: got.append(m.body))
    try:
        await link.start()
        assert link.broker == f"127.0.0.1:{tls}"
        tls_socket = link._conn.transport.socket
        assert tls_socket.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
        await link.publish(BrokerMessage(destination="/topic/tls.test", body="over TLS"))
        await until(lambda: got == ["over TLS"])
    finally:
        await link.stop()
        amq("stop", base, stomp, openwire)
