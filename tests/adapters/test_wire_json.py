"""adapters/wire_json.py writes exactly the bytes of the core's encoder (the protocol's
documented form), for every kind of text and value an SCS message can carry."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from siebel_gateway.adapters.wire_json import encode
from siebel_gateway.core.scs_messages import CacheCommandInformation, HandleEvent
from siebel_gateway.core.scs_wire import callback_message, error_message, result_message
from siebel_gateway.core.scs_wire import encode as core_encode

text = st.text(alphabet=st.characters(codec=None), max_size=40)  # any code point, surrogates too
ids = st.one_of(st.none(), st.integers(-(2**70), 2**70), text,
                st.floats(allow_nan=False, allow_infinity=False))


@settings(max_examples=400)
@given(ids, st.sampled_from([0, 1, 2, 6]), text, st.dictionaries(text, st.one_of(
    text, st.integers(-(2**70), 2**70), st.booleans(), st.floats(allow_nan=False),
    st.lists(text, max_size=4)), max_size=4))
def test_results_and_errors_are_byte_identical(rid: Any, code: int, error: str,
                                               extra: dict[str, Any]) -> None:
    extra = {k: v for k, v in extra.items() if k not in ("rid", "code", "error")}
    for message in (result_message(rid, code, error, **extra), error_message(rid, -32600, error)):
        assert encode(message) == core_encode(message)


@settings(max_examples=400)
@given(text, st.lists(st.tuples(text, text), max_size=6), st.booleans(),
       st.lists(text, max_size=8))
def test_callbacks_are_byte_identical(name: str, fields: list[tuple[str, str]],
                                      notify: bool, commands: list[str]) -> None:
    for callback in (HandleEvent("svc-1", name=name, fields=fields, notify_when_done=notify,
                                 tracking_id=name),
                     CacheCommandInformation("svc-1", commands, commands[::-1],
                                             list(range(len(commands))))):
        message = callback_message(callback)
        assert encode(message) == core_encode(message)
