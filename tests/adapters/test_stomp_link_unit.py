"""StompLink's own logic with a fake stomp.py connection and a fake clock (no network)."""

from __future__ import annotations

import queue
from collections.abc import Callable
from typing import Any, ClassVar

from twisted.internet.task import Clock

from siebel_gateway.adapters.link import LinkStatus, parse_broker_url
from siebel_gateway.adapters.stomp_link import Backoff, StompLink


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

    def __init__(self, hosts: list[tuple[str, int]], **kw: Any) -> None:
        self.hosts, self.kw = hosts, kw
        self.ssl: dict[str, Any] | None = None
        self.listener: Any = None
        self.subscribed: list[str] = []
        self.login: tuple[Any, Any] | None = None
        self.transport = type("T", (), {"current_host_and_port": hosts[0]})()
        FakeConnection.instances.append(self)

    def set_ssl(self, **kw: Any) -> None:
        self.ssl = kw

    def set_listener(self, _name: str, listener: Any) -> None:
        self.listener = listener

    def connect(self, user: Any, password: Any, wait: bool) -> None:
        self.login = (user, password)
        if FakeConnection.fail_connects:
            FakeConnection.fail_connects -= 1
            raise ConnectionRefusedError("refused")

    def subscribe(self, destination: str, id: str, ack: str) -> None:
        self.subscribed.append(destination)

    def disconnect(self) -> None:
        pass

    def send(self, destination: str, body: str, headers: dict[str, str]) -> None:
        if destination == "/queue/full":
            raise OSError("broker refused the frame")


def make(url: str, **kw: Any) -> tuple[StompLink, Handoff, Clock, list[LinkStatus]]:
    FakeConnection.instances = []
    handoff, clock = Handoff(), Clock()
    link = StompLink(parse_broker_url(url), reactor=handoff, clock=clock,
                     backoff=Backoff(initial=0.5, factor=2, maximum=3),
                     connection_factory=FakeConnection, **kw)
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
    assert conn.kw["auto_content_length"] is False and conn.kw["heartbeats"] == (1000, 1000)
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
