"""Random walks through the agent state machine: Hypothesis picks inputs of every kind
(device commands in any phase, work-item requests, GC agent/call/system events, link
changes, timer expiries, releases, SCS connections dropped and drivers resumed on a new
one or released past the grace, a restarted gateway's AutoLogin before or after the GC's
answer to its probe) and after each one checks what a user would notice:

* every SCS request gets exactly one answer, and nothing else carries a request id;
* the toolbar Siebel was last sent matches the agent's situation (LogIn only when signed
  out, AnswerCall blinking only while a call rings, HoldCall only with an active call,
  everything disabled while the GC is unavailable);
* no callback reaches SCS for a service after it was released;
* a work item is released only after it was opened (and only once);
* no rule leaves a service in a phase its row of the table does not allow (logged as an
  error), and no request hits an internal error (-32603).
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from siebel_gateway.core.agent import Phase
from siebel_gateway.core.effects import CancelTimer, Effect, Key, Log, StartTimer, ToScs
from siebel_gateway.core.scs_wire import parse_line
from siebel_gateway.core.vocabulary import COMMANDS
from siebel_gateway.gc.states import AgentState, CallState

from .driver import CONN, DIALECT, CoreDriver

AGENTS = ("1001", "1002")
DIALOGS = ("d1", "d2", "d3")
GC_COMMANDS = ("Hello", "Login", "MakeReady", "MakeNotReady", "AnswerCall", "HoldCall", "")
DISABLED, BLINKING = 2, 8


class CoreWalk(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.d = CoreDriver()
        self.agent_of: dict[str, str] = {}
        self.released: set[str] = set()
        self.opened: dict[str, set[str]] = {}
        self.toolbar: dict[str, dict[str, int]] = {}
        self.timers: set[Key] = set()
        self.conn = CONN
        self.driver_of: dict[str, str] = {}  # service -> driver
        self.sessions: dict[str, str] = {}  # driver -> session token
        self.detached: set[str] = set()  # drivers no connection holds
        self.observe(self.d.available())

    # -- what every input's effects must satisfy ---------------------------------------------

    def observe(self, effects: list[Effect], request_id: int | None = None) -> None:
        for e in effects:
            if isinstance(e, StartTimer):
                self.timers.add(e.key)
            elif isinstance(e, CancelTimer):
                self.timers.discard(e.key)
            elif isinstance(e, Log):
                assert e.level != "error", (e.text, e.fields)
            elif isinstance(e, ToScs):
                self._scs(e.message, request_id)

    def _scs(self, msg: Any, request_id: int | None) -> None:
        if "method" not in msg:
            assert msg["id"] == request_id, f"an answer to request {msg['id']} out of turn"
            assert "error" not in msg or msg["error"]["code"] != -32603, msg
            return
        params, method = msg["params"], msg["method"]
        svc = params["service"]
        assert svc not in self.released, f"{method} for released service {svc}"
        opened = self.opened.setdefault(svc, set())
        if method in ("IndicateNewWorkItem", "WorkItemStarted"):
            opened.add(params["trackingId"])
        elif method == "WorkItemReleased":
            assert params["trackingId"] in opened, f"{params['trackingId']} released unopened"
            opened.discard(params["trackingId"])
        elif method == "CleanAllWorkItem":
            opened.clear()
        elif method == "CacheCommandInformation":
            self.toolbar[svc] = dict(zip(params["commands"], params["statuses"], strict=True))

    def request(self, method: str, entropy: str = "", **params: Any) -> dict[str, Any]:
        answer, effects = self.d.request(method, conn=self.conn, entropy=entropy, **params)
        self.observe(effects, self.d.next_id)
        return answer

    def live(self) -> list[str]:
        """Services SCS can reach (on the current connection)."""
        return sorted(s for s in self.agent_of if self.driver_of[s] not in self.detached)

    # -- rules ---------------------------------------------------------------------------------

    @precondition(lambda self: len(self.agent_of) < 3)
    @rule(agent=st.sampled_from(AGENTS))
    def new_service(self, agent: str) -> None:
        driver = self.request("CreateISCDriverInstance", entropy=f"tok{self.d.next_id}",
                              mediaType="Voice", language="ENU", params=[["Flavour", "UCCE"]])
        handle = driver["result"]["driver"]
        self.sessions[handle] = driver["result"]["session"]
        svc = self.request("RequestService", driver=handle,
                           params=[["AgentId", agent], ["Extension", f"2{agent[1:]}"]])
        self.agent_of[svc["result"]["service"]] = agent
        self.driver_of[svc["result"]["service"]] = handle

    @rule(resume=st.sampled_from(("all", "none", "wrong token")))
    def scs_reconnects(self, resume: str) -> None:
        """The SCS connection drops; a new one resumes every driver (or none, or with a
        wrong token): the drivers not resumed are released when their grace timer fires."""
        self.observe(self.d.drop(self.conn))
        self.conn += 1
        self.detached |= set(self.sessions)
        if resume == "all":
            self.detached.clear()
        if resume == "none":
            return
        for driver, token in sorted(self.sessions.items()):
            answer = self.request("ResumeDriverInstance", driver=driver,
                                  session=token if resume == "all" else token + "x")
            assert (answer["result"]["code"] == 0) == (resume == "all"), answer

    @precondition(lambda self: self.live())
    @rule(data=st.data(), name=st.sampled_from((*COMMANDS, "Bogus")),
          pin=st.sampled_from(("pin", "")), reason=st.sampled_from(("", "1", "Lunch")),
          tid=st.sampled_from(("", *DIALOGS)))
    def invoke(self, data: st.DataObject, name: str, pin: str, reason: str, tid: str) -> None:
        svc = data.draw(st.sampled_from(self.live()))
        params = [[k, v] for k, v in (("AgentPin", pin), ("ReasonCode", reason),
                                      ("TrackingID", tid), ("PhoneNumber", "5551")) if v]
        self.request("InvokeCommand", service=svc, cmdTrackId="c", name=name, params=params)

    @precondition(lambda self: self.live())
    @rule(data=st.data(), tid=st.sampled_from(DIALOGS),
          method=st.sampled_from(("AcceptWorkItem", "ReleaseWorkItem", "SuspendWorkItem",
                                  "ResumeWorkItem", "NotifyEventHandlingFinished")))
    def work_item(self, data: st.DataObject, tid: str, method: str) -> None:
        svc = data.draw(st.sampled_from(self.live()))
        self.request(method, service=svc, trackingId=tid)

    @precondition(lambda self: self.live())
    @rule(data=st.data(), command_type=st.sampled_from((1, 2)))
    def make_call_ex(self, data: st.DataObject, command_type: int) -> None:
        svc = data.draw(st.sampled_from(self.live()))
        self.request("InvokeCommandEx", service=svc, cmdTrackId="x", commandType=command_type,
                     params=[["PhoneNumber", "5551"]])

    @rule(line=st.sampled_from((b"{", b'{"jsonrpc":"2.0","id":7,"method":"Nope"}',
                                b'{"jsonrpc":"2.0","id":8,"method":"InvokeCommand"}',
                                b'{"jsonrpc":"2.0","id":9,"method":"RequestService",'
                                b'"params":{"driver":"drv-999"}}')))
    def odd_request(self, line: bytes) -> None:
        """A line SCS got wrong, or a handle that does not exist: still one answer."""
        item = parse_line(line)
        assert item is not None
        effects = self.d.core.request(self.conn, item, self.d.now)
        answers = [e for e in effects if isinstance(e, ToScs) and "method" not in e.message]
        assert len(answers) == 1, answers
        self.observe(effects, answers[0].message["id"])

    @precondition(lambda self: self.live())
    @rule(data=st.data())
    def release(self, data: st.DataObject) -> None:
        svc = data.draw(st.sampled_from(self.live()))
        self.request("ReleaseISCServiceInstance", service=svc)
        del self.agent_of[svc]
        self.released.add(svc)

    @rule(data=st.data(),
          state=st.sampled_from((*(s.value for s in AgentState if s.value), "ODD")),
          pending=st.sampled_from(("", "READY", "NOT_READY", "LOGOUT")),
          code=st.sampled_from((-1, 1, 7)))
    def gc_state(self, data: st.DataObject, state: str, pending: str, code: int) -> None:
        agent = self.some_agent(data)
        self.observe(self.d.gc("State", agent, State=state, PendingState=pending,
                               ReasonCode=code))

    def some_agent(self, data: st.DataObject) -> str:
        """Mostly an agent some service serves (events for others are only logged)."""
        served = sorted(set(self.agent_of.values()))
        mostly: int = data.draw(st.integers(0, 4))
        pool = served if served and mostly else list(AGENTS)
        agent: str = data.draw(st.sampled_from(pool))
        return agent

    @rule(data=st.data(), dialog=st.sampled_from(DIALOGS),
          event=st.sampled_from(("NewInboundCall", "InboundCall", "ConsultCall",
                                 "DialogStatus")),
          state=st.sampled_from(tuple(s.value for s in CallState if s.value)),
          parent=st.sampled_from(("", *DIALOGS)))
    def gc_call(self, data: st.DataObject, dialog: str, event: str, state: str,
                parent: str) -> None:
        agent = self.some_agent(data)
        values: dict[str, Any] = {"DialogId": dialog, "ParentDialogId": parent or None}
        if event != "NewInboundCall":
            values.update(DialogState=state, ParticipantState=state)
        self.observe(self.d.gc(event, agent, **values))

    def signed_in(self) -> list[str]:
        return sorted({s.agent_id for s in self.d.core.snapshot().sessions
                       if s.phase is Phase.LOGGED_IN})

    @precondition(lambda self: self.signed_in())
    @rule(data=st.data(), dialog=st.sampled_from(DIALOGS),
          state=st.sampled_from(("ALERTING", "ACTIVE", "HELD", "ACTIVE", "DROPPED",
                                 "WRAP_UP", "INITIATED")),
          event=st.sampled_from(("NewInboundCall", "DialogStatus", "DialogStatus")))
    def call_progress(self, data: st.DataObject, dialog: str, state: str, event: str) -> None:
        """A call of a signed-in agent rings, is answered, held, dropped, dialled..."""
        agent = data.draw(st.sampled_from(self.signed_in()))
        values: dict[str, Any] = {"DialogId": dialog, "FromAddress": "5551"}
        if event == "NewInboundCall":
            values = {"DialogId": dialog, "ANI": "5551"}
        else:
            values.update(DialogState=state, ParticipantState=state)
        self.observe(self.d.gc(event, agent, **values))

    @rule(data=st.data(), command=st.sampled_from(GC_COMMANDS))
    def gc_error(self, data: st.DataObject, command: str) -> None:
        agent = self.some_agent(data)
        self.observe(self.d.gc("Error", agent, ErrorType="Generic Error", Message="no",
                               ErrorCode="E1", Command=command or None))

    @rule(agent=st.sampled_from(AGENTS),
          category=st.sampled_from(("NOT_READY", "LOGOUT", "WRAP_UP")))
    def gc_reasons(self, agent: str, category: str) -> None:
        self.observe(self.d.gc("ReasonCodes", agent, Category=category, Codes=("1", "2"),
                               Labels=("Lunch", "Break")))

    @rule(kind=st.sampled_from(("OUT_OF_SERVICE", "IN_SERVICE", "link down")))
    def outage(self, kind: str) -> None:
        if kind == "link down":
            self.observe(self.d.link(False))
        else:
            self.observe(self.d.gc(kind, DIALECT.system_agent, Reason="test"))

    @rule()
    def recover(self) -> None:
        if not self.d.core.link_up:
            self.observe(self.d.link(True))
        self.observe(self.d.gc("IN_SERVICE", DIALECT.system_agent, Reason="back"))

    @precondition(lambda self: self.live())
    @rule(data=st.data(), state=st.sampled_from(("NOT_READY", "READY")))
    def sign_in(self, data: st.DataObject, state: str) -> None:
        """LogIn as a whole: the command, the GC's IN_SERVICE, the first State."""
        svc = data.draw(st.sampled_from(self.live()))
        self.request("InvokeCommand", service=svc, cmdTrackId="login", name="LogIn",
                     params=[["AgentPin", "pin"]])
        self.observe(self.d.gc("IN_SERVICE", DIALECT.system_agent, Reason="test"))
        self.observe(self.d.gc("State", self.agent_of[svc], State=state, ReasonCode=-1))

    @precondition(lambda self: self.live())
    @rule(data=st.data(), login_first=st.booleans(),
          state=st.sampled_from(("NOT_READY", "READY", "LOGOUT")))
    def restart_autologin(self, data: st.DataObject, login_first: bool, state: str) -> None:
        """After a gateway restart: Siebel's AutoLogin LogIn and the GC's answer to the
        RequestService probe (core/recover.py), in either order."""
        svc = data.draw(st.sampled_from(self.live()))
        def log_in() -> None:
            self.request("InvokeCommand", service=svc, cmdTrackId="auto", name="LogIn",
                         params=[["AgentPin", "pin"]])

        def answer() -> None:
            self.observe(self.d.gc("State", self.agent_of[svc], State=state, ReasonCode=-1))

        for step in (log_in, answer) if login_first else (answer, log_in):
            step()

    @precondition(lambda self: self.timers)
    @rule(data=st.data())
    def fire_timer(self, data: st.DataObject) -> None:
        key = data.draw(st.sampled_from(sorted(self.timers, key=str)))
        self.timers.discard(key)
        self.d.now += 5
        self.observe(self.d.fire(key))
        if key.kind == "grace":  # released as a v1 connection loss
            del self.sessions[key.owner]
            self.detached.discard(key.owner)
            for svc in [s for s, d in self.driver_of.items() if d == key.owner]:
                self.agent_of.pop(svc, None)
                self.released.add(svc)

    # -- what must hold between inputs ---------------------------------------------------------

    @invariant()
    def toolbar_matches_the_situation(self) -> None:
        view = self.d.core.snapshot()
        for s in view.sessions:
            flags = self.toolbar[s.service]
            ringing = any(c.state is CallState.ALERTING for c in s.calls)
            active = any(c.state is CallState.ACTIVE for c in s.calls)
            if not view.gc_available:
                assert all(f & DISABLED for f in flags.values()), flags
                continue
            assert (not flags["LogIn"] & DISABLED) == (s.phase is Phase.LOGGED_OUT)
            assert bool(flags["AnswerCall"] & BLINKING) == ringing
            assert (not flags["HoldCall"] & DISABLED) == active


CoreWalk.TestCase.settings = settings(max_examples=80, stateful_step_count=50, deadline=None,
                                      suppress_health_check=[HealthCheck.too_slow])
TestCoreWalk = CoreWalk.TestCase
