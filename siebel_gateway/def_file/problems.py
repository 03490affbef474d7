"""Problems found in a DEF file: every one carries file, line and column.

Like configparser's ``ParsingError.errors``, nothing stops at the first bad line:
the parser and validator collect every problem in one pass so an administrator
can fix a file in one go.  Errors and warnings are kept apart by ``severity``.
"""

from __future__ import annotations

import difflib
import enum
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["DefFileError", "Problem", "Severity", "did_you_mean"]


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


def did_you_mean(word: str, candidates: Iterable[str], cutoff: float = 0.75) -> str:
    """`` (did you mean 'X'?)`` for the closest candidate (any case), or ``""``."""
    folded = {c.casefold(): c for c in candidates}
    match = difflib.get_close_matches(word.casefold(), list(folded), n=1, cutoff=cutoff)
    return f" (did you mean '{folded[match[0]]}'?)" if match else ""
