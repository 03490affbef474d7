"""Which text tells an agent that a GC command never reached the GC (issue 12 D6), sans-IO.

The shell (``adapters/pacing.py``) reports such a command as ``publish_failed(ref, why)``:

* ``why`` starts with ``effects.GATEWAY_BUSY``: the gateway could not hand the command to
  the broker in time (its pacing queue was full, or the broker kept refusing it for flow
  control / a resource limit and it was retried until ``CommandTimeoutSeconds``).  When the
  broker had refused it, its reason follows ``SAID``: the agent reads it.
* ``why`` starts with ``REFUSED``: the broker refused it for a reason retrying cannot fix
  (not authorized to write to the GC's queue, an unknown destination); reported at once
  with the broker's reason.
* anything else: the link to the broker is down.

The reason is the broker's text as the shell bounded and escaped it.
"""

from __future__ import annotations

from .effects import GATEWAY_BUSY

__all__ = ["LIMIT", "REFUSED", "SAID", "agent_text"]

#: How the shell starts the reason of a command the broker refused for good.
REFUSED = "the broker refused it: "
#: What separates a busy reason from the broker's refusal text behind it.
SAID = "; the broker said: "
#: The longest reason an agent reads (the shell bounds it before; this is the backstop).
LIMIT = 300


def agent_text(why: str) -> tuple[str, dict[str, str]]:
    """The catalogue key telling an agent why a command was not sent, and its values
    besides ``Command``."""
    if why.startswith(REFUSED):
        return "error.broker_refused", {"Reason": why[len(REFUSED):][:LIMIT]}
    if why.startswith(GATEWAY_BUSY):
        _, said, reason = why.partition(SAID)
        return ("error.busy_refused", {"Reason": reason[:LIMIT]}) if said else ("error.busy", {})
    return "error.network", {}
