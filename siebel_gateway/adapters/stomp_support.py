"""Helpers of the stomp.py link that know nothing of the link itself: the batching hand-off
from stomp.py's threads to the reactor, the capture of stomp.py's own log (where it says
why a connection failed), and Nagle switched off on a connection's socket."""

from __future__ import annotations

import logging
import socket
import threading
from collections import deque
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from twisted.logger import Logger

from ..ports import ThreadHandoff

__all__ = ["Batches", "StompPyLog", "no_delay"]

log = Logger()
T = TypeVar("T")


class StompPyLog(logging.Handler):
    """The warnings stomp.py logs, kept per thread (a few, newest last): the thread that
    then reports the failure (the sender's ``connect``, the receiver's ``on_disconnected``)
    takes them as the reason.  Installed once per process on the ``stomp.py`` logger."""

    _local = threading.local()
    _installed = False
    _install_lock = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno < logging.WARNING:
            return
        try:
            text = record.getMessage()
        except Exception:  # a malformed record must not break stomp.py's thread
            text = str(record.msg)
        kept: list[str] = getattr(self._local, "kept", [])
        self._local.kept = [*kept[-3:], text[:500]]

    @classmethod
    def take(cls) -> str:
        """The warnings this thread logged since the last ``take`` (and forget them)."""
        kept: list[str] = getattr(cls._local, "kept", [])
        cls._local.kept = []
        return "; ".join(dict.fromkeys(kept))

    @classmethod
    def install(cls) -> None:
        with cls._install_lock:
            if not cls._installed:
                logging.getLogger("stomp.py").addHandler(cls())
                cls._installed = True


class Batches(Generic[T]):
    """Items put on any thread reach ``deliver`` on the reactor thread, in order, in
    batches: the reactor is woken only when no batch was already waiting for it."""

    def __init__(self, reactor: ThreadHandoff, deliver: Callable[[list[T]], None]) -> None:
        self._reactor, self._deliver = reactor, deliver
        self._items: deque[T] = deque()
        self._lock = threading.Lock()

    def put(self, item: T) -> None:
        with self._lock:
            wake = not self._items
            self._items.append(item)
        if wake:
            self._reactor.callFromThread(self._flush)

    def _flush(self) -> None:
        with self._lock:
            batch = list(self._items)
            self._items.clear()
        self._deliver(batch)


def no_delay(conn: Any) -> None:
    """Turn Nagle's algorithm off on the connection's socket (plain or TLS)."""
    sock = getattr(getattr(conn, "transport", None), "socket", None)
    if sock is None:
        return
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except OSError as exc:  # not TCP (a test double) or already closed: nothing to tune
        log.info("broker link: TCP_NODELAY not set: {error}", error=str(exc))
