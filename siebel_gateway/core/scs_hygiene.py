"""What a JSON-RPC line may hold beyond being JSON (docs/scs-protocol.md, "Limits").

``json.loads`` accepts things no answer can carry: a lone surrogate escape (``"\\ud800"``)
becomes a ``str`` that UTF-8 cannot encode, ``NaN``/``Infinity``/``1e400`` become floats
that JSON cannot write, and a few thousand levels of ``[`` exhaust the recursion limit.
``check`` finds the first such thing in a decoded line, without recursion, and says
where it is; ``scs_wire.parse_line`` turns it into the error answer.  Both scans are
skipped when the raw text shows they cannot find anything (no ``\\uD8..``-``\\uDF..``
escape; fewer brackets than the depth limit), so an ordinary request pays two
``str.count`` calls and one regular-expression search.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import cast

__all__ = ["MAX_DEPTH", "Problem", "bad_id", "check", "clean", "too_deep"]

#: Arrays and objects nested deeper than this are refused.  SCS protocol v1 needs 3
#: (request -> params -> [key, value] list -> pair); the margin is for clients that add
#: members of their own.
MAX_DEPTH = 32

#: An escape that can decode to half of a surrogate pair; if the raw line has none, no
#: decoded string can hold a lone surrogate (UTF-8 input cannot encode one).
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class Problem:
    """Where a decoded line breaks a limit: ``where`` is a path such as ``id``,
    ``params.language`` or ``params.params[1][0]``; ``in_params`` says it lies inside
    ``params`` (answered -32602 rather than -32700/-32600)."""

    where: str
    in_params: bool
    message: str
    #: "surrogate" or "depth".
    kind: str = "surrogate"


def too_deep() -> str:
    return f"the request is nested deeper than {MAX_DEPTH} levels"


def bad_id(rid: object) -> str:
    """Why ``rid`` cannot be a request id ("" when it can)."""
    if isinstance(rid, bool) or not isinstance(rid, str | int | float | None):
        return "id must be a string or a number"
    if isinstance(rid, float) and not math.isfinite(rid):
        return ("id must be a string or a finite number (NaN, Infinity and numbers beyond "
                "1.8e308 cannot be written back in JSON)")
    return ""


def clean(text: str) -> bool:
    """True when ``text`` holds no lone surrogate (it can be echoed)."""
    return _SURROGATE.search(text) is None


def check(obj: object, line: bytes) -> Problem | None:
    """A lone surrogate or too deep nesting in ``obj`` (decoded from ``line``), or None.

    Both tests run at C speed over the line; only a line found faulty is walked (without
    recursion) to name where the lone surrogate is."""
    if line.count(b"[") + line.count(b"{") > MAX_DEPTH and _deeper_than_limit(line):
        return Problem("", False, too_deep(), "depth")
    if _SURROGATE_ESCAPE.search(line) is None:
        return None
    if clean(json.dumps(obj, ensure_ascii=False)):
        return None  # only valid pairs (the decoder joined them)
    return _find_surrogate(obj)


#: Every byte but the brackets (UTF-8 continuation bytes are never ASCII).
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_SQUARE = bytes.maketrans(b"{}", b"[]")


def _deeper_than_limit(line: bytes) -> bool:
    """For a valid JSON ``line``: its strings cut out (escaped backslashes and quotes
    first, then every other piece between quotes), everything but brackets deleted, and
    each pass removes the innermost level; more than ``MAX_DEPTH`` passes: too deep."""
    unescaped = line.replace(b"\\\\", b"").replace(b'\\"', b"")
    brackets = b"".join(unescaped.split(b'"')[::2]).translate(_SQUARE, _NOT_BRACKETS)
    for _ in range(MAX_DEPTH):
        if not brackets:
            return False
        brackets = brackets.replace(b"[]", b"")
    return bool(brackets)


def _find_surrogate(obj: object) -> Problem | None:
    """The path to a string (or member name) holding a lone surrogate.  Containers are
    remembered as (parent, key) crumbs, so the walk builds no path until it finds one."""
    crumbs: list[tuple[int, str | int]] = [(-1, "")]
    stack: list[tuple[object, int]] = [(obj, 0)]

    def path(crumb: int) -> tuple[str | int, ...]:
        keys: list[str | int] = []
        while crumb > 0:
            crumb, key = crumbs[crumb]
            keys.append(key)
        return tuple(reversed(keys))

    def found(crumb: int, key: str | int | None, value: str, *, name: bool = False
              ) -> Problem:
        where = path(crumb) + (() if key is None else (key,))
        if name:
            shown = f"a member name in {_path(where)}" if where else "a member name"
            return _problem(where, _surrogate_text(shown, value))
        return _problem(where, _surrogate_text(_path(where), value))

    if not isinstance(obj, dict | list):
        return found(0, None, obj) if isinstance(obj, str) and not clean(obj) else None
    while stack:
        value, crumb = stack.pop()
        items: Iterable[tuple[str | int, object]] = (
            value.items() if isinstance(value, dict) else enumerate(cast(list[object], value)))
        for key, item in items:
            if isinstance(key, str) and _SURROGATE.search(key):
                return found(crumb, None, key, name=True)
            if isinstance(item, str):
                if _SURROGATE.search(item):
                    return found(crumb, key, item)
            elif isinstance(item, dict | list):
                crumbs.append((crumb, key))
                stack.append((item, len(crumbs) - 1))
    return None


def _problem(path: tuple[str | int, ...], message: str) -> Problem:
    return Problem(_path(path), bool(path) and path[0] == "params", message)


def _surrogate_text(where: str, value: str) -> str:
    m = _SURROGATE.search(value)
    assert m is not None
    shown = _clip(where or "the request")
    return (f"{shown} has a lone surrogate (\\u{ord(m.group()):04x}) at character "
            f"{m.start() + 1}: SCS text must be valid Unicode (a \\ud800-\\udfff escape is "
            "only valid as half of a pair)")


def _path(path: tuple[str | int, ...]) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            shown = part if part.isidentifier() else repr(part)
            out += f".{shown}" if out else shown
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", out)


def _clip(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[:limit] + "..."
