"""WrapUpReasonRequired in the core (issue 13 item 3): the GC's events written by hand, so
the moment the reason counts as set is exact."""

from __future__ import annotations

from .driver import CoreDriver, published


def in_wrap_up(required: bool) -> tuple[CoreDriver, str]:
    d = CoreDriver()
    d.available()
    svc = d.service(params=(("WrapUpReasonRequired", "TRUE" if required else "FALSE"),))
    d.request("InvokeCommand", service=svc, cmdTrackId="c1", name="LogIn",
              params=[["AgentPin", "pin"]])
    d.gc("IN_SERVICE", "system", Reason="up")
    d.gc("State", "1001", State="READY", ReasonCode=-1)
    d.gc("ReasonCodes", "1001", Category="WRAP_UP", Codes=("Sales", "Support"),
         Labels=("Sales", "Support"))
    d.gc("NewInboundCall", "1001", ANI="4155550100", DialogId="77")
    d.gc("InboundCall", "1001", DialogState="ACTIVE", ParticipantState="ACTIVE",
         DialogId="77")
    d.gc("InboundCall", "1001", DialogState="DROPPED", ParticipantState="DROPPED",
         DialogId="77")
    d.gc("State", "1001", State="WORK_READY", ReasonCode=-1)
    return d, svc

def ready(d: CoreDriver, svc: str, n: int) -> dict[str, object]:
    answer, _ = d.request("InvokeCommand", service=svc, cmdTrackId=f"c{n}",
                          name="ChangeReadyState", params=[])
    return dict(answer["result"])

def test_leaving_wrap_up_waits_for_a_reason_sent_or_confirmed() -> None:
    d, svc = in_wrap_up(True)
    assert ready(d, svc, 2) == {"code": 1, "error": "ChangeReadyState: set a wrap-up reason "
                                                    "first (SetWrapUpReason); choose one of: "
                                                    "Sales, Support"}
    answer, effects = d.request("InvokeCommand", service=svc, cmdTrackId="c3",
                                name="SetWrapUpReason", params=[["ReasonCode", "Support"]])
    assert answer["result"] == {"code": 0}
    assert published(effects) == ["UpdateCallData#1001"]
    # The GC has not confirmed it yet: the agent's next click is not refused for that.
    assert ready(d, svc, 4) == {"code": 0}

def test_a_refused_reason_leaves_the_rule_in_force_and_false_never_asks() -> None:
    d, svc = in_wrap_up(True)
    d.request("InvokeCommand", service=svc, cmdTrackId="c3", name="SetWrapUpReason",
              params=[["ReasonCode", "Support"]])
    d.gc("Error", "1001", ErrorType="Invalid Input", Message="no", ErrorCode="x",
         Command="UpdateCallData")
    assert ready(d, svc, 4)["code"] == 1
    d2, svc2 = in_wrap_up(False)
    assert ready(d2, svc2, 2) == {"code": 0}
