"""Site locale files overlay the shipped texts key by key (docs/operations.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from siebel_gateway.def_file import DefFileError
from siebel_gateway.locales import load_catalog


def test_a_site_file_overrides_one_text_and_keeps_the_other_shipped_ones(
        tmp_path: Path) -> None:
    shipped = load_catalog()
    assert shipped.text("DEU", "status.ready") == "Bereit"
    (tmp_path / "messages_DEU.def").write_text(
        '[Messages]\nstatus.ready = "Anrufbereit"\n', encoding="utf-8")
    site = load_catalog(tmp_path)
    assert site.text("DEU", "status.ready") == "Anrufbereit"
    # every other German text is still the shipped German one, not English
    assert site.text("DEU", "status.not_ready") == "Nicht bereit"
    assert site.text("DEU", "status.logged_in", FullName="Ada", Extension="2001") == \
        shipped.text("DEU", "status.logged_in", FullName="Ada", Extension="2001")
    assert site.languages["DEU"].keys() == shipped.languages["DEU"].keys()
    assert site.text("ENU", "status.ready") == shipped.text("ENU", "status.ready")


def test_files_passed_in_overlay_per_key_too_and_a_new_language_falls_back_to_enu() -> None:
    site = load_catalog(files={
        "messages_FRA.def": b'[Messages]\nstatus.held = "En attente (site)"\n',
        "messages_ITA.def": b'[Messages]\nstatus.ready = "Pronto"\n'})
    shipped = load_catalog()
    assert site.text("FRA", "status.held") == "En attente (site)"
    assert site.text("FRA", "status.ready") == shipped.text("FRA", "status.ready")
    assert site.text("ITA", "status.ready") == "Pronto"
    assert site.text("ITA", "status.held") == shipped.text("ENU", "status.held")


def test_a_broken_site_file_is_refused_naming_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "messages_DEU.def").write_text('[Messages]\nstatus.ready = "open\n',
                                               encoding="utf-8")
    with pytest.raises(DefFileError) as err:
        load_catalog(tmp_path)
    assert "messages_DEU.def:2" in str(err.value)


def test_every_language_tells_the_agent_that_a_dtmf_hash_cannot_be_sent() -> None:
    """The GC protocol has no escape for its delimiters (docs/gc-dialect.md): the refusal an
    agent reads names them, in every shipped language."""
    shipped = load_catalog()
    for language in ("ENU", "DEU", "FRA", "ESN", "ARA"):
        text = shipped.text(language, "error.bad_value", Command="SendDTMF", Param="Digits")
        assert text.startswith("SendDTMF") and "Digits" in text, language
        assert "#" in text and "DTMF" in text and "|" in text, language


def test_the_templates_help_says_which_digits_can_be_sent() -> None:
    from siebel_gateway.def_file import load_file

    root = Path(__file__).parents[1] / "def_templates"
    for flavour in ("ucce", "uccx"):
        help_text = load_file(root / f"siebel-{flavour}.def").commands["SendDTMFCmd"] \
            .get("Description") or ""
        assert "A # cannot be sent" in help_text, flavour
        assert ("A-D" in help_text) is (flavour == "ucce"), flavour
