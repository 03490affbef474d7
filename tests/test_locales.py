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
