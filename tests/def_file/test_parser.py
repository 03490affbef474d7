"""What the parser reads out of the odd syntax real DEF files contain."""

from __future__ import annotations

from siebel_gateway.def_file import parse_bytes, parse_text
from siebel_gateway.def_file.model import Command, EventHandler, EventLog

from .fixtures import DATA

HEAD = '[Siebel]\nCommServerVersion = "7.0"\n'


def load(name: str) -> object:
    path = next(DATA.glob(f"*/{name}.def"))
    return parse_bytes(path.read_bytes(), path.name).model


def test_raw_quotes_inside_a_value_are_kept() -> None:
    model = parse_text(HEAD + '[Command:M]\nDescription = "Make call to "{@SelectedText}""\n').model
    assert model.commands["M"].description == 'Make call to "{@SelectedText}"'


def test_semicolon_after_closing_quote_is_a_comment_but_inside_is_data() -> None:
    model = parse_text(HEAD + '[Command:M]\nTitle = "a;b"   ; note "quoted"\n').model
    assert model.commands["M"].title == 'a;b"   ; note "quoted'
    model = parse_text(HEAD + '[Command:M]\nTitle = "a;b"   ; note\n').model
    assert model.commands["M"].title == "a;b"


def test_backslashes_are_kept_for_macro_expansion() -> None:
    model = parse_text(HEAD + '[Command:M]\nTitle = "\\{Hi\\}"\n').model
    assert model.commands["M"].title == "\\{Hi\\}"


def test_quoted_subparameters_remember_their_quote() -> None:
    model = parse_text(HEAD + "[EventLog:L]\nLogField.'Contact Id' = \"1\"\n"
                              'LogField."Account Id" = "2"\nLogField.Plain = "3"\n').model
    log = model.logs["L"]
    assert isinstance(log, EventLog)
    assert log.log_fields == (("Contact Id", "1"), ("Account Id", "2"), ("Plain", "3"))
    assert [p.key for p in log.params] == ["LogField.'Contact Id'", 'LogField."Account Id"',
                                           "LogField.Plain"]


def test_positions_point_at_key_and_value() -> None:
    result = parse_text(HEAD + "[Command:M]\n    Title   =   \"x\"\n")
    param = result.model.commands["M"].params[0]
    assert (param.line, param.column, param.value_column) == (4, 5, 17)


def test_subcommands_sort_by_number_with_gaps() -> None:
    model = load("subcommand_gaps")
    group = model.commands["G"]  # type: ignore[attr-defined]
    assert isinstance(group, Command)
    assert group.subcommands == ((1, "A"), (3, "B"), (7, "C"), (1000, "D"))


def test_hash_lines_stay_parameters() -> None:
    model = load("hash_lines")
    log = model.logs["L"]  # type: ignore[attr-defined]
    assert [p.key for p in log.extra] == ["# THIS IS USED TO CREATE OUTBOUND",
                                          "#PERFORMED IF SIEBEL RECORD FOUND; CREATES"]


def test_crlf_and_lone_cr_lines_are_separate_lines() -> None:
    model = load("crlf")
    assert model.commands["B"].title == "Old Mac line"  # type: ignore[attr-defined]


def test_typed_handler_view() -> None:
    model = parse_text(HEAD + '[EventHandler:H]\nDeviceEvent = "EventRinging"\n'
                              'Filter.ANI = "?*"\nFilter.\'user.Acct\' = "*"\nOrder = "10"\n'
                              'Response = "R"\n').model
    handler = model.handlers["H"]
    assert isinstance(handler, EventHandler)
    assert handler.device_event == "EventRinging"
    assert handler.filters == (("ANI", "?*"), ("user.Acct", "*"))
    assert handler.order == 10
    assert handler.response == "R"


def test_problems_from_the_whole_file_come_in_one_pass() -> None:
    result = parse_text('X = "1"\n[Nope:A]\nY = "2"\n[Command:A\n[Command:B]\nZ = "3\njunk\n')
    assert [(p.line, p.severity.value) for p in result.problems] == [
        (1, "error"), (2, "error"), (4, "error"), (6, "error"), (7, "error")]
