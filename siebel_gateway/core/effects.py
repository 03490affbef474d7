"""What the core asks its shell to do.  The core never performs I/O; it returns these,
in order, and the shell carries them out in that order (so callbacks of one service keep
the order the core decided)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .broker_messages import BrokerMessage

__all__ = ["GATEWAY_BUSY", "CancelTimer", "Effect", "Key", "Log", "Publish", "StartTimer",
           "ToScs"]

#: How a ``publish_failed`` reason starts when the shell's pacing queue could not hand the
#: command to the broker in time (adapters/pacing.py): the agent is told the gateway is
#: busy, not that the switch is unreachable.
GATEWAY_BUSY = "gateway busy: "


@dataclass(frozen=True, slots=True)
class Key:
    """Names a timer or a publish: who owns it, what kind it is, which one.

    ``owner`` is ``"gateway"`` or a service handle (``svc-3``); ``kind`` says what it is
    about (core: ``cmd`` a GC command awaiting its answer, ``notify`` an event awaiting
    NotifyEventHandlingFinished, ``beat``/``answer`` the GC heartbeat, or the GC command
    name of a gateway publish; the simulator has its own kinds); ``id`` tells one from
    another (a sequence number, a tracking id).  Its text, ``owner:kind[:id]``, is what a
    trace records; ``parse`` reads it back for replay.
    """

    owner: str
    kind: str
    id: str = ""

    def __str__(self) -> str:
        return f"{self.owner}:{self.kind}:{self.id}" if self.id else f"{self.owner}:{self.kind}"

    @classmethod
    def parse(cls, text: str) -> Key:
        owner, _, rest = text.partition(":")
        kind, _, ident = rest.partition(":")
        return cls(owner, kind, ident)


@dataclass(frozen=True)
class ToScs:
    """A JSON-RPC object (result or callback) for one SCS connection."""

    connection: int
    message: Mapping[str, Any]


@dataclass(frozen=True)
class Publish:
    """A GC command for the broker; ``ref`` comes back in ``publish_failed`` if it fails."""

    message: BrokerMessage
    ref: Key | None = None


@dataclass(frozen=True)
class StartTimer:
    key: Key
    delay: float


@dataclass(frozen=True)
class CancelTimer:
    key: Key


@dataclass(frozen=True)
class Log:
    """A log line; ``fields`` never hold secrets (the core redacts before logging)."""

    level: str  # "debug" | "info" | "warn" | "error"
    text: str
    fields: Mapping[str, Any] = field(default_factory=dict)


Effect = ToScs | Publish | StartTimer | CancelTimer | Log
