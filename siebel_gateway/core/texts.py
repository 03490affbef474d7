"""Agent-facing texts by Siebel language code (ShowStatusText, HandleError).

The catalogue is plain data: ``{"ENU": {"status.ready": "Ready", ...}, "DEU": {...}}``,
loaded from ``messages_<LANG>.def`` files by ``siebel_gateway.locales``.  A key missing
in a language falls back to ENU; a key missing everywhere (or a placeholder with no value)
still gives readable text, never an exception: a wrong translation must not cost a call.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["DEFAULT_LANGUAGE", "Catalog"]

DEFAULT_LANGUAGE = "ENU"
_PLACEHOLDER = re.compile(r"\{([A-Za-z][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class Catalog:
    languages: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def has(self, language: str) -> bool:
        return language.upper() in self.languages

    def lookup(self, language: str, key: str) -> str | None:
        for lang in (language.upper(), DEFAULT_LANGUAGE):
            text = self.languages.get(lang, {}).get(key)
            if text is not None:
                return text
        return None

    def text(self, language: str, key: str, **values: object) -> str:
        template = self.lookup(language, key)
        if template is None:
            shown = ", ".join(f"{k}={v}" for k, v in values.items())
            return f"{key} ({shown})" if shown else key

        def fill(m: re.Match[str]) -> str:
            value = values.get(m.group(1))
            return m.group(0) if value is None else str(value)

        return _PLACEHOLDER.sub(fill, template)
