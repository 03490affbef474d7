"""Traces of a duplex gateway replay: the start line says both GCs and the mode, a link
line of one GC's own broker names that GC, and a trace of a duplex gateway written before
that (format 1) is refused saying why."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from twisted.internet.task import Clock

from siebel_gateway.adapters.duplex_service import DuplexService
from siebel_gateway.adapters.memory_link import MemoryBroker
from siebel_gateway.cli import main
from siebel_gateway.core.duplex import DuplexGateway
from siebel_gateway.core.gateway import GatewayOptions
from siebel_gateway.core.gcs import Mode
from siebel_gateway.core.scs_wire import Request, parse_line
from siebel_gateway.trace.config import trace_config
from siebel_gateway.trace.duplex import duplex_config
from siebel_gateway.trace.record import TraceWriter
from siebel_gateway.trace.replay import load_trace, replay

from ..core.driver import CATALOG
from ..duplex_rig import QUEUES, duplex_codecs, two_gcs

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "traces" / "duplex-gc-down.jsonl"


def two_brokers_day(path: Path) -> DuplexGateway:
    """An agent on a call on GC 1 (its own broker); that broker is lost, the agent moves to
    GC 2 and holds the call there; broker 1 comes back.  Recorded into ``path``."""
    clock = Clock()
    clock.advance(1_700_000_000)
    brokers = [MemoryBroker(clock), MemoryBroker(clock)]
    codecs = duplex_codecs()
    options = GatewayOptions(heartbeat=1.0)
    core = DuplexGateway(codecs, CATALOG, options, mode=Mode.ACTIVE_PASSIVE,
                         missed_heartbeats=2)
    tap = TraceWriter(path, monotonic=clock.seconds, config=trace_config(
        codec=codecs[0], options=options, secure_password=False, duplex=duplex_config(core)))
    links = [b.link() for b in brokers]
    service = DuplexService(core, links, clock, wall=clock.seconds, tap=tap)
    model, sims = two_gcs(clock, brokers, codecs[0])
    service.start()
    clock.advance(0)

    def call(method: str, **params: Any) -> None:
        line = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
        item = parse_line(line.encode())
        assert isinstance(item, Request)
        service.line_items(1, [item])
        clock.advance(0)

    call("CreateISCDriverInstance", mediaType="Voice", language="ENU",
         params=[["Flavour", "UCCE"]])
    call("RequestService", driver=next(iter(core.drivers)),
         params=[["AgentId", "1001"], ["Extension", "2001"]])
    svc = next(iter(core.services))
    call("InvokeCommand", service=svc, cmdTrackId="1", name="LogIn",
         params=[["AgentPin", "secret1001"]])
    call("InvokeCommand", service=svc, cmdTrackId="2", name="ChangeReadyState", params=[])
    model.place_inbound("1001", "4155550100", "8005550100", "", [])
    sims[0].execute(model.take())  # the agent's events go out on GC 1's broker
    clock.advance(0.1)
    tid = next(iter(core.services[svc].calls.calls))
    call("InvokeCommand", service=svc, cmdTrackId="3", name="AnswerCall",
         params=[["TrackingID", tid]])
    clock.advance(0.1)
    links[0].interrupt()  # GC 1's broker is gone: the agent moves to GC 2
    clock.advance(0.1)
    call("InvokeCommand", service=svc, cmdTrackId="4", name="HoldCall",
         params=[["TrackingID", tid]])
    clock.advance(0.1)
    links[0].resume()
    for _ in range(5):
        clock.advance(1.0)  # heartbeats on both GCs
    tap.close()
    return core


def test_a_duplex_run_on_two_brokers_replays_identically(tmp_path: Path) -> None:
    path = tmp_path / "duplex.jsonl"
    core = two_brokers_day(path)
    assert core.gcs.placed["1001"] == 1  # the run did move the agent
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    assert lines[0]["trace"] == 2
    assert lines[0]["config"]["duplex"] == {
        "mode": "active-passive", "missed_heartbeats": 2, "fail_back": False,
        "gcs": [{"queue": q, "client_destination": f"gw.{q}"} for q in QUEUES]}
    links = [(x["dir"], x.get("queue")) for x in lines if x.get("edge") == "link"]
    assert ("down", "Connector1") in links and ("up", "Connector2") in links
    assert any("moves from GC Connector1 to GC Connector2" in x.get("text", "")
               for x in lines if x.get("edge") == "log")
    report = replay(load_trace(path))
    assert report.identical, report.divergences[:1]
    assert report.inputs > 20


def test_a_changed_mode_in_the_start_line_shows_as_a_divergence(tmp_path: Path) -> None:
    """Replay really runs the duplex core the start line describes (not a single GC)."""
    path = tmp_path / "duplex.jsonl"
    two_brokers_day(path)
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    lines[0]["config"]["duplex"]["gcs"].reverse()  # the other GC is the first one
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    assert not replay(load_trace(path)).identical


def test_the_golden_duplex_trace_replays_identically(capsys: pytest.CaptureFixture[str]) -> None:
    text = GOLDEN.read_text()
    # the recorded fault: Connector1 went silent and the agent moved
    assert "agent 1001 moves from GC Connector1 to GC Connector2" in text
    assert main(["trace", "replay", str(GOLDEN)]) == 0, capsys.readouterr().out
    assert "identical" in capsys.readouterr().out


def test_a_duplex_trace_of_format_1_is_refused_saying_why(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines = [json.loads(x) for x in GOLDEN.read_text().splitlines()]
    lines[0]["trace"] = 1  # as written before the duplex block existed
    del lines[0]["config"]["duplex"]
    old = tmp_path / "old-duplex.jsonl"
    old.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    assert main(["trace", "replay", str(old)]) == 2
    err = capsys.readouterr().err
    assert "written by a duplex gateway" in err and "'gateway:Hello:Connector1'" in err
    assert "record it again" in err and "Traceback" not in err
    assert main(["trace", "show", str(old)]) == 0  # still readable


@pytest.mark.parametrize(("queue", "message"), [
    ("Connector9", "names GC 'Connector9', which the start line does not list"),
])
def test_a_link_line_naming_an_unknown_gc_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], queue: str, message: str) -> None:
    lines = [json.loads(x) for x in GOLDEN.read_text().splitlines()]
    link = next(x for x in lines if x.get("edge") == "link")
    link["queue"] = queue
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    assert main(["trace", "replay", str(bad)]) == 2
    assert message in capsys.readouterr().err


def test_a_single_gc_trace_with_a_link_line_naming_a_gc_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    simplex = GOLDEN.parent / "gc-outage.jsonl"
    lines = [json.loads(x) for x in simplex.read_text().splitlines()]
    next(x for x in lines if x.get("edge") == "link")["queue"] = "Connector1"
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    assert main(["trace", "replay", str(bad)]) == 2
    assert "describes a single-GC gateway" in capsys.readouterr().err
