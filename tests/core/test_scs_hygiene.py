"""Lines that are JSON but cannot be served (issue 12 D2, D8): lone surrogate escapes,
nesting thousands deep, ids JSON cannot write back.  Each is answered with an error that
names where the problem is, and every answer is strict JSON (no NaN, valid UTF-8)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from siebel_gateway.core.scs_hygiene import MAX_DEPTH
from siebel_gateway.core.scs_messages import HandleError
from siebel_gateway.core.scs_wire import (
    LineDecoder,
    Request,
    RpcError,
    WireError,
    callback_message,
    encode,
    error_message,
    parse_line,
    result_message,
)
from siebel_gateway.gc.codec import GcCodec, GcEncodeError
from siebel_gateway.gc.dialect import load_dialect


def strict(line: bytes) -> Any:
    """What a strict client reads: UTF-8 (no surrogates) and JSON without NaN/Infinity."""
    def refuse(name: str) -> None:
        raise ValueError(f"not JSON: {name}")

    return json.loads(line.decode("utf-8"), parse_constant=refuse)


def answer(item: Request | WireError | None) -> Any:
    assert isinstance(item, WireError), item
    return strict(encode(error_message(item.id, item.code, item.message)))


@pytest.mark.parametrize(("line", "code", "rid", "where"), [
    (b'{"jsonrpc":"2.0","id":"x\\ud800","method":"APIVersion"}',
     RpcError.PARSE, None, "id has a lone surrogate (\\ud800) at character 2"),
    (b'{"jsonrpc":"2.0","id":1,"method":"CreateISCDriverInstance","params":{"mediaType":'
     b'"Voice","language":"EN\\udfffU","params":[]}}',
     RpcError.INVALID_PARAMS, 1, "params.language has a lone surrogate (\\udfff) at character 3"),
    (b'{"jsonrpc":"2.0","id":2,"method":"RequestService","params":{"driver":"drv-1",'
     b'"params":[["AgentId","1001"],["Extension","20\\ud83d01"]]}}',
     RpcError.INVALID_PARAMS, 2, "params.params[1][1] has a lone surrogate (\\ud83d)"),
    (b'{"jsonrpc":"2.0","id":3,"method":"APIVersion","params":{"\\ud800":1}}',
     RpcError.INVALID_PARAMS, 3, "a member name in params has a lone surrogate"),
    (b'{"jsonrpc":"2.0","id":4,"method":"API\\udc00Version"}',
     RpcError.PARSE, 4, "method has a lone surrogate (\\udc00) at character 4"),
    (b'{"jsonrpc":"2.0","id":5,"method":"APIVersion","extra":{"note":"\\ud800"}}',
     RpcError.PARSE, 5, "extra.note has a lone surrogate"),
    (b'"\\ud800"', RpcError.PARSE, None, "the request has a lone surrogate (\\ud800)"),
])
def test_a_lone_surrogate_is_refused_naming_where(line: bytes, code: RpcError, rid: Any,
                                                   where: str) -> None:
    item = parse_line(line)
    assert isinstance(item, WireError), item
    assert (item.code, item.id) == (code, rid)
    assert where in item.message
    assert answer(item)["id"] == rid


def test_surrogate_pairs_and_escaped_backslashes_are_not_lone_surrogates() -> None:
    item = parse_line(b'{"jsonrpc":"2.0","id":"\\ud83d\\ude00","method":"CreateISCDriverInstance",'
                      b'"params":{"mediaType":"Voice","language":"ENU","connectString":'
                      b'"\\\\ud800","params":[]}}')
    assert isinstance(item, Request), item
    assert item.id == "\U0001f600"
    assert item.params["connectString"] == "\\ud800"


@pytest.mark.parametrize("depth", [5_000, 100_000])
def test_thousands_of_levels_are_refused_not_raised(depth: int) -> None:
    deep = b"[" * depth + b"]" * depth
    lines = [deep, b'{"jsonrpc":"2.0","id":1,"method":"APIVersion","params":{"x":' + deep + b"}}",
             b'{"a":' * depth + b"1" + b"}" * depth]
    items = LineDecoder(1 << 22).feed(b"\n".join(lines) + b"\n")  # today: RecursionError
    errors = [i for i in items if isinstance(i, WireError)]
    assert [e.code for e in errors] == [RpcError.INVALID_REQUEST] * 3
    assert len(items) == 3
    assert all(f"nested deeper than {MAX_DEPTH} levels" in e.message for e in errors)


def test_the_depth_limit_is_exact_and_ignores_brackets_in_strings() -> None:
    def line(depth: int, text: str = "") -> bytes:
        inner = json.dumps(text).encode()
        return (b'{"jsonrpc":"2.0","id":7,"method":"APIVersion","params":{"x":'
                + b"[" * (depth - 2) + inner + b"]" * (depth - 2) + b"}}")

    assert isinstance(parse_line(line(MAX_DEPTH)), Request)
    too_deep = parse_line(line(MAX_DEPTH + 1))
    assert isinstance(too_deep, WireError) and too_deep.code == RpcError.INVALID_REQUEST
    assert too_deep.id == 7
    assert isinstance(parse_line(line(MAX_DEPTH, '\\"[[[[' * 40 + "\\\\")), Request)


@pytest.mark.parametrize("rid", [b"NaN", b"Infinity", b"-Infinity", b"1e400", b"-1e999"])
def test_an_id_that_is_not_finite_is_refused(rid: bytes) -> None:
    item = parse_line(b'{"jsonrpc":"2.0","id":' + rid + b',"method":"APIVersion"}')
    assert isinstance(item, WireError) and item.code == RpcError.INVALID_REQUEST, item
    assert "id must be a string or a finite number" in item.message
    assert answer(item)["id"] is None  # today: "id":NaN, which no strict client reads


@pytest.mark.parametrize("rid", [b'"a-1"', b"0", b"-7", b"123456789012345678901234567890",
                                 b"2.5", b'""'])
def test_other_ids_are_echoed_as_given(rid: bytes) -> None:
    item = parse_line(b'{"jsonrpc":"2.0","id":' + rid + b',"method":"APIVersion"}')
    assert isinstance(item, Request), item
    out = encode(result_message(item.id, version=2))
    assert b'"id":' + rid + b"," in out


def test_no_encoder_raises_on_a_lone_surrogate() -> None:
    for message in (result_message("x\ud800", 1, "bad \udfff"),
                    callback_message(HandleError("svc-1", cmd_track_id="c\ud800",
                                                 error="a\udc00b"))):
        decoded = json.loads(encode(message).decode("utf-8"))  # today: UnicodeEncodeError
        assert decoded["jsonrpc"] == "2.0"
    codec = GcCodec(load_dialect())
    with pytest.raises(GcEncodeError) as refused:
        codec.encode("Login", {"AgentId": "1001", "Password": "p\ud800", "Extension": "2001"})
    assert refused.value.field == "Password"
    assert "\ud800" not in str(refused.value)


def test_only_json_whitespace_makes_a_blank_line() -> None:
    """Found by the long fuzz run: a line holding only a vertical tab went unanswered
    (Python's str.strip calls it whitespace; JSON does not)."""
    items = LineDecoder().feed(b" \t\r\n\n\x0b\n\x0c\n\x1c\n\xc2\xa0\n\xe2\x80\xa8\n")
    assert [(type(i), i.code) for i in items if isinstance(i, WireError)] == [
        (WireError, RpcError.PARSE)] * 5
    assert len(items) == 5
