"""What the gateway and the simulator need from a broker link, and the URL forms it takes.

    memory://                                   in-process broker (embedded default, fast tests)
    stomp://host:61613                          ActiveMQ over STOMP
    stomp+ssl://host:61612                      the same over TLS
    failover:(stomp://a:61613,stomp://b:61613)  an ordered list, tried in turn (ActiveMQ's form)
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from twisted.internet.defer import Deferred

from ..core.broker_messages import BrokerMessage

__all__ = ["BrokerEndpoint", "BrokerLink", "LinkDownError", "LinkStatus", "parse_broker_url"]

MessageHandler = Callable[[BrokerMessage], None]


class LinkDownError(Exception):
    """A publish that could not reach the broker; the message was not sent."""


@dataclass(frozen=True)
class LinkStatus:
    #: True when connected and subscribed.
    up: bool
    #: Why the status changed, for logs and for the agent's status line.
    reason: str
    #: ``host:port`` of the broker now in use ("" when down).
    broker: str = ""
    #: True on an "up" that follows a loss: everything must be resynchronised.
    recovered: bool = False


StatusHandler = Callable[[LinkStatus], None]


class BrokerLink(Protocol):
    def start(self) -> Deferred[None]: ...
    def stop(self) -> Deferred[None]: ...
    def subscribe(self, destination: str, handler: MessageHandler) -> None: ...
    def publish(self, message: BrokerMessage) -> Deferred[None]: ...
    def on_status(self, handler: StatusHandler) -> None: ...
    @property
    def is_up(self) -> bool: ...


@dataclass(frozen=True)
class BrokerEndpoint:
    scheme: str  # "memory", "stomp" or "stomp+ssl"
    host: str = ""
    port: int = 0

    @property
    def tls(self) -> bool:
        return self.scheme == "stomp+ssl"

    def __str__(self) -> str:
        return "memory://" if self.scheme == "memory" else f"{self.scheme}://{self.host}:{self.port}"


_ONE = re.compile(r"(?P<scheme>stomp|stomp\+ssl)://(?P<host>\[[^\]]+\]|[^:/\s]+):(?P<port>\d+)/?")


def parse_broker_url(url: str) -> tuple[BrokerEndpoint, ...]:
    """Parse a broker URL; raises ``ValueError`` saying what is wrong with it."""
    text = url.strip()
    if text in ("memory://", "memory:"):
        return (BrokerEndpoint("memory"),)
    if text.startswith("failover:"):
        inner = text[len("failover:"):].split("?", 1)[0]
        if not (inner.startswith("(") and inner.endswith(")")):
            raise ValueError(f"broker URL {url!r}: write failover:(stomp://host:port,...)")
        parts = [p.strip() for p in inner[1:-1].split(",") if p.strip()]
        if not parts:
            raise ValueError(f"broker URL {url!r}: the failover list is empty")
        return tuple(e for p in parts for e in parse_broker_url(p))
    m = _ONE.fullmatch(text)
    if m is None:
        raise ValueError(f"broker URL {url!r} is not memory://, stomp://host:port, "
                         "stomp+ssl://host:port or failover:(...)")
    port = int(m["port"])
    if not 0 < port < 65536:
        raise ValueError(f"broker URL {url!r}: port {port} is out of range")
    return (BrokerEndpoint(m["scheme"], m["host"].strip("[]"), port),)
