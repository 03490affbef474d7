"""How the broker link tries to get back (adapters/stomp_link.py): quick, cheap probing
while the broker's port does not answer, a backoff only for brokers that answer and still
refuse, and one log line per outage.

Two kinds of failed attempt, two delays:

* **The port does not answer** (broker process down, JVM still starting, host gone): a
  plain TCP connect to each endpoint is tried every ``probe_initial`` seconds doubling to
  ``probe_maximum`` (0.1 s to 0.5 s; a refused SYN costs the broker nothing), on the link's
  worker thread with a ``PROBE_TIMEOUT`` bound, and the full STOMP connect follows *at
  once* when one answers.  The link is therefore back at most ``probe_maximum`` plus one
  STOMP handshake after the broker listens again, however long it was down (the old
  backoff had reached 5 s by then: issue 15 measured 0.4-3.7 s after the broker was back).
* **The port answers but the STOMP connect fails** (login refused, TLS rejected, broker
  busy): ``initial`` doubling to ``maximum`` (0.25 s to 5 s) between full connects, so a
  broker that refuses is not hammered with CONNECT frames.

An outage is logged once when it starts (its first reason of each kind) and once when it
ends (how long, how many attempts), not per attempt.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from .link import BrokerEndpoint

__all__ = ["PROBE_TIMEOUT", "Backoff", "Outage", "Probe", "UnreachableError", "tcp_probe"]

#: How long one TCP probe of one endpoint may take (a host that drops SYNs).
PROBE_TIMEOUT = 1.0

#: ``endpoints -> ""`` when one of them accepts a TCP connection, else why none did.
Probe = Callable[[Sequence[BrokerEndpoint]], str]


@dataclass(frozen=True)
class Backoff:
    #: Between full STOMP connects that reached the broker and failed.
    initial: float = 0.25
    factor: float = 2.0
    maximum: float = 5.0
    #: Between TCP probes while no endpoint's port answers.
    probe_initial: float = 0.1
    probe_maximum: float = 0.5

    def delay(self, attempt: int) -> float:
        return float(min(self.maximum, self.initial * self.factor ** attempt))

    def probe_delay(self, probe: int) -> float:
        return float(min(self.probe_maximum, self.probe_initial * self.factor ** probe))


class UnreachableError(ConnectionError):
    """No endpoint's port answered the probe: nothing STOMP was tried."""


def tcp_probe(endpoints: Sequence[BrokerEndpoint], timeout: float = PROBE_TIMEOUT) -> str:
    reasons = []
    for e in endpoints:
        try:
            socket.create_connection((e.host.strip("[]"), e.port), timeout=timeout).close()
            return ""
        except OSError as exc:
            reasons.append(f"{e.host}:{e.port} {exc.strerror or exc}")
    return "; ".join(reasons) or "no endpoint"


@dataclass
class Outage:
    """One outage of the link, for its two log lines."""

    since: float
    attempts: int = 0
    told: set[str] = field(default_factory=set)

    def first(self, kind: str) -> bool:
        """Counts an attempt; True the first time this kind of failure is seen."""
        self.attempts += 1
        if kind in self.told:
            return False
        self.told.add(kind)
        return True
