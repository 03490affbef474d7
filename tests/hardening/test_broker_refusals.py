"""Broker refusals reported with the broker's reason (issue 12 D6, with issue 14's pacing).

A SEND the broker refuses for flow control or a resource limit (ActiveMQ: "Usage Manager
Memory Limit reached on queue://...") is paced and tried again; if its time runs out, the
agent's text carries the broker's reason.  A refusal retrying cannot fix ("User gw is not
authorized to write to: queue://...") fails the command at once: the agent reads the
broker's reason (escaped, bounded) in a HandleError and the gateway logs it once."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from twisted.internet import reactor as _reactor
from twisted.internet.defer import Deferred, succeed
from twisted.internet.task import Clock, deferLater

from siebel_gateway.adapters.link import LinkStatus, parse_broker_url
from siebel_gateway.adapters.pacing import (
    MARGIN,
    BrokerRefusedError,
    GatewayBusyError,
    Pacer,
    retryable,
)
from siebel_gateway.adapters.stomp_link import Backoff, StompLink
from siebel_gateway.core.broker_messages import BrokerMessage
from siebel_gateway.core.broker_refusal import REFUSED, SAID
from siebel_gateway.core.effects import GATEWAY_BUSY, Key

from ..driver.harness import Rig
from ..logcapture import gateway_log_lines
from ..netutil import free_port

reactor: Any = _reactor
TOOL = Path(__file__).parents[2] / "tools" / "activemq"
FULL = ("Usage Manager Memory Limit reached on queue://Connector1. See "
        "http://activemq.apache.org/producer-flow-control.html for more info")
DENIED = "User gw is not authorized to write to: queue://Connector1"


class RefusingLink:
    """Hands SENDs to ``inner`` and answers their receipts; ``refuse(message)`` returns
    the broker's refusal text for a SEND it must refuse (then nothing is delivered)."""

    def __init__(self, inner: Any, clock: Clock, refuse: Callable[[BrokerMessage], str | None]
                 ) -> None:
        self.inner, self.clock, self.refuse = inner, clock, refuse
        self.answer: Callable[[str, str | None], None] = lambda r, e: None

    @property
    def is_up(self) -> bool:
        return bool(self.inner.is_up)

    def on_answer(self, handler: Callable[[str, str | None], None]) -> None:
        self.answer = handler

    def on_status(self, handler: Callable[[LinkStatus], None]) -> None:
        self.inner.on_status(handler)

    def publish(self, message: BrokerMessage) -> Deferred[None]:
        receipt = message.headers["receipt"]
        why = self.refuse(message)
        if why is None:
            self.inner.publish(message)
        self.clock.callLater(0.001, self.answer, receipt, why)
        return succeed(None)


def cmd(body: str, destination: str = "/queue/Connector1") -> BrokerMessage:
    return BrokerMessage(destination=destination, body=body)


def outcome(d: Deferred[None]) -> list[Any]:
    out: list[Any] = []
    d.addCallbacks(lambda _: out.append("sent"), lambda f: out.append(f.value))
    return out


def paced(refuse: Callable[[BrokerMessage], str | None], timeout: float = 10.0
          ) -> tuple[Pacer, Clock]:
    clock = Clock()

    class Up:
        is_up = True

        def on_status(self, handler: Any) -> None:
            pass

        def publish(self, message: BrokerMessage) -> Deferred[None]:
            return succeed(None)

    link = RefusingLink(Up(), clock, refuse)
    return Pacer(link, clock, size=100, timeout=timeout), clock  # type: ignore[arg-type]


def test_the_brokers_reasons_are_told_apart() -> None:
    assert retryable(FULL)
    assert retryable("Persistent store is Full, 100% of 1048576. Stopping producer (ID:x) "
                     "to prevent flooding queue://Connector1.")
    assert retryable("Temp Store is Full (100% of 1048576)")
    assert not retryable(DENIED)
    assert not retryable("Unknown destination type: /bogus/Connector1")
    assert not retryable("")


def test_a_refusal_retrying_cannot_fix_fails_the_command_at_once_with_the_reason() -> None:
    pacer, clock = paced(lambda m: DENIED if m.body == "Login" else None)
    login = outcome(pacer.publish(cmd("Login"),
                                  Key("svc-1", "cmd", "1")))
    after = outcome(pacer.publish(cmd("Next"),
                                  Key("svc-1", "cmd", "2")))  # the same owner, held behind
    clock.advance(0.001)
    assert len(login) == 1 and isinstance(login[0], BrokerRefusedError)
    assert str(login[0]) == REFUSED + DENIED
    clock.advance(0.001)
    assert after == ["sent"]  # the owner's next command was not held up
    assert pacer.counters == {"refused_by_broker": 1, "busy": 0, "sent": 1}
    assert not pacer.pacing  # nothing to pace: the broker is not full


def test_a_full_broker_is_retried_and_when_time_runs_out_its_reason_is_told() -> None:
    pacer, clock = paced(lambda m: FULL, timeout=2.0)
    result = outcome(pacer.publish(cmd("MakeReady"),
                                   Key("svc-1", "cmd", "1")))
    clock.pump([0.05] * 20)  # refused again and again, paced
    assert result == [] and pacer.counters["refused_by_broker"] > 3
    clock.pump([0.1] * int((2.0 - MARGIN) / 0.1 + 2))
    assert len(result) == 1 and isinstance(result[0], GatewayBusyError)
    text = str(result[0])
    assert text.startswith(GATEWAY_BUSY) and text.endswith(SAID + FULL)


def test_a_refusal_text_is_escaped_and_bounded() -> None:
    pacer, clock = paced(lambda m: "denied\x1b[2J\nforged line " + "x" * 10_000)
    result = outcome(pacer.publish(cmd("Login"),
                                   Key("svc-1", "cmd", "1")))
    clock.advance(0.001)
    text = str(result[0])
    assert "\x1b" not in text and "\n" not in text and "\\x1b" in text
    assert len(text) < 300 and text.endswith("(10023 chars)")


def _rig_refusing(refuse: Callable[[BrokerMessage], str | None]) -> Rig:
    rig = Rig()
    link: Any = RefusingLink(rig.link, rig.clock, refuse)
    rig.service.pacer = Pacer(link, rig.clock, size=100, timeout=rig.options.command_timeout)
    return rig


def test_the_agent_reads_a_refusal_retrying_cannot_fix_at_once() -> None:
    refusing = {"on": False}
    rig = _rig_refusing(lambda m: DENIED if refusing["on"] else None)
    agent = rig.logged_in()
    for _ in range(30):  # the receipts, the GC's answers: the rest of the sign-in
        rig.pump(0.1)
    agent.take()
    refusing["on"] = True
    with gateway_log_lines() as log:
        assert agent.invoke("ChangeReadyState") == {"code": 0}
        rig.pump(0.01)  # the broker's answer, long before CommandTimeoutSeconds
        errors = [c["params"]["error"] for c in agent.take() if c["method"] == "HandleError"]
    assert errors == ["ChangeReadyState was not sent: the message broker refused it "
                      f"({DENIED}); tell your administrator"]
    assert sum(DENIED in line for line in log) == 1, log
    rig.pump(rig.options.command_timeout + 1)
    assert [c for c in agent.take() if c["method"] == "HandleError"] == []  # told once


def test_the_agent_reads_the_brokers_reason_when_a_full_broker_outlasts_the_command() -> None:
    refusing = {"on": False}
    rig = _rig_refusing(lambda m: FULL if refusing["on"] else None)
    agent = rig.logged_in()
    for _ in range(30):  # the receipts, the GC's answers: the rest of the sign-in
        rig.pump(0.1)
    agent.take()
    refusing["on"] = True
    assert agent.invoke("ChangeReadyState") == {"code": 0}
    rig.pump(1)
    assert [c for c in agent.take() if c["method"] == "HandleError"] == []  # still retried
    for _ in range(int(rig.options.command_timeout * 10)):
        rig.pump(0.1)
    errors = [c["params"]["error"] for c in agent.take() if c["method"] == "HandleError"]
    assert errors == ["ChangeReadyState was not sent: the message broker kept refusing it "
                      f"({FULL}); try again"]


# -- real ActiveMQ -----------------------------------------------------------------------

@pytest.fixture
def guarded_broker(tmp_path: Path) -> Any:
    """An ActiveMQ with accounts (gw may write only queue Connector1) and a 1 MB limit."""
    base, stomp, openwire = tmp_path / "amq", free_port(), free_port()
    (tmp_path / "gw.pw").write_text("gw-" + free_port().__str__() + "-pw\n")
    (tmp_path / "gc.pw").write_text("gc-" + free_port().__str__() + "-pw\n")
    ports = ["--base", str(base), "--stomp-port", str(stomp), "--openwire-port", str(openwire)]
    proc = subprocess.run([sys.executable, str(TOOL), "start", *ports, "--memory-limit", "1 mb",
                           "--user", "gw", "--password-file", str(tmp_path / "gw.pw"),
                           "--gc-user", "gc", "--gc-password-file", str(tmp_path / "gc.pw"),
                           "--queue", "Connector1"], capture_output=True, text=True,
                          timeout=180, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    yield stomp, (tmp_path / "gw.pw").read_text().strip()
    subprocess.run([sys.executable, str(TOOL), "stop", *ports], capture_output=True,
                   timeout=120, check=False)


async def _settled(results: list[list[Any]], timeout: float) -> None:
    waited = 0.0
    while not all(results):
        assert waited < timeout, "the pacer did not settle every publish"
        await deferLater(reactor, 0.05, lambda: None)
        waited += 0.05


@pytest.mark.broker
@pytest_twisted.ensureDeferred
async def test_on_activemq_a_denied_send_fails_at_once_and_a_full_queue_is_retried(
        guarded_broker: tuple[int, str]) -> None:
    stomp, password = guarded_broker
    link = StompLink(parse_broker_url(f"stomp://127.0.0.1:{stomp}"), reactor=reactor,
                     clock=reactor, backoff=Backoff(initial=0.2, factor=1.5, maximum=1.0),
                     user="gw", password=password)
    pacer = Pacer(link, reactor, size=1000, timeout=3.0)
    try:
        await link.start()
        denied = outcome(pacer.publish(cmd("Login#1001", "/queue/Elsewhere"),
                                       Key("svc-1", "cmd", "1")))
        await _settled([denied], 10)
        assert isinstance(denied[0], BrokerRefusedError), denied
        assert str(denied[0]) == (REFUSED + "User gw is not authorized to write to: "
                                  "queue://Elsewhere")
        assert pacer.counters["busy"] == 0  # not retried until a timeout
        # nobody reads Connector1: 2 MB against a 1 MB limit
        results = [outcome(pacer.publish(cmd("y" * 10_000),
                                         Key(f"svc-{i}", "cmd", "1"))) for i in range(200)]
        await _settled(results, 30)
        sent = [r for r in results if r == ["sent"]]
        busy = [r[0] for r in results if isinstance(r[0], GatewayBusyError)]
        assert sent and busy and len(sent) + len(busy) == 200, results
        assert all(str(b).endswith(SAID + "Usage Manager Memory Limit reached on "
                                   "queue://Connector1. See http://activemq.apache.org/"
                                   "producer-flow-control.html for more info") for b in busy)
        assert pacer.counters["refused_by_broker"] >= len(busy)
        assert link.is_up
    finally:
        await link.stop()
