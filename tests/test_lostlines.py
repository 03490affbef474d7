"""``LostLines``, shared by the trace and the log: lines that cannot be written are counted,
warned about once per run of losses, and reported by a gap before the next line written."""

from __future__ import annotations

import errno
import functools

from siebel_gateway.lostlines import LostLines


def test_a_run_of_losses_is_warned_once_and_reported_before_the_next_line() -> None:
    warnings: list[str] = []
    out: list[str] = []
    full = [True]
    losses = LostLines(warnings.append)

    def line(text: str) -> None:
        if full[0]:
            raise OSError(errno.ENOSPC, "No space left on device")
        out.append(text)

    def gap(count: int, why: str) -> None:
        line(f"gap {count} ({why})")

    for n in range(3):
        assert losses.write(functools.partial(line, f"l{n}"), gap) is None
    assert warnings == ["No space left on device"] and losses.pending == 3
    full[0] = False
    assert losses.write(lambda: line("back"), gap) == 3
    assert losses.write(lambda: line("next"), gap) == 0
    assert out == ["gap 3 (No space left on device)", "back", "next"]
    full[0] = True
    losses.write(lambda: line("lost again"), gap)
    assert len(warnings) == 2 and losses.total == 4  # a new run is warned about again


def test_a_gap_that_cannot_be_written_loses_its_line_too() -> None:
    losses = LostLines(lambda why: None)
    losses.dropped("disk full")
    calls: list[int] = []

    def failing_gap(count: int, why: str) -> None:
        calls.append(count)
        raise OSError("still full")

    assert losses.write(lambda: None, failing_gap) is None
    assert losses.pending == 2 and losses.total == 2 and losses.why == "disk full"
    assert losses.write(lambda: None, lambda count, why: calls.append(count)) == 2
    assert calls == [1, 2] and losses.pending == 0
