from __future__ import annotations

from collections.abc import Callable

import pytest
from twisted.internet.task import Clock
from twisted.python.failure import Failure

from siebel_gateway.adapters.link import (
    BrokerEndpoint,
    LinkStatus,
    parse_broker_url,
)
from siebel_gateway.adapters.memory_link import MemoryBroker
from siebel_gateway.core.broker_messages import BrokerMessage


@pytest.mark.parametrize(("url", "endpoints"), [
    ("memory://", (BrokerEndpoint("memory"),)),
    ("stomp://127.0.0.1:61613", (BrokerEndpoint("stomp", "127.0.0.1", 61613),)),
    ("stomp+ssl://amq.example:61612", (BrokerEndpoint("stomp+ssl", "amq.example", 61612),)),
    ("failover:(stomp://a:61613, stomp://b:61614)?randomize=false",
     (BrokerEndpoint("stomp", "a", 61613), BrokerEndpoint("stomp", "b", 61614))),
    ("stomp://[::1]:61613", (BrokerEndpoint("stomp", "::1", 61613),)),
])
def test_broker_urls(url: str, endpoints: tuple[BrokerEndpoint, ...]) -> None:
    assert parse_broker_url(url) == endpoints


@pytest.mark.parametrize(("url", "message"), [
    ("tcp://a:61616", "is not memory://, stomp://host:port"),
    ("stomp://a", "is not memory://"),
    ("stomp://a:99999", "port 99999 is out of range"),
    ("failover:stomp://a:1", "write failover:(stomp://host:port,...)"),
    ("failover:()", "the failover list is empty"),
])
def test_bad_broker_urls_say_what_is_wrong(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_broker_url(url)


def msg(dest: str, body: str, **headers: str) -> BrokerMessage:
    return BrokerMessage(destination=dest, body=body, headers=headers)


def test_queues_deliver_to_one_consumer_in_turn_and_topics_to_all() -> None:
    clock = Clock()
    broker = MemoryBroker(clock)
    a, b, pub = broker.link(), broker.link(), broker.link()
    got: list[tuple[str, str]] = []
    def recorder(name: str, prefix: str = "") -> Callable[[BrokerMessage], None]:
        return lambda m: got.append((name, prefix + m.body))

    for name, link in (("a", a), ("b", b)):
        link.subscribe("/queue/GC", recorder(name))
        link.subscribe("/topic/events", recorder(name, "topic:"))
        link.start()
    pub.start()
    for i in range(3):
        pub.publish(msg("/queue/GC", str(i), type="Login#1001"))
    pub.publish(msg("/topic/events", "x"))
    assert got == []  # never delivered inside publish
    clock.advance(0)
    assert got == [("a", "0"), ("b", "1"), ("a", "2"), ("a", "topic:x"), ("b", "topic:x")]


def test_headers_and_text_pass_unchanged_and_expired_messages_are_dropped() -> None:
    clock = Clock()
    clock.advance(1000)
    broker = MemoryBroker(clock)
    link = broker.link()
    got: list[BrokerMessage] = []
    link.subscribe("/queue/GC", got.append)
    link.start()
    link.publish(msg("/queue/GC", "é,€", type="Login#1001", expires=str(2_000_000)))
    link.publish(msg("/queue/GC", "stale", type="AnswerCall#1001", expires=str(999_000)))
    clock.advance(0)
    assert [(m.body, m.type) for m in got] == [("é,€", "Login#1001")]
    assert broker.expired == 1


def test_publish_while_down_fails_at_once_and_status_is_reported() -> None:
    broker = MemoryBroker(Clock())
    link = broker.link()
    statuses: list[LinkStatus] = []
    link.on_status(statuses.append)
    failures: list[str] = []

    def failed(f: Failure) -> None:
        failures.append(f"{f.type.__name__}: {f.getErrorMessage()}")  # type: ignore[union-attr]

    link.publish(msg("/queue/GC", "x", type="MakeReady#1")).addErrback(failed)
    assert failures == ["LinkDownError: not connected: MakeReady#1 not sent"]
    link.start()
    assert statuses == [LinkStatus(up=True, reason="connected to the in-process broker",
                                   broker="memory://")]
