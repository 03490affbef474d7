"""docs/architecture.md shows the state table the code has."""

from __future__ import annotations

from pathlib import Path

from siebel_gateway.core.machine import TRANSITIONS, Input, render_table
from siebel_gateway.core.vocabulary import COMMANDS

DOC = Path(__file__).resolve().parents[2] / "docs" / "architecture.md"


def test_the_documented_state_table_is_the_one_in_the_code() -> None:
    text = DOC.read_text(encoding="utf-8")
    shown = text.split("<!-- table:begin -->\n", 1)[1].split("<!-- table:end -->", 1)[0]
    assert shown == render_table(), "run render_table() and paste it into the doc"


def test_every_device_command_has_a_rule_and_every_input_a_phase() -> None:
    inputs = {what for _, what in TRANSITIONS}
    assert set(COMMANDS) | set(Input) == inputs
