"""What crosses the broker, independent of any client library (not stomp.py's Frame)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

__all__ = ["BrokerMessage"]


@dataclass(frozen=True, kw_only=True)
class BrokerMessage:
    """A text message on a destination (``/queue/x`` or ``/topic/y``) with string headers.

    ``type`` is the JMSType (STOMP header ``type``); ``expires`` the absolute expiry in epoch
    milliseconds (0: never), as ActiveMQ maps it to ``JMSExpiration``.
    """

    destination: str
    body: str = field(repr=False)  # may hold a password (Connect, Login)
    headers: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        if not self.destination.startswith(("/queue/", "/topic/", "/temp-queue/",
                                            "/remote-temp-queue/")):
            raise ValueError(f"destination {self.destination!r} is not /queue/... or /topic/...")
        if "\x00" in self.body:
            raise ValueError("a text message body cannot contain NUL (no content-length is sent)")
        object.__setattr__(self, "headers", MappingProxyType(dict(self.headers)))

    @property
    def type(self) -> str:
        return self.headers.get("type", "")
