"""``send_now``: what the gateway writes to an SCS connection is on the wire when its
input has been handled, not one reactor turn later; closing connections still close."""

from __future__ import annotations

import socket
from typing import Any

import pytest_twisted
from twisted.internet import reactor as _reactor
from twisted.internet.defer import Deferred
from twisted.internet.protocol import Factory, Protocol
from twisted.internet.threads import deferToThread

from siebel_gateway.adapters.gateway_service import send_now

reactor: Any = _reactor


class Answer(Protocol):
    """Answers a line; reports what the client socket could read right after."""

    def __init__(self, flush: bool, close: bool, seen: Deferred[bytes | None]) -> None:
        self.flush, self.close, self.seen = flush, close, seen
        self.client: socket.socket | None = None

    def dataReceived(self, data: bytes) -> None:  # noqa: N802 (Twisted)
        assert self.client is not None
        transport: Any = self.transport
        transport.write(b"answer\n")
        if self.close:
            transport.loseConnection()
        if self.flush:
            send_now(transport)
        try:  # still inside the reactor turn that read the request
            got: bytes | None = self.client.recv(100, socket.MSG_DONTWAIT)
        except BlockingIOError:
            got = None
        self.seen.callback(got)


def read_to_end(client: socket.socket) -> bytes:
    data = b""
    while chunk := client.recv(100):
        data += chunk
    return data


def exchange(flush: bool, close: bool = False) -> tuple[Deferred[bytes | None], socket.socket,
                                                        Any]:
    seen: Deferred[bytes | None] = Deferred()
    protocol = Answer(flush, close, seen)
    port = reactor.listenTCP(0, Factory.forProtocol(lambda: protocol), interface="127.0.0.1")
    client = socket.create_connection(("127.0.0.1", port.getHost().port))
    protocol.client = client
    client.sendall(b"request\n")
    return seen, client, port


@pytest_twisted.inlineCallbacks
def test_the_answer_is_on_the_wire_within_the_same_reactor_turn() -> Any:
    seen, client, port = exchange(flush=True)
    try:
        assert (yield seen) == b"answer\n"
    finally:
        client.close()
        yield port.stopListening()


@pytest_twisted.inlineCallbacks
def test_without_it_twisted_sends_on_the_next_turn() -> Any:
    """The control: shows the test above measures what send_now changes."""
    seen, client, port = exchange(flush=False)
    try:
        assert (yield seen) is None
        client.settimeout(5)
        assert (yield deferToThread(client.recv, 100)) == b"answer\n"  # the reactor's turn
    finally:
        client.close()
        yield port.stopListening()


@pytest_twisted.inlineCallbacks
def test_a_closing_connection_is_left_to_the_reactor_which_sends_then_closes() -> Any:
    seen, client, port = exchange(flush=True, close=True)
    try:
        assert (yield seen) is None
        client.settimeout(5)
        assert (yield deferToThread(read_to_end, client)) == b"answer\n"  # then the end
    finally:
        client.close()
        yield port.stopListening()


def test_other_transports_are_left_alone() -> None:
    from twisted.internet.testing import StringTransport

    t: Any = StringTransport()  # type: ignore[no-untyped-call]
    t.write(b"x")
    send_now(t)
    assert t.value() == b"x"
