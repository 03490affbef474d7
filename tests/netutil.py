"""Network helpers shared by the tests."""

from __future__ import annotations

import socket

__all__ = ["free_port"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now.

    Tests that start their own broker take ports this way, so several checkouts can run the
    suite side by side without fighting over fixed numbers.
    """
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port
