"""The SCS listening edge: one ``ScsProtocol`` per TCP/TLS connection, and what is decided
before anything reaches the core (docs/scs-protocol.md "Authentication", docs/operations.md
"Hardening").

- Authentication: with a token configured, the first request on a connection must be
  ``Authenticate {"token": ...}``, answered here like a transport command (constant-time
  compare).  A wrong token gets code 4 and the connection is closed after a short delay;
  any other request first gets code 4 "authenticate first".
- Limits (``ScsLimits``, from ``[Server]`` in gateway.def): a maximum connection count
  (the one too many gets a JSON-RPC error line, then is closed), an idle timeout for a
  connection that has not completed a request, and output backpressure: past
  ``output_pause`` bytes of unread output the connection is not read (lines already read
  wait their turn), past ``output_close`` it is closed and its agents are handled as a
  lost connection.
"""

from __future__ import annotations

import hmac
import json
import math
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from twisted.internet.error import ConnectionDone
from twisted.internet.protocol import Factory, Protocol, connectionDone
from twisted.logger import Logger
from twisted.python.failure import Failure

from ..core.scs_wire import (
    LineDecoder,
    Request,
    RpcError,
    WireError,
    encode,
    error_message,
    parse_line,
    result_message,
)
from ..logtext import RateLimit, peer_text

if TYPE_CHECKING:
    from .gateway_service import GatewayService

__all__ = ["AUTH_METHOD", "SERVER_ERROR", "ScsLimits", "ScsProtocol", "ScsServerFactory",
           "unread_output"]

log = Logger(namespace="siebel_gateway")

AUTH_METHOD = "Authenticate"
#: JSON-RPC "server error" code of the lines this edge writes before it closes.
SERVER_ERROR = -32000
INVALID_HANDLE = 4
_INTERNAL = -32603
_DEFECT_TEXT = "internal error while handling this line; the gateway log has the details"
#: How every response line starts (scs_wire's encoder and ``_line`` keep this key order).
_RESPONSE = b'{"jsonrpc":"2.0","id":'


class _Defect:
    """A line the decoder raised on: answered -32603 in its turn."""

    id = None


@dataclass(frozen=True)
class ScsLimits:
    """0 / ``None`` switches a limit off (the defaults: what tests and the harness use)."""

    max_connections: int = 0
    idle_timeout: float = 0.0
    output_pause: int = 0
    output_close: int = 0
    token: str | None = field(default=None, repr=False)
    auth_failure_delay: float = 1.0


def unread_output(transport: object) -> int:
    """Bytes written to ``transport`` and not yet taken by the kernel (a TLS transport:
    its own pending plaintext plus the encrypted bytes below it)."""
    total = 0
    for _ in range(4):
        if transport is None:
            break
        if hasattr(transport, "_tempDataLen"):
            t = cast(Any, transport)
            return total + int(len(t.dataBuffer) - t.offset + t._tempDataLen)
        pending = getattr(transport, "_appSendBuffer", None)
        if isinstance(pending, list):
            total += sum(len(b) for b in pending)
        transport = getattr(transport, "transport", None)
    return total


def _line(message: dict[str, Any]) -> bytes:
    try:
        return encode(message)
    except UnicodeEncodeError:  # a lone surrogate echoed back: escape it
        return (json.dumps(message, separators=(",", ":")) + "\n").encode()


def _result(rid: Any, code: int, error: str = "") -> bytes:
    return _line(result_message(rid, code, error))


def _error(rid: Any, code: int, message: str) -> bytes:
    return _line(error_message(rid, code, message))


def _usable_id(rid: object) -> bool:
    if isinstance(rid, bool):
        return False
    if isinstance(rid, float):
        return math.isfinite(rid)
    return isinstance(rid, str | int)


class ScsServerFactory(Factory):
    def __init__(self, service: GatewayService, limits: ScsLimits | None = None) -> None:
        self.service = service
        self.limits = limits or ScsLimits()
        self.open = 0
        self.warnings = RateLimit(clock=service.clock.seconds, burst=5, interval=60.0)
        #: What this edge refused or cut, for an operator (and metrics).
        self.counts: dict[str, int] = {"refused": 0, "idle_closed": 0, "overflow_closed": 0,
                                       "auth_failed": 0, "paused": 0, "defects": 0}

    def buildProtocol(self, addr: Any) -> ScsProtocol:  # noqa: N802 (Twisted)
        return ScsProtocol(self.service, self)

    def warn(self, kind: str, text: str, **fields: Any) -> None:
        more = self.allowed(kind)
        if more is not None:
            log.warn(text + more, **fields)

    def allowed(self, kind: str) -> str | None:
        """``None`` when this ``kind`` of line is over its rate; else the suffix that says
        how many of it were left out before (``""`` when none were)."""
        allowed, suppressed = self.warnings.allow(kind)
        if not allowed:
            return None
        return f" ({suppressed} more like it were not logged)" if suppressed else ""


class ScsProtocol(Protocol):
    """One SCS connection: bytes -> LineDecoder -> the gateway core.  It is its transport's
    streaming producer (``pauseProducing``/``resumeProducing``): Twisted pauses it when the
    unread output passes ``bufferSize`` (set to ``output_pause``) and resumes it when the
    output has drained."""

    def __init__(self, service: GatewayService, server: ScsServerFactory | None = None) -> None:
        self.service = service
        self.server = server or ScsServerFactory(service)
        self.limits = self.server.limits
        self.decoder = LineDecoder(service.max_line)
        self.connection = 0
        self.authenticated = self.limits.token is None
        self.completed = False  # a request reached the core (or the token was right)
        self.paused = self.closing = self.refused = False
        self._cut = False  # closed for unread output: nothing more is written
        self._queue: deque[Request | WireError | _Defect] = deque()
        self._answers = 0  # response lines written (results and errors), for the guard
        self._draining = False
        self._pre = bytearray()  # before authentication: bytes of an unfinished line
        self._idle: Any = None
        self.peer = ""

    # -- connection ----------------------------------------------------------------------

    def connectionMade(self) -> None:  # noqa: N802 (Twisted)
        transport = cast(Any, self.transport)
        peer = transport.getPeer()
        self.peer = f"{peer.host}:{peer.port}" if hasattr(peer, "port") else str(peer)
        limit = self.limits.max_connections
        if limit and self.server.open >= limit:
            self.refused = self.closing = True
            self.server.counts["refused"] += 1
            self.server.warn("refused", "SCS connection from {peer} refused: {limit} "
                             "connections are open ([Server] MaxConnections)",
                             peer=self.peer, limit=limit)
            transport.write(_error(None, SERVER_ERROR, f"the gateway already serves {limit} "
                                   "connections ([Server] MaxConnections); try again later"))
            transport.loseConnection()
            return
        self.server.open += 1
        self.connection = self.service.connection_made(self, self.peer)
        # Callbacks are small writes that follow a result: without TCP_NODELAY, Nagle holds
        # them until the client's delayed ACK (40 ms on Linux) -- measured in bench_roundtrip.
        if hasattr(transport, "setTcpNoDelay"):
            transport.setTcpNoDelay(True)
        if self.limits.output_pause:
            inner = transport
            while inner is not None and not hasattr(inner, "bufferSize"):
                inner = getattr(inner, "transport", None)
            if inner is not None:
                inner.bufferSize = self.limits.output_pause
            transport.registerProducer(self, True)
        if self.limits.idle_timeout:
            self._idle = self.service.clock.callLater(self.limits.idle_timeout,
                                                      self._idle_expired)
        log.info("SCS connection {n} from {peer}", n=self.connection, peer=self.peer)

    def connectionLost(self, reason: Failure = connectionDone) -> None:  # noqa: N802
        self._stop_idle()
        if self.refused:
            return
        self.server.open -= 1
        self.closing = True
        self._queue.clear()
        if isinstance(reason.value, ConnectionDone):
            log.info("SCS connection {n} closed", n=self.connection)
        else:  # a TLS handshake failure (no or wrong client certificate) says why here
            log.info("SCS connection {n} from {peer} lost: {why}", n=self.connection,
                     peer=self.peer, why=peer_text(reason.getErrorMessage()))
        self.service.connection_lost(self.connection)

    # -- input ---------------------------------------------------------------------------

    def dataReceived(self, data: bytes) -> None:  # noqa: N802 (Twisted)
        if self.closing:
            return
        if not self.authenticated:
            rest = self._before_authentication(data)
            if rest is None:
                return
            data = rest
        # One line at a time: a line the decoder cannot cope with (a defect) then costs
        # that line only, not the lines before it in the same read.
        pieces = data.split(b"\n")
        for i, piece in enumerate(pieces):
            chunk = piece + b"\n" if i < len(pieces) - 1 else piece
            if not chunk:
                continue
            try:
                self._queue.extend(self.decoder.feed(chunk))
            except Exception:
                self._defect("reading a line")
                self._queue.append(_Defect())
        self._drain()

    def _defect(self, doing: str) -> None:
        """Log the exception being handled (rate-limited: a peer can repeat the line)."""
        self.server.counts["defects"] += 1
        more = self.server.allowed("defect")
        if more is not None:
            log.failure("gateway defect on SCS connection {n} while {doing}; the connection "
                        "goes on" + more, n=self.connection, doing=doing)

    def _drain(self) -> None:
        if self._draining:
            return
        self._draining = True
        try:
            # One batch for all the lines at hand: what they produce goes to the kernel
            # once, at the end (``GatewayService.batch``), not once per line.  A batch that
            # paused (output backpressure) and whose send drained the output resumed this
            # producer from within: the lines left are then handled in a next batch.
            while self._queue and not self.paused and not self.closing:
                with self.service.batch():
                    while self._queue and not self.paused and not self.closing:
                        self._handle(self._queue.popleft())
        finally:
            self._draining = False

    def _handle(self, item: Request | WireError | _Defect) -> None:
        """One line of the queue, in its turn; whatever it raises costs that line only."""
        if isinstance(item, _Defect):
            self.send(_error(None, _INTERNAL, _DEFECT_TEXT))
            return
        if isinstance(item, Request) and not self.completed:
            self.completed = True
            self._stop_idle()
        before = self._answers
        try:
            self.service.line_items(self.connection, [item])
        except Exception:
            # the core answers its own defects with -32603; this is the last guard,
            # so one line never costs the connection and its agents
            self._defect(f"handling {getattr(item, 'method', 'a line')}")
            if self._answers == before:
                rid = item.id if _usable_id(item.id) else None
                self.send(_error(rid, _INTERNAL, _DEFECT_TEXT))

    def _before_authentication(self, data: bytes) -> bytes | None:
        """Answer lines until the token is right; the bytes after it, or ``None``."""
        self._pre += data
        while not self.closing:
            end = self._pre.find(b"\n")
            if end < 0:
                if len(self._pre) > self.service.max_line:
                    self._pre.clear()
                    self.send(_error(None, -32600, f"line longer than "
                                     f"{self.service.max_line} bytes; it was discarded"))
                return None
            line = bytes(self._pre[:end]).rstrip(b"\r")
            del self._pre[:end + 1]
            if line.strip() and self._authenticate(line):
                rest = bytes(self._pre)
                self._pre.clear()
                return rest
        return None

    def _authenticate(self, line: bytes) -> bool:
        try:
            obj = json.loads(line)
        except (ValueError, RecursionError):
            obj = None
        if not (isinstance(obj, dict) and obj.get("method") == AUTH_METHOD):
            try:
                item = parse_line(line)
            except RecursionError:
                item = WireError(None, RpcError.PARSE, "not JSON: nested too deeply")
            if item is not None:
                # Never the line itself: a misspelt Authenticate would log the token.
                what = item.method if isinstance(item, Request) else "an invalid line"
                self.server.warn("unauthenticated", "SCS connection {n} from {peer}: {what} "
                                 "before Authenticate", n=self.connection, peer=self.peer,
                                 what=peer_text(what, 80))
            if isinstance(item, Request):
                self.send(_result(item.id if _usable_id(item.id) else None, INVALID_HANDLE,
                                  "authenticate first: this gateway needs Authenticate "
                                  '{"token": ...} as the first request on a connection'))
            elif item is not None:
                self.send(_error(item.id if _usable_id(item.id) else None, int(item.code),
                                 item.message))
            return False
        rid = obj.get("id")
        if not _usable_id(rid) or obj.get("jsonrpc") != "2.0":
            self.send(_error(None, -32600, 'Authenticate needs "jsonrpc":"2.0" and an id '
                             "(a string or a finite number)"))
            return False
        params = obj.get("params")
        token = params.get("token") if isinstance(params, dict) else None
        if not isinstance(token, str):
            self.send(_error(rid, -32602, "Authenticate: params.token must be a string"))
            return False
        expected = cast(str, self.limits.token)
        if hmac.compare_digest(token.encode("utf-8", "surrogatepass"),
                               expected.encode("utf-8")):
            self.authenticated = self.completed = True
            self._stop_idle()
            self.send(_result(rid, 0))
            log.info("SCS connection {n} authenticated", n=self.connection)
            return True
        self.server.counts["auth_failed"] += 1
        self.server.warn("auth", "SCS connection {n} from {peer}: wrong token in "
                         "Authenticate; closing it", n=self.connection, peer=self.peer)
        self.send(_result(rid, INVALID_HANDLE, "authentication failed: wrong token; the "
                          "gateway closes this connection"))
        self._close_soon(self.limits.auth_failure_delay)
        return False

    # -- output --------------------------------------------------------------------------

    def send(self, data: bytes) -> None:
        """Write one wire line; past ``output_close`` unread bytes, close the connection."""
        if self._cut or self.transport is None:
            return
        transport = cast(Any, self.transport)
        transport.write(data)
        if data.startswith(_RESPONSE):
            self._answers += 1
        limit = self.limits.output_close
        if limit and not self.closing:
            unread = unread_output(transport)
            if unread > limit:
                self.closing = self._cut = True
                self.server.counts["overflow_closed"] += 1
                self.server.warn("overflow", "SCS connection {n} from {peer} closed: it does "
                                 "not read what the gateway sends ({unread} bytes unread, "
                                 "[Server] OutputCloseBytes = {limit}); its agents are "
                                 "handled as after a lost connection", n=self.connection,
                                 peer=self.peer, unread=unread, limit=limit)
                transport.abortConnection()

    def pauseProducing(self) -> None:  # noqa: N802 (IPushProducer)
        if not self.paused and not self.closing:
            self.paused = True
            self.server.counts["paused"] += 1
            cast(Any, self.transport).pauseProducing()

    def resumeProducing(self) -> None:  # noqa: N802 (IPushProducer)
        if self.paused and not self.closing:
            self.paused = False
            cast(Any, self.transport).resumeProducing()
            self._drain()

    def stopProducing(self) -> None:  # noqa: N802 (IPushProducer)
        self.paused = True

    # -- closing -------------------------------------------------------------------------

    def _stop_idle(self) -> None:
        if self._idle is not None and self._idle.active():
            self._idle.cancel()
        self._idle = None

    def _idle_expired(self) -> None:
        self._idle = None
        if self.completed or self.closing:
            return
        self.server.counts["idle_closed"] += 1
        self.server.warn("idle", "SCS connection {n} from {peer} closed: no complete request "
                         "within {s} s ([Server] IdleTimeoutSeconds)", n=self.connection,
                         peer=self.peer, s=self.limits.idle_timeout)
        self.send(_error(None, SERVER_ERROR, f"no complete request within "
                         f"{self.limits.idle_timeout:g} s; the gateway closes this connection"))
        self.closing = True
        cast(Any, self.transport).loseConnection()

    def _close_soon(self, delay: float) -> None:
        self.closing = True
        self._stop_idle()
        transport = cast(Any, self.transport)
        self.service.clock.callLater(delay, transport.loseConnection)
