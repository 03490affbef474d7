"""When a duplex gateway calls a GC silent (issue 15: detection <= HeartbeatSeconds x
MissedHeartbeats after its last answer), on an injected clock: the core's own StartTimer /
CancelTimer effects run on a timer wheel here, as the shell would run them (a StartTimer
with a key already running restarts it, ``adapters/gateway_service.py``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from siebel_gateway.core.effects import CancelTimer, Effect, Key, Log, Publish, StartTimer
from siebel_gateway.core.gateway import GatewayOptions

from .driver import START, published
from .test_duplex import SYSTEM, DuplexDriver

HB = 1.0
EPS = 0.001
#: How long a GC takes to answer (the Hello, and each Beat by default).
RTT = 0.005


@dataclass
class ClockedDuplex(DuplexDriver):
    """A duplex core whose timers run on ``advance``; GCs in ``alive`` answer each Beat
    ``delay[i]`` seconds after it went out."""

    options: GatewayOptions = field(default_factory=lambda: GatewayOptions(heartbeat=HB))
    due: dict[Key, float] = field(default_factory=dict)
    alive: set[int] = field(default_factory=lambda: {0, 1})
    delay: dict[int, float] = field(default_factory=lambda: {0: RTT, 1: RTT})
    answers: list[tuple[float, int]] = field(default_factory=list)

    def _keep(self, effects: list[Effect]) -> list[Effect]:
        for e in effects:
            if isinstance(e, StartTimer):
                self.due[e.key] = self.now + e.delay
            elif isinstance(e, CancelTimer):
                self.due.pop(e.key, None)
            elif isinstance(e, Publish) and e.ref is not None and e.ref.kind == "Beat":
                i = self.codecs.index(next(c for c in self.codecs if c.queue == e.ref.id))
                if i in self.alive:
                    self.answers.append((self.now + self.delay[i], i))
        return super()._keep(effects)

    def advance(self, until: float) -> None:
        """Runs every timer and GC answer due up to ``START + until``, in time order."""
        end = START + until
        while True:
            timers = [(when, 1, key) for key, when in self.due.items() if when <= end]
            answers = [(when, 0, i) for when, i in self.answers if when <= end]
            if not timers and not answers:
                break
            when, is_timer, what = min([*answers, *timers], key=lambda x: (x[0], x[1]))
            self.now = when
            if is_timer:
                assert isinstance(what, Key)
                del self.due[what]
                self.fire(what)
            else:
                assert isinstance(what, int)
                self.answers.remove((when, what))
                self.gc_on(what, "IN_SERVICE", SYSTEM, Reason="up")
        self.now = end

    def status(self, i: int) -> str:
        return self.core.snapshot().gcs[i].status


def signed_in_on_first_gc(missed: int = 2) -> ClockedDuplex:
    """Link up at t = 0; both GCs answer Hello at t = RTT, when agent 1001 signs in on
    Connector1 (whose answer to the LogIn's Hello is its last at t = RTT)."""
    d = ClockedDuplex(missed=missed)
    d.link(True)
    d.now += RTT
    d.gc_on(0, "IN_SERVICE", SYSTEM, Reason="up")
    d.gc_on(1, "IN_SERVICE", SYSTEM, Reason="up")
    d.logged_in("1001")
    assert d.core.gcs.placed["1001"] == 0
    return d


def switched(d: ClockedDuplex) -> bool:
    return d.core.gcs.placed["1001"] == 1 and d.core.gcs.active == 1


def test_a_gc_silent_since_its_last_answer_is_dropped_at_heartbeat_times_missed() -> None:
    d = signed_in_on_first_gc()
    d.alive.discard(0)  # Connector1 answered at t = RTT, then nothing
    d.advance(RTT + HB * 2 - EPS)
    assert d.status(0) == "IN_SERVICE" and not switched(d)
    mark = len(d.log)
    d.advance(RTT + HB * 2)  # HeartbeatSeconds x MissedHeartbeats after its last answer
    assert d.status(0) == "SILENT" and switched(d)
    moved = [e for e in d.log[mark:] if isinstance(e, Publish) and "1001" in e.message.type]
    assert published(list(moved)) == ["Connect#1001", "Login#1001"]
    assert [e.message.destination for e in moved] == ["/queue/Connector2"] * 2
    warnings = [e.text.format(**e.fields) for e in d.log if isinstance(e, Log)
                and e.level == "warn" and "Connector1" in e.text.format(**e.fields)]
    assert "GC Connector1 missed heartbeat 1 of 2" in warnings  # the Beat of t = 1
    assert warnings[-3:] == ["GC Connector1 answered nothing for 2 s (HeartbeatSeconds x "
                             "MissedHeartbeats)", "GC Connector1 is SILENT",
                             "agent 1001 moves from GC Connector1 to GC Connector2"]
    # the Beats go on, so a GC that comes back is heard: it is in service again (no fail-back)
    d.alive.add(0)
    d.advance(HB * 4)
    assert d.status(0) == "IN_SERVICE" and switched(d)


def test_an_answer_just_before_the_deadline_keeps_the_gc_in_service() -> None:
    d = signed_in_on_first_gc()
    d.delay[0] = 0.9  # the Beat of t = 1 is answered at t = 1.9, then nothing
    d.advance(1.5)
    d.alive.discard(0)
    d.advance(HB * 2 + RTT)  # the deadline the answer at t = RTT had set
    assert d.status(0) == "IN_SERVICE" and not switched(d)
    d.advance(1.9 + HB * 2 - EPS)
    assert d.status(0) == "IN_SERVICE" and not switched(d)
    d.advance(1.9 + HB * 2)
    assert d.status(0) == "SILENT" and switched(d)


def test_a_gc_answering_every_beat_stays_in_service_even_with_uneven_delays() -> None:
    for missed in (1, 2):
        d = signed_in_on_first_gc(missed)
        for n in range(20):  # answers late, then quick, then late... never over a beat
            d.delay[0] = 0.45 if n % 2 else 0.01
            d.advance(n * HB / 2)
        assert d.status(0) == "IN_SERVICE" and not switched(d), missed
