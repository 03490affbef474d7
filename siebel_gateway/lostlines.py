"""Lines a writer could not write (a full disk, a removed directory), for the trace
(``trace/record.py``) and the log (``serve.TolerantObserver``) alike.

A line that cannot be written is dropped and counted; the first of a run of losses is
warned about once (the warning says why); the next line that can be written is preceded
by a gap record saying how many were lost and why.  The gap and the line are one unit:
when either fails, the line is counted lost too and the gap is written again, larger,
before the next line.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["LostLines"]


class LostLines:
    def __init__(self, warn: Callable[[str], None]) -> None:
        #: Told why when a run of losses starts (once per run, not once per line).
        self.warn = warn
        #: Lines lost since the writer started (a metric).
        self.total = 0
        #: Lines lost since the last line that was written (the next gap record's count).
        self.pending = 0
        #: Why the current run of losses started.
        self.why = ""

    def dropped(self, why: str) -> None:
        """Count one lost line; warn when it starts a run."""
        self.total += 1
        self.pending += 1
        if self.pending == 1:
            self.why = why
            self.warn(why)

    def write(self, line: Callable[[], None], gap: Callable[[int, str], None]) -> int | None:
        """``gap(count, why)`` when lines were lost since the last one written, then
        ``line()``.  An ``OSError`` from either drops the line (``dropped``) and gives
        ``None``; else the count the gap reported (0: there was none)."""
        try:
            if self.pending:
                gap(self.pending, self.why)
            line()
        except OSError as exc:
            self.dropped(exc.strerror or str(exc))
            return None
        reported, self.pending = self.pending, 0
        return reported
