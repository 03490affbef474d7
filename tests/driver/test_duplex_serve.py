"""Duplex settings in gateway.def and ``serve`` with two GCs on the embedded broker (the
embedded simulator then serves both queues)."""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path

import pytest

from siebel_gateway.def_file import DefFileError
from siebel_gateway.settings import load_settings

from ..netutil import free_port
from .scs_client import ScsSocketClient
from .test_serve_cli import TEMPLATES, refused, serve


def settings_of(tmp: Path, text: str) -> Path:
    p = tmp / "gateway.def"
    p.write_text(text)
    return p


def test_duplex_settings_and_their_defaults(tmp_path: Path) -> None:
    s = load_settings(TEMPLATES / "gateway.def")
    assert (s.queues, s.mode, s.fail_back, s.broker_url2) == (("Connector1",), "simplex",
                                                             False, "")
    s = load_settings(settings_of(tmp_path, '[GenericConnector]\nQueue = "GcA, GcB"\n'
                                            'MissedHeartbeats = "2"\nFailBack = "true"\n'
                                            '[Broker]\nUrl = "stomp://a:61613"\n'
                                            'Url2 = "stomp://b:61613"\n'))
    assert (s.queue, s.queues, s.mode, s.missed_heartbeats, s.fail_back) == (
        "GcA", ("GcA", "GcB"), "active-passive", 2, True)
    assert [str(e) for e in s.broker_endpoints2] == ["stomp://b:61613"]


@pytest.mark.parametrize(("text", "problem"), [
    ('Queue = "A, B, C"', "name one GC queue or two"),
    ('Queue = "A"\nMode = "active-active"', "needs two GCs in Queue, which names 1 (A)"),
    ('Queue = "A, B"\nMode = "simplex"', "needs one GC"),
    ('Queue = "A, B"\nMode = "hot"', "Mode must be simplex, active-passive or active-active"),
    ('FailBack = "yes"', "write TRUE or FALSE"),
    ('MissedHeartbeats = "0"', "MissedHeartbeats must be a number from 1 to 100"),
    ('Queue = "A B"', "letters, digits"),
])
def test_bad_duplex_settings_name_the_line_and_the_problem(tmp_path: Path, text: str,
                                                            problem: str) -> None:
    with pytest.raises(DefFileError) as exc:
        load_settings(settings_of(tmp_path, f"[GenericConnector]\n{text}\n"))
    shown = "\n".join(p.format() for p in exc.value.problems)
    assert problem in shown and "gateway.def:" in shown


def test_url2_needs_a_second_queue(tmp_path: Path) -> None:
    err = refused("--config", str(settings_of(tmp_path, '[Broker]\nUrl2 = "stomp://b:1"\n')),
                  "--def", str(TEMPLATES / "siebel-ucce.def"))
    assert "Url2 is the broker of the second GC, but Queue names one" in err


def test_serve_with_two_gcs_on_the_embedded_broker(tmp_path: Path) -> None:
    port, monitor = free_port(), free_port()
    cfg = settings_of(tmp_path, f'[Server]\nListen = "127.0.0.1:{port}"\n'
                                f'[GenericConnector]\nQueue = "Connector1, Connector2"\n'
                                f'Mode = "active-active"\n'
                                f'[Monitor]\nListen = "127.0.0.1:{monitor}"\n')
    p = serve("--config", str(cfg), "--def", str(TEMPLATES / "siebel-ucce.def"))
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                c = ScsSocketClient("127.0.0.1", port, timeout=10)
                break
            except OSError:
                assert p.poll() is None and time.monotonic() < deadline
                time.sleep(0.1)
        d = c.call("CreateISCDriverInstance", mediaType="Voice", language="ENU",
                   connectString="", params=[["Driver:Flavour", "UCCE"]])
        ids = ("1001", "1003")
        for agent in ids:
            s = c.call("RequestService", driver=d["driver"], connectString="",
                       params=[["Service:AgentId", agent], ["Service:Extension",
                                                            f"20{agent[2:]}"]])
            for _ in range(100):  # the GCs may not have answered Hello yet
                r = c.call("InvokeCommand", service=s["service"], cmdTrackId="1",
                           name="LogIn", stringParam="",
                           params=[["AgentPin", f"secret{agent}"]])
                if r["code"] != 6:
                    break
                time.sleep(0.1)
            assert r == {"code": 0}, r
            c.wait_event("EventAgentLogin", AgentId=agent)
        with urllib.request.urlopen(f"http://127.0.0.1:{monitor}/api/status",
                                    timeout=5) as answer:
            gcs = json.loads(answer.read())["gcs"]
        assert [(g["queue"], g["status"]) for g in gcs] == [("Connector1", "IN_SERVICE"),
                                                            ("Connector2", "IN_SERVICE")]
        assert sum(g["agents"] for g in gcs) == len(ids)
        with urllib.request.urlopen(f"http://127.0.0.1:{monitor}/metrics",
                                    timeout=5) as answer:
            metrics = answer.read().decode()
        assert 'siebel_gateway_gc_in_service{queue="Connector2"} 1.0' in metrics
        c.close()
    finally:
        p.terminate()
        _, err = p.communicate(timeout=20)
    assert "Traceback" not in err, err[-3000:]
