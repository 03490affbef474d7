from __future__ import annotations

import pytest

from siebel_gateway.def_file.macros import MacroContext, apply_dialing_rules, expand

CTX = MacroContext(
    values={"ANI": "4155550100", "@AgentId": "1001", "Contact.Account Id": "1-ABC",
            "@SelectedWorkItem:DriverWorkTrackID": "D42", "Phone #": "+1 (415) 555-0100",
            "Last Name": "Smith"},
    dialing_rules=(("Rule2", "+->011"), ("Rule1", "+1->1"), ("Rule9", "->")),
)


@pytest.mark.parametrize(("text", "expected"), [
    ("plain text", "plain text"),
    ("650477{ANI}", "6504774155550100"),
    ("{@AgentId}", "1001"),
    ("{@agentid}", "1001"),  # @ macros are case-insensitive
    ("{Contact.'Account Id'}", "1-ABC"),
    ('{Contact."Account Id"}', "1-ABC"),
    ("{@SelectedWorkItem:DriverWorkTrackID}", "D42"),
    ("{Phone #:Lookup}", "14155550100"),
    ("{Phone #:Number}", "14155550100"),
    ("{Phone #:2-4}", "415"),
    ("[Last Name]", "Smith"),
    ("\\{Hi\\}", "{Hi}"),
    ("a\\:b", "a:b"),
    ("C:\\temp", "C:\\temp"),  # a backslash before an ordinary character stays
])
def test_expansion(text: str, expected: str) -> None:
    result = expand(text, CTX)
    assert (result.text, result.unknown) == (expected, ())


def test_unknown_names_stay_visible_and_are_reported() -> None:
    result = expand("Call {ANI} for {@Nope} and {Missing.Field} {$Func(a, b)}", CTX)
    assert result.text == "Call 4155550100 for {@Nope} and {Missing.Field} {$Func(a, b)}"
    assert result.unknown == ("{@Nope}", "{Missing.Field}", "{$Func(a, b)}")


def test_unclosed_brace_is_reported() -> None:
    result = expand("x {ANI", CTX)
    assert result.text == "x {ANI"
    assert result.unknown == ("{ANI",)


def test_brackets_are_search_spec_syntax_where_asked() -> None:
    assert expand("[Last Name] = '{ANI}'", CTX, brackets=False).text == "[Last Name] = '4155550100'"


def test_dialing_rules_go_in_string_order_of_their_names() -> None:
    rules = (("Rule11", "4->X"), ("Rule2", "41->Y"))
    assert apply_dialing_rules("415", rules) == "X15"  # "Rule11" < "Rule2"
    assert apply_dialing_rules("+33 1 23", (("R1", "+33->901133"),)) == "901133123"
