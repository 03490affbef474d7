"""What the gateway's own log (the twisted logger behind ``serve --log-file``) receives."""

from __future__ import annotations

from collections.abc import Generator
from contextlib import contextmanager
from typing import cast

from twisted.logger import ILogObserver, LogEvent, formatEvent, globalLogPublisher

__all__ = ["gateway_log_lines"]


@contextmanager
def gateway_log_lines() -> Generator[list[str], None, None]:
    """Collect every log event (with its failure, if any) as text while the block runs."""
    lines: list[str] = []

    def observe(event: LogEvent) -> None:
        lines.append(formatEvent(event) + str(event.get("log_failure") or ""))

    observer = cast(ILogObserver, observe)
    globalLogPublisher.addObserver(observer)
    try:
        yield lines
    finally:
        globalLogPublisher.removeObserver(observer)
