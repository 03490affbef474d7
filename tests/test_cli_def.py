"""The admin commands as an administrator runs them: real processes, exit codes, output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
TEMPLATES = sorted((ROOT / "def_templates").glob("siebel-*.def"))
INVALID = ROOT / "tests/def_file/data/invalid"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "siebel_gateway", *args],
                          capture_output=True, text=True, cwd=ROOT, check=False)


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.name)
def test_shipped_templates_check_clean_without_warnings(template: Path) -> None:
    proc = run("def", "check", str(template))
    assert proc.returncode == 0, proc.stdout
    assert "0 error(s), 0 warning(s)" in proc.stdout
    assert "warning:" not in proc.stdout


def test_check_reports_errors_as_file_line_col_and_exits_1() -> None:
    path = INVALID / "dangling_references.def"
    proc = run("def", "check", str(path))
    assert proc.returncode == 1
    assert (f"{path}:6:11: error: [Command:A] CmdData refers to [CmdData:NoData], "
            "which does not exist") in proc.stdout.splitlines()


def test_check_warnings_alone_exit_0() -> None:
    proc = run("def", "check", str(INVALID / "unknown_parameters.def"))
    assert proc.returncode == 0
    assert "warning: unknown parameter 'DevcieEvent'" in proc.stdout


def test_check_json_for_one_and_for_several_files() -> None:
    proc = run("def", "check", "--json", str(INVALID / "value_types.def"))
    doc = json.loads(proc.stdout)
    assert proc.returncode == 1
    assert doc["file"].endswith("value_types.def")
    assert doc["sections"]["Command"] == 1
    assert doc["errors"][0] == {"line": 4, "column": 10,
                                "message": "Hidden must be TRUE or FALSE, not 'yes'"}
    assert doc["warnings"] == []
    proc = run("def", "check", "--json", *map(str, TEMPLATES))
    docs = json.loads(proc.stdout)
    assert proc.returncode == 0
    assert [d["errors"] for d in docs] == [[], []]


@pytest.mark.parametrize("args", [
    ("def", "check"),
    ("def", "check", "/no/such/file.def"),
    ("def", "eval", str(TEMPLATES[0]), "--event", "E", "not-a-pair"),
    ("def", "frobnicate"),
])
def test_usage_problems_exit_2_with_a_message_and_no_traceback(args: tuple[str, ...]) -> None:
    proc = run(*args)
    assert proc.returncode == 2
    assert proc.stderr.strip()
    assert "Traceback" not in proc.stderr


def test_eval_json() -> None:
    proc = run("def", "eval", str(ROOT / "def_templates/siebel-ucce.def"), "--event",
               "EventRinging", "CallType=INBOUND", "ANI=4155550100", "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert set(doc) >= {"event", "handler", "candidates", "ambiguous", "response",
                        "parameters", "logs"}
    assert doc["handler"] == "InboundCallANI"
    assert doc["candidates"][0] == "ConsultCallPop"
    assert doc["parameters"]["QuerySpec"] == "'Work Phone #'='4155550100'"


def test_eval_in_words() -> None:
    proc = run("def", "eval", str(ROOT / "def_templates/siebel-ucce.def"), "--event",
               "EventRinging", "CallType=CONSULT", "ANI=1")
    assert proc.returncode == 0
    assert "handler ConsultCallPop fires" in proc.stdout
    assert "event logs: ConsultReceivedLog" in proc.stdout


def test_eval_refuses_a_file_with_errors() -> None:
    proc = run("def", "eval", str(INVALID / "duplicates.def"), "--event", "E")
    assert proc.returncode == 1
    assert "fix the errors above" in proc.stderr


def test_fmt_prints_normalised_text_that_checks_the_same(tmp_path: Path) -> None:
    proc = run("def", "fmt", str(ROOT / "tests/def_file/data/valid/spacing.def"))
    assert proc.returncode == 0
    assert 'Title = "Answer"\nDescription = "Answer the call"\nMenuPosition = "20"' in proc.stdout
    out = tmp_path / "again.def"
    out.write_text(run("def", "fmt", str(TEMPLATES[0])).stdout)
    assert run("def", "fmt", str(out)).stdout == out.read_text()


def test_def_commands_do_not_import_twisted_or_stomp() -> None:
    code = ("import sys; from siebel_gateway.cli import main; "
            "rc = main(['def', 'check', sys.argv[1]]); "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('twisted', 'stomp')]; "
            "print('IMPORTED', bad); raise SystemExit(rc)")
    proc = subprocess.run([sys.executable, "-c", code, str(TEMPLATES[0])], capture_output=True,
                          text=True, cwd=ROOT, check=False)
    assert proc.returncode == 0
    assert "IMPORTED []" in proc.stdout
