"""Resync without a gap (issue 15 item 3): after the GC comes back, a call the gateway knew
stays the same work item until the GC says it is gone, and commands in the resync window
are held until the GC answers the sign-in, or refused when the window ends."""

from __future__ import annotations

import pytest

from siebel_gateway.core.agent import Phase
from siebel_gateway.core.effects import Key
from siebel_gateway.core.gateway import GatewayOptions

from .driver import DIALECT, CoreDriver, callbacks, names, published, timers


def _on_a_call(d: CoreDriver) -> str:
    d.available()
    svc = d.logged_in()
    d.gc("NewInboundCall", "1001", ANI="555", DNIS="7000", DialogId="d1")
    d.now += 2
    d.gc("DialogStatus", "1001", DialogId="d1", DialogState="ACTIVE", ParticipantState="ACTIVE")
    return svc


def _outage_and_back(d: CoreDriver) -> list[str]:
    d.now += 5
    d.gc("OUT_OF_SERVICE", DIALECT.system_agent, Reason="maintenance")
    d.now += 5
    back = d.gc("IN_SERVICE", DIALECT.system_agent, Reason="back")
    return names(back)


def test_the_call_stays_a_work_item_and_a_command_waits_for_the_resync() -> None:
    d = CoreDriver()
    svc = _on_a_call(d)
    started = d.core.snapshot().sessions[0].calls[0].started_at
    assert "CleanAllWorkItem" not in _outage_and_back(d)
    assert published(d.log[-8:])[-2:] == ["Connect#1001", "Login#1001"]
    # HoldCall in the window: accepted, held (nothing published yet).
    answer, effects = d.request("InvokeCommand", service=svc, cmdTrackId="h1", name="HoldCall",
                                params=[["TrackingID", "d1"]])
    assert answer["result"] == {"code": 0}
    assert published(effects) == []
    # The GC answers the sign-in: the held command goes, and the GC is asked about the call.
    effects = d.gc("State", "1001", State="TALKING", ReasonCode=-1)
    assert published(effects) == ["GetDialogState#1001", "HoldCall#1001"]
    # The GC re-reports the call (now held): no new work item, the same start time.
    effects = d.gc("DialogStatus", "1001", DialogId="d1", DialogState="ACTIVE",
                   ParticipantState="HELD")
    assert names(effects)[:2] == ["WorkItemSuspended", "EventHeld"]
    assert "WorkItemStarted" not in names(d.log)[names(d.log).index("EventLinkConnected"):]
    [call] = d.core.snapshot().sessions[0].calls
    assert (call.tracking_id, call.started_at) == ("d1", started)


def test_a_held_command_is_refused_when_the_window_ends() -> None:
    d = CoreDriver(options=GatewayOptions(command_timeout=5))
    svc = _on_a_call(d)
    _outage_and_back(d)
    _, effects = d.request("InvokeCommand", service=svc, cmdTrackId="h1", name="HoldCall",
                           params=[["TrackingID", "d1"]])
    [key] = [k for k in timers(effects) if k.kind == "held"]
    d.now += 5
    effects = d.fire(key)
    [error] = [c["params"] for c in callbacks(effects) if c["method"] == "HandleError"]
    assert error["cmdTrackId"] == "h1"
    assert error["error"] == "HoldCall was not sent: the telephony server cannot be reached"
    assert published(effects) == []
    # The late State then sends nothing held.
    effects = d.gc("State", "1001", State="TALKING", ReasonCode=-1)
    assert published(effects) == ["GetDialogState#1001"]


def test_a_call_the_gc_no_longer_has_is_released_after_the_resync() -> None:
    d = CoreDriver()
    _on_a_call(d)
    _outage_and_back(d)
    effects = d.gc("State", "1001", State="NOT_READY", ReasonCode=-1)
    assert published(effects) == ["GetDialogState#1001"]
    effects = d.gc("Error", "1001", Command="GetDialogState", ErrorType="Not Found",
                   ErrorCode="Invalid dialogId", Message="dialog d1 is not a call of 1001")
    assert names(effects)[:2] == ["EventReleased", "WorkItemReleased"]
    assert "EventError" not in names(effects) and "HandleError" not in names(effects)
    assert d.core.snapshot().sessions[0].calls == ()


BUSY = "gateway busy: sign-in waited 60 s for the GC (500 sign-ins in flight)"
REFUSED = "the broker refused it: not authorized to write to queue://Connector1"


def _resync_login_key(d: CoreDriver) -> Key:
    """The command key of the resync's Login (the last timed GC command sent)."""
    return [k for k in timers(d.log) if k.kind == "cmd"][-1]


@pytest.mark.parametrize(("why", "text"), [
    (BUSY, "HoldCall was not sent: the gateway is busy (too many commands at once); "
           "try again"),
    (REFUSED, "HoldCall was not sent: the message broker refused it (not authorized to write "
              "to queue://Connector1); tell your administrator"),
])
def test_a_resync_login_that_was_not_sent_ends_the_window(why: str, text: str) -> None:
    d = CoreDriver()
    svc = _on_a_call(d)
    _outage_and_back(d)
    login = _resync_login_key(d)
    _, effects = d.request("InvokeCommand", service=svc, cmdTrackId="h1", name="HoldCall",
                           params=[["TrackingID", "d1"]])
    assert published(effects) == []  # held
    effects = d.core.publish_failed(login, why, d.now)
    # the held command is answered now, with why the resync could not be sent ...
    errors = [c["params"] for c in callbacks(effects) if c["method"] == "HandleError"]
    assert [(e["cmdTrackId"], e["error"]) for e in errors] == [("h1", text)]
    # ... nothing for the gateway's own LogIn (no cmdTrackId "0") ...
    assert not any(e["cmdTrackId"] == "0" for e in errors)
    assert d.core.snapshot().sessions[0].phase is Phase.LOGGED_IN
    # ... and the next command goes to the GC instead of waiting for a resync that is over.
    answer, effects = d.request("InvokeCommand", service=svc, cmdTrackId="r1",
                                name="ChangeReadyState", params=[["ReadyState", "1"]])
    assert answer["result"] == {"code": 0}
    assert published(effects) == ["MakeReady#1001"]


def test_a_resync_login_the_gc_never_answers_ends_the_window() -> None:
    d = CoreDriver(options=GatewayOptions(command_timeout=5))
    svc = _on_a_call(d)
    _outage_and_back(d)
    login = _resync_login_key(d)
    d.now += 5
    d.fire(login)
    _, effects = d.request("InvokeCommand", service=svc, cmdTrackId="r1",
                           name="ChangeReadyState", params=[["ReadyState", "1"]])
    assert published(effects) == ["MakeReady#1001"]
