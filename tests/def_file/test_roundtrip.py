"""parse(write(model)) == model, for generated models and for the shipped templates."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from siebel_gateway.def_file import parse_file, parse_text
from siebel_gateway.def_file.model import DefModel, Param, section_class
from siebel_gateway.def_file.schema import SECTION_SCHEMAS
from siebel_gateway.def_file.writer import UnwritableError, write

TEMPLATES = Path(__file__).parents[2] / "def_templates"

_name_chars = st.characters(blacklist_categories=["Cs", "Cc", "Zl", "Zp"],
                            blacklist_characters="[]=\"';.#\\")
names = st.text(_name_chars, min_size=1, max_size=12).map(str.strip).filter(bool)
values = st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\r\n\x00"
                               "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"), max_size=30)


@st.composite
def params(draw: st.DrawFn) -> Param:
    base = draw(names)
    kind = draw(st.sampled_from(["plain", "sub", "quoted"]))
    value = draw(values)
    if kind == "plain":
        return Param(base, value)
    sub = draw(names)
    quote = draw(st.sampled_from(["'", '"'])) if kind == "quoted" else ""
    return Param(base, value, sub, quote)


@st.composite
def models(draw: st.DrawFn) -> DefModel:
    sections = []
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(list(SECTION_SCHEMAS)))
        name = draw(names) if SECTION_SCHEMAS[kind].named else ""
        ps = tuple(draw(st.lists(params(), max_size=6)))
        sections.append(section_class(kind)(kind, name, ps))
    return DefModel(tuple(sections))


@settings(max_examples=300)
@given(models())
def test_generated_models_round_trip(model: DefModel) -> None:
    result = parse_text(write(model))
    assert result.errors == []
    assert result.model == model


@pytest.mark.parametrize("template", sorted(TEMPLATES.glob("siebel-*.def")), ids=lambda p: p.name)
def test_templates_round_trip(template: Path) -> None:
    model = parse_file(template).model
    assert parse_text(write(model)).model == model


@pytest.mark.parametrize("bad", [
    Param("Title", "two\nlines"),
    Param("Na=me", "x"),
    Param("Param", "x", "it's", "'"),
    Param(" Title", "x"),
])
def test_values_the_format_cannot_hold_are_refused_not_mangled(bad: Param) -> None:
    model = DefModel((section_class("Command")("Command", "C", (bad,)),))
    with pytest.raises(UnwritableError, match=r"\[Command:C\]"):
        write(model)
