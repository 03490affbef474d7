"""Driver traces: what serve --trace records is enough to replay the core exactly, a change
shows up as a readable diff, bad files are refused, and the timeline reads like a shift."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from siebel_gateway.cli import main
from siebel_gateway.crypto import decrypt_password, encrypt_password, parse_key
from siebel_gateway.trace.replay import TraceError, load_trace, replay

from ..driver.harness import Rig

KEY = "00112233445566778899aabbccddeeff0123456789abcdef"


def inbound_day(rig: Rig) -> None:
    """Login, ready, an inbound call with data, hold/retrieve, release, wrap-up reason."""
    a = rig.logged_in()
    a.invoke("ChangeReadyState")
    rig.pump(1)
    rig.control(action="inbound-call", agent="1001", ani="4155550100", dnis="8005550100",
                callVariables={"callVariable1": "1-234"}, ecc={"AccountId": "A-7"})
    rig.pump(1)
    a.invoke("AnswerCall")
    rig.pump(2)
    a.invoke("HoldCall")
    rig.pump(1)
    a.invoke("RetrieveCall")
    rig.pump(1)
    a.invoke("ReleaseCall")
    rig.pump(1)
    a.invoke("SetWrapUpReason", ReasonCode="Sales Call")
    rig.pump(1)
    a.take()


def recorded(tmp_path: Path, scenario: Any = inbound_day, **kw: Any) -> Path:
    path = tmp_path / "gw.jsonl"
    rig = Rig(trace=path, **kw)
    scenario(rig)
    rig.service.tap.close()  # type: ignore[attr-defined]
    return path


def records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def rewrite(path: Path, out: Path, change: Any) -> Path:
    lines = []
    for rec in records(path):
        changed = change(rec)
        if changed is not None:
            lines.append(json.dumps(changed))
    out.write_text("\n".join(lines) + "\n")
    return out


def test_a_recorded_day_replays_identically(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    path = recorded(tmp_path)
    report = replay(load_trace(path))
    assert report.identical and report.inputs > 15 and report.outputs > 60
    assert main(["trace", "replay", str(path)]) == 0
    assert "identical" in capsys.readouterr().out


def test_every_kind_of_input_is_recorded_and_replayed(tmp_path: Path) -> None:
    def outage(rig: Rig) -> None:
        a = rig.logged_in()
        rig.link._up = False  # died an instant before the status arrives: a failed publish
        a.invoke("ChangeReadyState")
        rig.pump()
        rig.link._up = True
        rig.link.interrupt()  # broker lost: link down, commands refused
        rig.pump(1)
        a.invoke("ChangeReadyState")
        rig.link.resume()
        rig.pump(1)
        rig.pump(rig.options.heartbeat + 1)  # Beat timer fires, GC answers
        a.client.protocol.connectionLost()
        rig.pump(1)

    path = recorded(tmp_path, outage)
    kinds = {(r.get("edge"), r.get("dir")) for r in records(path)[1:]}
    assert {("link", "down"), ("link", "up"), ("timer", "fire"), ("timer", "start"),
            ("gc", "failed"),
            ("scs", "open"), ("scs", "close"), ("gc", "in"), ("gc", "out")} <= kinds
    assert replay(load_trace(path)).identical


def test_a_changed_text_is_reported_as_a_diff_of_that_field(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def change(rec: dict[str, Any]) -> dict[str, Any]:
        if rec.get("msg", {}).get("method") == "ShowStatusText" \
                and rec["msg"]["params"]["text"] == "Ready":
            rec["msg"]["params"]["text"] = "Available"
        return rec

    altered = rewrite(recorded(tmp_path), tmp_path / "altered.jsonl", change)
    assert main(["trace", "replay", str(altered)]) == 1
    out = capsys.readouterr().out
    assert "DIVERGED at 1 of" in out
    assert "after GC event '1001#State#READY#" in out
    assert "SCS ShowStatusText) differs:" in out
    assert '-   "text": "Available"' in out and '+   "text": "Ready"' in out


def test_a_missing_or_extra_gc_command_is_named(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    def drop_hold(rec: dict[str, Any]) -> dict[str, Any] | None:
        if rec.get("edge") == "gc" and rec.get("dir") == "out" \
                and rec["msg"]["headers"]["type"].startswith("HoldCall#"):
            return None
        return rec

    altered = rewrite(recorded(tmp_path), tmp_path / "altered.jsonl", drop_hold)
    assert main(["trace", "replay", str(altered)]) == 1
    assert "produced now but not recorded: GC HoldCall#1001" in capsys.readouterr().out


def test_a_changed_gc_event_changes_what_follows(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """A field trace edited by hand (another ANI) no longer matches what was recorded."""
    def other_ani(rec: dict[str, Any]) -> dict[str, Any]:
        if rec.get("edge") == "gc" and rec.get("dir") == "in":
            rec["msg"]["body"] = rec["msg"]["body"].replace("4155550100", "4155550111")
        return rec

    altered = rewrite(recorded(tmp_path), tmp_path / "altered.jsonl", other_ani)
    assert main(["trace", "replay", "--max-diffs", "1", str(altered)]) == 1
    out = capsys.readouterr().out
    assert '"ANI",' in out and "4155550111" in out and "more divergence(s)" in out


@pytest.mark.parametrize(("content", "message"), [
    (None, "cannot read"),
    ("", "empty file, not a trace"),
    ('{"edge":"scs"}\n', ":1: a trace starts with its 'start' line"),
    ('{"kind":"start","trace":1,"config":{}}\nnot json\n', ":2: not JSON"),
    ('{"kind":"start","trace":1,"config":{}}\n[1]\n', ":2: a trace line must be a JSON object"),
    ('{"kind":"start","trace":1,"config":{}}\n{"edge":"fax","dir":"in","wall":1}\n',
     ":2: unknown line kind edge='fax'"),
    ('{"kind":"start","trace":1,"config":{}}\n{"edge":"gc","dir":"in"}\n', ":2: 'wall'"),
    ('{"kind":"start","trace":9}\n', "trace format 9 is not one this version reads"),
    ('{"kind":"start","trace":1,"part":2,"config":{}}\n', "part 2 of a rotated trace"),
    ('{"kind":"start","trace":1,"config":{}}\n', ":1: the start line's config is incomplete"),
])
def test_unreadable_traces_exit_2_naming_file_and_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None,
        message: str) -> None:
    path = tmp_path / "bad.jsonl"
    if content is not None:
        path.write_text(content)
    assert main(["trace", "replay", str(path)]) == 2
    err = capsys.readouterr().err
    assert message in err and str(path) in err and "Traceback" not in err


def test_an_input_line_missing_its_payload_is_named(tmp_path: Path) -> None:
    path = recorded(tmp_path)

    def strip(rec: dict[str, Any]) -> dict[str, Any]:
        if rec.get("edge") == "gc" and rec.get("dir") == "in":
            del rec["msg"]
        return rec

    with pytest.raises(TraceError, match=r"altered.jsonl:\d+: this gc in line lacks"):
        replay(load_trace(rewrite(path, tmp_path / "altered.jsonl", change=strip)))


def test_secure_passwords_replay_without_the_key_and_never_in_clear(tmp_path: Path) -> None:
    key = parse_key(KEY, "test key")

    def day(rig: Rig) -> None:
        a = rig.agent(params=[("UseSecurePassword", "TRUE")])
        a.invoke("LogIn", AgentId="1001", AgentPin="secret1001", Extension="2001")
        rig.pump(1)

    path = recorded(tmp_path, day, encrypt=lambda pw: encrypt_password(pw, key),
                    decrypt=lambda t: decrypt_password(t, key))
    text = path.read_text()
    assert "secret1001" not in text and "3DES:" in text
    assert replay(load_trace(path)).identical


def test_show_is_a_readable_timeline_per_agent(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    path = recorded(tmp_path)
    assert main(["trace", "show", str(path)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].startswith(f"trace {path}: part 1, started ")
    assert any("SCS#1 > LogIn  AgentId=1001 AgentPin=*** Extension=2001  [cmd c1]" in ln
               for ln in lines)
    ringing = next(ln for ln in lines if "EventRinging" in ln)
    assert "1001" in ringing and "ANI=4155550100" in ringing and "CallType=INBOUND" in ringing
    state = next(ln for ln in lines if "GC    < State READY" in ln)
    assert "ms after MakeReady" in state
    assert any("toolbar: AnswerCall*" in ln for ln in lines)  # blinking while ringing
    assert "LINK  up" in out and "secret" not in out
    assert main(["trace", "show", str(path), "--agent", "1002"]) == 0
    only_header = capsys.readouterr().out.splitlines()
    assert len(only_header) == 1


def test_show_of_an_unreadable_file_exits_2(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["trace", "show", str(tmp_path / "none.jsonl")]) == 2
    assert "cannot read" in capsys.readouterr().err
