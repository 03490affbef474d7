"""Run one coroutine on the global reactor from a CLI command and return its exit code."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

__all__ = ["react_for_code"]


def react_for_code(main: Callable[[Any], Awaitable[int]]) -> int:
    """``task.react`` ends the process through ``SystemExit``; commands return a code."""
    from twisted.internet import defer, task

    code = [2]

    async def wrapped(reactor: Any) -> None:
        code[0] = await main(reactor)

    with contextlib.suppress(SystemExit):
        task.react(lambda reactor: defer.ensureDeferred(wrapped(reactor)))
    return code[0]
