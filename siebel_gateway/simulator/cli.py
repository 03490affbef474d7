"""``siebel-gateway simulate-gc``: the GC + Finesse simulator as a process."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

__all__ = ["add_parser", "run"]


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("simulate-gc", help="run the Generic Connector + Finesse simulator")
    p.add_argument("--broker", required=True, metavar="URL",
                   help="stomp://host:port, failover:(...) or memory:// (in this process)")
    p.add_argument("--queue", action="append", metavar="QUEUE",
                   help="GC command queue (default Connector1); twice for a duplex GC, both "
                        "queues served by one Finesse model")
    p.add_argument("--flavour", choices=("ucce", "uccx"), default="ucce")
    p.add_argument("--seed", type=int, default=0, help="seed for dialog ids and generated calls")
    p.add_argument("--calls-per-second", type=float, default=0.0, metavar="N",
                   help="generate inbound calls to READY agents at this rate")
    p.add_argument("--ring-timeout", type=float, default=15.0, metavar="SECONDS",
                   help="ring-no-answer (RONA) timeout")
    p.add_argument("--catalogue-only", action="store_true",
                   help="send only the event fields the public GC catalogue documents "
                        "(a GC written from it alone; docs/gc-dialect.md)")
    p.add_argument("--users", type=Path, help="Finesse Users XML (default: 20 sample agents)")
    p.add_argument("--reason-codes", type=Path, help="Finesse ReasonCodes XML")
    p.add_argument("--wrap-up-reasons", type=Path, help="Finesse WrapUpReasons XML")
    p.add_argument("--des-key-file", help="Triple-DES key for encrypted agent passwords")
    p.add_argument("--des-key-env", help="environment variable holding that key (neither "
                   "given: SIEBEL_GW_PASSWORD_KEY when set)")
    p.add_argument("--user", help="broker user")
    p.add_argument("--password-env", help="environment variable holding the broker password")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import os

    from twisted.internet import reactor as _reactor
    from twisted.logger import globalLogBeginner, textFileLogObserver

    from ..adapters.link import parse_broker_url
    from ..adapters.memory_link import MemoryBroker
    from ..adapters.stomp_link import StompLink
    from ..crypto import KeyError3DES, decrypt_password, default_key, load_key
    from ..def_file import DefFileError
    from ..gc.codec import GcCodec
    from ..gc.dialect import load_dialect
    from .data import DATA_DIR, DataError, load_data
    from .model import FinesseModel
    from .runner import SimulatorRunner

    reactor: Any = _reactor
    try:
        endpoints = parse_broker_url(args.broker)
        data = load_data(args.users or DATA_DIR / "users.xml",
                         args.reason_codes or DATA_DIR / "reason_codes.xml",
                         args.wrap_up_reasons or DATA_DIR / "wrap_up_reasons.xml")
        dialect = load_dialect()
        key = load_key(file=args.des_key_file, env=args.des_key_env) \
            if (args.des_key_file or args.des_key_env) else default_key()
    except (ValueError, DataError, DefFileError, KeyError3DES) as exc:
        print(f"siebel-gateway simulate-gc: {exc}", file=sys.stderr)
        return 2
    if args.calls_per_second < 0:
        print("siebel-gateway simulate-gc: --calls-per-second must be >= 0", file=sys.stderr)
        return 2
    queues = args.queue or ["Connector1"]
    if len(queues) != len(set(queues)) or len(queues) > 2:
        print("siebel-gateway simulate-gc: give --queue once or twice, with two different "
              "names", file=sys.stderr)
        return 2
    observer: Any = textFileLogObserver(sys.stderr)
    globalLogBeginner.beginLoggingTo([observer])
    codec = GcCodec(dialect, queue=queues[0])
    model = FinesseModel(data, codec, flavour=args.flavour, seed=args.seed,
                         now=reactor.seconds, ring_timeout=args.ring_timeout,
                         decrypt=(lambda token: decrypt_password(token, key)) if key else None,
                         catalogue_only=args.catalogue_only)
    if endpoints[0].scheme == "memory":
        link: Any = MemoryBroker(reactor).link()
    else:
        password = os.environ.get(args.password_env) if args.password_env else None
        link = StompLink(endpoints, reactor=reactor, clock=reactor, user=args.user,
                         password=password)
    runner = SimulatorRunner(model, link, codec, reactor, queue=queues[0], queues=queues)
    link.start()
    if args.calls_per_second:
        runner.start_generator(args.calls_per_second, args.seed)
    print(f"simulate-gc: {args.flavour.upper()} with {len(data.agents)} agents on {args.broker}, "
          f"commands on {', '.join('/queue/' + q for q in queues)}, control on "
          f"{runner.control_destination}", file=sys.stderr, flush=True)
    reactor.run()
    return 0
