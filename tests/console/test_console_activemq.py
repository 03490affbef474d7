"""The shipped templates' console scripts against the simulator on a real ActiveMQ:
``serve`` and ``simulate-gc`` as processes, ``console --script`` as an admin runs it; and
the demo on ActiveMQ (``demo --broker stomp://...``)."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest

from ..driver.test_e2e_activemq import Lab, gateway_config, lab, start  # noqa: F401 (lab)
from ..driver.test_serve_cli import TEMPLATES
from ..netutil import free_port
from .test_console_cli import cli

pytestmark = pytest.mark.broker


@pytest.mark.parametrize("flavour", ["ucce", "uccx"])
def test_template_console_script_passes_against_the_simulator(
        broker_stomp: tuple[str, int], tmp_path: Path, flavour: str) -> None:
    host, port = broker_stomp
    queue = f"GC{uuid.uuid4().hex[:8]}"
    gw_port = free_port()
    cfg = gateway_config(tmp_path / "gateway.def", gw_port, f"stomp://{host}:{port}", queue)
    sim = start(["simulate-gc", "--broker", f"stomp://{host}:{port}", "--queue", queue,
                 "--flavour", flavour], tmp_path / "sim.log")
    gw = start(["serve", "--config", str(cfg), "--def", str(TEMPLATES / f"siebel-{flavour}.def"),
                "--trace", str(tmp_path / "gw.jsonl")], tmp_path / "gw.log")
    try:
        args = ["console", "--def", str(TEMPLATES / f"siebel-{flavour}.def"),
                "--connect", f"127.0.0.1:{gw_port}", "--simulator", f"stomp://{host}:{port}",
                "--queue", queue, "--script", str(TEMPLATES / f"siebel-{flavour}.script")]
        for _attempt in range(100):  # the gateway may still be starting
            done = cli(*args)
            if "cannot connect" not in done.stderr:
                break
            time.sleep(0.2)
        assert done.returncode == 0, (done.stdout[-4000:], done.stderr[-2000:],
                                      (tmp_path / "gw.log").read_text()[-2000:])
        assert done.stdout.splitlines()[-1].endswith("every step behaved")
        assert "sim  inbound-call dialogId=" in done.stdout
    finally:
        for p in (gw, sim):
            p.terminate()
            p.wait(timeout=20)
    replayed = cli("trace", "replay", str(tmp_path / "gw.jsonl"))
    assert replayed.returncode == 0, replayed.stdout[-3000:]


def test_the_demo_on_activemq(broker_stomp: tuple[str, int], tmp_path: Path) -> None:
    host, port = broker_stomp
    done = cli("demo", "--broker", f"stomp://{host}:{port}", "--trace",
               str(tmp_path / "demo.jsonl"))
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert done.stdout.splitlines()[0].startswith(f"demo: UCCE shift on stomp://{host}:{port}")
    assert done.stdout.splitlines()[-1].startswith("demo: every step behaved")


def test_invoke_command_ex_make_call_over_the_wire(lab: Lab) -> None:  # noqa: F811
    """Siebel's InvokeCommandEx (commandType 1 = make call) on a real socket, through
    ActiveMQ to the simulator and back; commandType 2 (send message) is refused."""
    a = lab.agent("1005")
    a.login()
    if lab.flavour == "ucce":
        assert a.invoke("ChangeNotReadyState", ReasonCode="2") == {"code": 0}
        a.c.wait_event("EventAgentNotReady")
    r = a.c.call("InvokeCommandEx", service=a.service, cmdTrackId="ex1", commandType=1,
                 params=[["PhoneNumber", "4085550177"]])
    assert r == {"code": 0}, r
    dial = a.c.wait_event("EventDialing", CallType="OUTBOUND")
    assert dial["fields"]["OtherParty"] == "4085550177"
    a.c.wait_event("EventEstablished", TrackingID=dial["trackingId"])
    refused = a.c.call("InvokeCommandEx", service=a.service, cmdTrackId="ex2", commandType=2,
                       params=[["Text", "hello"]])
    assert refused["code"] != 0 and "command type 2 is not supported" in refused["error"]
    assert a.invoke("ReleaseCall") == {"code": 0}
    a.c.wait_event("EventReleased", TrackingID=dial["trackingId"])


def test_the_gc_outage_script_passes_on_activemq(broker_stomp: tuple[str, int],
                                                 tmp_path: Path) -> None:
    """tests/data/traces/gc-outage.script: a HoldCall right after EventLinkConnected is held
    until the GC answers the sign-in, then runs on the same call (no gap)."""
    host, port = broker_stomp
    queue = f"GC{uuid.uuid4().hex[:8]}"
    gw_port = free_port()
    cfg = gateway_config(tmp_path / "gateway.def", gw_port, f"stomp://{host}:{port}", queue)
    script = Path(__file__).resolve().parents[1] / "data" / "traces" / "gc-outage.script"
    sim = start(["simulate-gc", "--broker", f"stomp://{host}:{port}", "--queue", queue,
                 "--flavour", "ucce"], tmp_path / "sim.log")
    gw = start(["serve", "--config", str(cfg), "--def", str(TEMPLATES / "siebel-ucce.def")],
               tmp_path / "gw.log")
    try:
        args = ["console", "--def", str(TEMPLATES / "siebel-ucce.def"),
                "--connect", f"127.0.0.1:{gw_port}", "--simulator", f"stomp://{host}:{port}",
                "--queue", queue, "--script", str(script)]
        for _attempt in range(100):  # the gateway may still be starting
            done = cli(*args)
            if "cannot connect" not in done.stderr:
                break
            time.sleep(0.2)
        assert done.returncode == 0, (done.stdout[-4000:], done.stderr[-2000:])
        assert done.stdout.splitlines()[-1].endswith("every step behaved")
    finally:
        for p in (gw, sim):
            p.terminate()
            p.wait(timeout=20)
