"""D9: what a peer sends reaches the log escaped and bounded, and a warning a peer can
repeat at will is rate-limited with a count of what was left out."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from siebel_gateway.core.broker_messages import BrokerMessage
from siebel_gateway.logtext import RateLimit, peer_text

from ..driver.harness import Rig
from ..logcapture import gateway_log_lines


@pytest.fixture
def events() -> Iterator[list[str]]:
    with gateway_log_lines() as lines:
        yield lines


def test_peer_text_is_escaped_and_bounded() -> None:
    assert peer_text("ENU") == "'ENU'"
    assert peer_text("a\x00b\nc\x1b[31m\ud800\u2028") == "'a\\x00b\\nc\\x1b[31m\\ud800\\u2028'"
    long = peer_text("x" * 10_000)
    assert long == "'" + "x" * 200 + "…' (10000 chars)"
    assert peer_text(b"\xff\x00ok") == "'\\\\xff\\x00ok'"


def test_a_clients_language_is_logged_bounded_and_escaped(
        events: list[str]) -> None:
    rig = Rig()
    c = rig.client()
    language = "\x00EVIL\r\n2026-01-01 [siebel_gateway#critical] forged " + "L" * 10_000
    r = c.call("CreateISCDriverInstance", mediaType="Voice", language=language,
               connectString="", params=[])
    assert r["code"] == 0
    lines = [t for t in events if "EVIL" in t]
    assert lines, "the unknown language is logged"
    for line in lines:
        assert "\x00" not in line and "\n" not in line and "\r" not in line
        assert len(line) < 600 and f"({len(language)} chars)" in line


def test_a_flood_of_refused_gc_events_is_rate_limited(events: list[str]) -> None:
    rig = Rig()
    junk = rig.broker.link()
    junk.start()
    for n in range(500):
        junk.publish(BrokerMessage(destination=rig.codec.event_destination,
                                   body=f"garbage {n}", headers={"type": "NoSuchEvent"}))
    rig.pump()
    refused = [t for t in events if "GC event refused" in t]
    assert 1 <= len(refused) <= 10
    rig.pump(61)
    junk.publish(BrokerMessage(destination=rig.codec.event_destination, body="garbage again",
                               headers={"type": "NoSuchEvent"}))
    rig.pump()
    refused = [t for t in events if "GC event refused" in t]
    assert f"({500 - len(refused) + 1} more like it were not logged in the last 60 s)" \
        in refused[-1]


def test_the_rate_limit_counts_per_kind_and_window() -> None:
    now = [0.0]
    limit = RateLimit(clock=lambda: now[0], burst=2, interval=10)
    assert [limit.allow("a")[0] for _ in range(4)] == [True, True, False, False]
    assert limit.allow("b") == (True, 0)
    assert limit.pending() == {"a": 2}
    now[0] = 10
    assert limit.allow("a") == (True, 2)
    assert limit.allow("a", now=25.0) == (True, 0)
