"""Siebel-side reattach (protocol v1.1, docs/scs-protocol.md): the session token a driver
gets, the grace period that keeps a driver whose connection dropped, and the resync a
service sends when ``ResumeDriverInstance`` binds it to a new connection.

The token's randomness comes from the shell with the request (``GatewayCore.request``'s
``entropy``), as the time does, so the core stays deterministic and a trace replays.
Traces never hold a token: ``mask_token`` turns it into a one-way digest, and replay hands
the core that digest as the token, so a recorded resume (right or wrong) replays the same
while nobody can resume a live session from what a trace shows.

While no connection holds a driver its services go on following the GC (their callbacks
go to connection 0, which no shell connection has); the resync is computed from the state
they kept, so nothing that happened meanwhile is lost.
"""

from __future__ import annotations

import hashlib
import hmac

from ..gc.states import CallState
from .effects import Key
from .scs_messages import (
    CleanAllWorkItem,
    IndicateNewWorkItem,
    WorkItemStarted,
    WorkItemSuspended,
)
from .state import Env, SessionState
from .step import Outcome, Step

__all__ = ["DETACHED", "GRACE", "PROTOCOL", "grace_key", "is_masked", "mask_token",
           "resync_service", "tokens_match"]

#: The SCS protocol revision this gateway speaks (APIVersion's ``protocol``).
PROTOCOL = "1.1"
#: The connection number of a driver no connection holds (the shell numbers from 1).
DETACHED = 0
#: Kind of the timer that releases a detached driver: ``Key(driver, GRACE)``.
GRACE = "grace"
_MASK = "sha256:"


def grace_key(driver: str) -> Key:
    return Key(driver, GRACE)


def is_masked(token: str) -> bool:
    return token.startswith(_MASK)


def mask_token(token: str) -> str:
    """What a trace shows of a session token: a digest (idempotent, so a masked token
    masks to itself).  Shell tokens never contain ':'; a digest never resumes them."""
    if not token or is_masked(token):
        return token
    return _MASK + hashlib.sha256(token.encode()).hexdigest()[:24]


def tokens_match(given: str, expected: str) -> bool:
    """Compared in constant time; an empty token never matches."""
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


def resync_service(st: SessionState, now: float, env: Env) -> Outcome:
    """What a service sends on a new connection, in order: CleanAllWorkItem, the agent's
    current state event, each live call as a work item (original tracking id and start
    time; a ringing call is offered again), then the toolbar (``CacheCommandInformation``
    and ``UpdateObjectInformation`` are sent whether or not they changed)."""
    handle = env.handle
    s = Step(st, env).cb(CleanAllWorkItem(handle))
    if st.agent_id:
        s = s.agent_event(now)
    for c in st.calls.calls.values():
        if c.state is CallState.ALERTING and not c.placed:
            s = s.cb(IndicateNewWorkItem(handle, tracking_id=c.tracking_id,
                                         old_tracking_id=c.old_tracking_id,
                                         description=c.description, mode=c.mode))
            continue
        s = s.cb(WorkItemStarted(handle, tracking_id=c.tracking_id,
                                 old_tracking_id=c.old_tracking_id, description=c.description,
                                 media_target_addr=st.extension, start_time=int(c.started_at)))
        if c.state is CallState.HELD:
            s = s.cb(WorkItemSuspended(handle, tracking_id=c.tracking_id))
    return s.set(last_cache=None, last_object=None).done()
