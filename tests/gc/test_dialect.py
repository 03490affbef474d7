from __future__ import annotations

from pathlib import Path

import pytest

from siebel_gateway.def_file import DefFileError
from siebel_gateway.gc.dialect import load_dialect
from siebel_gateway.resources import template_path


def test_default_dialect_has_every_public_command_and_event() -> None:
    d = load_dialect()
    types = {c.type_template.split("#")[0] for c in d.commands.values()}
    assert types >= {"Hello", "Beat", "Connect", "Login", "Logout", "MakeReady", "MakeNotReady",
                     "MakeNotReadyWithReason", "GetState", "force_logout", "MakeCall",
                     "AnswerCall", "HoldCall", "RetrieveCall", "ReleaseCall", "Transfer_sst",
                     "ConsultCall", "TransferCall", "ConferenceCall", "GetDialogState",
                     "wrapupreasoncode", "reasoncodelogout", "reasoncodenotready"}
    assert set(d.events) >= {"IN_SERVICE", "OUT_OF_SERVICE", "AgentInfo", "State", "ReasonCodes",
                             "NewInboundCall", "InboundCall", "ConsultCall", "DialogStatus",
                             "Error"}


def test_public_positions_are_kept() -> None:
    d = load_dialect()
    state = {f.position: f.name for f in d.events["State"].fields}
    assert (state[2], state[3], state[7], state[9]) == ("State", "ReasonCode", "FullName",
                                                       "Extension")
    info = {f.position: f.name for f in d.events["AgentInfo"].fields}
    assert [info[i] for i in range(2, 9)] == ["FirstName", "LastName", "IsSupervisor",
                                              "WrapUpMode", "TeamCount", "Teams", "FullName"]


def test_a_broken_dialect_file_names_every_problem(tmp_path: Path) -> None:
    text = template_path("gc-dialect.def").read_text()
    text = text.replace('Field.3 = "ReasonCode:int"', 'Field.3 = "ReasonCode:integer"')
    text = text.replace('[GCEvent:Error]\nField.2', '[GCEvent:Error]\nField.1')
    text = text.replace('Type    = "MakeCall#{AgentId}"', 'Tpye    = "MakeCall#{AgentId}"')
    bad = tmp_path / "dialect.def"
    bad.write_text(text)
    with pytest.raises(DefFileError) as info:
        load_dialect(bad)
    messages = [p.format() for p in info.value.problems]
    assert any("unknown field type 'integer'" in m for m in messages)
    assert any("field positions are numbers from 2" in m for m in messages)
    assert any("[GCCommand:MakeCall] has no Type" in m for m in messages)
    assert any("unknown parameter 'Tpye'" in m and "did you mean 'Type'" in m for m in messages)
    assert all(m.startswith(str(bad)) for m in messages)


def test_siebel_files_cannot_hold_dialect_sections() -> None:
    from siebel_gateway.def_file import parse_text

    result = parse_text('[GCEvent:State]\nField.2 = "State"\n')
    assert "unknown section type 'GCEvent'" in result.errors[0].message


def test_catalogue_positions_are_the_public_ones_and_checked(tmp_path: Path) -> None:
    d = load_dialect()
    assert {n: e.catalogue for n, e in d.events.items()} == {
        "IN_SERVICE": (), "OUT_OF_SERVICE": (), "AgentInfo": (2, 3, 4, 5, 6, 7, 8),
        "State": (2, 3, 7, 9), "ReasonCodes": (3, 4), "NewInboundCall": (2, 4),
        "InboundCall": (2, 3, 4), "ConsultCall": (2, 3, 4), "DialogStatus": (), "Error": (3,)}
    text = template_path("gc-dialect.def").read_text()
    bad = tmp_path / "dialect.def"
    bad.write_text(text.replace('Catalogue = "2,3,7,9"', 'Catalogue = "2,3,17,x"'))
    with pytest.raises(DefFileError) as info:
        load_dialect(bad)
    messages = [p.format() for p in info.value.problems]
    assert any("[GCEvent:State] Catalogue: '17' is not the position" in m for m in messages)
    assert any("[GCEvent:State] Catalogue: 'x' is not the position" in m for m in messages)
