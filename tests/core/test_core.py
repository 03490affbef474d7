"""The core as a core: SCS requests and GC events in, effects out, asserted directly."""

from __future__ import annotations

from siebel_gateway.core.agent import Phase
from siebel_gateway.core.effects import Key, Log, ToScs
from siebel_gateway.core.gateway import ANSWER, BEAT, GatewayOptions, Result
from siebel_gateway.core.scs_messages import APIVersion
from siebel_gateway.core.scs_wire import RpcError
from siebel_gateway.gc.states import AgentState, CallState

from .driver import DIALECT, CoreDriver, callbacks, names, published, timers


def test_sign_in_is_hello_then_connect_and_login_then_the_first_state() -> None:
    d = CoreDriver()
    effects = d.available()
    assert published(effects) == ["Hello#gw1"]
    assert BEAT in timers(effects)
    svc = d.service()
    answer, effects = d.request("InvokeCommand", service=svc, cmdTrackId="c1", name="LogIn",
                                params=[["AgentPin", "pin"]])
    assert answer["result"] == {"code": 0}
    assert published(effects) == ["Hello#gw1"]
    assert timers(effects) == [Key(svc, "cmd", "3")]  # 1, 2: core/recover.py's questions
    [view] = d.core.snapshot().sessions
    assert view.phase is Phase.AWAIT_SERVICE and view.awaiting_answers == 1
    effects = d.gc("IN_SERVICE", DIALECT.system_agent, Reason="up")
    assert published(effects) == ["Connect#1001", "Login#1001"]
    effects = d.gc("State", "1001", State="NOT_READY", ReasonCode=-1)
    assert names(effects)[:2] == ["EventAgentLogin", "ShowStatusText"]
    [view] = d.core.snapshot().sessions
    assert view.phase is Phase.LOGGED_IN and view.state is AgentState.NOT_READY


def test_a_request_answer_comes_before_the_callbacks_it_caused() -> None:
    d = CoreDriver()
    d.available()
    svc = d.service()
    _, effects = d.request("InvokeCommand", service=svc, cmdTrackId="c1", name="LogIn",
                           params=[["AgentPin", "pin"]])
    scs = [e.message for e in effects if isinstance(e, ToScs)]
    assert "result" in scs[0] and scs[1]["method"] != "result"
    assert any(m.get("method") == "ShowStatusText" for m in scs[1:])


def test_commands_are_refused_by_phase_with_the_texts_of_the_table() -> None:
    d = CoreDriver()
    d.available()
    svc = d.service()

    def invoke(name: str) -> dict[str, object]:
        answer, _ = d.request("InvokeCommand", service=svc, cmdTrackId="x", name=name,
                              params=[["AgentPin", "pin"]])
        result: dict[str, object] = answer["result"]
        return result

    assert invoke("HoldCall") == {"code": 1, "error": "HoldCall: log in first"}
    assert invoke("Dance")["code"] == 2
    assert invoke("LogIn") == {"code": 0}
    assert invoke("LogIn") == {"code": 1, "error": "LogIn: the login is still in progress"}
    assert invoke("HoldCall") == {"code": 1, "error": "HoldCall: the login is still in "
                                                       "progress"}
    d.gc("IN_SERVICE", DIALECT.system_agent, Reason="up")
    d.gc("State", "1001", State="NOT_READY", ReasonCode=-1)
    assert invoke("LogIn")["code"] == 1 and "1001" in str(invoke("LogIn")["error"])


def test_ucce_only_commands_are_refused_on_uccx_before_the_phase_is_looked_at() -> None:
    d = CoreDriver(flavour="UCCX")
    d.available()
    svc = d.service()
    answer, _ = d.request("InvokeCommand", service=svc, cmdTrackId="x",
                          name="ChangeWorkReadyState")
    assert answer["result"]["code"] == 2 and "UCCX" in answer["result"]["error"]


def test_an_unknown_gc_agent_state_reaches_siebel_verbatim() -> None:
    d = CoreDriver()
    d.available()
    svc = d.logged_in()
    effects = d.gc("State", "1001", State="LUNCH_BREAK", ReasonCode=-1)
    [view] = d.core.snapshot().sessions
    assert view.state == "LUNCH_BREAK" and view.service == svc
    assert not [e for e in effects if isinstance(e, Log) and e.level == "error"]


def test_a_call_is_announced_then_released_and_nothing_follows_the_release() -> None:
    d = CoreDriver()
    d.available()
    svc = d.logged_in()
    effects = d.gc("NewInboundCall", "1001", ANI="555", DNIS="7000", DialogId="d1")
    assert names(effects)[:2] == ["IndicateNewWorkItem", "EventRinging"]
    [view] = d.core.snapshot().sessions
    assert [(c.tracking_id, c.state) for c in view.calls] == [("d1", CallState.ALERTING)]
    answer, effects = d.request("ReleaseISCServiceInstance", service=svc)
    assert answer["result"] == {"code": 0}
    assert published(effects) == ["force_logout#1001"]
    assert callbacks(effects) == []
    effects = d.gc("DialogStatus", "1001", DialogId="d1", DialogState="DROPPED",
                   ParticipantState="DROPPED")
    assert callbacks(effects) == []


def test_an_unanswered_command_times_out_into_a_handle_error() -> None:
    d = CoreDriver(options=GatewayOptions(command_timeout=5))
    d.available()
    svc = d.logged_in()
    _, effects = d.request("InvokeCommand", service=svc, cmdTrackId="c9",
                           name="ChangeReadyState")
    [key] = [k for k in timers(effects) if k.kind == "cmd"]
    effects = d.fire(key)
    [error] = [c for c in callbacks(effects) if c["method"] == "HandleError"]
    assert error["params"]["cmdTrackId"] == "c9"
    assert "5" in error["params"]["error"]


def test_the_gc_not_answering_hello_makes_it_unavailable() -> None:
    d = CoreDriver()
    d.link(True)
    svc = d.service()
    effects = d.fire(ANSWER)
    assert BEAT in timers(effects)
    answer, _ = d.request("InvokeCommand", service=svc, cmdTrackId="x", name="LogIn",
                          params=[["AgentPin", "pin"]])
    assert answer["result"]["code"] == 6


def test_a_request_that_hits_a_defect_is_answered_with_internal_error() -> None:
    d = CoreDriver()
    d.available()

    def broken(*args: object) -> tuple[Result, None]:
        raise RuntimeError("boom")

    d.core._requests = {**d.core._requests, APIVersion: broken}
    answer, effects = d.request("APIVersion")
    assert answer["error"]["code"] == -32603 == int(RpcError.INTERNAL)
    assert any(isinstance(e, Log) and e.level == "error" for e in effects)
