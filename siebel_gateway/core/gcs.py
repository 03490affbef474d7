"""Which Generic Connector serves which agent: the duplex decision, sans-IO.

A gateway names one GC (simplex) or two (duplex, ``[GenericConnector] Queue =
"Connector1, Connector2"``).  Each GC has its own status, decided here from what the shell
and the GC report:

* ``LINK_DOWN``      its broker link is down;
* ``WAITING``        link up, Hello sent, no answer yet;
* ``IN_SERVICE``     its last answer (or event) said IN_SERVICE;
* ``OUT_OF_SERVICE`` its last answer said OUT_OF_SERVICE;
* ``SILENT``         nothing answered for ``HeartbeatSeconds x missed_limit`` (the
                     gateway's silence deadline, ``core/duplex.py``).

Only an IN_SERVICE GC on a live link is *usable*.  ``Mode``:

* ``SIMPLEX``: one GC, every agent on it (exactly the gateway of before duplex);
* ``ACTIVE_PASSIVE``: every agent on the active GC; when it stops being usable and the
  other one is, the other becomes active (no fail-back unless the new one fails in turn,
  or ``fail_back`` is set and the first GC is usable again).  While no agent is placed,
  the first GC in service (in ``Queue`` order) is the active one, so which GC answered
  Hello first at start-up does not decide it;
* ``ACTIVE_ACTIVE``: each agent has a home GC (stable: a CRC of the agent id); an agent whose
  GC is not usable is placed on, or moved to, the other; a GC that returns takes new
  logins of its agents again (agents already moved stay where they are).

``reselect`` returns the moves an outage decided; the gateway resynchronises each moved
agent on its new GC (``failover.switch``).
"""

from __future__ import annotations

import enum
import zlib
from dataclasses import dataclass, field

__all__ = ["GcSet", "GcStatus", "GcTrack", "Mode", "Move", "parse_mode"]


class Mode(enum.Enum):
    SIMPLEX = "simplex"
    ACTIVE_PASSIVE = "active-passive"
    ACTIVE_ACTIVE = "active-active"


def parse_mode(text: str) -> Mode:
    """``simplex``, ``active-passive`` or ``active-active`` (any case); ``ValueError``
    naming the choices otherwise."""
    value = text.strip().lower()
    for mode in Mode:
        if mode.value == value:
            return mode
    raise ValueError(f"Mode must be simplex, active-passive or active-active, not {text!r}")


class GcStatus(enum.Enum):
    LINK_DOWN = "LINK_DOWN"
    WAITING = "WAITING"
    IN_SERVICE = "IN_SERVICE"
    OUT_OF_SERVICE = "OUT_OF_SERVICE"
    SILENT = "SILENT"


@dataclass
class GcTrack:
    """One GC as the gateway sees it."""

    queue: str
    link_up: bool = False
    status: GcStatus = GcStatus.LINK_DOWN
    #: A Hello/Beat was sent and not answered yet.
    outstanding: bool = False
    #: Beats sent since the last answer that went a whole beat interval unanswered (the
    #: "missed heartbeat n of m" warnings; the silence deadline decides SILENT).
    missed: int = 0
    #: When the status last changed (the core's clock), for the monitor.
    since: float = 0.0

    @property
    def usable(self) -> bool:
        return self.link_up and self.status is GcStatus.IN_SERVICE

    def set(self, status: GcStatus, now: float) -> bool:
        """Records a status; True when it changed."""
        if status is self.status:
            return False
        self.status, self.since = status, now
        return True


@dataclass(frozen=True)
class Move:
    """Agent ``agent_id`` leaves GC ``source`` for GC ``target`` (indexes)."""

    agent_id: str
    source: int
    target: int


@dataclass
class GcSet:
    """The GCs, the active one and where each agent is."""

    queues: tuple[str, ...]
    mode: Mode = Mode.SIMPLEX
    missed_limit: int = 1
    fail_back: bool = False
    tracks: list[GcTrack] = field(default_factory=list)
    active: int = 0
    placed: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 1 <= len(self.queues) <= 2:
            raise ValueError("a gateway names one or two GCs")
        if len(self.queues) != len(set(self.queues)):
            raise ValueError(f"the GC queues must differ: {', '.join(self.queues)}")
        if (self.mode is Mode.SIMPLEX) != (len(self.queues) == 1):
            raise ValueError(f"Mode {self.mode.value} needs "
                             f"{'one GC' if self.mode is Mode.SIMPLEX else 'two GCs'}, "
                             f"not {len(self.queues)} ({', '.join(self.queues)})")
        if self.missed_limit < 1:
            raise ValueError("MissedHeartbeats must be at least 1")
        self.tracks = [GcTrack(q) for q in self.queues]

    # -- reading --------------------------------------------------------------------------

    @property
    def available(self) -> bool:
        """Some GC can serve agents."""
        return any(t.usable for t in self.tracks)

    def index(self, queue: str) -> int:
        return self.queues.index(queue)

    def home(self, agent_id: str) -> int:
        """The GC an agent prefers: the active one, or (active-active) by its id."""
        if self.mode is Mode.ACTIVE_ACTIVE:
            return zlib.crc32(agent_id.encode()) % len(self.tracks)
        return self.active

    def gc_of(self, agent_id: str) -> int:
        """The GC an agent is on (placing it when it is on none yet)."""
        where = self.placed.get(agent_id)
        if where is None:
            where = self.placed[agent_id] = self._choose(agent_id)
        return where

    def where(self, agent_id: str) -> int:
        """The GC an agent is on, or would be placed on now (reads only)."""
        where = self.placed.get(agent_id)
        return self._choose(agent_id) if where is None else where

    def agents_on(self, index: int) -> list[str]:
        return [a for a, i in self.placed.items() if i == index]

    def _choose(self, agent_id: str) -> int:
        if self.mode is not Mode.ACTIVE_ACTIVE:
            return self.active
        home = self.home(agent_id)
        if self.tracks[home].usable:
            return home
        other = next((i for i, t in enumerate(self.tracks) if t.usable), home)
        return other

    # -- deciding -----------------------------------------------------------------------------

    def forget(self, agent_id: str) -> None:
        """The agent left (released or signed out): the next sign-in chooses again."""
        self.placed.pop(agent_id, None)

    def link(self, index: int, up: bool, now: float) -> None:
        t = self.tracks[index]
        t.link_up, t.outstanding, t.missed = up, False, 0
        t.set(GcStatus.WAITING if up else GcStatus.LINK_DOWN, now)

    def answered(self, index: int, in_service: bool, now: float) -> None:
        """The GC said IN_SERVICE or OUT_OF_SERVICE (an answer or an event of its own)."""
        t = self.tracks[index]
        t.outstanding, t.missed = False, 0
        t.set(GcStatus.IN_SERVICE if in_service else GcStatus.OUT_OF_SERVICE, now)

    def beat_due(self, index: int) -> int:
        """Time for the next Beat: the previous Hello/Beat counts as missed when it is still
        unanswered; returns how many have been missed since the last answer (0: none)."""
        t = self.tracks[index]
        if t.outstanding:
            t.missed += 1
        return t.missed if t.outstanding else 0

    def sent(self, index: int) -> None:
        """A Hello/Beat went out to GC ``index``."""
        self.tracks[index].outstanding = True

    def silent(self, index: int, now: float) -> bool:
        """Nothing answered within the silence deadline; True when the status changed."""
        return self.tracks[index].set(GcStatus.SILENT, now)

    def reselect(self) -> list[Move]:
        """After a status change: the active GC and the agents to move (nothing moves to a
        GC that is not usable, nothing moves while none is)."""
        if self.mode is Mode.SIMPLEX:
            return []
        moves: list[Move] = []
        if self.mode is Mode.ACTIVE_PASSIVE:
            target = self.active
            # nobody to move (the first GC in service is active), or the active one failed
            if not self.placed or not self.tracks[self.active].usable:
                target = next((i for i, t in enumerate(self.tracks) if t.usable), self.active)
            elif self.fail_back and self.active != 0 and self.tracks[0].usable:
                target = 0
            if not self.tracks[target].usable:
                return []
            self.active = target
            moves = [Move(a, i, target) for a, i in self.placed.items() if i != target]
        else:
            for a, i in self.placed.items():
                if not self.tracks[i].usable:
                    target = next((j for j, t in enumerate(self.tracks) if t.usable), i)
                    if target != i:
                        moves.append(Move(a, i, target))
        for m in moves:
            self.placed[m.agent_id] = m.target
        return moves
