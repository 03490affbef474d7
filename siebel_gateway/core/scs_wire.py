"""SCS wire protocol v1 framing, sans-IO: bytes in, checked requests out; results and
callbacks in, bytes out (docs/scs-protocol.md).

One JSON-RPC 2.0 object per ``\\n``-terminated UTF-8 line.  Rule 1: every line that ends
produces exactly one item from ``feed`` -- a ``Request`` whose params have been checked
against the method table, or a ``WireError`` to answer with a JSON-RPC error object.
Rule 2: a line longer than ``max_line`` is reported once and skipped up to its end; the
connection stays usable.  Blank lines are ignored (a client's keep-alive).
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from . import scs_hygiene
from .scs_messages import REQUESTS, Callback, ScsRequest, request_params

__all__ = [
    "DEFAULT_MAX_LINE",
    "METHODS",
    "LineDecoder",
    "Request",
    "RpcError",
    "ScError",
    "WireError",
    "callback_message",
    "encode",
    "error_message",
    "parse_line",
    "result_message",
]

DEFAULT_MAX_LINE = 1 << 20
RequestId = str | int | float | None


class RpcError(enum.IntEnum):
    #: Not JSON, or not UTF-8.
    PARSE = -32700
    #: JSON, but not a JSON-RPC 2.0 request object (or a line too long).
    INVALID_REQUEST = -32600
    #: No such method in SCS protocol v1.
    UNKNOWN_METHOD = -32601
    #: A parameter is missing or of the wrong type.
    INVALID_PARAMS = -32602
    #: The gateway failed on a valid request (a defect; its log has the details).
    INTERNAL = -32603


class ScError(enum.IntEnum):
    """SCAPI ``SCErrorCode`` values carried in ``result.code``."""

    OK = 0
    ERROR = 1
    CMD_NOT_SUPPORTED = 2
    MEDIA_TYPE_NOT_SUPPORTED = 3
    INVALID_HANDLE = 4
    OUT_OF_MEMORY = 5
    NETWORK_ERROR = 6
    DRIVER_CREATION_ERR = 9
    DRIVER_RELEASE_ERR = 10
    SERVICE_CREATION_ERR = 11
    SERVICE_RELEASE_ERR = 12
    INVALID_ITEM_TRACKING_ID = 13
    WORK_ITEM_WRONG_STATE = 18


#: Method -> its params as (wire name, kind[?]) (the request classes of scs_messages).
_P = tuple[tuple[str, str], ...]
METHODS: Mapping[str, _P] = MappingProxyType({m: cls.PARAMS for m, cls in REQUESTS.items()})

_DEFAULTS = {"str": "", "bool": True, "kv": (), "int": 0}
#: METHODS read once: method -> ((name, kind, optional), ...).
_SPECS = {m: tuple((name, spec.rstrip("?"), spec.endswith("?")) for name, spec in ps)
          for m, ps in METHODS.items()}


@dataclass(frozen=True, slots=True)
class Request:
    """A checked request: its JSON-RPC id and its typed message (``body``)."""

    id: RequestId
    body: ScsRequest

    @property
    def method(self) -> str:
        return self.body.NAME

    @property
    def params(self) -> Mapping[str, Any]:
        """The checked params by wire name (absent optional ones at their defaults)."""
        return request_params(self.body)


@dataclass(frozen=True)
class WireError:
    """A line that cannot be served: answer ``encode_error(id, code, message)``."""

    id: RequestId
    code: RpcError
    message: str


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def _check_params(method: str, raw: object, rid: RequestId) -> Request | WireError:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        return WireError(rid, RpcError.INVALID_PARAMS, f"{method}: params must be an object "
                                                       f"with named members")
    values: list[Any] = []
    for name, kind, optional in _SPECS[method]:
        value = raw.get(name)
        if value is None:
            if not optional:
                return WireError(rid, RpcError.INVALID_PARAMS,
                                 f"{method}: params.{name} is missing")
            values.append(_DEFAULTS[kind])
            continue
        problem = _type_problem(kind, value)
        if problem:
            return WireError(rid, RpcError.INVALID_PARAMS, f"{method}: params.{name} {problem}")
        values.append(tuple((k, v) for k, v in value) if kind == "kv" else value)
    return Request(rid, REQUESTS[method](*values))


def _type_problem(kind: str, value: object) -> str:
    if kind == "str":
        return "" if isinstance(value, str) else "must be a string"
    if kind == "bool":
        return "" if isinstance(value, bool) else "must be true or false"
    if kind == "int":
        ok = isinstance(value, int) and not isinstance(value, bool)
        return "" if ok else "must be an integer"
    if not isinstance(value, list):
        return "must be an array of [key, value] string pairs"
    for i, item in enumerate(value):
        if not (isinstance(item, list) and len(item) == 2
                and all(isinstance(x, str) for x in item)):
            return f"item {i} is not a [key, value] pair of strings"
    return ""


def parse_line(line: bytes) -> Request | WireError | None:
    """One line without its terminator; ``None`` for a blank line."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        return WireError(None, RpcError.PARSE, f"line is not valid UTF-8 (byte {exc.start})")
    if not text.strip(" \t\r"):  # JSON whitespace only: a lone \x0b or \x0c is answered
        return None
    try:
        obj = json.loads(text)
    except ValueError as exc:
        return WireError(None, RpcError.PARSE, f"not JSON: {exc}")
    except RecursionError:  # thousands of levels: the limit below, met inside json
        return WireError(None, RpcError.INVALID_REQUEST, scs_hygiene.too_deep())
    rid = obj.get("id") if isinstance(obj, dict) else None
    id_problem = scs_hygiene.bad_id(rid)
    if id_problem:
        return WireError(None, RpcError.INVALID_REQUEST, id_problem)
    problem = scs_hygiene.check(obj, line)
    if problem is not None:
        echo = rid if not isinstance(rid, str) or scs_hygiene.clean(rid) else None
        code = (RpcError.INVALID_REQUEST if problem.kind == "depth" else
                RpcError.INVALID_PARAMS if problem.in_params and echo is not None else
                RpcError.PARSE)
        return WireError(echo, code, problem.message)
    if not isinstance(obj, dict):
        return WireError(None, RpcError.INVALID_REQUEST, "a request must be a JSON object")
    if obj.get("jsonrpc") != "2.0":
        return WireError(rid, RpcError.INVALID_REQUEST, 'jsonrpc must be "2.0"')
    if "id" not in obj or rid is None:
        return WireError(None, RpcError.INVALID_REQUEST,
                         "a request needs an id (the gateway answers every request)")
    method = obj.get("method")
    if not isinstance(method, str):
        return WireError(rid, RpcError.INVALID_REQUEST, "method must be a string")
    if method not in METHODS:
        return WireError(rid, RpcError.UNKNOWN_METHOD,
                         f"unknown method {_clip(method)!r} (SCS protocol v1 has "
                         f"{', '.join(METHODS)})")
    return _check_params(method, obj.get("params"), rid)


class LineDecoder:
    """Buffers bytes and yields one item per complete line (see the module rules)."""

    def __init__(self, max_line: int = DEFAULT_MAX_LINE) -> None:
        self.max_line = max_line
        self._buf = bytearray()
        self._discarding = False

    def feed(self, data: bytes) -> list[Request | WireError]:
        out: list[Request | WireError] = []
        self._buf += data
        while True:
            end = self._buf.find(b"\n")
            if end < 0:
                if not self._discarding and len(self._buf) > self.max_line:
                    out.append(self._too_long())
                    self._discarding = True
                if self._discarding:
                    self._buf.clear()
                return out
            line = bytes(self._buf[:end])
            del self._buf[:end + 1]
            if self._discarding:
                self._discarding = False
                continue
            if len(line) > self.max_line:
                out.append(self._too_long())
                continue
            item = parse_line(line.rstrip(b"\r"))
            if item is not None:
                out.append(item)

    def _too_long(self) -> WireError:
        return WireError(None, RpcError.INVALID_REQUEST,
                         f"line longer than {self.max_line} bytes; it was discarded")


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False)


_ASCII_ENCODER = json.JSONEncoder(separators=(",", ":"), check_circular=False)


def encode(message: Mapping[str, Any]) -> bytes:
    """A JSON-RPC object as one wire line (compact UTF-8; one encoder, built once).

    Never raises on text: a string UTF-8 cannot encode (a lone surrogate, which the
    parser refuses but a callback could still carry) is written as its JSON escape."""
    line = _ENCODER.encode(message) + "\n"
    try:
        return line.encode()
    except UnicodeEncodeError:
        return (_ASCII_ENCODER.encode(message) + "\n").encode()


def result_message(rid: RequestId, code: int = 0, error: str = "",
                   **extra: Any) -> dict[str, Any]:
    result: dict[str, Any] = {"code": int(code)}
    if code:
        result["error"] = error or ScError(code).name
    result.update({k: _jsonable(v) for k, v in extra.items()})
    return {"jsonrpc": "2.0", "id": rid, "result": result}


def error_message(rid: RequestId, code: int, message: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": rid, "error": {"code": int(code), "message": message}}


def callback_message(callback: Callback) -> dict[str, Any]:
    """A typed callback as its JSON-RPC notification."""
    return {"jsonrpc": "2.0", "method": callback.NAME, "params": callback.params()}


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    return value
