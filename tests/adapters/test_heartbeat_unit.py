"""adapters/heartbeat.py without a broker: what is offered, what stomp.py is handed."""

from __future__ import annotations

from typing import Any

import pytest

from siebel_gateway.adapters.heartbeat import Connection12, _collapse_beats, offer


def test_the_offer_is_the_grace_but_never_less_than_the_beat() -> None:
    assert offer((1000, 1000), 10_000) == (10_000, 1000)
    assert offer((20_000, 1000), 10_000) == (20_000, 1000)
    assert offer((0, 1000), 10_000) == (0, 1000)  # no beats sent: none offered


class Reads:
    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks

    def receive(self) -> bytes:
        return self.chunks.pop(0)


def handed(chunks: list[bytes]) -> list[bytes]:
    t: Any = Reads(list(chunks))
    _collapse_beats(t)
    return [t.receive() for _ in chunks]


def test_beats_that_arrive_together_reach_stomp_py_as_one_beat() -> None:
    assert handed([b"\n\n\n", b"\r\n\r\n", b"\n"]) == [b"\n", b"\n", b"\n"]


def test_eols_inside_a_frame_are_left_alone() -> None:
    frame = [b"MESSAGE\ndestination:/topic/x\n", b"\n\n", b"body\x00", b"\n\n"]
    assert handed(frame) == [frame[0], b"\n\n", b"body\x00", b"\n"]
    split = [b"MESSAGE\nx:1\x00MESS", b"AGE\n", b"\n\n", b"b\x00\n\n", b"\n\n"]
    assert handed(split) == [split[0], split[1], b"\n\n", split[3], b"\n"]


def test_a_stall_of_the_process_is_not_the_brokers_silence(
        monkeypatch: pytest.MonkeyPatch) -> None:
    now = [100.0]
    monkeypatch.setattr("siebel_gateway.adapters.heartbeat.time.monotonic", lambda: now[0])
    c = Connection12([("127.0.0.1", 9)])
    c.send_sleep, c.receive_sleep = 1.0, 3.0
    c.received_heartbeat = 100.0  # a beat handled
    now[0] = 101.0
    assert c.received_heartbeat == 100.0  # looked at after one sleep: as it was
    now[0] = 107.0  # the process did not run for 6 s
    assert now[0] - c.received_heartbeat < 3.0
    now[0] = 111.0  # then ran, looking every second, and heard nothing for 4 s
    for t in (108.0, 109.0, 110.0, 111.0):
        now[0] = t
        last = c.received_heartbeat
    assert now[0] - last > 3.0  # a silent broker is still found out
