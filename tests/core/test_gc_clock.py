"""Clock skew read from what a real GC sends (issue 13 item 2) and never a crash on a bad
timestamp (issue 12 D7)."""

from __future__ import annotations

import datetime

import pytest

from siebel_gateway.core.broker_messages import BrokerMessage
from siebel_gateway.core.effects import Effect, Log
from siebel_gateway.core.gc_clock import header_time, iso_time

from .driver import DIALECT, START, CoreDriver, names


def iso(seconds: float) -> str:
    t = datetime.datetime.fromtimestamp(seconds, tz=datetime.UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def warnings(effects: list[Effect]) -> list[str]:
    return [e.text.format(**e.fields) for e in effects
            if isinstance(e, Log) and e.level == "warn"]


def test_a_fresh_state_change_time_behind_our_clock_is_warned_once() -> None:
    d = CoreDriver()
    d.available()
    d.logged_in()
    effects = d.gc("State", "1001", State="READY", ReasonCode=-1,
                   StateChangeTime=iso(START - 9.0))
    assert warnings(effects) == [
        "the GC's clock is 9.0 s behind this gateway's (warning bound 2 s): call times in "
        "Siebel will be off; synchronise both with NTP"]
    assert "EventAgentReady" in names(effects)
    again = d.gc("State", "1001", State="NOT_READY", ReasonCode=-1,
                 StateChangeTime=iso(START - 9.0))
    assert warnings(again) == []


def test_an_old_change_time_of_an_unchanged_state_is_no_clock_reading() -> None:
    d = CoreDriver()
    d.available()
    d.logged_in()
    # GetState's answer: the agent has been NOT_READY for an hour; that is no skew.
    effects = d.gc("State", "1001", State="NOT_READY", ReasonCode=-1,
                   StateChangeTime=iso(START - 3600))
    assert warnings(effects) == []
    # ... and neither is the first State of a sign-in (the agent may have been signed in
    # at Finesse long before).
    d2 = CoreDriver()
    d2.available()
    svc = d2.service()
    d2.request("InvokeCommand", service=svc, cmdTrackId="c1", name="LogIn",
               params=[["AgentPin", "pin"]])
    d2.gc("IN_SERVICE", DIALECT.system_agent, Reason="up")
    assert warnings(d2.gc("State", "1001", State="NOT_READY", ReasonCode=-1,
                          StateChangeTime=iso(START - 3600))) == []


def test_a_change_time_in_the_future_is_a_skew_whatever_the_event() -> None:
    d = CoreDriver()
    d.available()
    d.logged_in()
    effects = d.gc("State", "1001", State="NOT_READY", ReasonCode=-1,
                   StateChangeTime=iso(START + 30))
    assert warnings(effects) == [
        "the GC's clock is 30.0 s ahead of this gateway's (warning bound 2 s): call times in "
        "Siebel will be off; synchronise both with NTP"]


def test_the_header_is_still_read_when_the_event_carries_no_time() -> None:
    d = CoreDriver()
    d.available()
    body = d.codec.encode_event("IN_SERVICE", DIALECT.system_agent, {"Reason": "up"})
    effects = d.core.broker_message(
        BrokerMessage(destination="/topic/gw1", body=body,
                      headers={"gcTimestamp": str(int((START - 4) * 1000))}), START)
    assert warnings(effects) == [
        "the GC's clock is 4.0 s behind this gateway's (warning bound 2 s): call times in "
        "Siebel will be off; synchronise both with NTP"]


@pytest.mark.parametrize("stamp", ["\u00b2\u00b3", "9" * 5000, "-5", "12.5", "", " 17",
                                   "\u0661\u0662\u0663"])
def test_a_bad_gc_timestamp_header_is_ignored_and_the_event_still_handled(stamp: str) -> None:
    d = CoreDriver()
    d.available()
    d.logged_in()
    body = d.codec.encode_event("State", "1001", {"State": "READY", "ReasonCode": -1})
    effects = d.core.broker_message(
        BrokerMessage(destination="/topic/gw1", body=body, headers={"gcTimestamp": stamp}),
        START)
    assert [e for e in effects if isinstance(e, Log) and e.level in ("error", "critical")] == []
    assert "EventAgentReady" in names(effects)


@pytest.mark.parametrize("text", ["9" * 5000, "2026-13-40T99:99:99Z", "\u00b2026-01-01T00:00Z",
                                  "2026-12-06T03:40:00", "0001-01-01T00:00:00Z",
                                  "9999-12-31T23:59:59+14:00", "now"])
def test_bad_state_change_times_are_not_clock_readings(text: str) -> None:
    assert iso_time(text) is None
    d = CoreDriver()
    d.available()
    d.logged_in()
    effects = d.gc("State", "1001", State="READY", ReasonCode=-1, StateChangeTime=text)
    assert warnings(effects) == []
    assert "EventAgentReady" in names(effects)


def test_the_readers_accept_what_a_gc_really_sends() -> None:
    assert header_time("1765000000123") == 1765000000.123
    assert header_time("1" * 17) is None
    assert iso_time("2026-12-06T03:40:00.500Z") == pytest.approx(
        datetime.datetime(2026, 12, 6, 3, 40, 0, 500000, tzinfo=datetime.UTC).timestamp())
    assert iso_time("2026-12-06T04:40:00+01:00") == iso_time("2026-12-06T03:40:00Z")
