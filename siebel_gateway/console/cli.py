"""``siebel-gateway console``: Siebel's channel manager, stood in for.

    siebel-gateway console --def siebel-ucce.def --connect 127.0.0.1:7001 [--script FILE]

Script mode exits 0 when every step behaved, 1 when a step did not (or the gateway does not
support something the DEF asks for), 2 for a usage problem (unreadable DEF or script, no
gateway at the address).  Without ``--script`` it is interactive (``console/live.py``).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

__all__ = ["add_parser", "connect", "run"]


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("console", help="drive a gateway like Siebel's channel manager "
                                       "(interactive, or --script to test a DEF file)")
    p.add_argument("--def", dest="siebel_def", required=True, metavar="FILE",
                   help="the Siebel communications DEF")
    p.add_argument("--connect", required=True, metavar="HOST:PORT[,HOST:PORT]",
                   help="the gateway; a second address is its standby: a dropped connection "
                        "is resumed on the same gateway, else on the other")
    p.add_argument("--script", metavar="FILE", help="run this script and exit (0: all good)")
    p.add_argument("--profile", help="the [Profile:X] to load (default: the first)")
    p.add_argument("--language", default="ENU", help="Siebel language code (default ENU)")
    p.add_argument("--records", type=int, default=1, metavar="N",
                   help="records a screen pop's query is assumed to find (default 1)")
    p.add_argument("--tls", action="store_true", help="connect with TLS")
    p.add_argument("--ca", metavar="PEM", help="trust this CA (or self-signed certificate)")
    p.add_argument("--simulator", metavar="URL",
                   help="the simulator's broker, for `simulate` script lines")
    p.add_argument("--queue", default="Connector1", help="the simulator's GC queue")
    p.set_defaults(func=run)


class UsageError(Exception):
    pass


def _fail(text: str) -> int:
    print(f"siebel-gateway console: {text}", file=sys.stderr)
    return 2


def prepare(args: argparse.Namespace) -> dict[str, Any]:
    """DEF, script and channel, checked before any connection; raises ``UsageError``."""
    from ..def_file import check_file
    from .channel import Channel, ConsoleError
    from .script import ScriptError, read_script

    try:
        result = check_file(args.siebel_def)
    except OSError as exc:
        raise UsageError(f"cannot read {args.siebel_def}: {exc.strerror or exc}") from None
    if result.errors:
        raise UsageError(f"{args.siebel_def} has errors:\n"
                         + "\n".join(p.format() for p in sorted(result.errors)))
    try:
        steps = read_script(args.script) if args.script else None
        channel = Channel(result.model, profile=args.profile, language=args.language.upper(),
                          records=args.records)
    except (ScriptError, ConsoleError) as exc:
        raise UsageError(str(exc)) from None
    if args.records < 0:
        raise UsageError("--records must be >= 0")
    addresses: list[tuple[str, int]] = []
    for address in args.connect.split(","):
        host, sep, port = address.strip().rpartition(":")
        if not sep or not port.isdigit() or not host:
            raise UsageError(f"--connect {args.connect!r}: write HOST:PORT (or two, "
                             "comma-separated: the active gateway and its standby)")
        addresses.append((host, int(port)))
    return {"channel": channel, "steps": steps, "host": addresses[0][0],
            "port": addresses[0][1], "addresses": addresses}


async def connect(reactor: Any, host: str, port: int, *, tls: bool = False,
                  ca: str | None = None) -> Any:
    from twisted.internet import endpoints, ssl
    from twisted.internet.protocol import Factory

    from .client import ScsClient

    if tls:
        trust: Any = None
        if ca:
            with open(ca, "rb") as f:
                trust = ssl.Certificate.loadPEM(f.read())
        options = ssl.optionsForClientTLS(host, trustRoot=trust)
        ssl_endpoint: Any = endpoints.SSL4ClientEndpoint
        endpoint: Any = ssl_endpoint(reactor, host, port, options)
    else:
        endpoint = endpoints.TCP4ClientEndpoint(reactor, host, port, timeout=10)
    factory = Factory.forProtocol(lambda: ScsClient(lambda m, p: None))
    return await endpoint.connect(factory)


async def _main(reactor: Any, args: argparse.Namespace, ready: dict[str, Any]) -> int:
    from .client import Console, GatewayRpcError, SimControl, StepError

    try:
        client = await connect(reactor, ready["host"], ready["port"], tls=args.tls, ca=args.ca)
    except Exception as exc:  # connection refused, DNS, TLS: all the user's to fix
        return _fail(f"cannot connect to {args.connect}: {exc}")
    control = None
    if args.simulator:
        from ..adapters.link import parse_broker_url
        from ..adapters.stomp_link import StompLink

        try:
            link = StompLink(parse_broker_url(args.simulator), reactor=reactor, clock=reactor)
        except ValueError as exc:
            return _fail(f"--simulator: {exc}")
        await link.start()
        control = SimControl(link, reactor, args.queue)
    addresses: list[tuple[str, int]] = ready["addresses"]
    tried = [0]

    async def reconnect() -> Any:
        """The address that served last first, then the next (active/standby)."""
        host, port = addresses[tried[0] % len(addresses)]
        try:
            return await connect(reactor, host, port, tls=args.tls, ca=args.ca)
        except Exception:
            tried[0] += 1
            raise

    console = Console(ready["channel"], client, reactor,
                      emit=lambda line: print(line, flush=True), control=control,
                      reconnect=reconnect)
    try:
        await console.load()
    except (StepError, GatewayRpcError) as exc:
        print(f"FAILED {exc}", flush=True)
        return 1
    if ready["steps"] is None:
        from .live import interactive

        return await interactive(reactor, console)
    failures = await console.run_script(ready["steps"], args.script)
    failures += console.problems
    await release(console)
    print(f"{args.script}: {'FAILED: ' + failures[0] if failures else 'every step behaved'}",
          flush=True)
    return 1 if failures else 0


async def release(console: Any) -> None:
    """Release services and the driver, as SCS does when the agent's session ends."""
    from .client import GatewayRpcError

    try:
        for agent in console.agents.values():
            await console.client.call("ReleaseISCServiceInstance", service=agent.service)
        if console.driver:
            await console.client.call("ReleaseISCDriverInstance", driver=console.driver)
    except GatewayRpcError:
        pass
    console.closing = True
    console.client.transport.loseConnection()


def run(args: argparse.Namespace) -> int:
    try:
        ready = prepare(args)
    except UsageError as exc:
        return _fail(str(exc))
    from ..aio import react_for_code

    return react_for_code(lambda reactor: _main(reactor, args, ready))
