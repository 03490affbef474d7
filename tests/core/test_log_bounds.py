"""No peer can make the core's log unbounded (issue 12 D9): text a client or the GC chose
is cut in every log line, and a flood of refused GC events writes one warning per
interval with the number left out."""

from __future__ import annotations

from typing import Any

from siebel_gateway.core.broker_messages import BrokerMessage
from siebel_gateway.core.effects import Effect, Log
from siebel_gateway.core.gateway import REFUSED_EVENT_LOG_INTERVAL, Result
from siebel_gateway.core.log_bounds import FIELD_LIMIT, TRACEBACK_LIMIT
from siebel_gateway.core.scs_messages import APIVersion

from .driver import CoreDriver


def logs(effects: list[Effect]) -> list[Log]:
    return [e for e in effects if isinstance(e, Log)]


def longest_field(effects: list[Effect]) -> int:
    return max((len(v) for e in logs(effects) for k, v in e.fields.items()
                if isinstance(v, str) and k != "traceback"), default=0)


def test_a_10000_character_language_is_cut_in_the_log() -> None:
    d = CoreDriver()
    _, effects = d.request("CreateISCDriverInstance", mediaType="Voice", language="Q" * 10_000,
                           params=[["Flavour", "UCCE"]])
    [warning] = [e for e in logs(effects) if e.level == "warn"]
    language = warning.fields["language"]
    assert language.startswith("Q" * FIELD_LIMIT) and language.endswith("(10000 characters)")
    assert longest_field(effects) < FIELD_LIMIT + 30  # today: 10,000


def test_gc_text_in_the_log_is_cut() -> None:
    d = CoreDriver()
    d.available()
    svc = d.logged_in()
    d.request("InvokeCommand", service=svc, cmdTrackId="c2", name="ChangeReadyState")
    effects = d.gc("Error", "1001", ErrorType="Generic Error", Message="m" * 50_000,
                   ErrorCode="E" * 5_000, Command="MakeReady")
    assert logs(effects)
    assert longest_field(effects) < FIELD_LIMIT + 30
    unknown = d.core.broker_message(BrokerMessage(
        destination=d.codec.event_destination, body="9" * 20_000 + "#State#READY#-1###x#y#-1#1"),
        d.now)
    assert longest_field(unknown) < FIELD_LIMIT + 30
    down = d.core.link_status(False, "broker said: " + "z" * 20_000, d.now)
    assert longest_field(down) < FIELD_LIMIT + 30


def test_a_defect_quoting_peer_text_is_logged_bounded() -> None:
    d = CoreDriver()

    def broken(*args: Any) -> tuple[Result, None]:
        raise ValueError("bad " + "p" * 100_000)

    d.core._requests = {**d.core._requests, APIVersion: broken}
    _, effects = d.request("APIVersion")
    [error] = [e for e in logs(effects) if e.level == "error"]
    assert len(error.fields["error"]) < FIELD_LIMIT + 30
    assert len(error.fields["traceback"]) < TRACEBACK_LIMIT + 30


def test_a_flood_of_refused_gc_events_writes_one_warning_per_interval() -> None:
    d = CoreDriver()
    d.available()

    def refused_event() -> list[Log]:
        return logs(d.core.broker_message(BrokerMessage(
            destination=d.codec.event_destination, body="1001#NoSuchEvent#x"), d.now))

    first = refused_event()
    assert [e.fields["left_out"] for e in first] == [0]
    flood = [line for _ in range(20_000) for line in refused_event()]
    assert flood == []  # today: 20,000 warnings
    d.now += REFUSED_EVENT_LOG_INTERVAL
    [summary] = refused_event()
    assert summary.fields["left_out"] == 20_000
    assert "unknown GC event 'NoSuchEvent'" in summary.fields["reason"]
    assert d.codec.rejected["unknown"] == 20_002  # every one still counted
