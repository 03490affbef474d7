"""``siebel-gateway serve``: check both files, then run the gateway until stopped.

Start-up refuses (exit 2, every problem as ``file:line:col: error: message``) when the
gateway file or the Siebel DEF has errors, when the DEF names a device command or event the
gateway does not support, when a driver parameter has an unusable value, or when a secret
it needs cannot be read.  Nothing listens before all of that passed.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from typing import Any, TextIO, cast

__all__ = ["add_parser", "run"]


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("serve", help="run the gateway (SCS protocol server + GC link)")
    p.add_argument("--config", required=True, metavar="GATEWAY_DEF",
                   help="gateway settings (see def_templates/gateway.def)")
    p.add_argument("--def", dest="siebel_def", required=True, metavar="SIEBEL_DEF",
                   help="the Siebel communications DEF this gateway serves")
    p.add_argument("--listen", metavar="HOST:PORT", help="override [Server] Listen")
    p.add_argument("--broker", metavar="URL", help="override [Broker] Url")
    p.add_argument("--monitor", metavar="HOST:PORT",
                   help='override [Monitor] Listen ("" disables the monitor)')
    p.add_argument("--trace", metavar="FILE", help="record both edges as JSON Lines")
    p.add_argument("--log-file", metavar="FILE", help="log here instead of standard error")
    p.add_argument("--log-format", choices=("text", "json"), default="text")
    p.set_defaults(func=run)


class StartError(Exception):
    """A reason not to start, already formatted for the operator."""


def _fail(err: TextIO, text: str) -> int:
    print(f"siebel-gateway serve: {text}", file=err)
    return 2


def prepare(args: argparse.Namespace) -> dict[str, Any]:
    """Everything checked and loaded; raises ``StartError``."""
    from .core.driver import DriverConfigError, parse_driver_params
    from .core.gateway import GatewayOptions
    from .core.vocabulary import COMMANDS, EVENTS
    from .crypto import KeyError3DES, encrypt_password, load_key
    from .def_file import DefFileError, check_file
    from .def_support import driver_defaults, unsupported
    from .gc.dialect import load_dialect
    from .locales import load_catalog
    from .settings import load_settings, parse_listen

    def problems_text(exc: DefFileError) -> str:
        return "\n".join(p.format() for p in exc.problems)

    try:
        settings = load_settings(args.config)
    except OSError as exc:
        raise StartError(f"cannot read gateway file {args.config}: {exc.strerror}") from None
    except DefFileError as exc:
        raise StartError(f"gateway file {args.config} has errors:\n"
                         f"{problems_text(exc)}") from None
    try:
        if args.listen:
            host, port = parse_listen(args.listen)
            settings = replace(settings, listen_host=host, listen_port=port)
        if args.broker:
            from .adapters.link import parse_broker_url

            settings = replace(settings, broker_url=args.broker,
                               broker_endpoints=parse_broker_url(args.broker))
        if getattr(args, "monitor", None) is not None:
            if args.monitor.strip():
                host, port = parse_listen(args.monitor)
                settings = replace(settings, monitor_host=host, monitor_port=port)
            else:
                settings = replace(settings, monitor_port=None)
    except ValueError as exc:
        raise StartError(str(exc)) from None
    try:
        result = check_file(args.siebel_def)
    except OSError as exc:
        raise StartError(f"cannot read Siebel DEF {args.siebel_def}: {exc.strerror}") from None
    problems = [p for p in result.problems if p.severity.value == "error"]
    problems += unsupported(result.model, COMMANDS, EVENTS)
    if problems:
        raise StartError(f"Siebel DEF {args.siebel_def} cannot be served:\n"
                         + "\n".join(p.format() for p in problems))
    defaults = driver_defaults(result.model)
    try:
        driver = parse_driver_params((), defaults=defaults)
    except DriverConfigError as exc:
        raise StartError(f"{args.siebel_def}: {exc}") from None
    key = None
    if settings.key_file or settings.key_env:
        try:
            key = load_key(file=settings.key_file or None, env=settings.key_env or None)
        except KeyError3DES as exc:
            raise StartError(f"{settings.path} [Security]: {exc}") from None
    if driver.use_secure_password and key is None:
        raise StartError(f"{args.siebel_def} sets UseSecurePassword = TRUE but {settings.path} "
                         "names no Triple-DES key ([Security] SecurePasswordKeyFile or "
                         "SecurePasswordKeyEnv)")
    try:
        dialect = load_dialect(settings.dialect or None)
        catalog = load_catalog(settings.locale_dir or None)
    except DefFileError as exc:
        raise StartError(problems_text(exc)) from None
    except OSError as exc:
        raise StartError(str(exc)) from None
    try:
        broker_password = settings.broker_password()
    except (OSError, KeyError) as exc:
        raise StartError(f"{settings.path} [Broker]: {exc}") from None
    try:
        monitor_token = settings.monitor_token() if settings.monitor_port is not None else None
    except (OSError, KeyError) as exc:
        why = exc.args[0] if isinstance(exc, KeyError) else exc  # KeyError's str() quotes
        raise StartError(f"{settings.path} [Monitor]: {why}") from None
    options = GatewayOptions(command_timeout=settings.command_timeout,
                             heartbeat=settings.heartbeat,
                             clock_skew_warning=settings.clock_skew_warning,
                             driver_defaults=defaults)
    encrypt = (lambda pw: encrypt_password(pw, key)) if key is not None else None
    return {"settings": settings, "dialect": dialect, "catalog": catalog, "options": options,
            "encrypt": encrypt, "broker_password": broker_password, "key": key,
            "flavour": driver.flavour, "monitor_token": monitor_token}


def run(args: argparse.Namespace) -> int:
    try:
        ready = prepare(args)
    except StartError as exc:
        return _fail(sys.stderr, str(exc))
    from twisted.internet import reactor as _reactor

    reactor: Any = _reactor
    try:
        log_file: TextIO = open(args.log_file, "a", encoding="utf-8") \
            if args.log_file else sys.stderr  # noqa: SIM115 (open for the process's life)
    except OSError as exc:
        return _fail(sys.stderr, f"cannot open log file {args.log_file}: {exc.strerror}")
    _start_logging(log_file, args.log_format)
    try:
        gateway = build(reactor, ready, trace=args.trace)
    except StartError as exc:
        return _fail(sys.stderr, str(exc))
    settings = ready["settings"]
    from .monitor.server import start_monitor

    start_monitor(reactor, gateway, ready)
    print(f"siebel-gateway: serving {args.siebel_def} on {settings.listen_host}:"
          f"{gateway['port']} ({'TLS' if settings.tls_certificate else 'TCP'}), GC on "
          f"{settings.broker_url} queue {settings.queue}", file=sys.stderr, flush=True)
    if gateway.get("monitor_url"):
        print(f"siebel-gateway: monitor on {gateway['monitor_url']}", file=sys.stderr,
              flush=True)
    reactor.run()
    return 0


def _start_logging(out: TextIO, fmt: str) -> None:
    from twisted.logger import globalLogBeginner, jsonFileLogObserver, textFileLogObserver

    observer: Any = jsonFileLogObserver(out) if fmt == "json" else textFileLogObserver(out)
    globalLogBeginner.beginLoggingTo([observer], redirectStandardIO=False)


def build(reactor: Any, ready: dict[str, Any], *, trace: str | None = None) -> dict[str, Any]:
    """Wire the gateway on ``reactor`` and start listening; returns the parts."""
    from twisted.internet import ssl
    from twisted.internet.error import CannotListenError

    from .adapters.gateway_service import GatewayService, ScsServerFactory
    from .adapters.stomp_link import StompLink
    from .core.gateway import GatewayCore
    from .gc.codec import GcCodec

    settings = ready["settings"]
    codec = GcCodec(ready["dialect"], queue=settings.queue,
                    client_destination=settings.client_destination,
                    command_expiry=settings.command_expiry)
    core = GatewayCore(codec, ready["catalog"], ready["options"], encrypt=ready["encrypt"])
    parts: dict[str, Any] = {"core": core}
    if settings.broker_endpoints[0].scheme == "memory":
        link: Any = _embedded(reactor, ready, parts)
    else:
        link = StompLink(settings.broker_endpoints, reactor=reactor, clock=reactor,
                         user=settings.broker_user or None,
                         password=ready["broker_password"],
                         heartbeats=(settings.broker_heartbeat_ms,
                                     settings.broker_heartbeat_ms),
                         ca_certs=settings.ca_certificates or None)
    tap: Any = None
    trace_file = trace or settings.trace_file
    if trace_file:
        from .trace.config import trace_config
        from .trace.record import TraceWriter

        try:
            config = trace_config(codec=codec, options=ready["options"],
                                  secure_password=ready["encrypt"] is not None,
                                  dialect_file=settings.dialect, locale_dir=settings.locale_dir)
            tap = TraceWriter(trace_file, max_bytes=settings.trace_max_bytes,
                              redact_body=codec.redacted_body, config=config,
                              not_agents=(codec.dialect.system_agent,
                                          codec.client_destination))
        except OSError as exc:
            raise StartError(f"cannot write trace file {trace_file}: "
                             f"{exc.strerror or exc}") from None
        parts["trace"] = tap
    if settings.monitor_port is not None:
        from .monitor.recorder import Tee
        from .monitor.server import monitor_tap

        parts["monitor_tap"] = watcher = monitor_tap()
        tap = Tee(tap, watcher) if tap is not None else watcher
    from .adapters.pacing import Pacer

    pacer = Pacer(link, reactor, size=settings.pacing_queue_size,
                  timeout=settings.command_timeout)
    service = GatewayService(core, link, reactor, max_line=settings.max_line, tap=tap,
                             pacer=pacer)
    factory = ScsServerFactory(service)
    try:
        if settings.tls_certificate:
            try:
                context = cast(Any, ssl).DefaultOpenSSLContextFactory(settings.tls_key,
                                                           settings.tls_certificate)
            except Exception as exc:
                raise StartError(f"TLS certificate/key cannot be used: {exc}") from None
            port = reactor.listenSSL(settings.listen_port, factory, context,
                                     interface=settings.listen_host)
        else:
            port = reactor.listenTCP(settings.listen_port, factory,
                                     interface=settings.listen_host)
    except CannotListenError as exc:
        raise StartError(f"cannot listen on {settings.listen_host}:{settings.listen_port}: "
                         f"{exc.socketError}") from None
    service.start()
    parts.update(service=service, listening=port, port=port.getHost().port)
    return parts


def _embedded(reactor: Any, ready: dict[str, Any], parts: dict[str, Any]) -> Any:
    """memory://: an in-process broker with the GC simulator on it (the embedded default)."""
    from .adapters.memory_link import MemoryBroker

    broker = MemoryBroker(reactor, wall_ms=lambda: int(reactor.seconds() * 1000))
    parts["simulator"] = start_simulator(reactor, ready, broker.link())
    parts["broker"] = broker
    return broker.link()


def start_simulator(reactor: Any, ready: dict[str, Any], link: Any) -> Any:
    """The GC simulator (sample agents, the DEF's flavour) on ``link``, started."""
    from .crypto import decrypt_password
    from .gc.codec import GcCodec
    from .simulator.data import sample_data
    from .simulator.model import FinesseModel
    from .simulator.runner import SimulatorRunner

    settings = ready["settings"]
    sim_codec = GcCodec(ready["dialect"], queue=settings.queue)
    key = ready["key"]
    model = FinesseModel(sample_data(), sim_codec, flavour=ready["flavour"].lower(),
                         now=reactor.seconds,
                         decrypt=(lambda t: decrypt_password(t, key)) if key else None)
    runner = SimulatorRunner(model, link, sim_codec, reactor, queue=settings.queue)
    link.start()
    return runner
