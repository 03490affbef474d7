"""adapters/admission.py on its own: which sign-ins wait, in what order, what they keep."""

from __future__ import annotations

from twisted.internet.task import Clock

from siebel_gateway.adapters.admission import SignInAdmission
from siebel_gateway.core.broker_messages import BrokerMessage
from siebel_gateway.core.effects import (
    GATEWAY_BUSY,
    CancelTimer,
    Effect,
    Key,
    Publish,
    StartTimer,
)


def cmd(owner: str, seq: int, what: str = "Hello") -> list[Effect]:
    key = Key(owner, "cmd", str(seq))
    return [StartTimer(key, 10.0), Publish(BrokerMessage(destination="/queue/GC", body=what), key)]


def answered(owner: str, seq: int) -> Effect:
    return CancelTimer(Key(owner, "cmd", str(seq)))


def sent(effects: list[Effect]) -> list[str]:
    return [f"{e.ref.owner}:{e.message.body}" for e in effects
            if isinstance(e, Publish) and e.ref is not None]


def admission(window: int = 2, queue_seconds: float = 60.0) -> tuple[SignInAdmission, Clock]:
    clock = Clock()
    return SignInAdmission(clock, window=window, queue_seconds=queue_seconds,
                           command_timeout=10.0), clock


def test_sign_ins_beyond_the_window_wait_and_go_in_order_when_one_ends() -> None:
    a, _ = admission()
    assert sent(a.filter(cmd("svc-1", 1), login=True)) == ["svc-1:Hello"]
    assert sent(a.filter(cmd("svc-2", 1), login=True)) == ["svc-2:Hello"]
    assert a.filter(cmd("svc-3", 1), login=True) == []
    assert a.filter(cmd("svc-4", 1), login=True) == []
    assert a.depth == 2
    # svc-1's Hello answered, its Login sent in the same turn: still signing in
    assert sent(a.filter([answered("svc-1", 1), *cmd("svc-1", 2, "Login")],
                         login=False)) == ["svc-1:Login"]
    assert a.depth == 2
    out = a.filter([answered("svc-1", 2)], login=False)  # svc-1 is in: svc-3's turn
    assert sent(out) == ["svc-3:Hello"]
    assert isinstance(out[1], StartTimer) and out[1].key == Key("svc-3", "cmd", "1")
    assert sent(a.filter([answered("svc-2", 1)], login=False)) == ["svc-4:Hello"]
    assert a.depth == 0


def test_other_effects_and_other_commands_are_never_held() -> None:
    a, _ = admission(window=1)
    a.filter(cmd("svc-1", 1), login=True)
    a.filter(cmd("svc-2", 1), login=True)  # waits
    beat: list[Effect] = [Publish(BrokerMessage(destination="/queue/GC", body="Beat"),
                                  Key("gateway", "Beat"))]
    assert a.filter(beat, login=False) == beat
    ready = cmd("svc-9", 5, "MakeReady")  # a logged-in agent's command
    assert a.filter(ready, login=False) == ready


def test_a_command_the_core_gives_up_while_held_is_never_sent() -> None:
    a, _ = admission(window=1)
    a.filter(cmd("svc-1", 1), login=True)
    a.filter(cmd("svc-2", 1), login=True)
    a.filter(cmd("svc-3", 1), login=True)
    assert a.filter([answered("svc-2", 1)], login=False) == []  # svc-2 logged out
    assert a.depth == 1
    assert sent(a.filter([answered("svc-1", 1)], login=False)) == ["svc-3:Hello"]


def test_a_sign_in_waiting_too_long_is_refused_as_busy() -> None:
    a, clock = admission(window=1, queue_seconds=5)
    refused: list[tuple[Key, str]] = []
    a.refuse = lambda ref, why: refused.append((ref, why))
    a.filter(cmd("svc-1", 1), login=True)
    a.filter(cmd("svc-2", 1), login=True)
    clock.advance(4)
    a.filter(cmd("svc-3", 1), login=True)
    clock.advance(2)
    assert [r for r, _ in refused] == [Key("svc-2", "cmd", "1")]
    assert refused[0][1].startswith(GATEWAY_BUSY)
    assert a.depth == 1  # svc-3 has waited 2 s only
    assert sent(a.filter([answered("svc-1", 1)], login=False)) == ["svc-3:Hello"]


def test_a_slot_whose_answers_never_come_is_given_back() -> None:
    a, clock = admission(window=1)
    released: list[Effect] = []
    a.run = released.extend
    a.filter(cmd("svc-1", 1), login=True)  # its service released, no CancelTimer
    a.filter(cmd("svc-2", 1), login=True)
    clock.advance(41)  # 4 x CommandTimeoutSeconds
    assert sent(released) == ["svc-2:Hello"]


def test_a_command_sent_before_the_sign_in_waited_has_its_timer_cancelled_at_once() -> None:
    a, _ = admission(window=1)
    a.filter(cmd("svc-1", 1), login=True)
    a.filter(cmd("svc-2", 1, "GetState"), login=True)  # RequestService's probe: waits
    a.filter(cmd("svc-3", 1, "GetState"), login=False)  # an ordinary command: sent
    assert a.filter([answered("svc-3", 1)], login=False) == [answered("svc-3", 1)]
    a.filter(cmd("svc-3", 2), login=True)  # svc-3 signs in: waits behind svc-2
    late = [answered("svc-3", 1)]  # e.g. a timer the shell started before
    assert a.filter(late, login=False) == late


def test_a_probe_whose_first_command_has_no_timer_waits_whole() -> None:
    a, _ = admission(window=1)
    a.filter(cmd("svc-1", 1), login=True)
    connect = Publish(BrokerMessage(destination="/queue/GC", body="Connect"),
                      Key("svc-2", "cmd", "1"))
    assert a.filter([connect, *cmd("svc-2", 2, "GetState")], login=True) == []
    assert sent(a.filter([answered("svc-1", 1)], login=False)) == ["svc-2:Connect",
                                                                  "svc-2:GetState"]
    untimed = Publish(BrokerMessage(destination="/queue/GC", body="Connect"),
                      Key("svc-3", "cmd", "1"))
    # nothing awaits an answer: sent at once (the window is full), no slot kept
    assert a.filter([untimed], login=True) == [untimed]
    assert a.depth == 0 and list(a.flight) == ["svc-2"]


def gc(owner: str, seq: int, kind: str, timed: bool = True) -> list[Effect]:
    key = Key(owner, "cmd", str(seq))
    publish = Publish(BrokerMessage(destination="/queue/GC", body=kind,
                                    headers={"type": kind}), key)
    return [StartTimer(key, 10.0), publish] if timed else [publish]


def test_the_restart_probe_every_service_sends_when_the_gc_returns_is_windowed() -> None:
    a, _ = admission(window=1)
    batch = [e for n in range(1, 4) for e in (*gc(f"svc-{n}", 1, "Connect", timed=False),
                                              *gc(f"svc-{n}", 2, "GetState"))]
    assert sent(a.filter(batch, login=False)) == ["svc-1:Connect", "svc-1:GetState"]
    assert a.depth == 2
    ready = gc("svc-9", 5, "MakeReady")  # not a sign-in command: never held
    assert a.filter(ready, login=False) == ready
    assert sent(a.filter([answered("svc-1", 2)], login=False)) == ["svc-2:Connect",
                                                                  "svc-2:GetState"]


def test_a_held_command_expires_counted_from_when_it_is_sent() -> None:
    a, clock = admission(window=1)
    a.filter(cmd("svc-1", 1), login=True)
    key = Key("svc-2", "cmd", "1")
    login = Publish(BrokerMessage(destination="/queue/GC", body="Login",
                                  headers={"type": "Login", "expires": "1000000"}), key)
    assert a.filter([StartTimer(key, 10.0), login], login=True) == []
    clock.advance(35.5)  # the broker would have dropped it 30 s after the core made it
    out = a.filter([answered("svc-1", 1)], login=False)
    [sent_login] = [e for e in out if isinstance(e, Publish)]
    assert sent_login.message.headers["expires"] == "1035500"
    assert sent_login.message.body == "Login"


def test_a_cancelled_held_sign_in_sends_nothing_of_it() -> None:
    a, _ = admission(window=1)
    a.filter(cmd("svc-1", 1), login=True)
    # a held resync (Connect, with the password, then Login) and a held restart probe
    a.filter([*gc("svc-2", 1, "Connect", timed=False), *gc("svc-2", 2, "Login")], login=False)
    a.filter([*gc("svc-3", 1, "Connect", timed=False), *gc("svc-3", 2, "GetState")],
             login=False)
    assert a.depth == 2
    # the resync is given up (the service released: its ForceLogout still goes)
    force = gc("svc-2", 3, "ForceLogout", timed=False)
    assert sent(a.filter([*force, answered("svc-2", 2)], login=False)) == ["svc-2:ForceLogout"]
    # the probe's service is released: nothing of it is sent
    assert a.filter([answered("svc-3", 2)], login=False) == []
    assert a.depth == 0
    assert sent(a.filter([answered("svc-1", 1)], login=False)) == []
