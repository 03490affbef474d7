"""``siebel-gateway demo`` and ``console`` as a user runs them: processes, real TCP, exit
codes, the timeline they print; and the golden traces replayed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from siebel_gateway.cli import main

from ..driver.test_serve_cli import ROOT, TEMPLATES, embedded_gateway
from ..hidden import assert_hidden
from ..netutil import free_port

TRACES = ROOT / "tests" / "data" / "traces"
GOLDEN = sorted(TRACES.glob("*.jsonl"))
__all__ = ["embedded_gateway"]  # the fixture, used below


def cli(*args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "siebel_gateway", *args], cwd=ROOT, check=False,
                          capture_output=True, text=True, timeout=timeout,
                          env={**os.environ})


@pytest.mark.parametrize("flavour", ["ucce", "uccx"])
def test_the_demo_runs_a_whole_shift_and_its_trace_replays(tmp_path: Path, flavour: str) -> None:
    trace = tmp_path / "demo.jsonl"
    done = cli("demo", "--flavour", flavour, "--trace", str(trace))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    assert out.splitlines()[-1].startswith("demo: every step behaved (80 steps in ")
    for seen in ("== A call for 1001 with a service request number from the IVR pops",
                 "handler InboundCallServiceRequest -> ServiceRequestPopResponse",
                 "screen pop: Service Request Detail View",
                 "handler ConsultCallPop",
                 "activity (Action) by ServiceRequestCallLog:",
                 "MakeCallToEditControl refused: MakeCall needs the Not Ready state",
                 "EventAgentLogout  AgentState=LOGOUT  ReasonLabel=End of Shift"):
        assert seen in out, seen
    assert_hidden(out, ("secret100",), "the console output")
    assert_hidden(trace.read_text(), ("secret100",), "the trace")
    assert "Traceback" not in done.stderr
    replayed = cli("trace", "replay", str(trace))
    assert replayed.returncode == 0 and "identical" in replayed.stdout


def test_a_step_that_misbehaves_fails_the_demo_naming_it(tmp_path: Path) -> None:
    script = tmp_path / "bad.script"
    script.write_text("agent 1001 secret1001 2001\nLoginToPBX\nexpect EventAgentLogin\n"
                      "say the agent is not ready, so this never comes:\n"
                      "expect EventAgentReady within=0.5\n")
    done = cli("demo", "--script", str(script))
    assert done.returncode == 1
    last = done.stdout.splitlines()[-1]
    assert last.startswith("demo FAILED after ")
    assert (f"{script}:5: agent 1001 did not get EventAgentReady  within 0.5 s; it received "
            in last)


def test_a_wrong_password_fails_at_the_login_step(tmp_path: Path) -> None:
    script = tmp_path / "pw.script"
    script.write_text("agent 1001 Zq9notit 2001\nLoginToPBX\nexpect EventAgentLogin within=2\n")
    done = cli("demo", "--script", str(script))
    assert done.returncode == 1
    assert "ERROR" in done.stdout and f"{script}:3:" in done.stdout.splitlines()[-1]
    assert "Zq9notit" not in done.stdout and "AgentPin=***" in done.stdout


def test_demo_start_problems_exit_2(tmp_path: Path) -> None:
    script = tmp_path / "s.script"
    script.write_text("wait soon\n")
    done = cli("demo", "--script", str(script))
    assert done.returncode == 2 and f"{script}:1: wait must be a number" in done.stderr
    done = cli("demo", "--broker", "amqp://x")
    assert done.returncode == 2 and "amqp://x" in done.stderr and "Traceback" not in done.stderr


def test_console_script_against_serve_over_tcp(embedded_gateway: tuple[int, Path],
                                               tmp_path: Path) -> None:
    port, _tmp = embedded_gateway
    script = tmp_path / "s.script"
    script.write_text("agent 1003 secret1003 2003\nLoginToPBX\nexpect EventAgentLogin\n"
                      "ReadyCmd\nexpect EventAgentReady\nNotReadyLunch\n"
                      "expect EventAgentNotReady ReasonCode=2 ReasonLabel=Lunch\n"
                      "expect-refused LogoutGroup\n"  # the group's children need a reason...
                      "LogoutEndOfShift\nexpect EventAgentLogout\n")
    done = cli("console", "--def", str(TEMPLATES / "siebel-ucce.def"), "--connect",
               f"127.0.0.1:{port}", "--script", str(script))
    # LogoutGroup runs LogoutEndOfShift (first enabled child) and is accepted: the script
    # said it would be refused, so the console reports that line and exits 1.
    assert done.returncode == 1
    assert f"{script}:8: LogoutGroup was accepted; the script expected a refusal" in done.stdout
    good = tmp_path / "good.script"
    good.write_text("agent 1004 secret1004 2004\nLoginToPBX\nexpect EventAgentLogin\n"
                    "ReadyCmd\nexpect EventAgentReady\nNotReadyLunch\n"
                    "expect EventAgentNotReady ReasonCode=2 ReasonLabel=Lunch\n"
                    "LogoutGroup\nexpect EventAgentLogout ReasonLabel=\"End of Shift\"\n"
                    "simulate inbound-call agent=1004\n")
    done = cli("console", "--def", str(TEMPLATES / "siebel-ucce.def"), "--connect",
               f"127.0.0.1:{port}", "--script", str(good))
    assert done.returncode == 1
    assert f"{good}:10: simulate needs the simulator's broker: --simulator URL" in done.stdout


def test_console_reports_what_the_gateway_does_not_support(embedded_gateway: tuple[int, Path],
                                                           tmp_path: Path) -> None:
    port, _tmp = embedded_gateway
    text = (TEMPLATES / "siebel-ucce.def").read_text()
    bad = tmp_path / "fax.def"
    bad.write_text(text + '\n[Command:FaxCmd]\n    DeviceCommand = "SendFax"\n')
    script = tmp_path / "s.script"
    script.write_text("say nothing to do\n")
    done = cli("console", "--def", str(bad), "--connect", f"127.0.0.1:{port}", "--script",
               str(script))
    assert done.returncode == 1
    assert "DEF PROBLEM" in done.stdout and "DeviceCommand 'SendFax' is not supported" \
        in done.stdout


def test_console_usage_problems_exit_2(tmp_path: Path) -> None:
    broken = tmp_path / "broken.def"
    broken.write_text("[Command:X\n")
    for args, message in [
        (["--def", str(broken), "--connect", "127.0.0.1:1"], f"{broken} has errors"),
        (["--def", str(TEMPLATES / "siebel-ucce.def"), "--connect", "nowhere"],
         "--connect 'nowhere': write HOST:PORT"),
        (["--def", str(TEMPLATES / "siebel-ucce.def"), "--connect",
          f"127.0.0.1:{free_port()}"], "cannot connect to 127.0.0.1:"),
        (["--def", str(TEMPLATES / "siebel-ucce.def"), "--connect", "127.0.0.1:1",
          "--script", str(tmp_path / "none")], "cannot read script"),
        (["--def", str(TEMPLATES / "siebel-ucce.def"), "--connect", "127.0.0.1:1",
          "--profile", "Avaya"], "no [Profile:Avaya]"),
    ]:
        done = cli("console", *args)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert message in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("path", GOLDEN, ids=[p.name for p in GOLDEN])
def test_golden_traces_replay_identically(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["trace", "replay", str(path)]) == 0, capsys.readouterr().out
    assert "identical" in capsys.readouterr().out


def test_the_golden_set_covers_the_main_scenarios() -> None:
    names = {p.name for p in GOLDEN}
    assert {"ucce-shift.jsonl", "uccx-shift.jsonl", "gc-outage.jsonl"} <= names
    text = (TRACES / "ucce-shift.jsonl").read_text()
    for needed in ("Login#1001", "MakeReady#1001", "AnswerCall#1001", "HoldCall#1001",
                   "ConsultCall#1001", "TransferCall#1001", "ConferenceCall#1002",
                   "MakeCall#1001", "UpdateCallData#1001", "MakeNotReadyWithReason#1001",
                   "Logout#1001"):
        assert needed in text, needed
    outage = (TRACES / "gc-outage.jsonl").read_text()
    assert "OUT_OF_SERVICE" in outage and "EventLinkConnected" in outage


def test_a_deliberately_altered_golden_trace_reports_the_change(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines = (TRACES / "ucce-shift.jsonl").read_text().splitlines()
    changed = []
    done = False
    for line in lines:
        rec = json.loads(line)
        if not done and rec.get("msg", {}).get("method") == "HandleEvent" \
                and rec["msg"]["params"]["name"] == "EventRinging":
            rec["msg"]["params"]["name"] = "EventRingingOld"
            done = True
        changed.append(json.dumps(rec))
    altered = tmp_path / "altered.jsonl"
    altered.write_text("\n".join(changed) + "\n")
    assert main(["trace", "replay", str(altered)]) == 1
    out = capsys.readouterr().out
    assert "DIVERGED at 1 of" in out
    assert '-   "name": "EventRingingOld",' in out and '+   "name": "EventRinging",' in out


def test_the_interactive_console_completes_names_and_shows_the_agent(
        embedded_gateway: tuple[int, Path]) -> None:
    port, _tmp = embedded_gateway
    typed = ("agent 1005 secret1005 2005\nlogin\nexpect EventAgentLogin\nNotReady\n"
             "notreadyl\nexpect EventAgentNotReady ReasonCode=2\ncommands Wrap\nview\n")
    done = subprocess.run([sys.executable, "-m", "siebel_gateway", "console", "--def",
                           str(TEMPLATES / "siebel-ucce.def"), "--connect",
                           f"127.0.0.1:{port}"], input=typed, cwd=ROOT, check=False,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "> LoginToPBX (LogIn) AgentId=1005 AgentPin=*** Extension=2005" in out
    assert "'NotReady' could be NotReadyBreak, NotReadyGroup, NotReadyLunch" in out
    assert "WrapUpComplaint, WrapUpGroup, WrapUpSales, WrapUpSupport" in out
    assert "agent 1005 " in out and "  state: NOT_READY (Lunch)" in out
    assert "  toolbar: LogOut, ChangeReadyState, ChangeNotReadyState [x], MakeCall" in out
    assert_hidden(out.replace("agent 1005 secret1005 2005", ""), ("secret1005",),
                  "the console output")
