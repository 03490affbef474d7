"""``siebel-gateway demo``: a two-agent shift with nothing to install.

One process: the gateway (the shipped gateway.def, the shipped Siebel DEF of the flavour),
the GC simulator, and the console in script mode on loopback TCP, running the template's
console script (``def_templates/siebel-<flavour>.script``) and printing the timeline as it
goes.  ``--broker stomp://...`` puts gateway, simulator and console control on ActiveMQ
instead of the in-process broker.  Exit 0 when every step behaved; 1 naming the step that
did not; 2 when the demo cannot start.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from typing import Any

__all__ = ["add_parser", "run"]


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("demo", help="run a two-agent shift on the embedded gateway + simulator")
    p.add_argument("--broker", metavar="URL",
                   help="stomp://host:61613 (default: the in-process memory:// broker)")
    p.add_argument("--trace", metavar="FILE", help="record the gateway's trace here")
    p.add_argument("--flavour", choices=("ucce", "uccx"), default="ucce")
    p.add_argument("--script", metavar="FILE",
                   help="another console script (default: the template's)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from .aio import react_for_code

    return react_for_code(lambda reactor: run_demo(reactor, args,
                                                   emit=lambda s: print(s, flush=True)))


def _quiet_logs() -> None:
    from twisted.logger import (
        FilteringLogObserver,
        LogLevel,
        LogLevelFilterPredicate,
        globalLogBeginner,
        textFileLogObserver,
    )

    text: Any = textFileLogObserver(sys.stderr)
    level: Any = LogLevelFilterPredicate(LogLevel.warn)
    observer: Any = FilteringLogObserver(text, [level])
    globalLogBeginner.beginLoggingTo([observer], redirectStandardIO=False)


async def run_demo(reactor: Any, args: argparse.Namespace, *,
                   emit: Any, log: bool = True) -> int:
    from twisted.internet import task

    from .console.channel import Channel
    from .console.cli import connect, release
    from .console.client import Console, SimControl, StepError
    from .console.script import ScriptError, read_script
    from .def_file import load_file
    from .resources import template_path
    from .serve import StartError, build, prepare, start_simulator

    began = time.monotonic()
    flavour = args.flavour
    siebel_def = template_path(f"siebel-{flavour}.def")
    script = args.script or str(template_path(f"siebel-{flavour}.script"))
    broker = args.broker or "memory://"
    try:
        steps = read_script(script)
        ready = prepare(argparse.Namespace(config=str(template_path("gateway.def")),
                                           siebel_def=str(siebel_def), listen="127.0.0.1:0",
                                           broker=broker, ephemeral_key=True))
        if log:
            _quiet_logs()
        parts = build(reactor, ready, trace=args.trace)
    except (StartError, ScriptError) as exc:
        print(f"siebel-gateway demo: {exc}", file=sys.stderr)
        return 2
    settings = ready["settings"]
    if "broker" in parts:
        control_link: Any = parts["broker"].link()
        control_link.start()
    else:
        from .adapters.stomp_link import StompLink

        def stomp() -> Any:
            return StompLink(settings.broker_endpoints, reactor=reactor, clock=reactor)

        parts["simulator"] = start_simulator(reactor, ready, stomp())
        control_link = stomp()
        await control_link.start()
    emit(f"demo: {flavour.upper()} shift on {broker}; gateway on 127.0.0.1:{parts['port']}, "
         f"script {script}")
    if ready["ephemeral_key"]:
        emit("demo: UseSecurePassword is on: agent passwords cross the broker Triple-DES "
             "encrypted with a one-off key held in memory only")
    code = 1
    try:
        core = parts["core"]
        for _ in range(200):
            if core.gc_available:
                break
            await task.deferLater(reactor, 0.1, lambda: None)
        else:
            emit("demo FAILED: the Generic Connector (simulator) did not come into service "
                 f"within 20 s on {broker}")
            return 1
        client = await connect(reactor, "127.0.0.1", parts["port"])
        console = Console(Channel(load_file(siebel_def)), client, reactor, emit=emit,
                          control=SimControl(control_link, reactor, settings.queue))
        try:
            await console.load()
            failures = await console.run_script(steps, script) + console.problems
        except StepError as exc:
            failures = [str(exc)]
        await release(console)
        await task.deferLater(reactor, 0.2, lambda: None)  # the releases reach the GC
        took = time.monotonic() - began
        if failures:
            emit(f"demo FAILED after {took:.1f} s: {failures[0]}")
        else:
            emit(f"demo: every step behaved ({len(steps)} steps in {took:.1f} s)")
            code = 0
    finally:
        await _stop(parts, control_link)
    return code


async def _stop(parts: dict[str, Any], control_link: Any) -> None:
    for stop in (parts["listening"].stopListening, parts["service"].stop,
                 parts["simulator"].link.stop, control_link.stop):
        with contextlib.suppress(Exception):  # stopping what already stopped is fine
            await stop()
    if "trace" in parts:
        parts["trace"].close()
