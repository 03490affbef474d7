"""Problems found in a DEF file: every one carries file, line and column.

Like configparser's ``ParsingError.errors``, nothing stops at the first bad line:
the parser and validator collect every problem in one pass so an administrator
can fix a file in one go.  Errors and warnings are kept apart by ``severity``.
"""

from __future__ import annotations

import bisect
import difflib
import enum
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["DefFileError", "NameIndex", "Problem", "Severity", "did_you_mean"]


class Severity(enum.Enum):
    #: The file would be refused (by Siebel's import or by the gateway).
    ERROR = "error"
    #: The file loads, but something is probably not what the author meant.
    WARNING = "warning"


@dataclass(frozen=True, kw_only=True, order=True)
class Problem:
    """One finding, positioned in its file (line and column are 1-based)."""

    file: str
    line: int
    column: int
    severity: Severity
    message: str

    def format(self) -> str:
        """``file:line:col: error: message``, the form compilers and editors understand."""
        return f"{self.file}:{self.line}:{self.column}: {self.severity.value}: {self.message}"

    def to_json(self) -> dict[str, object]:
        return {"line": self.line, "column": self.column, "message": self.message}


class DefFileError(Exception):
    """Raised by callers that need a usable file and got one with errors."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        errors = [p for p in problems if p.severity is Severity.ERROR]
        shown = "\n".join(p.format() for p in errors[:20])
        more = f"\n... and {len(errors) - 20} more" if len(errors) > 20 else ""
        super().__init__(f"{len(errors)} error(s) in DEF file:\n{shown}{more}")


class NameIndex:
    """Names to suggest from, at a cost per suggestion that does not grow with their number.

    A small set (up to ``SMALL`` names: a hand-written DEF's sections of one kind) is
    compared whole with ``difflib``, exactly as ever.  A large set (a generated DEF with
    thousands of sections) is indexed once, and only a few candidates are scored:

    * the names one typo away (one character replaced, added, dropped or two swapped),
      found through the names with one character deleted (a symmetric-deletion index:
      a handful of dictionary lookups per word);
    * when there are none, the names next to the word in two sorted orders, by the word
      and by the word reversed: they share its longest beginning or its longest ending.

    Answers are remembered, as a file with many problems repeats its wrong names.
    Measured with ``tools/bench_def.py --unresolved`` (docs/performance.md).
    """

    SMALL = 12
    NEIGHBOURS = 3
    BUCKET = 8

    def __init__(self, names: Iterable[str]) -> None:
        self._folded = {n.casefold(): n for n in names}
        self._forward = sorted(self._folded)
        self._backward: list[str] = []
        self._deleted: dict[str, str | list[str]] = {}  # one name deleted -> names
        if len(self._forward) > self.SMALL:
            self._backward = sorted(k[::-1] for k in self._forward)
            deleted, get, cap = self._deleted, self._deleted.get, self.BUCKET
            for key in self._forward:
                for i in range(len(key)):
                    variant = key[:i] + key[i + 1:]
                    bucket = get(variant)
                    if bucket is None:  # most variants belong to one name: kept bare
                        deleted[variant] = key
                    elif bucket.__class__ is str:
                        deleted[variant] = [bucket, key]
                    elif len(bucket) < cap:
                        bucket.append(key)  # type: ignore[union-attr]
        self._memo: dict[tuple[str, float], str] = {}

    def case_twin(self, word: str) -> str | None:
        """The name that differs from ``word`` only in case, if there is one."""
        name = self._folded.get(word.casefold())
        return name if name is not None and name != word else None

    def _near(self, ordered: list[str], key: str) -> list[str]:
        at = bisect.bisect_left(ordered, key)
        return ordered[max(0, at - self.NEIGHBOURS):at + self.NEIGHBOURS]

    def _typos(self, key: str) -> dict[str, None]:
        """Names one typo away from ``key`` (and, rarely, two: a shared deletion)."""
        deleted, folded = self._deleted, self._folded
        typo: dict[str, None] = {}
        for variant in (key, *(key[:i] + key[i + 1:] for i in range(len(key)))):
            if variant is not key and variant in folded:  # one dropped
                typo[variant] = None
            bucket = deleted.get(variant)  # for key: one added; else replaced or swapped
            if bucket is None:
                continue
            if bucket.__class__ is str:
                typo[bucket] = None
            else:
                typo.update(dict.fromkeys(bucket))
        return typo

    def _best_typo(self, key: str, typos: Iterable[str], cutoff: float) -> str | None:
        """The name difflib would pick among ``typos``, scored without running it: one
        edit apart, its matching characters are the shorter length (a character added or
        dropped) or one less (replaced, or two neighbours swapped).  A winner that is not
        one edit away (two deletions that happen to agree) is checked by difflib."""
        def score(name: str) -> tuple[float, str]:
            lk, ln = len(key), len(name)
            same = min(lk, ln) if lk != ln else lk - 1
            return 2.0 * same / (lk + ln), name

        best_score, best = max(map(score, typos))
        if best_score < cutoff:
            return None
        if _one_edit(best, key):  # the score above is exactly difflib's ratio
            return best
        matcher = difflib.SequenceMatcher(None, best, key)
        return best if abs(matcher.ratio() - best_score) < 1e-9 else None

    def closest(self, word: str, cutoff: float = 0.75) -> str | None:
        key = word.casefold()
        memo = self._memo.get((key, cutoff))
        if memo is None:
            found: str | None = None
            if not self._deleted:
                pool = self._forward
            else:
                typos = self._typos(key)
                found = self._best_typo(key, typos, cutoff) if typos else None
                pool = [] if found else list(dict.fromkeys(
                    [*typos, *self._near(self._forward, key),
                     *(k[::-1] for k in self._near(self._backward, key[::-1]))]))
            if found is None:
                match = difflib.get_close_matches(key, pool, n=1, cutoff=cutoff)
                found = match[0] if match else None
            memo = self._folded[found] if found else ""
            if len(self._memo) < 100_000:
                self._memo[(key, cutoff)] = memo
        return memo or None

    def hint(self, word: str, cutoff: float = 0.75) -> str:
        """`` (did you mean 'X'?)`` for the closest name (any case), or ``""``."""
        name = self.closest(word, cutoff)
        return f" (did you mean '{name}'?)" if name else ""


def _one_edit(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` differ by one character replaced, added or dropped, or by
    two neighbours swapped."""
    if len(a) == len(b):
        diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1
                                  and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]])
    short, long = (a, b) if len(a) < len(b) else (b, a)
    if len(long) - len(short) != 1:
        return False
    i = 0
    while i < len(short) and short[i] == long[i]:
        i += 1
    return short[i:] == long[i + 1:]


def did_you_mean(word: str, candidates: Iterable[str] | NameIndex,
                 cutoff: float = 0.75) -> str:
    """`` (did you mean 'X'?)`` for the closest candidate (any case), or ``""``."""
    index = candidates if isinstance(candidates, NameIndex) else NameIndex(candidates)
    return index.hint(word, cutoff)
