"""D4 and the trace half of D2: recording a trace never costs the gateway anything -- not a
connection, not a timer -- when the disk is full or a peer sends text JSON cannot carry as
UTF-8; the trace resumes and says where lines are missing."""

from __future__ import annotations

import errno
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from siebel_gateway.cli import main
from siebel_gateway.trace.record import TraceWriter

from ..driver.harness import Rig
from ..logcapture import gateway_log_lines


@pytest.fixture
def logged() -> Iterator[list[str]]:
    with gateway_log_lines() as lines:
        yield lines


def test_a_full_disk_under_trace_costs_no_connection_and_no_timer(
        logged: list[str]) -> None:
    rig = Rig(trace=Path("/dev/full"))
    a = rig.logged_in()  # today: OSError out of the first request, the connection is gone
    assert a.invoke("ChangeReadyState") == {"code": 0}
    rig.pump(1)
    assert "EventAgentReady" in a.names()
    beats = len([m for m in rig.sent if m.headers.get("type", "").startswith("Beat")])
    for _ in range(13):  # two Beat intervals: the health check keeps running
        rig.pump(5)
    assert len([m for m in rig.sent if m.headers.get("type", "").startswith("Beat")]) \
        >= beats + 2
    assert a.invoke("ChangeNotReadyState") == {"code": 0}
    tap: Any = rig.service.tap
    assert tap.lost > 10
    warnings = [t for t in logged if "trace /dev/full: cannot write" in t]
    assert len(warnings) == 1 and "No space left on device" in warnings[0]


class _Disk:
    """A text file whose writes fail with ENOSPC while ``full``."""

    def __init__(self, real: Any) -> None:
        self.real, self.full = real, True

    def write(self, text: str) -> int:
        if self.full:
            raise OSError(errno.ENOSPC, "No space left on device")
        return int(self.real.write(text))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


def test_the_trace_resumes_after_the_disk_had_room_again_and_marks_the_gap(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        logged: list[str]) -> None:
    now = [100.0]
    path = tmp_path / "gw.jsonl"
    writer = TraceWriter(path, monotonic=lambda: now[0])
    writer.opened(1, "127.0.0.1:5000", 1.0)
    disk = _Disk(writer._file)
    writer._file = disk  # type: ignore[assignment]
    for n in range(5):
        writer.link(False, f"lost:{n}", False, 2.0)
    assert writer.lost == 5
    disk.full = False
    now[0] += 2  # the next attempt opens the file again
    writer.link(True, "kept", False, 3.0)
    writer.close()
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [ln.get("reason") for ln in lines if ln.get("edge") == "link"] == ["kept"]
    gap = next(ln for ln in lines if ln.get("edge") == "trace")
    assert gap["dir"] == "gap" and gap["lost"] == 5 and "No space" in gap["why"]
    assert main(["trace", "show", str(path)]) == 0
    assert "TRACE 5 lines not written here" in capsys.readouterr().out
    assert main(["trace", "replay", str(path)]) == 2
    assert "could not write 5 lines here" in capsys.readouterr().err
    texts = logged
    assert len([t for t in texts if "cannot write" in t]) == 1
    assert any("writing again; 5 lines were lost" in t for t in texts)


def test_a_lone_surrogate_is_traced_escaped_not_raised(tmp_path: Path) -> None:
    path = tmp_path / "gw.jsonl"
    writer = TraceWriter(path)
    writer.opened(3, "peer\ud800", 1.0)  # today: UnicodeEncodeError out of the tap
    writer.link(False, "broker said \udfff!", False, 1.0)
    writer.close()
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines[-2]["peer"] == "peer\ud800" and lines[-1]["reason"] == "broker said \udfff!"
    assert writer.lost == 0


def test_serve_on_a_full_disk_keeps_serving_and_says_so_once(tmp_path: Path) -> None:
    from ..driver.scs_client import ScsSocketClient
    from .serving import start

    # the later --log-file wins over the one start() gives
    served = start(tmp_path, "", "--trace", "/dev/full", "--log-file", "/dev/full")
    try:
        c = ScsSocketClient("127.0.0.1", served.port)
        for _ in range(3):
            d = c.call("CreateISCDriverInstance", mediaType="Voice", language="ENU",
                       connectString="", params=[])
            assert d["code"] == 0
        s = c.call("RequestService", driver=d["driver"], connectString="",
                   params=[["AgentId", "1001"], ["Extension", "2001"]])["service"]
        assert c.call("InvokeCommand", service=s, cmdTrackId="1", name="LogIn",
                      stringParam="", params=[["AgentPin", "secret1001"]]) == {"code": 0}
        c.wait_event("EventAgentLogin")
        c.close()
    finally:
        err = served.stop()
    assert err.count("cannot write /dev/full (No space left on device)") == 1, err


def test_the_log_says_how_many_lines_were_lost() -> None:
    import io

    from siebel_gateway.serve import TolerantObserver

    written: list[str] = []
    full = [True]

    def inner(event: dict[str, Any]) -> None:
        if full[0]:
            raise OSError(errno.ENOSPC, "No space left on device")
        from twisted.logger import formatEvent

        written.append(formatEvent(event))

    err = io.StringIO()
    observer = TolerantObserver(inner, "gw.log", err)
    for n in range(4):
        observer({"log_format": "line {n}", "n": n})
    full[0] = False
    observer({"log_format": "back"})
    assert written == ["4 log lines were lost here (the log could not be written: No space "
                       "left on device)", "back"]
    assert err.getvalue().count("cannot write gw.log") == 1 and observer.lost == 4
