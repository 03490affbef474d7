"""DEF text -> ``DefModel`` plus every lexical problem, in one pass.

Grammar (``reference/def-format.md`` section 2), one physical line each::

    blank | ";" comment | "[" type [":" name] "]" [";" ...] | key "=" value [";" ...]

Rules that real files force on us, each with a fixture in ``tests/def_file/data``:

* Indentation means nothing; sections are flat and end at the next header.
* A value runs from the first ``"`` after ``=`` to the *last* ``"`` on the line
  that is followed only by blanks or a ``;`` comment, so raw quotes inside a
  value survive (``"Make call to "{@SelectedText}""``).  There is no file-level
  escaping; backslashes belong to macro expansion and are kept.
* ``#`` is not a comment in Siebel: such lines are parameters (with a warning).
* Keys split at the first ``.`` into base and subparameter; a subparameter may be
  quoted with ``'`` or ``"`` (a field name) and the quote style is remembered.
* UTF-8 with or without BOM; anything undecodable is read as Windows-1252.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from .model import DefModel, Param, Section, section_class
from .problems import Problem, Severity, did_you_mean
from .schema import ALL_SCHEMAS, SECTION_TYPES

__all__ = ["ParseResult", "decode", "parse_bytes", "parse_file", "parse_text"]

# Spellings seen in documentation drafts but never in exports: our own extensions.
_ALIASES = {"commanddata": "CmdData", "configuration": "Configuration Parameters"}
_BOM = b"\xef\xbb\xbf"


class ParseResult:
    """The model plus the problems found while reading it."""

    __slots__ = ("model", "problems")

    def __init__(self, model: DefModel, problems: list[Problem]) -> None:
        self.model = model
        self.problems = problems

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.WARNING]


def decode(data: bytes, file: str) -> tuple[str, list[Problem]]:
    """Bytes to text: UTF-8 (BOM optional), else Windows-1252 with a warning."""
    problems: list[Problem] = []
    if data.startswith(_BOM):
        data = data[len(_BOM):]
    if b"\x00" in data:
        at = data.index(b"\x00")
        line = data.count(b"\n", 0, at) + 1
        column = at - (data.rfind(b"\n", 0, at) + 1) + 1
        problems.append(Problem(file=file, line=line, column=column, severity=Severity.ERROR,
                                message="NUL byte in file (is this a binary or UTF-16 file?); "
                                        "NUL bytes were removed"))
        data = data.replace(b"\x00", b"")
    try:
        return data.decode("utf-8"), problems
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        problems.append(Problem(
            file=file, line=line, column=column, severity=Severity.WARNING,
            message=f"not valid UTF-8 (byte 0x{data[exc.start]:02X}); "
                    "the file was read as Windows-1252"))
        return data.decode("cp1252", errors="replace"), problems


def parse_file(path: str | Path, types: Collection[str] = SECTION_TYPES) -> ParseResult:
    p = Path(path)
    return parse_bytes(p.read_bytes(), str(path), types)


def parse_bytes(data: bytes, file: str = "<memory>",
                types: Collection[str] = SECTION_TYPES) -> ParseResult:
    """``types``: the section types this kind of file may hold (Siebel's by default)."""
    text, problems = decode(data, file)
    result = parse_text(text, file, types)
    result.problems[:0] = problems
    return result


def parse_text(text: str, file: str = "<memory>",
               types: Collection[str] = SECTION_TYPES) -> ParseResult:
    return _Parser(file, types).run(text)


class _Parser:
    def __init__(self, file: str, types: Collection[str]) -> None:
        self.file = file
        self.types = tuple(types)
        self.canonical = {t.casefold(): t for t in self.types}
        self.problems: list[Problem] = []
        self.sections: list[Section] = []
        # The open section: (type, name, line) and its parameters.
        self.current: tuple[str, str, int] | None = None
        self.params: list[Param] = []
        self.skipping = False  # inside a section whose header was refused

    def problem(self, severity: Severity, line: int, column: int, message: str) -> None:
        self.problems.append(Problem(file=self.file, line=line, column=column,
                                     severity=severity, message=message))

    def error(self, line: int, column: int, message: str) -> None:
        self.problem(Severity.ERROR, line, column, message)

    def warning(self, line: int, column: int, message: str) -> None:
        self.problem(Severity.WARNING, line, column, message)

    def run(self, text: str) -> ParseResult:
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        for number, line in enumerate(text.split("\n"), 1):
            stripped = line.strip()
            if not stripped:
                continue
            first = stripped[0]
            if first == ";":
                continue
            indent = len(line) - len(line.lstrip())
            if first == "[":
                self.header(stripped, number, indent + 1)
            elif "=" in stripped:
                self.parameter(stripped, number, indent + 1)
            else:
                self.error(number, indent + 1,
                           f"cannot read this line: expected '[Section]', 'Name = \"value\"' "
                           f"or a ';' comment, found {_clip(stripped)!r}")
        self.close()
        return ParseResult(DefModel(tuple(self.sections), self.file), self.problems)

    def close(self) -> None:
        if self.current is not None:
            kind, name, line = self.current
            self.sections.append(section_class(kind)(kind, name, tuple(self.params), line))
        self.current = None
        self.params = []

    def header(self, s: str, line: int, col: int) -> None:
        self.close()
        self.skipping = True
        end = s.find("]")
        if end < 0:
            self.error(line, col, "section header is missing its closing ']'; "
                                  "its parameters are ignored")
            return
        rest = s[end + 1:].strip()
        if rest and not rest.startswith(";"):
            if "]" in rest:
                self.error(line, col + end, "']' is not allowed in a section name; "
                                            "its parameters are ignored")
            else:
                self.error(line, col + end + 1,
                           f"unexpected text after the section header: {_clip(rest)!r}; "
                           "its parameters are ignored")
            return
        kind, colon, name = s[1:end].partition(":")
        kind, name = kind.strip(), name.strip()
        canonical = self.canonical.get(kind.casefold())
        if canonical is None and _ALIASES.get(kind.casefold()) in self.types:
            canonical = _ALIASES[kind.casefold()]
            self.warning(line, col + 1,
                         f"section type '{kind}' is not a Siebel export spelling; "
                         f"read as '{canonical}'")
        elif canonical is not None and canonical != kind:
            self.warning(line, col + 1,
                         f"section type '{kind}' should be spelled '{canonical}'")
        if canonical is None:
            hint = did_you_mean(kind, self.types, cutoff=0.6)
            self.error(line, col + 1, f"unknown section type '{kind}'{hint}; "
                                      "its parameters are ignored")
            return
        schema = ALL_SCHEMAS[canonical]
        if schema.named and not name:
            self.error(line, col, f"section [{canonical}] needs a name: [{canonical}:Name]; "
                                 "its parameters are ignored")
            return
        if not schema.named and colon:
            self.warning(line, col, f"section [{canonical}] takes no name; "
                                    f"':{name}' is ignored")
            name = ""
        self.current = (canonical, name, line)
        self.skipping = False

    def parameter(self, s: str, line: int, col: int) -> None:
        eq = s.index("=")
        key = s[:eq].rstrip()
        rest = s[eq + 1:]
        value_text = rest.lstrip()
        value_col = col + eq + 1 + (len(rest) - len(value_text))
        if self.current is None:
            if not self.skipping:
                self.error(line, col, "parameter before the first [Section] header")
            return
        if not key:
            self.error(line, col, "parameter line has no name before '='")
            return
        value = self.value(value_text, line, value_col)
        if value is None:
            return
        base, dot, sub_text = key.partition(".")
        base = base.rstrip()
        if base.startswith("#"):
            self.warning(line, col,
                         f"parameter name '{_clip(key)}' begins with '#': Siebel has no '#' "
                         "comments and reads this line as a parameter (use ';' for a comment)")
        if not dot:
            self.params.append(Param(base, value, None, "", line, col, value_col))
            return
        sub, quote = self.subparameter(sub_text.strip(), line, col + len(base) + 1)
        if sub is None:
            return
        self.params.append(Param(base, value, sub, quote, line, col, value_col))

    def value(self, text: str, line: int, col: int) -> str | None:
        if not text:
            self.warning(line, col, 'value is missing; write an empty value as ""')
            return ""
        if text[0] != '"':
            value = text.split(";", 1)[0].rstrip()
            self.warning(line, col, f'value is not in double quotes; read as "{_clip(value)}"')
            return value
        body = text[1:]
        end = body.rfind('"')
        while end >= 0:
            tail = body[end + 1:].lstrip()
            if not tail or tail[0] == ";":
                return body[:end]
            end = body.rfind('"', 0, end)
        self.error(line, col, "value has an opening '\"' but no closing '\"' "
                              "(a value cannot continue on the next line)")
        return None

    def subparameter(self, sub: str, line: int, col: int) -> tuple[str | None, str]:
        if not sub:
            self.error(line, col, "empty subparameter name after '.'")
            return None, ""
        quote = sub[0]
        if quote not in "'\"":
            return sub, ""
        if len(sub) > 1 and sub.endswith(quote):
            inner = sub[1:-1]
            if not inner:
                self.error(line, col, "empty quoted subparameter name")
                return None, ""
            return inner, quote
        inner = sub[1:].rstrip()
        self.warning(line, col, f"subparameter name opens a {quote} quote and never closes it; "
                                f"read as {quote}{inner}{quote}")
        if not inner:
            return None, ""
        return inner, quote


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."

