"""Where the shipped DEF files are: beside the package in a checkout, inside it when installed."""

from __future__ import annotations

from pathlib import Path

__all__ = ["template_path"]

_PACKAGE = Path(__file__).resolve().parent


def template_path(name: str) -> Path:
    for candidate in (_PACKAGE / "_def_templates" / name, _PACKAGE.parent / "def_templates" / name):
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"shipped file {name!r} not found (looked in {_PACKAGE}/_def_templates "
                            f"and {_PACKAGE.parent}/def_templates)")
