"""``Filter.X`` patterns (IsLike) and ``FilterSpec`` predicates, as SCS evaluates them.

IsLike: ``*`` is any run of characters (possibly empty), ``?`` exactly one, so
``?*`` means "present and not empty".  A value without wildcards matches itself
exactly.  A field missing from the event never matches, not even ``*``.

FilterSpec is a Siebel search-spec predicate over event fields::

    expr    = or
    or      = and { "OR" and }
    and     = not { "AND" not }
    not     = "NOT" not | primary
    primary = "(" expr ")" | operand [ op operand | "LIKE" operand | "IS" ["NOT"] "NULL" ]
    operand = "[" field "]" | 'text' | "text" | number
    op      = "=" | "<>" | "!=" | "<" | ">" | "<=" | ">="

A missing field is NULL: it compares false with everything and ``IS NULL`` holds.
Numbers compare as numbers when both sides are numeric, otherwise as text.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

__all__ = ["FilterSpecError", "compile_filter_spec", "is_like"]


@functools.lru_cache(maxsize=1024)
def _like_regex(pattern: str) -> re.Pattern[str]:
    parts = ("." if c == "?" else ".*" if c == "*" else re.escape(c) for c in pattern)
    return re.compile("".join(parts), re.DOTALL)


def is_like(value: str | None, pattern: str, *, case_sensitive: bool = True) -> bool:
    if value is None:
        return False
    if not case_sensitive:
        value, pattern = value.casefold(), pattern.casefold()
    if "*" not in pattern and "?" not in pattern:
        return value == pattern
    return _like_regex(pattern).fullmatch(value) is not None


class FilterSpecError(ValueError):
    """A FilterSpec that cannot be read; ``offset`` is 0-based into the text."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


Fields = Mapping[str, str]
Predicate = Callable[[Fields], bool]
Operand = Callable[[Fields], "str | None"]

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<field>\[(?:[^\]\\]|\\.)*\])
      | (?P<str>'[^']*'|"[^"]*")
      | (?P<num>-?\d+(?:\.\d+)?)
      | (?P<op><>|!=|<=|>=|=|<|>)
      | (?P<paren>[()])
      | (?P<word>[A-Za-z_]+)
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class _Tok:
    kind: str
    text: str
    offset: int


def _tokens(text: str) -> list[_Tok]:
    out: list[_Tok] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            start = len(text) - len(text[pos:].lstrip())
            raise FilterSpecError(f"unexpected character {text[start]!r}", start)
        kind = m.lastgroup or ""
        out.append(_Tok(kind, m.group(kind), m.start(kind)))
        pos = m.end()
    return out


def compile_filter_spec(text: str) -> Predicate:
    """Parse once, evaluate many times; raises ``FilterSpecError`` on bad syntax."""
    parser = _SpecParser(_tokens(text), len(text))
    predicate = parser.expr()
    if parser.pos < len(parser.toks):
        tok = parser.toks[parser.pos]
        raise FilterSpecError(f"unexpected {tok.text!r}", tok.offset)
    return predicate


def _num(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


def _compare(op: str, left: str | None, right: str | None) -> bool:
    if left is None or right is None:
        return False
    a, b = _num(left), _num(right)
    pair: tuple[float, float] | tuple[str, str] = (a, b) if a is not None and b is not None \
        else (left, right)
    x, y = pair
    if op == "=":
        return x == y
    if op in ("<>", "!="):
        return x != y
    if op == "<":
        return x < y  # type: ignore[operator]
    if op == ">":
        return x > y  # type: ignore[operator]
    if op == "<=":
        return x <= y  # type: ignore[operator]
    return x >= y  # type: ignore[operator]


def _either(a: Predicate, b: Predicate) -> Predicate:
    return lambda f: a(f) or b(f)


def _both(a: Predicate, b: Predicate) -> Predicate:
    return lambda f: a(f) and b(f)


class _SpecParser:
    def __init__(self, toks: list[_Tok], length: int) -> None:
        self.toks = toks
        self.pos = 0
        self.length = length

    def peek_word(self, *words: str) -> bool:
        if self.pos < len(self.toks):
            tok = self.toks[self.pos]
            return tok.kind == "word" and tok.text.upper() in words
        return False

    def take(self) -> _Tok:
        if self.pos >= len(self.toks):
            raise FilterSpecError("unexpected end of FilterSpec", self.length)
        tok = self.toks[self.pos]
        self.pos += 1
        return tok

    def expr(self) -> Predicate:
        left = self.and_()
        while self.peek_word("OR"):
            self.pos += 1
            right = self.and_()
            left = _either(left, right)
        return left

    def and_(self) -> Predicate:
        left = self.not_()
        while self.peek_word("AND"):
            self.pos += 1
            right = self.not_()
            left = _both(left, right)
        return left

    def not_(self) -> Predicate:
        if self.peek_word("NOT"):
            self.pos += 1
            inner = self.not_()
            return lambda f: not inner(f)
        return self.primary()

    def primary(self) -> Predicate:
        tok = self.take()
        if tok.kind == "paren" and tok.text == "(":
            inner = self.expr()
            close = self.take()
            if close.text != ")":
                raise FilterSpecError(f"expected ')', found {close.text!r}", close.offset)
            return inner
        left = self.operand(tok)
        if self.peek_word("IS"):
            self.pos += 1
            negate = self.peek_word("NOT")
            if negate:
                self.pos += 1
            null = self.take()
            if null.text.upper() != "NULL":
                raise FilterSpecError(f"expected NULL, found {null.text!r}", null.offset)
            if negate:
                return lambda f: left(f) not in (None, "")
            return lambda f: left(f) in (None, "")
        if self.peek_word("LIKE"):
            self.pos += 1
            right = self.operand(self.take())
            return lambda f: (r := right(f)) is not None and is_like(left(f), r)
        if self.pos < len(self.toks) and self.toks[self.pos].kind == "op":
            op = self.take().text
            right = self.operand(self.take())
            return lambda f: _compare(op, left(f), right(f))
        # A bare operand is true when it is a non-empty value ("[Flag]").
        return lambda f: left(f) not in (None, "")

    def operand(self, tok: _Tok) -> Operand:
        if tok.kind == "field":
            name = tok.text[1:-1].strip()
            if not name:
                raise FilterSpecError("empty field name []", tok.offset)
            return lambda f: f.get(name)
        if tok.kind == "str":
            literal = tok.text[1:-1]
            return lambda f: literal
        if tok.kind == "num":
            number = tok.text
            return lambda f: number
        raise FilterSpecError(f"expected a [field], a quoted value or a number, "
                              f"found {tok.text!r}", tok.offset)
