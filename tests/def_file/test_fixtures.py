"""Every fixture in data/valid and data/invalid renders exactly as its .expected file.

valid/ files have no errors (warnings allowed); invalid/ files have at least one
finding.  Regenerate with ``python -m tests.def_file.fixtures`` and review the diff.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from siebel_gateway.def_file import check_bytes

from .fixtures import DATA, render

FIXTURES = sorted(DATA.glob("*/*.def"))


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_fixture_renders_as_expected(path: Path) -> None:
    assert render(path) == path.with_suffix(".expected").read_text()


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_valid_fixtures_have_no_errors_and_invalid_ones_have_findings(path: Path) -> None:
    result = check_bytes(path.read_bytes(), path.name)
    if path.parent.name == "valid":
        assert result.errors == []
    else:
        assert result.problems


def test_every_odd_syntax_has_a_fixture() -> None:
    names = {p.stem for p in FIXTURES}
    assert {
        "unnamed_sections", "driver_parameters_space", "indentation", "spacing", "comments",
        "hash_lines", "raw_quotes", "keys_with_spaces", "keys_with_colons", "quoted_subnames",
        "empty_values", "crlf", "utf8_bom", "cp1252", "subcommand_gaps",
    } <= names
