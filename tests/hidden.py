"""The one check that a secret is not shown: it fails naming where and which secret (by
its position in the list), never the secret itself, so a failing run's output does not
print it in clear either (pytest shows both sides of a plain ``assert s not in text``)."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["assert_hidden"]


def assert_hidden(text: str | bytes, secrets: Iterable[str], where: str) -> None:
    """Fail when any of ``secrets`` occurs in ``text`` (str, or bytes as UTF-8)."""
    found = [f"#{i} ({len(s)} chars) at offset {at}" for i, s in enumerate(secrets)
             if (at := (text.find(s.encode()) if isinstance(text, bytes) else text.find(s)))
             >= 0]
    assert not found, f"secret(s) in clear in {where}: {', '.join(found)}"
