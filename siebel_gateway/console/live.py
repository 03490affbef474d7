"""The console for a person: a prompt and a live view.

Every script line works at the prompt (``agent``, commands, ``expect``, ``simulate``...),
plus ``view`` (agent state, calls with their timers, last events, status text, toolbar),
``commands [PREFIX]`` (DEF command names), ``help`` and ``quit``.  Command names complete
by prefix: ``ready`` runs ``ReadyCmd`` when no other command starts that way, otherwise the
candidates are listed.  Events are printed as they arrive.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from twisted.internet import defer, stdio
from twisted.protocols.basic import LineOnlyReceiver

from .channel import AgentView, ConsoleError
from .script import ScriptError, parse_script

__all__ = ["interactive", "render_view"]

HELP = """\
agent ID [PIN [EXT]]     add an agent (RequestService) and make it current
as ID                    switch to another agent
COMMAND [NAME=VALUE...]  run a DEF command, e.g. MakeCallToEditControl @EditControl=2002
expect EVENT [F=V...]    wait for an event (5 s)
simulate ACTION [K=V...] a simulator control message (needs --simulator)
records N                records a pop's query finds (0, 1, N)
view                     the agent's state, calls, last events, toolbar
commands [PREFIX]        DEF command names
quit                     release the agents and leave"""


def render_view(agent: AgentView, enabled: list[str], now: float | None = None) -> list[str]:
    now = time.time() if now is None else now
    state = agent.state or "not logged in"
    if agent.reason:
        state += f" ({agent.reason})"
    if agent.pending:
        state += f", then {agent.pending}"
    lines = [f"agent {agent.agent_id}" + (f" {agent.full_name}" if agent.full_name else "")
             + f"  ext {agent.extension or '-'}  service {agent.service}", f"  state: {state}"]
    if agent.status:
        lines.append(f'  status: "{agent.status}"')
    for call in agent.calls.values():
        mark = ">" if call.tracking_id == agent.selected else " "
        lines.append(f" {mark}call {call.tracking_id} {call.call_type} {call.other} "
                     f"{call.state} {_clock(now - call.started)}")
    if not agent.calls:
        lines.append("  no calls")
    lines.append(f"  toolbar: {', '.join(enabled) or 'nothing enabled'}")
    lines.extend(f"  recent: {r}" for r in list(agent.recent)[-4:])
    return lines


def _clock(seconds: float) -> str:
    s = int(max(seconds, 0))
    return f"{s // 60:02d}:{s % 60:02d}"


class _Prompt(LineOnlyReceiver):
    """Reads lines from standard input; writes go to ``sys.stdout`` like the event lines,
    so at the end of input (a piped session) the lines already read still run and print
    before the console leaves."""

    delimiter = b"\n"

    def __init__(self, console: Any, done: defer.Deferred[int]) -> None:
        self.console, self.done = console, done
        self.busy = False
        self.queue: list[str] = []

    def connectionMade(self) -> None:  # noqa: N802 (Twisted)
        self.show("type help for the commands")
        self.prompt()

    def show(self, text: str) -> None:
        self._write(text + "\n")

    def _write(self, text: str) -> None:
        sys.stdout.write(text)
        sys.stdout.flush()

    def prompt(self) -> None:
        current = self.console.current
        self._write(f"{current.agent_id if current else '-'}> ")

    def lineReceived(self, line: bytes) -> None:  # noqa: N802 (Twisted)
        # Lines typed (or pasted) while one still runs wait their turn, in order.
        self.queue.append(line.decode("utf-8", "replace").strip())
        if not self.busy:
            defer.ensureDeferred(self._drain())

    async def _drain(self) -> None:
        self.busy = True
        try:
            while self.queue and not self.done.called:
                await self._line(self.queue.pop(0))
        finally:
            self.busy = False

    async def _line(self, text: str) -> None:
        word, _, rest = text.partition(" ")
        if word in ("quit", "exit"):
            self._finish(0)
            return
        try:
            if word == "help":
                self.show(HELP)
            elif word == "commands":
                names = [n for n in self.console.channel.command_names()
                         if n.casefold().startswith(rest.strip().casefold())]
                self.show(", ".join(names) or "no command starts that way")
            elif word == "view":
                agent = self.console.agent()
                self.show("\n".join(render_view(agent,
                                                self.console.channel.enabled_names(agent))))
            elif text:
                for step in parse_script(text, "prompt"):
                    await self.console.run_step(step, "prompt")
        except (ScriptError, ConsoleError) as exc:
            self.show(str(exc))
        except Exception as exc:  # StepError, GatewayRpcError: shown, the console goes on
            self.show(str(exc))
        self.prompt()

    def connectionLost(self, reason: Any = None) -> None:  # noqa: N802 (Twisted)
        self.lineReceived(b"quit")  # end of input: leave once the queued lines have run

    def _finish(self, code: int) -> None:
        if not self.done.called:
            self.done.callback(code)


async def interactive(reactor: Any, console: Any) -> int:
    from .cli import release

    done: defer.Deferred[int] = defer.Deferred()
    standard_io: Any = stdio.StandardIO
    standard_io(_Prompt(console, done), reactor=reactor)
    code = await done
    await release(console)
    return code
