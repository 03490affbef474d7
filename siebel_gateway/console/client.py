"""The console on Twisted: an SCS protocol client, the load sequence, running commands and
scripts, simulator control.  All decisions are the ``Channel``'s; this module only talks.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any

from twisted.internet import defer, task
from twisted.internet.protocol import connectionDone
from twisted.protocols.basic import LineOnlyReceiver
from twisted.python.failure import Failure

from ..core.broker_messages import BrokerMessage
from ..core.vocabulary import COMMANDS, EVENTS
from ..def_file.matching import is_like
from ..def_support import unsupported
from .channel import AgentView, Channel, ConsoleError, EventSeen, Invocation
from .script import Step

__all__ = ["Console", "GatewayRpcError", "ScsClient", "SimControl", "StepError"]


class GatewayRpcError(Exception):
    """The gateway answered a request with a JSON-RPC error."""


class StepError(Exception):
    """A script step did not behave; the text names the line and what happened."""


class ScsClient(LineOnlyReceiver):
    delimiter = b"\n"
    MAX_LENGTH = 1 << 22

    def __init__(self, on_callback: Callable[[str, dict[str, Any]], None]) -> None:
        self.on_callback = on_callback
        self.pending: dict[int, defer.Deferred[dict[str, Any]]] = {}
        self.next_id = 0
        self.closed: defer.Deferred[None] = defer.Deferred()
        #: Set as soon as the connection is gone (before pending calls fail).
        self.lost = False

    def connectionMade(self) -> None:  # noqa: N802 (Twisted)
        transport: Any = self.transport
        if hasattr(transport, "setTcpNoDelay"):
            transport.setTcpNoDelay(True)

    def call(self, method: str, **params: Any) -> defer.Deferred[dict[str, Any]]:
        self.next_id += 1
        d: defer.Deferred[dict[str, Any]] = defer.Deferred()
        self.pending[self.next_id] = d
        transport: Any = self.transport
        transport.write(json.dumps({"jsonrpc": "2.0", "id": self.next_id, "method": method,
                                    "params": params}, ensure_ascii=False).encode() + b"\n")
        return d

    def lineReceived(self, line: bytes) -> None:  # noqa: N802 (Twisted)
        try:
            msg = json.loads(line)
        except ValueError:
            self.on_callback("ProtocolError", {"text": f"the gateway sent a line that is not "
                                                       f"JSON: {line[:80]!r}"})
            return
        if not isinstance(msg, dict):
            return
        if "method" in msg:
            self.on_callback(str(msg["method"]), msg.get("params") or {})
            return
        rid = msg.get("id")
        d = self.pending.pop(rid, None) if isinstance(rid, int) else None
        if d is None:
            return
        if "error" in msg:
            err = msg["error"] or {}
            d.errback(GatewayRpcError(f"JSON-RPC error {err.get('code')}: {err.get('message')}"))
        else:
            d.callback(msg.get("result") or {})

    def connectionLost(self, reason: Failure = connectionDone) -> None:  # noqa: N802
        self.lost = True
        for d in self.pending.values():
            d.errback(GatewayRpcError(f"the gateway closed the connection "
                                 f"({reason.getErrorMessage()})"))
        self.pending.clear()
        if not self.closed.called:
            self.closed.callback(None)


class SimControl:
    """Simulator control messages (docs/simulator.md) with their replies."""

    def __init__(self, link: Any, clock: Any, queue: str = "Connector1") -> None:
        self.link, self.clock = link, clock
        self.destination = f"/queue/{queue}.sim-control"
        self.reply_to = f"/queue/{queue}.sim-reply.{os.getpid()}.{id(self)}"
        self._waiting: list[defer.Deferred[dict[str, Any]]] = []
        link.subscribe(self.reply_to, self._reply)

    def _reply(self, message: BrokerMessage) -> None:
        if self._waiting:
            try:
                reply = json.loads(message.body)
            except ValueError:
                reply = {"ok": False, "error": f"unreadable reply {message.body[:80]!r}"}
            self._waiting.pop(0).callback(reply)

    async def send(self, msg: dict[str, Any], timeout: float = 5.0) -> dict[str, Any]:
        d: defer.Deferred[dict[str, Any]] = defer.Deferred()
        self._waiting.append(d)
        d.addTimeout(timeout, self.clock)
        await self.link.publish(BrokerMessage(destination=self.destination,
                                              body=json.dumps(msg),
                                              headers={"reply-to": self.reply_to}))
        try:
            return await d
        except defer.TimeoutError:
            if d in self._waiting:
                self._waiting.remove(d)
            raise StepError(f"the simulator did not answer within {timeout:g} s (is "
                             f"simulate-gc running on this broker, queue "
                             f"{self.destination}?)") from None


class Console:
    """``reconnect``: opens a new connection to the gateway (the next address of an
    active/standby pair); with it, a dropped connection is resumed (protocol v1.1
    ``ResumeDriverInstance``), or the driver and services created again if the gateway
    refuses the resume.  Commands issued meanwhile wait for it."""

    def __init__(self, channel: Channel, client: ScsClient, clock: Any, *,
                 emit: Callable[[str], None], control: SimControl | None = None,
                 reconnect: Callable[[], Awaitable[ScsClient]] | None = None,
                 reconnect_for: float = 60.0) -> None:
        self.channel, self.client, self.clock = channel, client, clock
        self.emit = emit
        self.control = control
        self.reconnect, self.reconnect_for = reconnect, reconnect_for
        #: Set before closing on purpose (no resume then).
        self.closing = False
        #: The running resume, awaited by commands; its outcome ("resumed"/"recreated").
        self.resuming: defer.Deferred[str] | None = None
        self.session = ""
        self.driver = ""
        self.agents: dict[str, AgentView] = {}
        self.by_service: dict[str, AgentView] = {}
        self.current: AgentView | None = None
        self.problems: list[str] = []
        self._cmd = 0
        self._waiters: list[tuple[AgentView, defer.Deferred[None]]] = []
        self._batched = False
        self._attach(client)

    def _attach(self, client: ScsClient) -> None:
        self.client = client
        client.on_callback = self.on_callback
        client.closed.addCallback(lambda _: self._dropped(client))

    def _dropped(self, client: ScsClient) -> None:
        if self.closing or client is not self.client or self.reconnect is None:
            return
        self.resuming = defer.ensureDeferred(self._resume())

    async def _resume(self) -> str:
        self.say("-", "the connection to the gateway dropped; reconnecting")
        assert self.reconnect is not None
        deadline = self.clock.seconds() + self.reconnect_for
        while True:
            try:
                client = await self.reconnect()
                break
            except Exception as exc:  # refused, unreachable: try again until the deadline
                if self.clock.seconds() >= deadline:
                    self.say("-", f"FAILED to reconnect within {self.reconnect_for:g} s: {exc}")
                    raise
                await task.deferLater(self.clock, 0.2, lambda: None)
        self._attach(client)
        try:
            return await self._restore(client)
        except GatewayRpcError:
            if client.lost:  # the new connection dropped too: _dropped takes over
                return "superseded"
            raise

    async def _restore(self, client: ScsClient) -> str:
        """On the new connection: resume the driver, or create it and its services again."""
        if self.session:
            r = await client.call("ResumeDriverInstance", driver=self.driver,
                                  session=self.session)
            if not r.get("code"):
                self.say("-", f"driver {self.driver} resumed with "
                              f"{len(r.get('services') or [])} services")
                self.resuming = None
                return "resumed"
            self.say("-", f"the gateway refused the resume: {r.get('error')}; creating the "
                          "driver and services again")
        agents = list(self.agents.values())
        self.agents.clear()
        self.by_service.clear()
        await self.load()
        for agent in agents:
            await self.add_agent(agent.agent_id, agent.pin, agent.extension)
        self.resuming = None
        return "recreated"

    def say(self, agent: str, text: str) -> None:
        now = time.time()
        stamp = time.strftime("%H:%M:%S", time.localtime(now)) + f".{int(now % 1 * 1000):03d}"
        for n, line in enumerate(text.splitlines()):
            self.emit(f"{stamp if n == 0 else ' ' * 12}  {agent:>6}  {line}")

    # -- the load sequence -------------------------------------------------------------------

    async def load(self) -> None:
        r = await self.client.call("APIVersion")
        self.say("-", f"gateway speaks SCS protocol version {r.get('version')}")
        r = await self.client.call("CreateISCDriverInstance", mediaType=self.channel.media_type,
                                   language=self.channel.language, connectString="",
                                   params=self.channel.driver_params())
        if r.get("code"):
            raise StepError(f"the gateway refused the driver: {r.get('error')} "
                             f"(code {r.get('code')})")
        self.driver = str(r["driver"])
        self.session = str(r.get("session") or "")
        r = await self.client.call("RequestCommandEventList",
                                   mediaType=self.channel.media_type)
        commands, events = r.get("commands") or [], r.get("events") or []
        self.problems = [p.format() for p in unsupported(self.channel.model, commands, events)]
        for p in self.problems:
            self.say("-", f"DEF PROBLEM {p}")
        extra = set(COMMANDS) - set(commands) | set(EVENTS) - set(events)
        self.say("-", f"driver {self.driver} loaded with profile {self.channel.profile.name}: "
                 f"{len(commands)} commands, {len(events)} events"
                 + (f" (this gateway lacks {', '.join(sorted(extra))})" if extra else ""))

    async def add_agent(self, agent_id: str, pin: str = "", extension: str = "") -> AgentView:
        agent = self.agents.get(agent_id)
        if agent is None:
            agent = AgentView(agent_id, pin, extension)
            r = await self.client.call("RequestService", driver=self.driver, connectString="",
                                       params=self.channel.service_params(agent))
            if r.get("code"):
                raise StepError(f"RequestService for agent {agent_id} refused: "
                                 f"{r.get('error')}")
            agent.service = str(r["service"])
            self.agents[agent_id] = agent
            self.by_service[agent.service] = agent
            self.say(agent_id, f"service {agent.service} (extension {extension or '-'})")
            await self._toolbar_usable(agent, 20.0)
        self.current = agent
        return agent

    async def _toolbar_usable(self, agent: AgentView, within: float) -> None:
        """As an agent would, wait until the toolbar offers something: a gateway that is
        still greeting the GC disables every command for a moment."""
        deadline = self.clock.seconds() + within
        while not self.channel.enabled_names(agent):
            left = deadline - self.clock.seconds()
            if left <= 0:
                raise StepError(f"agent {agent.agent_id}: the toolbar stayed disabled for "
                                f"{within:g} s (status: {agent.status or 'none'}); is the "
                                "gateway connected to the Generic Connector?")
            await self._wait(agent, left)

    async def _wait(self, agent: AgentView, seconds: float) -> None:
        d: defer.Deferred[None] = defer.Deferred()
        self._waiters.append((agent, d))
        d.addTimeout(seconds, self.clock, onTimeoutCancel=lambda *_: None)
        await d

    # -- commands -----------------------------------------------------------------------------

    def agent(self) -> AgentView:
        if self.current is None:
            raise ConsoleError("no agent yet: start with `agent ID PIN EXTENSION`")
        return self.current

    async def command(self, name: str, values: dict[str, str]) -> tuple[bool, str]:
        """Run a DEF command; ``(ok, text)`` where text explains a refusal."""
        agent = self.agent()
        mode, invocations = self.channel.invocations(agent, name, values)
        texts: list[str] = []
        ok = True
        for inv in invocations:
            good, text = await self._invoke(agent, inv)
            texts.append(text)
            if mode == "until_ok" and good:
                return True, ""
            if not good:
                ok = False
                if mode != "until_ok":
                    break
        return ok, "; ".join(t for t in texts if t)

    async def _invoke(self, agent: AgentView, inv: Invocation) -> tuple[bool, str]:
        shown = " ".join(f"{k}={'***' if k.casefold() in ('agentpin', 'password') else v}"
                         for k, v in inv.params)
        if inv.device_command.startswith("@"):
            self.say(agent.agent_id, f"{inv.command}: Siebel itself runs "
                                     f"{inv.device_command} {shown}".rstrip())
            return True, ""
        if self.resuming is not None:
            await self.resuming
            agent = self.agents.get(agent.agent_id, agent)
        self._cmd += 1
        self.say(agent.agent_id, f"> {inv.command} ({inv.device_command}) {shown}".rstrip())
        r = await self.client.call("InvokeCommand", service=agent.service,
                                   cmdTrackId=str(self._cmd), name=inv.device_command,
                                   stringParam="", params=[list(p) for p in inv.params])
        if r.get("code"):
            text = f"{inv.command} refused: {r.get('error')} (code {r.get('code')})"
            self.say(agent.agent_id, f"  {text}")
            return False, text
        return True, ""

    # -- callbacks ----------------------------------------------------------------------------

    def on_callback(self, method: str, params: dict[str, Any]) -> None:
        if method == "ProtocolError":
            self.say("-", str(params.get("text")))
            return
        agent = self.by_service.get(str(params.get("service", "")))
        if agent is None:
            return
        if method in ("BeginBatch", "EndBatch"):
            # A batch is one change (SCS applies it at once): a script resumes after it,
            # never between an event and the toolbar refresh that goes with it.
            self._batched = method == "BeginBatch"
            if not self._batched:
                self._wake(agent)
            return
        outcome = self.channel.callback(agent, method, params)
        if outcome.lines:
            self.say(agent.agent_id, "\n".join(outcome.lines))
        if outcome.notify is not None:
            self.client.call("NotifyEventHandlingFinished", service=agent.service,
                             trackingId=outcome.notify, result=True).addErrback(lambda f: None)
        if (outcome.lines or outcome.event is not None) and not self._batched:
            self._wake(agent)

    def _wake(self, agent: AgentView) -> None:
        waiting, self._waiters = self._waiters, []
        for a, d in waiting:
            if d.called:  # timed out already
                continue
            if a is agent:
                d.callback(None)
            else:
                self._waiters.append((a, d))

    # -- expectations ---------------------------------------------------------------------------

    async def expect(self, name: str, values: tuple[tuple[str, str], ...],
                     within: float) -> EventSeen:
        agent = self.agent()
        deadline = self.clock.seconds() + within
        while True:
            for i, seen in enumerate(agent.inbox):
                if seen.name == name and not _mismatch(seen, values):
                    del agent.inbox[:i + 1]
                    return seen
            left = deadline - self.clock.seconds()
            if left <= 0:
                break
            await self._wait(agent, left)
        near = [s for s in agent.inbox if s.name == name]
        why = (f"; the last {name} had " + "; ".join(_mismatch(near[-1], values))) if near \
            else f"; it received {', '.join(s.name for s in agent.inbox[-6:]) or 'nothing'}"
        raise StepError(f"agent {agent.agent_id} did not get {name} "
                         f"{' '.join(f'{k}={v}' for k, v in values)} within {within:g} s"
                         f"{why}")

    # -- scripts ----------------------------------------------------------------------------------

    async def run_step(self, step: Step, where: str) -> None:
        try:
            await self._step(step)
        except ConsoleError as exc:
            raise StepError(f"{where}: {exc}") from None
        except StepError as exc:
            raise StepError(f"{where}: {exc}") from None
        except GatewayRpcError as exc:
            raise StepError(f"{where}: {exc}") from None

    async def _step(self, step: Step) -> None:
        if step.kind == "say":
            self.say("", f"== {step.text}")
        elif step.kind == "agent":
            args = [*step.args, "", ""]
            await self.add_agent(args[0], args[1], args[2])
        elif step.kind == "as":
            if step.name not in self.agents:
                raise ConsoleError(f"agent {step.name} was not added (agent {step.name} PIN "
                                   "EXTENSION)")
            self.current = self.agents[step.name]
        elif step.kind == "records":
            self.channel.records = int(step.number)
        elif step.kind == "wait":
            await task.deferLater(self.clock, step.number, lambda: None)
        elif step.kind == "simulate":
            await self._simulate(step)
        elif step.kind == "expect":
            await self.expect(step.name, step.values, step.number)
        elif step.kind == "expect-refused":
            try:
                ok, _text = await self.command(step.name, dict(step.values))
            except ConsoleError as exc:  # refused before it reached the gateway
                self.say(self.agent().agent_id, f"  {exc}")
                ok = False
            if ok:
                raise StepError(f"{step.name} was accepted; the script expected a refusal")
        else:
            ok, text = await self.command(step.name, dict(step.values))
            if not ok:
                raise StepError(text)

    async def _simulate(self, step: Step) -> None:
        if self.control is None:
            raise ConsoleError("simulate needs the simulator's broker: --simulator URL")
        msg: dict[str, Any] = {"action": step.name}
        for key, value in step.values:
            top, dot, sub = key.partition(".")
            if dot:
                msg.setdefault(top, {})[sub] = value
            else:
                msg[key] = value
        reply = await self.control.send(msg)
        if not reply.get("ok"):
            raise StepError(f"the simulator refused {step.name}: {reply.get('error')}")
        self.say("sim", f"{step.name} " + " ".join(
            f"{k}={v}" for k, v in reply.items() if k not in ("ok", "action")))

    async def run_script(self, steps: list[Step], name: str) -> list[str]:
        """Run every step; the first failure stops the script.  Returns the failures."""
        for step in steps:
            try:
                await self.run_step(step, f"{name}:{step.line}")
            except StepError as exc:
                self.say("-", f"FAILED {exc}")
                return [str(exc)]
        return []


def _mismatch(seen: EventSeen, values: tuple[tuple[str, str], ...]) -> list[str]:
    """What differs between an event and ``expect``'s values (empty: it matches)."""
    plan = seen.plan
    special = {"@handler": seen.evaluation.handler or "",
               "@response": seen.evaluation.response or "",
               "@view": plan.view if plan else "", "@log": plan.log if plan else ""}
    out = []
    for key, pattern in values:
        actual = special.get(key.casefold()) if key.startswith("@") else seen.fields.get(key)
        if actual is None or not is_like(actual, pattern):
            out.append(f"{key}={actual!r}" if actual is not None else f"no {key}")
    return out
