"""``siebel-gateway <subcommand>``: argv -> settings -> the chosen job.

Subcommands import what they need only when they run, so ``def`` stays light
(no Twisted, no stomp.py) and starts fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import __version__
from .def_cli import add_def_parser

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="siebel-gateway",
        description="Siebel CTI gateway: SCS driver over TCP, Generic Connector over ActiveMQ.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_def_parser(sub)
    from .simulator.cli import add_parser as add_simulator_parser

    add_simulator_parser(sub)
    from .serve import add_parser as add_serve_parser

    add_serve_parser(sub)
    from .trace.cli import add_parser as add_trace_parser

    add_trace_parser(sub)
    from .console.cli import add_parser as add_console_parser

    add_console_parser(sub)
    from .demo import add_parser as add_demo_parser

    add_demo_parser(sub)
    from .monitor.status import add_parser as add_status_parser

    add_status_parser(sub)
    from .shim.build import add_parser as add_shim_parser

    add_shim_parser(sub)
    from .keygen import add_parser as add_keygen_parser

    add_keygen_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    # ``def eval FILE --event X F=V ...``: argparse stops filling a positional list once
    # an option interrupts it, so trailing FIELD=VALUE words come back as extras.
    args, extra = parser.parse_known_args(argv)
    if extra:
        if getattr(args, "def_command", None) != "eval" or any(e.startswith("-") for e in extra):
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
        args.fields = [*args.fields, *extra]
    if args.command == "def":
        from .def_cli import run

        return run(args)
    code: int = args.func(args)
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
