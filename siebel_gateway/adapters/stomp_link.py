"""The broker link over stomp.py: the only module that knows stomp.py has threads.

Facts that shape it (reference/activemq.md):

* stomp.py calls block (``connect(wait=True)``; ``send`` blocks *forever* under producer
  flow control), so every call runs on ONE worker thread, in order; the reactor only ever
  queues work and gets a Deferred back.  Completions go back the way messages come in
  (below): batched, one wake-up for whatever finished while the reactor was busy.
* Listener callbacks run on stomp.py's receiver thread.  Messages are appended to an inbox
  and the reactor is woken with ``callFromThread`` only when the inbox was empty, so a
  burst costs about one wake-up and order is kept.
* stomp.py never reconnects and never restores subscriptions, and may report one loss
  twice.  Each connection has a generation number; a loss is acted on once, then the
  broker's port is probed with plain TCP connects every 0.1-0.5 s and a new connection is
  tried as soon as it answers (a broker that answers and refuses gets a 0.25-5 s backoff;
  adapters/reconnect.py, on the injected clock), and every
  subscription is made again before the link reports itself up (``recovered=True``) so
  the core can resynchronise every agent.  A message the new connection delivers before
  that (one already waiting in a queue) is held and handled right after "up", so its
  handler can answer.
* Heartbeats (1 s by default) make a hung broker visible in about 3-4 s.  ActiveMQ sends
  a keepalive only after a whole interval in which it wrote nothing, so after a message
  its silence reaches 2x the interval (measured: 1.99 s at 1 s, 0.40 s at 200 ms);
  stomp.py's default grace of 1.5x dropped an idle link every ~30 s, so the grace here
  is 3x (``HEARTBEAT_RECEIVE_SCALE``).  The other way, the gateway offers the broker a
  10 s interval and still beats every second, so a busy process keeps its link
  (``adapters/heartbeat.py``).
* stomp.py says why a connection failed or dropped only in its own Python log (TLS
  errors, resets, heartbeat timeouts) and raises a bare ``ConnectFailedException``.  Its
  warnings are kept per thread (``stomp_support.StompPyLog``) so the thread that reports the failure
  carries the real reason into the gateway's own log and the link status.
* Every callback the reactor runs here (losses, retries, status and error handlers) is
  guarded: one handler that raises is logged and never stops reconnection.
* ``auto_content_length=False`` so the Java GC receives TextMessages, not BytesMessages.
* ``TCP_NODELAY`` on the broker socket: a command is often answered by two or three
  frames in a row, and Nagle's algorithm held the second one until the broker's delayed
  ACK (~40 ms) -- issue 14.  The broker side needs ``transport.tcpNoDelay=true`` too.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import stomp
from twisted.internet.defer import Deferred
from twisted.logger import Logger

from ..core.broker_messages import BrokerMessage
from ..ports import Clock, DelayedCall, ThreadHandoff
from .heartbeat import DEFAULT_GRACE_MS, Connection12, beat_every, offer
from .link import BrokerEndpoint, LinkDownError, LinkStatus, MessageHandler, StatusHandler
from .reconnect import Backoff, Outage, Probe, UnreachableError, tcp_probe
from .stomp_support import Batches as _Batches
from .stomp_support import StompPyLog as _StompPyLog
from .stomp_support import no_delay as _no_delay

__all__ = ["HEARTBEAT_RECEIVE_SCALE", "Backoff", "StompLink"]

log = Logger()

#: How many heartbeat intervals of silence from the broker end the connection: ActiveMQ's
#: gaps reach 2 intervals (see the module docstring), plus one of slack for a busy machine.
HEARTBEAT_RECEIVE_SCALE = 3.0


ConnectionFactory = Callable[..., Any]
_STOP = object()


class _Listener(stomp.ConnectionListener):  # type: ignore[misc]
    """Runs on stomp.py's threads: only hands things over, never acts."""

    def __init__(self, link: StompLink, generation: int) -> None:
        self.link = link
        self.generation = generation
        self.conn: Any = None
        #: The broker's reason when it answered CONNECT with ERROR (bad login, ...).
        self.refused = ""

    def on_message(self, frame: Any) -> None:
        self.link._enqueue(self.generation, frame.headers, frame.body)

    def on_receipt(self, frame: Any) -> None:
        self.link._answers.put((self.generation, frame.headers.get("receipt-id", ""), None))

    def on_error(self, frame: Any) -> None:
        message = frame.headers.get("message", "")
        receipt = frame.headers.get("receipt-id")
        if receipt and self.link._answer_handlers:  # a refused SEND the pacer will retry
            self.link._answers.put((self.generation, receipt,
                                    message or str(frame.body or "").strip()[:500]))
            return
        self.refused = self.refused or message or str(frame.body or "").strip()[:500]
        self.link._reactor.callFromThread(self.link._broker_error, self.generation,
                                          message, frame.body)

    def on_disconnected(self) -> None:
        # On a heartbeat timeout stomp.py closes the socket first, so this (on the
        # receiver thread) may arrive before on_heartbeat_timeout: look at the clock.
        reason = (self._heartbeat_overdue() or _StompPyLog.take()
                  or "the broker closed the connection")
        self.link._reactor.callFromThread(self.link._lost, self.generation,
                                          f"connection to the broker lost: {reason}")

    def on_heartbeat_timeout(self) -> None:
        reason = self._heartbeat_overdue() or "broker heartbeat missed"
        self.link._reactor.callFromThread(self.link._lost, self.generation,
                                          f"connection to the broker lost: {reason}")

    def _heartbeat_overdue(self) -> str:
        """The heartbeat timeout stomp.py acted on, or "" (no heartbeats, or in time)."""
        try:
            beat = self.conn.get_listener("protocol-listener")
            last, limit = float(beat.received_heartbeat), float(beat.receive_sleep)
        except Exception:  # not connected yet, heartbeats off, or a stomp.py without them
            return ""
        silent = time.monotonic() - last
        if not limit or silent <= limit:
            return ""
        return (f"heartbeat timeout: nothing from the broker for {silent:.2f} s "
                f"(limit {limit:.2f} s; broker hung or unreachable)")


class StompLink:
    def __init__(self, endpoints: Sequence[BrokerEndpoint], *, reactor: ThreadHandoff,
                 clock: Clock, user: str | None = None, password: str | None = None,
                 heartbeats: tuple[int, int] = (1000, 1000), backoff: Backoff | None = None,
                 ca_certs: str | None = None,
                 connection_factory: ConnectionFactory | None = None,
                 probe: Probe = tcp_probe,
                 heartbeat_grace_ms: int = DEFAULT_GRACE_MS) -> None:
        if not endpoints or any(e.scheme == "memory" for e in endpoints):
            raise ValueError("StompLink needs stomp:// or stomp+ssl:// endpoints")
        self.endpoints = tuple(endpoints)
        self._reactor = reactor
        self._clock = clock
        self._user = user
        self._password = password
        self._heartbeats = heartbeats
        self._grace_ms = heartbeat_grace_ms  # offered to the broker (adapters/heartbeat.py)
        self._backoff = backoff or Backoff()
        self._probe = probe
        #: After a loss or a failed attempt the next one probes the port first.
        self._probing = False
        self._probes = 0
        self._outage: Outage | None = None
        self._ca_certs = ca_certs
        self._factory = connection_factory or Connection12
        _StompPyLog.install()
        self._subs: list[tuple[str, MessageHandler]] = []
        self._status: list[StatusHandler] = []
        self._error_handlers: list[Callable[[str], None]] = []
        self._answer_handlers: list[Callable[[str, str | None], None]] = []
        self._answers: _Batches[tuple[int, str, str | None]] = _Batches(reactor,
                                                                        self._answered)
        self._conn: Any = None
        self._generation = 0
        self._up = False
        self._was_up = False
        self._stopping = False
        self._attempt = 0
        self._retry: DelayedCall | None = None
        self._started: Deferred[None] | None = None
        self._inbox: _Batches[tuple[int, dict[str, str], str]] = _Batches(reactor, self._drain)
        #: Messages of the connection being opened that came before it reported up.
        self._early: list[tuple[int, dict[str, str], str]] = []
        self._work: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._done: _Batches[tuple[Deferred[Any], bool, Any]] = _Batches(reactor,
                                                                         self._complete)
        self._thread: threading.Thread | None = None
        self.broker_errors = 0
        self.broker = ""

    # -- the interface the gateway uses (reactor thread) ------------------------------

    @property
    def is_up(self) -> bool:
        return self._up

    def on_status(self, handler: StatusHandler) -> None:
        self._status.append(handler)

    def on_answer(self, handler: Callable[[str, str | None], None]) -> None:
        """The broker's answer to a SEND with a ``receipt`` header: ``(receipt, None)`` when
        it took the message, ``(receipt, reason)`` when it refused it (adapters/pacing.py)."""
        self._answer_handlers.append(handler)

    def on_broker_error(self, handler: Callable[[str], None]) -> None:
        """ERROR frames (e.g. a SEND refused because the broker is full)."""
        self._error_handlers.append(handler)

    def subscribe(self, destination: str, handler: MessageHandler) -> None:
        self._subs.append((destination, handler))
        if self._up:
            sub_id, conn = str(len(self._subs) - 1), self._conn
            self._call(lambda: conn.subscribe(destination, id=sub_id, ack="auto"))

    def start(self) -> Deferred[None]:
        """Fires once connected; until then (and after any loss) it keeps trying."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._worker, name="stomp-link-sender",
                                            daemon=True)
            self._thread.start()
        self._started = Deferred()
        self._connect()
        return self._started

    def stop(self) -> Deferred[None]:
        self._stopping = True
        if self._retry is not None and self._retry.active():
            self._retry.cancel()
        self._retry = None
        conn, was_up = self._conn, self._up
        self._up = False
        self._generation += 1
        d = self._call(lambda: conn.disconnect() if conn is not None and was_up else None)
        d.addErrback(lambda _f: None)

        def finish(_: object) -> None:
            self._work.put(_STOP)

        d.addBoth(finish)
        return d

    def publish(self, message: BrokerMessage) -> Deferred[None]:
        if not self._up:
            d: Deferred[None] = Deferred()
            d.errback(LinkDownError(f"broker link is down: {message.type or message.destination} "
                               "was not sent"))
            return d
        conn = self._conn
        headers = dict(message.headers)
        return self._call(lambda: conn.send(message.destination, message.body, headers=headers))

    # -- worker thread ----------------------------------------------------------------

    def _call(self, fn: Callable[[], Any]) -> Deferred[Any]:
        d: Deferred[Any] = Deferred()
        self._work.put((fn, d))
        return d

    def _worker(self) -> None:
        while True:
            item = self._work.get()
            if item is _STOP:
                return
            fn, d = item
            try:
                done: tuple[Deferred[Any], bool, Any] = (d, True, fn())
            except Exception as exc:  # handed to the reactor as a failure, never lost
                done = (d, False, exc)
            # Completions are batched like incoming messages: the reactor is woken only
            # when none was waiting.  Measured interleaved with one wake per completion:
            # the same round trip, ~10 % more one-way sends (docs/performance.md).
            self._done.put(done)

    def _complete(self, batch: list[tuple[Deferred[Any], bool, Any]]) -> None:
        for d, ok, value in batch:
            try:
                if ok:
                    d.callback(value)
                else:
                    d.errback(value)
            except Exception:  # one broken completion must not strand the rest
                log.failure("completing a broker call failed")

    def _open(self, generation: int, probe: bool = False) -> str:
        if probe:  # cheap first: is any broker port answering at all?
            why = self._probe(self.endpoints)
            if why:
                raise UnreachableError(f"no answer on {why}")
        hosts = [(e.host, e.port) for e in self.endpoints]
        conn = self._factory(hosts, heartbeats=offer(self._heartbeats, self._grace_ms),
                             auto_content_length=False,
                             heart_beat_receive_scale=HEARTBEAT_RECEIVE_SCALE,
                             reconnect_attempts_max=1, reconnect_sleep_initial=0.1)
        if any(e.tls for e in self.endpoints):
            conn.set_ssl(for_hosts=[(e.host, e.port) for e in self.endpoints if e.tls],
                         ca_certs=self._ca_certs)
        listener = _Listener(self, generation)
        listener.conn = conn
        conn.set_listener("siebel-gateway", listener)
        _StompPyLog.take()  # only what this attempt logs explains its failure
        try:
            conn.connect(self._user, self._password, wait=True)
        except Exception as exc:
            # stomp.py raises a bare ConnectFailedException; the reason is in its log
            # (TLS: CERTIFICATE_VERIFY_FAILED, refused, reset) or in the broker's ERROR.
            why = ("the broker refused the login: " + listener.refused if listener.refused
                   else _StompPyLog.take() or str(exc) or type(exc).__name__)
            raise ConnectionError(why) from exc
        _no_delay(conn)
        beat_every(conn, self._heartbeats[0])
        for i, (destination, _handler) in enumerate(self._subs):
            conn.subscribe(destination, id=str(i), ack="auto")
        self._conn = conn
        host, port = conn.transport.current_host_and_port or ("?", 0)
        return f"{host}:{port}"

    # -- inbound (receiver thread -> reactor) -------------------------------------------

    def _enqueue(self, generation: int, headers: dict[str, str], body: str) -> None:
        self._inbox.put((generation, dict(headers), body))

    def _drain(self, batch: list[tuple[int, dict[str, str], str]]) -> None:
        for item in batch:
            generation, headers, body = item
            if generation != self._generation:
                continue
            if not self._up:
                # Subscribed, but the connection's completion has not reached the reactor
                # yet: a queued message (a Hello waiting for the GC) arrives first.  Its
                # handler could not answer (publish refuses while down): hold it until the
                # link reports itself up.
                self._early.append(item)
                continue
            self._deliver(headers, body)

    def _deliver(self, headers: dict[str, str], body: str) -> None:
        try:
            handler = self._subs[int(headers.get("subscription", "-1"))][1]
        except (ValueError, IndexError):
            log.warn("message for unknown subscription {sub!r} dropped",
                     sub=headers.get("subscription"))
            return
        try:
            message = BrokerMessage(destination=headers.get("destination", "/queue/?"),
                                    body=body if isinstance(body, str) else str(body),
                                    headers=headers)
        except ValueError as exc:
            log.warn("unusable broker message refused: {error}", error=str(exc))
            return
        try:
            handler(message)
        except Exception:
            log.failure("handler for {destination} failed", destination=message.destination)

    # -- connection state (reactor thread) ---------------------------------------------

    def _connect(self) -> None:
        """The retry timer's callback: whatever goes wrong, a next attempt is scheduled."""
        self._retry = None
        if self._stopping:
            return
        try:
            self._generation += 1
            self._early.clear()
            generation, probe = self._generation, self._probing
            d = self._call(lambda: self._open(generation, probe))
            d.addCallbacks(lambda broker: self._connected(generation, broker),
                           lambda f: self._failed(
                               generation, f.getErrorMessage(),
                               unreachable=f.check(UnreachableError) is not None))
            d.addErrback(self._unexpected, generation)
        except Exception as exc:
            log.failure("broker link: starting a connection attempt failed")
            self._schedule(f"connection attempt failed: {exc}")

    def _unexpected(self, failure: Any, generation: int) -> None:
        """A bug in the connected/failed path: logged, and the link keeps trying."""
        log.failure("broker link: handling a connection attempt failed", failure)
        if generation == self._generation and not self._stopping and self._retry is None:
            self._up = False
            self._generation += 1
            self._schedule("internal error after a connection attempt")

    def _connected(self, generation: int, broker: str) -> None:
        if generation != self._generation or self._stopping:
            return
        self._up, self._attempt, self.broker = True, 0, broker
        self._probes, self._probing, outage, self._outage = 0, False, self._outage, None
        recovered, self._was_up = self._was_up, True
        if outage is None:
            log.info("broker link up: {broker}", broker=broker)
        else:
            log.info("broker link up: {broker}, {down:.2f} s after the first failure "
                     "({n} failed attempts)", broker=broker, n=outage.attempts,
                     down=self._clock.seconds() - outage.since)
        started, self._started = self._started, None
        self._notify(LinkStatus(up=True, reason=f"connected to {broker}", broker=broker,
                                recovered=recovered))
        if started is not None:
            started.callback(None)
        early, self._early = self._early, []
        for gen, headers, body in early:  # now their handlers can answer
            if gen == self._generation and self._up:
                self._deliver(headers, body)

    def _failed(self, generation: int, reason: str, unreachable: bool = False) -> None:
        if generation != self._generation or self._stopping:
            return
        if not unreachable:
            self._probes = 0  # the port answered: probing starts quick again next time
        self._schedule(f"cannot connect to {', '.join(map(str, self.endpoints))}: "
                       f"{reason or 'refused'}", probe=unreachable)

    def _lost(self, generation: int, reason: str) -> None:
        if generation != self._generation or not self._up or self._stopping:
            return  # stale connection, or the second report of the same loss
        self._up = False
        self._generation += 1  # whatever the dead connection still delivers is ignored
        log.warn("broker link down: {reason}", reason=reason)
        self._schedule(reason, probe=True)  # first: nothing a status handler can prevent it
        self._notify(LinkStatus(up=False, reason=reason))

    def _schedule(self, reason: str, probe: bool = False) -> None:
        """The next attempt: after a loss or an unanswered probe, a probe soon; after a
        STOMP connect that failed, the backoff (adapters/reconnect.py).  Logged once per
        outage and kind of failure."""
        if self._retry is not None and self._retry.active():
            self._retry.cancel()
        if probe:
            delay = self._backoff.probe_delay(self._probes)
            self._probes += 1
        else:
            delay = self._backoff.delay(self._attempt)
            self._attempt += 1
        self._probing = True
        if self._outage is None:
            self._outage = Outage(self._clock.seconds())
        if self._outage.first("probe" if probe else "connect"):
            log.warn("broker link: {reason}; {plan} (said once per outage)", reason=reason,
                     plan=f"probing every {self._backoff.probe_maximum:g} s or less and "
                     "connecting as soon as the broker answers" if probe else
                     f"retrying in {delay:.2f} s, then up to every "
                     f"{self._backoff.maximum:g} s")
        self._retry = self._clock.callLater(delay, self._connect)

    def _answered(self, batch: list[tuple[int, str, str | None]]) -> None:
        for generation, receipt, error in batch:
            if generation != self._generation:
                continue
            if error is not None:
                self.broker_errors += 1
            for handler in list(self._answer_handlers):
                try:
                    handler(receipt, error)
                except Exception:
                    log.failure("receipt handler failed")

    def _broker_error(self, generation: int, message: str, body: str) -> None:
        if generation != self._generation:
            return
        self.broker_errors += 1
        text = message or body.strip() or "unspecified broker error"
        log.error("broker refused a frame: {text}", text=text)
        for handler in list(self._error_handlers):
            try:
                handler(text)
            except Exception:
                log.failure("broker error handler {handler!r} failed", handler=handler)

    def _notify(self, status: LinkStatus) -> None:
        """Every status handler runs, whatever the ones before it raised."""
        for handler in list(self._status):
            try:
                handler(status)
            except Exception:
                log.failure("broker link status handler {handler!r} failed ({status})",
                            handler=handler, status=status.reason)
