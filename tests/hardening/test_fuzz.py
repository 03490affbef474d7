"""Fuzzing both edges of a running gateway (in process: the harness's real ScsProtocol,
GatewayService, core, memory broker and GC simulator).

SCS: valid requests of a logged-in agent, mutated (types, methods, ids, sizes, depth,
garbage lines), pipelined and split across reads at random points: every line gets exactly
one well-formed JSON answer (a result, or a JSON-RPC error for a line that is not a
request), never an internal error (-32603), the connection stays open and the agent stays
logged in.  GC: event texts of the simulator, mutated, published on the gateway's event
topic: the gateway neither raises nor logs a defect, and its SCS side still answers.

Besides valid JSON, lines carry lone surrogate escapes, nesting past the depth limit and
non-finite ids (issue 12 D2/D8).  ``tools/fuzz.py`` runs the long version against a
``serve`` process; both draw on ``corpus.py``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twisted.logger import LogLevel, globalLogPublisher

from siebel_gateway.core.broker_messages import BrokerMessage

from ..driver.harness import Rig
from .corpus import BODIES, COMMANDS, JUNK, METHODS, body

NO_SURROGATES: tuple[Literal["Cs"]] = ("Cs",)
# Text without lone surrogates (the core's encoder raises on them today: D2).
TEXT = st.text(st.characters(exclude_categories=NO_SURROGATES), max_size=40)
LONG_TEXT = st.text(st.characters(exclude_categories=NO_SURROGATES), min_size=1000,
                    max_size=20_000)
# GC text: STOMP text bodies never hold NUL (BrokerMessage refuses it).
GC_TEXT = st.text(st.characters(exclude_categories=NO_SURROGATES, exclude_characters="\x00"),
                  max_size=40)
GC_LONG = st.text(st.characters(exclude_categories=NO_SURROGATES, exclude_characters="\x00"),
                  min_size=1000, max_size=20_000)
# Finite ids only (NaN / Infinity / 1e400 are echoed as invalid JSON today: D8).
IDS = st.one_of(st.integers(-(2**70), 2**70), TEXT,
                st.floats(allow_nan=False, allow_infinity=False), st.none(), st.booleans(),
                st.lists(st.integers(), max_size=2))
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-(2**40), 2**40),
                    st.floats(allow_nan=False, allow_infinity=False), TEXT)
JSON = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(TEXT, inner, max_size=4)), max_leaves=30)
# Depth well below what json.loads survives (D2: ~5,000 levels raise RecursionError).
DEEP = st.integers(1, 200).map(lambda n: "[" * n + "]" * n)

@st.composite
def request(draw: st.DrawFn, service: str) -> dict[str, Any]:
    method = draw(st.sampled_from(METHODS))
    params: dict[str, Any] = {"service": service, "cmdTrackId": draw(TEXT),
                              "name": draw(st.sampled_from(COMMANDS)),
                              "stringParam": draw(TEXT), "trackingId": draw(TEXT),
                              "commandType": draw(st.integers(-3, 3)),
                              "params": draw(st.lists(st.tuples(TEXT, TEXT), max_size=4)),
                              "mediaType": "Voice", "language": "ENU", "driver": "drv-1"}
    return {"jsonrpc": "2.0", "id": draw(st.integers(1, 10**6)), "method": method,
            "params": params}


@st.composite
def mutated(draw: st.DrawFn, service: str) -> bytes:
    """One line (without its newline): a request, maybe mutated, or junk."""
    req = draw(request(service))
    kind = draw(st.sampled_from(("valid", "type", "drop", "id", "method", "size", "deep",
                                 "junk", "bytes", "notobject", "extra", "surrogate",
                                 "nonfinite", "deeper")))
    params = req["params"]
    if kind == "type":
        params[draw(st.sampled_from(sorted(params)))] = draw(JSON)
    elif kind == "drop":
        del params[draw(st.sampled_from(sorted(params)))]
    elif kind == "id":
        if draw(st.booleans()):
            del req["id"]
        else:
            req["id"] = draw(IDS)
    elif kind == "method":
        req["method"] = draw(st.one_of(TEXT, JSON))
    elif kind == "size":
        params[draw(st.sampled_from(sorted(params)))] = draw(LONG_TEXT)
    elif kind == "deep":
        params["params"] = json.loads(draw(DEEP))
    elif kind == "extra":
        req[draw(TEXT)] = draw(JSON)
        if draw(st.booleans()):
            req["jsonrpc"] = draw(JSON)
    line = json.dumps(req, ensure_ascii=draw(st.booleans())).encode()
    rid = f'"id": {req.get("id")}'.encode()
    if kind == "surrogate":  # a lone surrogate escape in a value, maybe in the id too
        line = json.dumps(req).encode().replace(b'"Voice"', b'"Vo\\ud800ice"')
        if draw(st.booleans()):
            line = line.replace(rid, b'"id": "r\\udfff"')
    elif kind == "nonfinite":
        line = json.dumps(req).encode().replace(rid, b'"id": ' + draw(st.sampled_from(
            (b"NaN", b"Infinity", b"-Infinity", b"1e400"))))
    elif kind == "deeper":  # far past the nesting limit
        n = draw(st.sampled_from((33, 1000, 6000)))
        line = line.replace(b'"params": [', b'"params": [' + b"[" * n + b"]" * n + b",", 1)
    elif kind == "junk":
        line = draw(st.sampled_from(JUNK)) + line[:20]
    elif kind == "bytes":
        line = draw(st.binary(min_size=1, max_size=60)).replace(b"\n", b" ")
    elif kind == "notobject":
        line = json.dumps(draw(st.one_of(SCALARS, st.lists(SCALARS, max_size=3)))).encode()
    return line


def _strict(line: bytes) -> dict[str, Any]:
    """Parses an answer as strict JSON (no NaN/Infinity), one object."""
    def refuse(name: str) -> None:
        raise ValueError(f"not JSON: {name}")

    msg = json.loads(line.decode("utf-8"), parse_constant=refuse)
    assert isinstance(msg, dict) and msg.get("jsonrpc") == "2.0", line
    return msg


@contextmanager
def defects() -> Iterator[list[str]]:
    """Log lines at error/critical level (a gateway defect) while the block runs."""
    seen: list[str] = []

    def observer(event: dict[str, Any]) -> None:
        if event.get("log_level") in (LogLevel.error, LogLevel.critical):
            seen.append(str(event.get("log_format")))

    o: Any = observer
    globalLogPublisher.addObserver(o)
    try:
        yield seen
    finally:
        globalLogPublisher.removeObserver(o)


@st.composite
def scs_session(draw: st.DrawFn) -> tuple[list[bytes], list[int]]:
    lines = draw(st.lists(mutated("svc-2"), min_size=1, max_size=12))
    stream = b"".join(line + b"\n" for line in lines)
    cuts = sorted(draw(st.lists(st.integers(0, len(stream)), max_size=6)))
    return lines, cuts


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.data_too_large])
@given(session=scs_session())
def test_every_scs_line_gets_exactly_one_well_formed_answer(
        session: tuple[list[bytes], list[int]]) -> None:
    lines, cuts = session
    rig = Rig()
    agent = rig.logged_in()
    assert agent.service == "svc-2"
    client = agent.client
    transport: Any = client.transport
    transport.clear()
    stream = b"".join(line + b"\n" for line in lines)
    with defects() as seen:
        for start, end in zip([0, *cuts], [*cuts, len(stream)], strict=True):
            client.protocol.dataReceived(stream[start:end])  # split across reads
            rig.pump()
    assert not seen, seen
    answers = [_strict(raw) for raw in transport.value().splitlines()]
    responses = [m for m in answers if "id" in m]
    expected = [line for line in lines if line.strip(b" \t\r")]
    assert len(responses) == len(expected), (expected, responses)
    for msg in responses:
        assert ("result" in msg) != ("error" in msg), msg
        if "error" in msg:
            assert msg["error"]["code"] != -32603, msg
    assert not transport.disconnecting
    transport.clear()
    assert client.call("APIVersion") == {"code": 0, "version": 2, "protocol": "1.1"}
    assert rig.model.agents["1001"].state != "LOGOUT"


@st.composite
def gc_event(draw: st.DrawFn) -> BrokerMessage:
    fields = body(draw(st.sampled_from(BODIES)), "1001").split("#")
    for _ in range(draw(st.integers(0, 3))):
        i = draw(st.integers(0, len(fields)))
        action = draw(st.sampled_from(("replace", "insert", "delete", "long")))
        if action == "replace" and i < len(fields):
            fields[i] = draw(GC_TEXT)
        elif action == "insert":
            fields.insert(i, draw(GC_TEXT))
        elif action == "delete" and i < len(fields) and len(fields) > 1:
            del fields[i]
        elif action == "long" and i < len(fields):
            fields[i] = draw(GC_LONG)
    headers: dict[str, str] = {}
    if draw(st.booleans()):  # a decimal gcTimestamp only (D7: anything else raises)
        headers["gcTimestamp"] = str(draw(st.integers(0, 2**42)))
    if draw(st.booleans()):
        headers[draw(st.sampled_from(("type", "X-Other")))] = draw(GC_TEXT)
    return BrokerMessage(destination="/topic/gw1", body="#".join(fields), headers=headers)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.data_too_large])
@given(events=st.lists(gc_event(), min_size=1, max_size=15))
def test_mutated_gc_events_never_break_the_gateway(events: list[BrokerMessage]) -> None:
    rig = Rig()
    agent = rig.logged_in()
    with defects() as seen:
        gc = rig.broker.link()
        gc.start()
        for message in events:
            gc.publish(message)
        rig.pump(1)
    assert not seen, seen
    transport: Any = agent.client.transport
    for raw in transport.value().splitlines():
        _strict(raw)
    transport.clear()
    assert agent.client.call("APIVersion") == {"code": 0, "version": 2, "protocol": "1.1"}
    assert not transport.disconnecting
