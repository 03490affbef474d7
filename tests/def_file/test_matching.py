from __future__ import annotations

import pytest

from siebel_gateway.def_file.matching import FilterSpecError, compile_filter_spec, is_like


@pytest.mark.parametrize(("value", "pattern", "matches"), [
    ("4155550100", "*", True),
    ("", "*", True),
    ("", "?*", False),
    ("x", "?*", True),
    ("ab", "???*", False),
    ("abc", "???*", True),
    ("4504", "45?4", True),
    ("45004", "45?4", False),
    ("INBOUND", "INBOUND", True),
    ("INBOUND", "inbound", False),
    ("a.b", "a.b", True),
    ("axb", "a.b", False),  # '.' is not a wildcard
    ("1-234", "1-*", True),
    (None, "*", False),  # a missing field never matches
])
def test_is_like(value: str | None, pattern: str, matches: bool) -> None:
    assert is_like(value, pattern) is matches


FIELDS = {"ANI": "4155550100", "CallType": "INBOUND", "Digits": "12", "Empty": ""}


@pytest.mark.parametrize(("spec", "holds"), [
    ("[CallType] = 'INBOUND'", True),
    ("[CallType] <> 'INBOUND'", False),
    ("[Digits] > 9", True),  # numeric, not text, comparison
    ("[Digits] < '9'", False),
    ("[ANI] LIKE '415*'", True),
    ("[Missing] IS NULL", True),
    ("[Empty] IS NULL", True),
    ("[ANI] IS NOT NULL", True),
    ("[Missing] = ''", False),
    ("NOT ([CallType] = 'CONSULT') AND ([ANI] LIKE '415*' OR [Digits] = 0)", True),
    ("[CallType] = \"INBOUND\" and [Digits] >= 12", True),
])
def test_filter_spec(spec: str, holds: bool) -> None:
    assert compile_filter_spec(spec)(FIELDS) is holds


@pytest.mark.parametrize(("spec", "message", "offset"), [
    ("[ANI] = ", "unexpected end of FilterSpec", 8),
    ("[ANI] = '1' AND AND", "expected a [field], a quoted value or a number, found 'AND'", 16),
    ("([ANI] = '1'", "unexpected end of FilterSpec", 12),
    ("[ANI] IS 'x'", "expected NULL, found \"'x'\"", 9),
    ("[ANI] ~ 1", "unexpected character '~'", 6),
    ("[] = 1", "empty field name []", 0),
])
def test_filter_spec_errors_say_what_and_where(spec: str, message: str, offset: int) -> None:
    with pytest.raises(FilterSpecError) as info:
        compile_filter_spec(spec)
    assert (info.value.message, info.value.offset) == (message, offset)
