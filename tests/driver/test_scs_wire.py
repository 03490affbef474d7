"""SCS protocol framing and JSON-RPC checks: every bad line gets the right answer and the
connection (and every other connection) keeps working."""

from __future__ import annotations

import json

import pytest

from siebel_gateway.core.scs_wire import LineDecoder, Request, RpcError, WireError

from .harness import Rig


def feed_one(data: bytes, max_line: int = 1 << 20) -> Request | WireError:
    items = LineDecoder(max_line).feed(data)
    assert len(items) == 1
    return items[0]


@pytest.mark.parametrize(("line", "code", "text"), [
    (b"{not json\n", RpcError.PARSE, "not JSON"),
    (b"\xff\xfe\n", RpcError.PARSE, "not valid UTF-8 (byte 0)"),
    (b"[1, 2]\n", RpcError.INVALID_REQUEST, "must be a JSON object"),
    (b'{"jsonrpc": "1.0", "id": 1, "method": "APIVersion"}\n', RpcError.INVALID_REQUEST,
     'jsonrpc must be "2.0"'),
    (b'{"jsonrpc": "2.0", "method": "APIVersion"}\n', RpcError.INVALID_REQUEST,
     "a request needs an id"),
    (b'{"jsonrpc": "2.0", "id": true, "method": "APIVersion"}\n', RpcError.INVALID_REQUEST,
     "id must be a string or a number"),
    (b'{"jsonrpc": "2.0", "id": 1, "method": "Dial"}\n', RpcError.UNKNOWN_METHOD,
     "unknown method 'Dial'"),
    (b'{"jsonrpc": "2.0", "id": 1, "method": "InvokeCommand", "params": []}\n',
     RpcError.INVALID_PARAMS, "params must be an object"),
    (b'{"jsonrpc": "2.0", "id": 1, "method": "InvokeCommand", "params": {"service": "s"}}\n',
     RpcError.INVALID_PARAMS, "InvokeCommand: params.cmdTrackId is missing"),
    (b'{"jsonrpc": "2.0", "id": 1, "method": "InvokeCommand", "params": {"service": 5, '
     b'"cmdTrackId": "1", "name": "AnswerCall"}}\n', RpcError.INVALID_PARAMS,
     "params.service must be a string"),
    (b'{"jsonrpc": "2.0", "id": 1, "method": "InvokeCommand", "params": {"service": "s", '
     b'"cmdTrackId": "1", "name": "X", "params": [["a", 1]]}}\n', RpcError.INVALID_PARAMS,
     "params.params item 0 is not a [key, value] pair of strings"),
    (b'{"jsonrpc": "2.0", "id": 1, "method": "InvokeCommandEx", "params": {"service": "s", '
     b'"cmdTrackId": "1", "commandType": "1"}}\n', RpcError.INVALID_PARAMS,
     "params.commandType must be an integer"),
    (b'{"jsonrpc": "2.0", "id": 1, "method": "NotifyEventHandlingFinished", "params": '
     b'{"service": "s", "trackingId": "1", "result": "yes"}}\n', RpcError.INVALID_PARAMS,
     "params.result must be true or false"),
])
def test_bad_lines_are_named(line: bytes, code: RpcError, text: str) -> None:
    item = feed_one(line)
    assert isinstance(item, WireError)
    assert item.code == code
    assert text in item.message


def test_lines_split_anywhere_and_crlf_and_blank_lines() -> None:
    d = LineDecoder()
    line = b'{"jsonrpc":"2.0","id":"a","method":"APIVersion"}\r\n'
    assert d.feed(line[:7]) == []
    items = d.feed(line[7:] + b"\n\r\n" + line)
    assert [i.id for i in items if isinstance(i, Request)] == ["a", "a"]


def test_oversized_line_is_reported_once_and_the_next_line_works() -> None:
    d = LineDecoder(max_line=64)
    big = b'{"jsonrpc":"2.0","id":1,"method":"APIVersion","params":{"x":"' + b"x" * 200
    first = d.feed(big[:100])
    assert [type(i) for i in first] == [WireError]
    assert "longer than 64 bytes" in first[0].message  # type: ignore[union-attr]
    assert d.feed(big[100:]) == []
    items = d.feed(b'"}}\n{"jsonrpc":"2.0","id":2,"method":"APIVersion"}\n')
    assert len(items) == 1 and isinstance(items[0], Request) and items[0].id == 2


def test_kv_lists_keep_order_and_duplicates() -> None:
    item = feed_one(b'{"jsonrpc":"2.0","id":1,"method":"RequestService","params":{"driver":'
                    b'"d","params":[["b","1"],["a","2"],["b","3"]]}}\n')
    assert isinstance(item, Request)
    assert item.params["params"] == (("b", "1"), ("a", "2"), ("b", "3"))


def test_bad_input_through_the_server_leaves_connections_usable() -> None:
    rig = Rig()
    one, two = rig.client(), rig.client()
    one.send_raw(b"garbage\n" + b"x" * (2 << 20) + b"\n")
    assert [e["error"]["code"] for e in one.errors] == [-32700, -32600]
    assert "longer than 1048576 bytes" in one.errors[1]["error"]["message"]
    assert one.call("APIVersion") == {"code": 0, "version": 2, "protocol": "1.1"}
    assert two.call("APIVersion") == {"code": 0, "version": 2, "protocol": "1.1"}


def test_every_error_is_valid_json_rpc_with_the_request_id() -> None:
    rig = Rig()
    c = rig.client()
    c.send_raw(b'{"jsonrpc":"2.0","id":"q1","method":"Nope"}\n')
    assert c.errors == [{"jsonrpc": "2.0", "id": "q1", "error": {
        "code": -32601, "message": c.errors[0]["error"]["message"]}}]
    assert json.dumps(c.errors)  # plain JSON


def test_unservable_lines_cost_neither_the_read_nor_the_connection_nor_the_agent() -> None:
    """Issue 12 D2/D8: a lone surrogate, 5,000 levels of nesting and a NaN id, pipelined
    with good requests in one read: every line is answered in order, nothing raises, the
    connection stays open and the agent stays logged in."""
    rig = Rig()
    agent = rig.logged_in()
    c = agent.client
    c.send_raw(b'{"jsonrpc":"2.0","id":7,"method":"APIVersion"}\n'
               b'{"jsonrpc":"2.0","id":"x\\ud800","method":"APIVersion"}\n'
               + b"[" * 5000 + b"]" * 5000 + b"\n"
               b'{"jsonrpc":"2.0","id":NaN,"method":"APIVersion"}\n'
               b'{"jsonrpc":"2.0","id":8,"method":"InvokeCommand","params":{"service":"'
               + agent.service.encode() + b'","cmdTrackId":"c\\udfff","name":"ChangeReadyState"}}\n'
               b'{"jsonrpc":"2.0","id":9,"method":"APIVersion"}\n')
    assert sorted(c.results) == [7, 9]
    assert [(e["id"], e["error"]["code"]) for e in c.errors] == [
        (None, -32700), (None, -32600), (None, -32600), (8, -32602)]
    assert "params.cmdTrackId has a lone surrogate" in c.errors[3]["error"]["message"]
    assert not c.transport.disconnecting
    assert rig.model.agents["1001"].state != "LOGOUT"
    assert agent.invoke("ChangeReadyState") == {"code": 0}
