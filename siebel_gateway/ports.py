"""Structural types for what the shells need from Twisted (zope interfaces are not
typing Protocols, so these say the same in a form mypy --strict understands).
``twisted.internet.task.Clock`` and the real reactor both satisfy them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

__all__ = ["Clock", "DelayedCall", "ThreadHandoff"]


class DelayedCall(Protocol):
    def active(self) -> bool: ...
    def cancel(self) -> None: ...


class Clock(Protocol):
    def seconds(self) -> float: ...
    def callLater(self, delay: float, callable: Callable[..., Any],  # noqa: N802 (Twisted)
                  *args: Any, **kw: Any) -> Any: ...


class ThreadHandoff(Protocol):
    def callFromThread(self, callable: Callable[..., Any],  # noqa: N802 (Twisted)
                       *args: Any, **kw: Any) -> None: ...
