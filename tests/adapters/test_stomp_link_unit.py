"""StompLink's own logic with a fake stomp.py connection and a fake clock (no network)."""

from __future__ import annotations

import logging
import queue
import time
from collections.abc import Callable, Generator
from typing import Any, ClassVar

import pytest
import stomp
from twisted.internet.task import Clock

from siebel_gateway.adapters.link import LinkStatus, parse_broker_url
from siebel_gateway.adapters.stomp_link import HEARTBEAT_RECEIVE_SCALE, Backoff, StompLink

from ..logcapture import gateway_log_lines


class Handoff:
    """callFromThread into a queue the test pumps on its own thread (the 'reactor')."""

    def __init__(self) -> None:
        self.calls: queue.Queue[tuple[Callable[..., Any], tuple[Any, ...]]] = queue.Queue()

    def callFromThread(self, callable: Callable[..., Any],  # noqa: N802
                       *args: Any, **kw: Any) -> None:
        self.calls.put((callable, args))

    def pump(self, expect: int = 1) -> None:
        for _ in range(expect):
            fn, args = self.calls.get(timeout=5)
            fn(*args)


class FakeConnection:
    instances: ClassVar[list[FakeConnection]] = []
    fail_connects: ClassVar[int] = 0
    stomp_py_says: ClassVar[str] = ""
    queued: ClassVar[dict[str, list[str]]] = {}

    def __init__(self, hosts: list[tuple[str, int]], **kw: Any) -> None:
        self.hosts, self.kw = hosts, kw
        self.ssl: dict[str, Any] | None = None
        self.listener: Any = None
        self.subscribed: list[str] = []
        self.login: tuple[Any, Any] | None = None
        self.transport = type("T", (), {"current_host_and_port": hosts[0]})()
        self.beat: Any = None  # stomp.py's heartbeat listener ("protocol-listener")
        FakeConnection.instances.append(self)

    def get_listener(self, name: str) -> Any:
        return self.beat if name == "protocol-listener" else None

    def set_ssl(self, **kw: Any) -> None:
        self.ssl = kw

    def set_listener(self, _name: str, listener: Any) -> None:
        self.listener = listener

    def connect(self, user: Any, password: Any, wait: bool) -> None:
        self.login = (user, password)
        if FakeConnection.fail_connects:
            FakeConnection.fail_connects -= 1
            raise ConnectionRefusedError("refused")
        if FakeConnection.stomp_py_says:
            # What stomp.py does: the reason in its log, a bare exception raised.
            logging.getLogger("stomp.py").warning("could not connect to host %s, port %s: %s",
                                                  *self.hosts[0], FakeConnection.stomp_py_says)
            raise stomp.exception.ConnectFailedException()

    def subscribe(self, destination: str, id: str, ack: str) -> None:
        self.subscribed.append(destination)
        for body in FakeConnection.queued.pop(destination, []):
            # ActiveMQ hands a queued message over the moment the subscription exists,
            # on stomp.py's receiver thread, before connect() has even returned
            frame = type("F", (), {"headers": {"subscription": id, "destination": destination},
                                   "body": body})()
            self.listener.on_message(frame)

    def disconnect(self) -> None:
        pass

    def send(self, destination: str, body: str, headers: dict[str, str]) -> None:
        if destination == "/queue/full":
            raise OSError("broker refused the frame")


class FakeProbe:
    """The TCP probe: "" (a port answered) unless the test says why none did."""

    def __init__(self) -> None:
        self.down = ""
        self.calls = 0

    def __call__(self, endpoints: Any) -> str:
        self.calls += 1
        return self.down


def make(url: str, probe: FakeProbe | None = None,
         **kw: Any) -> tuple[StompLink, Handoff, Clock, list[LinkStatus]]:
    FakeConnection.instances = []
    handoff, clock = Handoff(), Clock()
    link = StompLink(parse_broker_url(url), reactor=handoff, clock=clock,
                     backoff=Backoff(initial=0.5, factor=2, maximum=3),
                     connection_factory=FakeConnection, probe=probe or FakeProbe(), **kw)
    statuses: list[LinkStatus] = []
    link.on_status(statuses.append)
    return link, handoff, clock, statuses


def test_failed_connects_back_off_then_subscribe_everything() -> None:
    link, handoff, clock, statuses = make("failover:(stomp://a:1,stomp://b:2)", user="gw",
                                          password="pw")
    link.subscribe("/topic/events", lambda m: None)
    FakeConnection.fail_connects = 3
    link.start()
    delays = []
    for _ in range(3):
        handoff.pump()  # the failed attempt comes back
        call: Any = clock.getDelayedCalls()[0]
        delays.append(call.getTime() - clock.seconds())
        clock.advance(delays[-1])
    handoff.pump()
    assert delays == [0.5, 1.0, 2.0]
    assert link.is_up and statuses == [LinkStatus(up=True, reason="connected to a:1",
                                                  broker="a:1")]
    conn = FakeConnection.instances[-1]
    assert conn.hosts == [("a", 1), ("b", 2)] and conn.login == ("gw", "pw")
    assert conn.subscribed == ["/topic/events"]
    assert conn.kw["auto_content_length"] is False and conn.kw["heartbeats"] == (10_000, 1000)
    link.stop()


def test_a_loss_reported_twice_is_acted_on_once_and_recovery_is_flagged() -> None:
    link, handoff, clock, statuses = make("stomp://a:1")
    link.subscribe("/queue/x", lambda m: None)
    link.start()
    handoff.pump()
    first = FakeConnection.instances[-1]
    first.listener.on_heartbeat_timeout()
    first.listener.on_disconnected()  # stomp.py reports the same loss again
    handoff.pump(2)
    assert [s.up for s in statuses] == [True, False]
    assert len(clock.getDelayedCalls()) == 1  # one reconnect, not two
    clock.advance(0.5)
    handoff.pump()
    assert statuses[-1].up and statuses[-1].recovered
    assert FakeConnection.instances[-1].subscribed == ["/queue/x"]
    link.stop()


def test_tls_endpoints_get_ssl_with_the_ca_file() -> None:
    link, handoff, _clock, _statuses = make("stomp+ssl://amq.example:61612",
                                            ca_certs="/etc/ssl/ca.pem")
    link.start()
    handoff.pump()
    assert FakeConnection.instances[-1].ssl == {"for_hosts": [("amq.example", 61612)],
                                                "ca_certs": "/etc/ssl/ca.pem"}
    link.stop()


def test_a_burst_of_sends_completes_in_order_with_one_wake_up() -> None:
    """Completions are handed to the reactor in batches: while the reactor has not run,
    more completions join the waiting batch instead of each waking it."""
    import threading

    from twisted.python.failure import Failure

    from siebel_gateway.core.broker_messages import BrokerMessage

    link, handoff, _clock, _statuses = make("stomp://a:1")
    link.start()
    handoff.pump()
    outcomes: list[str] = []
    for n, dest in enumerate(("/queue/q", "/queue/q", "/queue/full", "/queue/q")):
        d = link.publish(BrokerMessage(destination=dest, body=f"m{n}"))
        d.addCallbacks(lambda _r, n=n: outcomes.append(f"sent {n}"),
                       lambda f, n=n: outcomes.append(f"failed {n}: {f.getErrorMessage()}"))
    reached, release = threading.Event(), threading.Event()

    def park() -> None:
        reached.set()
        release.wait(5)

    link._call(park)  # the worker parks here
    assert reached.wait(5)  # ... so the four completions before it are all queued
    assert handoff.calls.qsize() == 1
    assert outcomes == []  # nothing fires on the sender thread
    handoff.pump()
    assert outcomes == ["sent 0", "sent 1", "failed 2: broker refused the frame", "sent 3"]
    release.set()
    handoff.pump()  # the parked call's own completion
    stopped: list[object] = []
    link.stop().addBoth(stopped.append)
    handoff.pump()
    assert stopped and not isinstance(stopped[0], Failure)


@pytest.fixture
def gateway_log() -> Generator[list[str], None, None]:
    with gateway_log_lines() as lines:
        yield lines


def test_the_heartbeat_grace_covers_activemqs_keepalive_gaps() -> None:
    """ActiveMQ's keepalive gaps reach 2 intervals; stomp.py's default grace is 1.5."""
    link, handoff, _clock, _statuses = make("stomp://a:1")
    link.start()
    handoff.pump()
    assert FakeConnection.instances[-1].kw["heart_beat_receive_scale"] == HEARTBEAT_RECEIVE_SCALE
    assert HEARTBEAT_RECEIVE_SCALE >= 2.5
    link.stop()


def test_a_heartbeat_timeout_is_the_reason_even_when_the_disconnect_comes_first(
        gateway_log: list[str]) -> None:
    link, handoff, _clock, statuses = make("stomp://a:1")
    link.start()
    handoff.pump()
    conn = FakeConnection.instances[-1]
    conn.beat = type("Beat", (), {"received_heartbeat": time.monotonic() - 3.2,
                                  "receive_sleep": 3.0})()
    conn.listener.on_disconnected()  # stomp.py closed the socket before telling why
    conn.listener.on_heartbeat_timeout()
    handoff.pump(2)
    assert [s.up for s in statuses] == [True, False]
    assert "heartbeat timeout: nothing from the broker for 3.2" in statuses[-1].reason
    assert any("broker link down: connection to the broker lost: heartbeat timeout" in line
               for line in gateway_log)
    link.stop()


def test_the_reason_stomp_py_logs_for_a_failed_connect_reaches_the_gateway_log(
        gateway_log: list[str]) -> None:
    link, handoff, clock, _statuses = make("stomp+ssl://amq.example:61612")
    FakeConnection.stomp_py_says = "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed"
    try:
        link.start()
        handoff.pump()
    finally:
        FakeConnection.stomp_py_says = ""
    assert len(clock.getDelayedCalls()) == 1  # and it keeps trying
    assert any("cannot connect to stomp+ssl://amq.example:61612: could not connect to host "
               "amq.example, port 61612: [SSL: CERTIFICATE_VERIFY_FAILED]" in line
               for line in gateway_log), gateway_log
    link.stop()


def test_a_status_handler_that_raises_never_stops_reconnection(gateway_log: list[str]) -> None:
    link, handoff, clock, statuses = make("stomp://a:1")

    def broken(status: LinkStatus) -> None:
        raise UnicodeEncodeError("utf-8", "x\ud800", 1, 2, "surrogates not allowed")

    link.on_status(broken)
    seen_after: list[bool] = []
    link.on_status(lambda s: seen_after.append(s.up))
    started: list[object] = []
    link.start().addBoth(started.append)
    handoff.pump()
    assert started == [None] and link.is_up  # the up path survived the handler too
    FakeConnection.instances[-1].listener.on_disconnected()
    handoff.pump()
    assert not link.is_up and len(clock.getDelayedCalls()) == 1
    clock.advance(0.5)
    handoff.pump()
    assert link.is_up and statuses[-1].recovered
    assert seen_after == [True, False, True]  # later handlers still told
    assert sum("status handler" in line and "surrogates not allowed" in line
               for line in gateway_log) == 3
    link.stop()


def test_a_broker_error_handler_that_raises_is_logged_and_the_next_still_runs(
        gateway_log: list[str]) -> None:
    link, handoff, _clock, _statuses = make("stomp://a:1")
    got: list[str] = []

    def broken(text: str) -> None:
        raise IndexError(text)

    link.on_broker_error(broken)
    link.on_broker_error(got.append)
    link.start()
    handoff.pump()
    frame = type("F", (), {"headers": {"message": "Usage Manager Memory Limit reached"},
                           "body": ""})()
    FakeConnection.instances[-1].listener.on_error(frame)
    handoff.pump()
    assert got == ["Usage Manager Memory Limit reached"]
    assert any("broker error handler" in line and "IndexError" in line for line in gateway_log)
    link.stop()


def test_a_message_waiting_in_the_queue_is_handled_once_the_link_is_up() -> None:
    """The race behind the flaky end-to-end test: the gateway's Hello already waits in the
    GC queue when the simulator subscribes; it reached the handler before the link said
    up, and the IN_SERVICE answer was refused ('broker link is down') and lost."""
    from siebel_gateway.core.broker_messages import BrokerMessage

    link, handoff, _clock, statuses = make("stomp://a:1")
    answered: list[str] = []

    def answer(message: BrokerMessage) -> None:
        d = link.publish(BrokerMessage(destination="/topic/gw", body="system#IN_SERVICE"))
        d.addCallbacks(lambda _r: answered.append(f"answered {message.body}"),
                       lambda f: answered.append(f"lost: {f.getErrorMessage()}"))

    link.subscribe("/queue/Connector1", answer)
    FakeConnection.queued = {"/queue/Connector1": ["Hello#gw"]}
    try:
        link.start()
        handoff.pump(2)  # the message's batch comes first, then the connection's completion
    finally:
        FakeConnection.queued = {}
    assert statuses and statuses[0].up
    if not answered:
        handoff.pump()  # the answer's send completes
    assert answered == ["answered Hello#gw"]
    link.stop()


def next_delay(clock: Clock) -> float:
    call: Any = clock.getDelayedCalls()[0]
    return round(float(call.getTime() - clock.seconds()), 6)


def test_while_the_broker_port_is_closed_only_probes_run_and_it_connects_once_it_answers(
        gateway_log: list[str]) -> None:
    """A long outage does not push the reconnect out to a long backoff: the port is probed
    every 0.5 s or less, and the STOMP connect follows the first probe that is answered."""
    probe = FakeProbe()
    link, handoff, clock, statuses = make("stomp://a:1", probe)
    link.start()
    handoff.pump()
    probe.down = "a:1 Connection refused"
    FakeConnection.instances[-1].listener.on_disconnected()
    handoff.pump()
    connects = len(FakeConnection.instances)
    delays = []
    for _ in range(8):  # a long outage
        delays.append(next_delay(clock))
        clock.advance(delays[-1])
        handoff.pump()  # the unanswered probe comes back
    assert delays == [0.1, 0.2, 0.4, 0.5, 0.5, 0.5, 0.5, 0.5]
    assert len(FakeConnection.instances) == connects  # no STOMP CONNECT while closed
    assert probe.calls == 8 and not link.is_up
    probe.down = ""  # the broker listens again
    assert next_delay(clock) == 0.5
    clock.advance(0.5)
    handoff.pump()
    assert link.is_up and statuses[-1].recovered
    assert len(FakeConnection.instances) == connects + 1
    told = [line for line in gateway_log if "broker link" in line]
    assert sum("probing every 0.5 s or less" in line for line in told) == 1, told
    assert any("broker link up: a:1, 3.70 s after the first failure (9 failed attempts)"
               in line for line in told), told
    link.stop()


def test_a_broker_that_answers_and_refuses_gets_the_backoff_and_one_log_line(
        gateway_log: list[str]) -> None:
    probe = FakeProbe()
    link, handoff, clock, _statuses = make("stomp://a:1", probe)
    FakeConnection.fail_connects = 5
    link.start()
    delays = []
    for _ in range(5):
        handoff.pump()
        delays.append(next_delay(clock))
        clock.advance(delays[-1])
    handoff.pump()
    assert delays == [0.5, 1.0, 2.0, 3.0, 3.0]  # capped, never faster
    assert link.is_up and probe.calls == 5  # each retry probed first, then connected
    assert sum("retrying in 0.50 s, then up to every 3 s" in line
               for line in gateway_log) == 1
    assert not any("retrying in 1.00" in line for line in gateway_log)
    link.stop()
