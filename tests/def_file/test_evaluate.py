from __future__ import annotations

from pathlib import Path

from siebel_gateway.def_file import parse_text
from siebel_gateway.def_file.evaluate import evaluate_event
from siebel_gateway.def_file.parser import parse_file

TEMPLATES = Path(__file__).parents[2] / "def_templates"
UCCE = parse_file(TEMPLATES / "siebel-ucce.def").model

HEAD = '[Siebel]\nCommServerVersion = "7.0"\n'


def test_lowest_order_matching_handler_wins_and_response_is_expanded() -> None:
    ev = evaluate_event(UCCE, "EventRinging", {"CallType": "INBOUND", "ANI": "4155550100",
                                               "DNIS": "8005550100"})
    assert ev.handler == "InboundCallANI"
    assert ev.matched == ("InboundCallANI", "InboundCallAnonymous")
    assert ev.response == "ANIPopResponse"
    params = dict(ev.parameters)
    assert params["QuerySpec"] == "'Work Phone #'='4155550100'"
    assert params["FindField.'Work Phone #'"] == "4155550100"
    assert ev.logs == ("IncomingCallContactFound", "IncomingCallMultipleContacts",
                       "IncomingCallContactNotFound")
    assert not ev.ambiguous


def test_screen_pop_on_call_variables_ecc_and_ced() -> None:
    ev = evaluate_event(UCCE, "EventRinging", [("ANI", "1"), ("CallVariable1", "1-23456")])
    assert ev.handler == "InboundCallServiceRequest"
    assert dict(ev.parameters)["QuerySpec"] == "[SR Number] = '1-23456'"
    ev = evaluate_event(UCCE, "EventRinging", [("ANI", "1"), ("user.AccountId", "1-XY")])
    assert ev.handler == "InboundCallECCAccount"
    ev = evaluate_event(UCCE, "EventRinging", [("ANI", "1"), ("CED", "12")])
    assert ev.handler == "InboundCallANI"  # CED needs at least three digits (???*)
    ev = evaluate_event(UCCE, "EventRinging", [("CED", "123456")])
    assert ev.handler == "InboundCallCED"


def test_consulted_agent_gets_the_consult_pop() -> None:
    ev = evaluate_event(UCCE, "EventRinging", {"CallType": "CONSULT", "ANI": "4155550100"})
    assert (ev.handler, ev.logs) == ("ConsultCallPop", ("ConsultReceivedLog",))


def test_no_handler_for_an_unknown_event() -> None:
    ev = evaluate_event(UCCE, "EventNobodyListensTo", {})
    assert (ev.handler, ev.candidates, ev.response, ev.parameters) == (None, (), None, ())


def test_ties_are_broken_by_file_position_and_flagged() -> None:
    model = parse_text(HEAD + """
[EventHandler:Second]
DeviceEvent = "E"
Order = "5"
Response = "R2"
[EventHandler:First]
DeviceEvent = "E"
Order = "5"
Response = "R1"
[EventHandler:Early]
DeviceEvent = "E"
Order = "10"
Filter.X = "never"
Response = "R1"
[EventResponse:R1]
[EventResponse:R2]
""").model
    ev = evaluate_event(model, "E", {})
    assert (ev.handler, ev.ambiguous, ev.candidates) == ("Second", True,
                                                         ("Second", "First", "Early"))


def test_order_compares_as_integers_and_profiles_filter() -> None:
    model = parse_text(HEAD + """
[EventHandler:Ten]
DeviceEvent = "E"
Order = "10"
Response = "R"
[EventHandler:Two]
DeviceEvent = "E"
Order = "2"
Profile = "Other"
Response = "R"
[EventResponse:R]
""").model
    assert evaluate_event(model, "E", {}).handler == "Two"
    assert evaluate_event(model, "E", {}, profile="Mine").handler == "Ten"


def test_filter_spec_with_macros_decides() -> None:
    model = parse_text(HEAD + """
[EventHandler:H]
DeviceEvent = "E"
Order = "1"
FilterSpec = "[ANI] = '{@MyLine}'"
Response = "R"
[EventResponse:R]
Comments = "for {@UserName}"
""").model
    ev = evaluate_event(model, "E", {"ANI": "7"}, macros={"@MyLine": "7"})
    assert ev.handler == "H"
    assert ev.unexpanded == ("{@UserName}",)
    assert evaluate_event(model, "E", {"ANI": "8"}, macros={"@MyLine": "7"}).handler is None
    ev = evaluate_event(model, "E", {"ANI": "7"}, macros={"@MyLine": "7", "@UserName": "jd"})
    assert dict(ev.parameters)["Comments"] == "for jd"
