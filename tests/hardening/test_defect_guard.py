"""A gateway defect while reading or handling one SCS line costs that line only: it is
answered -32603 (once), logged, and the lines before and after it, the connection and its
agent go on.  (The defects are injected: the point is the last guard at the edge, which
must hold whatever the core gets wrong.)"""

from __future__ import annotations

import json
from typing import Any, cast

import pytest

from ..driver.harness import Rig

LINE = b'{"jsonrpc":"2.0","id":%d,"method":"APIVersion"}\n'


def test_a_line_the_decoder_raises_on_is_answered_and_nothing_else_is_lost(
        monkeypatch: pytest.MonkeyPatch) -> None:
    rig = Rig()
    agent = rig.logged_in()
    protocol, transport = agent.client.protocol, cast(Any, agent.client.transport)
    feed = protocol.decoder.feed

    def fragile(data: bytes) -> Any:
        if b"BOOM" in data:
            raise RecursionError("injected")
        return feed(data)

    monkeypatch.setattr(protocol.decoder, "feed", fragile)
    transport.clear()
    protocol.dataReceived(LINE % 1 + b'{"BOOM":1}\n' + LINE % 3)  # one read
    rig.pump()
    answers = [json.loads(x) for x in transport.value().splitlines()]
    assert [a["id"] for a in answers] == [1, None, 3]
    assert answers[1]["error"]["code"] == -32603
    assert not transport.disconnecting
    assert rig.model.agents["1001"].state != "LOGOUT"


def test_a_defect_after_the_answer_is_not_answered_twice(
        monkeypatch: pytest.MonkeyPatch) -> None:
    rig = Rig()
    agent = rig.logged_in()
    service, transport = rig.service, cast(Any, agent.client.transport)
    execute = service.execute
    calls = [0]

    def fragile(effects: Any, now: float) -> None:
        execute(effects, now)  # the answer went out ...
        calls[0] += 1
        if calls[0] == 1:
            raise UnicodeEncodeError("utf-8", "x", 0, 1, "injected")  # ... then a defect

    monkeypatch.setattr(service, "execute", fragile)
    transport.clear()
    agent.client.protocol.dataReceived(LINE % 1 + LINE % 2)
    rig.pump()
    answers = [json.loads(x) for x in transport.value().splitlines()]
    assert [a["id"] for a in answers] == [1, 2]
    assert rig.service.connections  # still open
    factory: Any = agent.client.protocol.server
    assert factory.counts["defects"] == 1


def test_a_defect_before_the_answer_is_answered_with_the_request_id(
        monkeypatch: pytest.MonkeyPatch) -> None:
    rig = Rig()
    agent = rig.logged_in()
    service, transport = rig.service, cast(Any, agent.client.transport)
    execute = service.execute
    calls = [0]

    def fragile(effects: Any, now: float) -> None:
        calls[0] += 1
        if calls[0] == 1:
            raise UnicodeEncodeError("utf-8", "x", 0, 1, "injected")
        execute(effects, now)

    monkeypatch.setattr(service, "execute", fragile)
    transport.clear()
    agent.client.protocol.dataReceived(LINE % 1 + LINE % 2)
    rig.pump()
    answers = [json.loads(x) for x in transport.value().splitlines()]
    assert [(a["id"], "error" in a) for a in answers] == [(1, True), (2, False)]
    assert answers[0]["error"]["code"] == -32603
