"""One root for the errors the gateway raises on purpose, split by who is to blame, so a
handler can tell "answer the sender with a readable refusal" from "log it as the other
side's fault" from "this is our defect".

    GatewayError
    +-- ScsFaultError  SCS (or the agent through it) asked for something that cannot be
    |                  done: a device command refused now (Refused), a driver parameter
    |                  with a bad value (DriverConfigError), a value the GC protocol cannot
    |                  carry (GcEncodeError, which names the refused field)
    +-- GcFaultError   the Generic Connector sent something that does not fit the dialect
    |                  (GcDecodeError)
    +-- DefectError    the gateway's own bug; a request that hits one (or any other
                       unexpected exception) is answered with JSON-RPC -32603
                       (``RpcError.INTERNAL``) and logged with its traceback

Malformed SCS lines are not exceptions: ``scs_wire`` answers them as ``WireError`` values
(-32700/-32600/-32601/-32602).
"""

from __future__ import annotations

__all__ = ["DefectError", "GatewayError", "GcFaultError", "ScsFaultError"]


class GatewayError(Exception):
    """Root of the gateway's own errors."""


class ScsFaultError(GatewayError):
    """SCS (or the agent) asked for something that cannot be done."""


class GcFaultError(GatewayError):
    """The Generic Connector sent something wrong."""


class DefectError(GatewayError):
    """A bug in the gateway."""
