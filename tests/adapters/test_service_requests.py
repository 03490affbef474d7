"""The shell's request path: a pipelined read is handled in one batch (its answers in order,
sent to the kernel once), and an operator's LogOut (the monitor's force-logout) takes the
same path as an SCS request, its answer returned to the caller instead of written to SCS."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from siebel_gateway.adapters import gateway_service
from siebel_gateway.trace.replay import load_trace, replay

from ..driver.harness import Rig

LINE = b'{"jsonrpc":"2.0","id":%d,"method":"APIVersion"}\n'


def _written(transport: Any) -> list[bytes]:
    lines: list[bytes] = transport.value().splitlines()
    return lines


@pytest.fixture
def sends(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every transport the service hands to the kernel (``send_now``), in order."""
    seen: list[Any] = []
    monkeypatch.setattr(gateway_service, "send_now", seen.append)
    return seen


def test_a_pipelined_read_is_answered_in_order_and_sent_once(sends: list[Any]) -> None:
    rig = Rig()
    c = rig.client()
    c.protocol.dataReceived(b"".join(LINE % n for n in range(1, 201)))
    assert sends == [c.transport]  # one send for the read, not one per line
    answers = [json.loads(line) for line in _written(c.transport)]
    assert [a["id"] for a in answers] == list(range(1, 201))
    assert all(a["result"]["code"] == 0 for a in answers)


def test_a_line_that_breaks_the_shell_costs_that_line_only_in_a_batch(
        sends: list[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    rig = Rig()
    c = rig.client()
    request = rig.core.request

    def broken(connection: int, item: Any, now: float, **kw: Any) -> Any:
        if getattr(item, "id", None) == 3:
            raise RuntimeError("a defect")
        return request(connection, item, now, **kw)

    monkeypatch.setattr(rig.core, "request", broken)
    c.protocol.dataReceived(b"".join(LINE % n for n in range(1, 6)))
    answers = [json.loads(line) for line in _written(c.transport)]
    assert [a["id"] for a in answers] == [1, 2, 3, 4, 5]
    assert answers[2]["error"]["code"] == -32603
    assert [a["result"]["code"] for a in answers if "result" in a] == [0, 0, 0, 0]
    assert sends == [c.transport]


def test_force_logout_is_an_scs_request_whose_answer_goes_to_the_caller(
        tmp_path: Path) -> None:
    trace = tmp_path / "trace.jsonl"
    rig = Rig(trace=trace)
    a = rig.logged_in("1001", "2001")
    assert a.invoke("ChangeNotReadyState", ReasonCode="1") == {"code": 0}
    rig.pump(1)
    a.take()
    answer = rig.service.force_logout("1001", "10")
    assert answer is not None and answer["result"] == {"code": 0}
    assert str(answer["id"]).startswith("monitor-")
    rig.pump(1)
    events = a.client.events()
    assert ("EventAgentLogout" in [name for name, _ in events]), events
    assert not any(str(k).startswith("monitor-") for k in a.client.results)  # not to SCS
    assert "1001" not in rig.core.agents
    assert rig.service.force_logout("1001") is None  # no longer logged in
    recorded = trace.read_text()
    assert '"name":"LogOut"' in recorded and "monitor-" in recorded
    assert replay(load_trace(trace)).identical
