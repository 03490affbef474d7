"""The pacing queue on a scripted link and a fake clock: what a broker that refuses sends
does to the commands, the order, Hello/Beat, expiry and a lost link."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from twisted.internet.defer import Deferred, succeed
from twisted.internet.task import Clock

from siebel_gateway.adapters.link import LinkDownError, LinkStatus
from siebel_gateway.adapters.pacing import MARGIN, WINDOW, GatewayBusyError, Pacer
from siebel_gateway.core.broker_messages import BrokerMessage
from siebel_gateway.core.effects import GATEWAY_BUSY, Key


class ScriptedLink:
    """Takes every SEND at once; the test answers receipts (or refuses) by hand."""

    def __init__(self) -> None:
        self.is_up = True
        self.sent: list[BrokerMessage] = []
        self.answer: Callable[[str, str | None], None] = lambda r, e: None
        self.status: list[Callable[[LinkStatus], None]] = []

    def on_answer(self, handler: Callable[[str, str | None], None]) -> None:
        self.answer = handler

    def on_status(self, handler: Callable[[LinkStatus], None]) -> None:
        self.status.append(handler)

    def publish(self, message: BrokerMessage) -> Deferred[None]:
        if not self.is_up:
            d: Deferred[None] = Deferred()
            d.errback(LinkDownError("broker link is down"))
            return d
        self.sent.append(message)
        return succeed(None)

    def unanswered(self) -> list[str]:
        return [m.headers["receipt"] for m in self.sent]

    def take_all(self, refuse: bool = False) -> list[str]:
        bodies = [m.body for m in self.sent]
        sent, self.sent = self.sent, []
        for m in sent:
            self.answer(m.headers["receipt"], "Usage Manager Memory Limit reached" if refuse
                        else None)
        return bodies


def msg(i: int) -> BrokerMessage:
    return BrokerMessage(destination="/queue/GC", body=str(i), headers={"type": "Login"})


def results(ds: list[Deferred[None]]) -> list[Any]:
    out: list[Any] = []
    for d in ds:
        d.addCallbacks(lambda _: out.append("ok"), lambda f: out.append(f.value))
    return out


def make(size: int = 100_000, timeout: float = 10.0) -> tuple[Pacer, ScriptedLink, Clock]:
    link, clock = ScriptedLink(), Clock()
    return Pacer(link, clock, size=size, timeout=timeout), link, clock  # type: ignore[arg-type]


def test_a_refused_burst_is_sent_again_in_order_and_every_command_completes() -> None:
    pacer, link, clock = make()
    outcome = results([pacer.publish(msg(i), Key(f"svc-{i}", "cmd", "1"))
                       for i in range(3 * WINDOW)])
    assert len(link.sent) == WINDOW  # at most WINDOW unanswered SENDs
    assert pacer.depth == 2 * WINDOW
    first = link.take_all(refuse=True)  # the broker is full: every one refused
    assert link.sent == [] and pacer.pacing
    clock.advance(0.05)  # the pause, then the same commands again, first first
    assert [m.body for m in link.sent] == first
    delivered: list[str] = []
    while link.sent:
        delivered += link.take_all()
    assert delivered == [str(i) for i in range(3 * WINDOW)]
    assert outcome == ["ok"] * (3 * WINDOW)
    assert pacer.counters == {"refused_by_broker": WINDOW, "busy": 0, "sent": 3 * WINDOW}
    assert not pacer.pacing and pacer.depth == 0


def test_one_owner_keeps_its_order_when_its_first_message_is_refused() -> None:
    pacer, link, clock = make()
    connect, login = (BrokerMessage(destination="/queue/GC", body=b) for b in ("Connect",
                                                                                "Login"))
    pacer.publish(connect, Key("svc-1", "cmd", "1"))
    pacer.publish(login, Key("svc-1", "cmd", "2"))
    pacer.publish(msg(9), Key("svc-2", "cmd", "1"))  # another agent is not held up
    assert [m.body for m in link.sent] == ["Connect", "9"]  # Login waits for Connect
    link.take_all(refuse=True)
    clock.advance(0.05)
    assert [m.body for m in link.sent] == ["Connect", "9"]  # Connect first, again
    link.take_all()
    assert [m.body for m in link.sent] == ["Login"]
    link.take_all()
    assert pacer.depth == 0 and pacer.counters["sent"] == 3


def test_the_pause_grows_while_the_broker_keeps_refusing() -> None:
    pacer, link, clock = make()
    pacer.publish(msg(1))
    for pause in (0.05, 0.1, 0.2):
        link.take_all(refuse=True)
        clock.advance(pause - 0.001)
        assert link.sent == []  # still pausing
        clock.advance(0.001)
        assert len(link.sent) == 1


def test_hello_and_beat_jump_the_queue() -> None:
    pacer, link, _clock = make()
    for i in range(WINDOW + 10):
        pacer.publish(msg(i), Key(f"svc-{i}", "cmd", "1"))
    pacer.publish(BrokerMessage(destination="/queue/GC", body="hello"),
                  Key("gateway", "answer", ""))
    link.take_all()
    assert link.sent[0].body == "hello"


def test_a_command_that_cannot_be_sent_in_time_fails_as_busy_before_its_timeout() -> None:
    pacer, link, clock = make(timeout=2.0)
    outcome = results([pacer.publish(msg(i), Key(f"svc-{i}", "cmd", "1"))
                       for i in range(WINDOW + 1)])
    clock.advance(2.0 - MARGIN - 0.1)
    assert outcome == []  # nothing answered yet, nothing given up yet
    clock.advance(0.2)
    assert len(outcome) == 1 and isinstance(outcome[0], GatewayBusyError)
    assert str(outcome[0]).startswith(GATEWAY_BUSY)
    assert pacer.depth == 0
    link.take_all()
    assert outcome[1:] == ["ok"] * WINDOW
    assert len(link.sent) == 0  # the expired one never reached the broker


def test_a_full_queue_refuses_at_once_as_busy() -> None:
    pacer, _link, _clock = make(size=5)
    outcome = results([pacer.publish(msg(i)) for i in range(WINDOW + 6)])
    assert len(outcome) == 1 and isinstance(outcome[0], GatewayBusyError)
    assert "5 GC commands are already waiting" in str(outcome[0])
    assert pacer.counters["busy"] == 1


def test_a_lost_link_fails_what_is_queued_and_unanswered() -> None:
    pacer, link, _clock = make()
    outcome = results([pacer.publish(msg(i)) for i in range(WINDOW + 3)])
    link.is_up = False
    for handler in link.status:
        handler(LinkStatus(up=False, reason="gone"))
    assert len(outcome) == WINDOW + 3
    assert all(isinstance(o, LinkDownError) for o in outcome)
    assert pacer.depth == 0


def test_the_queue_needs_room() -> None:
    with pytest.raises(ValueError, match="at least one"):
        make(size=0)
