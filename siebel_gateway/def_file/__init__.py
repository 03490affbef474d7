"""The DEF engine: Siebel communications configuration files.

    parser    text -> DefModel + lexical problems (all of them, with line and column)
    model     typed, immutable sections and parameters
    schema    documented section types and parameters
    validate  cross references, types, unknown names, unreachable handlers
    writer    DefModel -> normalised text (round-trips through the parser)
    macros    {Field} / {@Macro} / [Field] expansion
    matching  Filter.X (IsLike) and FilterSpec predicates
    evaluate  which handler fires for an event, and what its response does
"""

from __future__ import annotations

from pathlib import Path

from .model import DefModel
from .parser import ParseResult, parse_bytes, parse_file, parse_text
from .problems import DefFileError, Problem, Severity
from .validate import validate

__all__ = [
    "DefFileError",
    "DefModel",
    "ParseResult",
    "Problem",
    "Severity",
    "check_bytes",
    "check_file",
    "load_file",
    "parse_bytes",
    "parse_file",
    "parse_text",
    "validate",
]


def check_bytes(data: bytes, file: str = "<memory>") -> ParseResult:
    """Parse and validate; the result carries every problem of both passes."""
    result = parse_bytes(data, file)
    result.problems.extend(validate(result.model))
    return result


def check_file(path: str | Path) -> ParseResult:
    return check_bytes(Path(path).read_bytes(), str(path))


def load_file(path: str | Path) -> DefModel:
    """A model that is safe to run on: raises ``DefFileError`` when the file has errors."""
    result = check_file(path)
    if result.errors:
        raise DefFileError(result.problems)
    return result.model
