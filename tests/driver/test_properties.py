"""Properties over random agent days: whatever SCS and the GC do, in any order, the gateway
answers every request with a known code, never fails internally, and the toolbar it last
sent agrees with the calls it announced."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from siebel_gateway.locales import SHIPPED_DIR, load_catalog

from .harness import Rig

COMMANDS = [
    ("ChangeReadyState", {}), ("ChangeNotReadyState", {"ReasonCode": "1"}),
    ("ChangeNotReadyState", {}), ("ChangeWorkReadyState", {}), ("LogOut", {"ReasonCode": "10"}),
    ("SetWrapUpReason", {"ReasonCode": "Support"}), ("MakeCall", {"PhoneNumber": "4085550100"}),
    ("MakeCall", {"PhoneNumber": "2002"}), ("AnswerCall", {}), ("ReleaseCall", {}),
    ("HoldCall", {}), ("RetrieveCall", {}), ("TransferInit", {"PhoneNumber": "2002"}),
    ("ConferenceInit", {"PhoneNumber": "2002"}), ("TransferComplete", {}),
    ("ConferenceComplete", {}), ("TransferMute", {"PhoneNumber": "2002"}),
    ("SendDTMF", {"Digits": "12"}), ("SetCurrentWorkItem", {"TrackingID": "16803001"}),
    ("LogIn", {"AgentId": "1001", "AgentPin": "secret1001", "Extension": "2001"}),
]
CONTROLS = [
    {"action": "inbound-call", "agent": "1001", "ani": "4155550100"},
    {"action": "inbound-call", "ani": "4155550199"},
    {"action": "agent-call", "from": "1002", "to": "1001"},
    {"action": "far-end-drop", "agent": "1001"}, {"action": "rona", "agent": "1001"},
    {"action": "out-of-service"}, {"action": "in-service"},
]
STEP = st.one_of(
    st.tuples(st.just("cmd"), st.sampled_from(range(len(COMMANDS))), st.booleans()),
    st.tuples(st.just("ctl"), st.sampled_from(range(len(CONTROLS))), st.booleans()),
    st.tuples(st.just("wait"), st.sampled_from([1, 5, 20]), st.booleans()),
)
CODES = {0, 1, 2, 6, 13, 18}


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(flavour=st.sampled_from(["ucce", "uccx"]), steps=st.lists(STEP, max_size=40))
def test_random_days_keep_the_contract(flavour: str, steps: list[tuple[str, int, bool]]) -> None:
    rig = Rig(flavour=flavour)
    a = rig.logged_in()
    b = rig.logged_in("1002", "2002")
    b.invoke("ChangeReadyState")
    for kind, n, second in steps:
        agent = b if second else a
        if kind == "cmd":
            name, params = COMMANDS[n]
            if name == "LogIn" and second:
                params = {"AgentId": "1002", "AgentPin": "secret1002", "Extension": "2002"}
            r = agent.invoke(name, **params)
            assert r["code"] in CODES, r
            assert (r["code"] == 0) == ("error" not in r), r
        elif kind == "ctl":
            rig.control(**CONTROLS[n])
        else:
            rig.pump(n)
        for x in (a, b):
            callbacks: list[dict[str, Any]] = x.take()
            assert not x.client.errors, x.client.errors
            _check_toolbar(x, callbacks, rig)


def _check_toolbar(x: Any, callbacks: list[dict[str, Any]], rig: Rig) -> None:
    session = rig.core.services[x.service]
    ringing = any(c.state == "ALERTING" for c in session.calls.calls.values())
    if not x.flags:
        return
    assert bool(x.flags["AnswerCall"] & 8) == (ringing and rig.core.gc_available)
    assert bool(x.flags["LogIn"] & 2) == (session.phase.name != "LOGGED_OUT"
                                          or not rig.core.gc_available)
    for c in callbacks:
        assert c["params"]["service"] == x.service


def test_every_language_has_every_key_and_files_parse_cleanly() -> None:
    catalog = load_catalog()
    keys = set(catalog.languages["ENU"])
    for lang, texts in catalog.languages.items():
        assert set(texts) == keys, (lang, keys ^ set(texts))
    assert sorted(p.name for p in SHIPPED_DIR.iterdir()) == [
        f"messages_{x}.def" for x in ("ARA", "DEU", "ENU", "ESN", "FRA")]


@given(st.floats(min_value=0, max_value=4e9, allow_nan=False))
def test_timestamps_match_datetime_to_the_millisecond(now: float) -> None:
    """iso_time caches the seconds part; it must round exactly as datetime does."""
    import datetime

    from siebel_gateway.core.agent import iso_time

    t = datetime.datetime.fromtimestamp(now, tz=datetime.UTC)
    assert iso_time(now) == t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"
