"""What the core asks its shell to do.  The core never performs I/O; it returns these,
in order, and the shell carries them out in that order (so callbacks of one service keep
the order the core decided)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .broker_messages import BrokerMessage

__all__ = ["CancelTimer", "Effect", "Log", "Publish", "StartTimer", "ToScs"]


@dataclass(frozen=True)
class ToScs:
    """A JSON-RPC object (result or callback) for one SCS connection."""

    connection: int
    message: Mapping[str, Any]


@dataclass(frozen=True)
class Publish:
    """A GC command for the broker; ``ref`` comes back in ``publish_failed`` if it fails."""

    message: BrokerMessage
    ref: str = ""


@dataclass(frozen=True)
class StartTimer:
    key: str
    delay: float


@dataclass(frozen=True)
class CancelTimer:
    key: str


@dataclass(frozen=True)
class Log:
    """A log line; ``fields`` never hold secrets (the core redacts before logging)."""

    level: str  # "debug" | "info" | "warn" | "error"
    text: str
    fields: Mapping[str, Any] = field(default_factory=dict)


Effect = ToScs | Publish | StartTimer | CancelTimer | Log
