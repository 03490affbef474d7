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
    p.add_argument("--insecure", action="store_true",
                   help="allow a non-loopback Listen address with neither TLS nor an SCS "
                        "client token ([Server] AuthTokenFile/AuthTokenEnv)")
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
    from .crypto import (
        DEFAULT_KEY_ENV,
        KeyError3DES,
        default_key,
        encrypt_password,
        load_key,
        new_key,
    )
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
    ephemeral = False
    if settings.key_file or settings.key_env:
        try:
            key = load_key(file=settings.key_file or None, env=settings.key_env or None)
        except KeyError3DES as exc:
            raise StartError(f"{settings.path} [Security]: {exc}") from None
    else:  # neither configured: SIEBEL_GW_PASSWORD_KEY, else (the GC is the simulator in
        # this very process: memory://, the demo) a one-off key
        try:
            key = default_key()
        except KeyError3DES as exc:
            raise StartError(str(exc)) from None
        in_process = getattr(args, "ephemeral_key", False) or all(
            e.scheme == "memory" for e in settings.broker_endpoints)
        if key is None and driver.use_secure_password and in_process:
            key, ephemeral = new_key(), True
    if driver.use_secure_password and key is None:
        raise StartError(f"{args.siebel_def} sets UseSecurePassword = TRUE but {settings.path} "
                         "names no Triple-DES key ([Security] SecurePasswordKeyFile or "
                         f"SecurePasswordKeyEnv) and {DEFAULT_KEY_ENV} is not set. "
                         "'siebel-gateway keygen FILE' writes a new key file; give the "
                         "Generic Connector the same key")
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
    try:
        token = settings.auth_token()
    except (OSError, KeyError, ValueError) as exc:
        text = exc.args[0] if isinstance(exc, KeyError) else \
            f"cannot read the SCS client token: {exc}" if isinstance(exc, OSError) else exc
        raise StartError(f"{settings.path} [Server]: {text}") from None
    if not (settings.tls_certificate or token or _loopback(settings.listen_host)
            or getattr(args, "insecure", False)):
        raise StartError(
            f"refusing to listen on {settings.listen_host}:{settings.listen_port}: it is not a "
            "loopback address and the SCS port has neither TLS ([Server] TlsCertificate, "
            "TlsKey) nor a client token ([Server] AuthTokenFile or AuthTokenEnv), so anyone "
            "who can reach it could log any agent in or out. Configure one of them, or pass "
            "--insecure to accept that on a trusted network.")
    options = GatewayOptions(command_timeout=settings.command_timeout,
                             heartbeat=settings.heartbeat,
                             clock_skew_warning=settings.clock_skew_warning,
                             driver_defaults=defaults, resume_grace=settings.resume_grace,
                             max_drivers_per_connection=settings.max_drivers_per_connection,
                             max_drivers=settings.max_drivers,
                             max_services_per_driver=settings.max_services_per_driver)
    encrypt = (lambda pw: encrypt_password(pw, key)) if key is not None else None
    return {"settings": settings, "dialect": dialect, "catalog": catalog, "options": options,
            "encrypt": encrypt, "broker_password": broker_password, "key": key,
            "ephemeral_key": ephemeral,
            "flavour": driver.flavour, "monitor_token": monitor_token,
            "token": token}


def _loopback(host: str) -> bool:
    import ipaddress

    if host.casefold() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


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
          f"{settings.broker_url}{' + ' + settings.broker_url2 if settings.broker_url2 else ''}"
          f" queue {', '.join(settings.queues)} ({settings.mode})", file=sys.stderr, flush=True)
    if gateway.get("monitor_url"):
        print(f"siebel-gateway: monitor on {gateway['monitor_url']}", file=sys.stderr,
              flush=True)
    if ready["ephemeral_key"]:
        print("siebel-gateway: UseSecurePassword with no key configured: the gateway and the "
              "embedded GC simulator share a one-off Triple-DES key held in memory",
              file=sys.stderr, flush=True)
    reactor.run()
    return 0


def _start_logging(out: TextIO, fmt: str) -> None:
    from twisted.logger import globalLogBeginner, jsonFileLogObserver, textFileLogObserver

    observer: Any = jsonFileLogObserver(out) if fmt == "json" else textFileLogObserver(out)
    name = getattr(out, "name", "the log")
    globalLogBeginner.beginLoggingTo([cast(Any, TolerantObserver(observer, str(name)))],
                                     redirectStandardIO=False)


class TolerantObserver:
    """A log observer whose write failures (a full disk) cost only the lines: one warning
    on standard error when they start, a count of lost lines in the log when writing works
    again (``lostlines.LostLines``; Twisted would otherwise drop them without a word)."""

    def __init__(self, inner: Any, name: str, err: TextIO | None = None) -> None:
        from .lostlines import LostLines

        self.inner, self.name, self.err = inner, name, err
        self._losses = LostLines(self._warn)

    @property
    def lost(self) -> int:
        """Log lines lost since the start (a metric)."""
        return self._losses.total

    def _warn(self, why: str) -> None:
        print(f"siebel-gateway: cannot write {self.name} ({why}); log lines are dropped and "
              "counted until writing works again", file=self.err or sys.stderr, flush=True)

    def __call__(self, event: dict[str, Any]) -> None:
        self._losses.write(lambda: self.inner(event), self._gap)

    def _gap(self, lost: int, why: str) -> None:
        import time

        from twisted.logger import LogLevel

        self.inner({"log_format": "{n} log lines were lost here (the log could not be "
                    "written: {why})", "n": lost, "why": why, "log_level": LogLevel.warn,
                    "log_namespace": "siebel_gateway", "log_time": time.time(),
                    "log_system": "-"})


def build(reactor: Any, ready: dict[str, Any], *, trace: str | None = None) -> dict[str, Any]:
    """Wire the gateway on ``reactor`` and start listening; returns the parts."""
    from twisted.internet import ssl
    from twisted.internet.error import CannotListenError

    from .adapters.gateway_service import GatewayService, ScsLimits, ScsServerFactory
    from .adapters.stomp_link import StompLink
    from .core.gateway import GatewayCore
    from .gc.codec import GcCodec

    settings = ready["settings"]
    codec = GcCodec(ready["dialect"], queue=settings.queue,
                    client_destination=settings.client_destination,
                    command_expiry=settings.command_expiry)
    core = GatewayCore(codec, ready["catalog"], ready["options"], encrypt=ready["encrypt"])
    if settings.mode != "simplex":
        core = _duplex_core(ready)
        codec = core.codec
    parts: dict[str, Any] = {"core": core}

    def stomp(endpoints: Any) -> StompLink:
        return StompLink(endpoints, reactor=reactor, clock=reactor,
                         user=settings.broker_user or None,
                         password=ready["broker_password"],
                         heartbeats=(settings.broker_heartbeat_ms,
                                     settings.broker_heartbeat_ms),
                         ca_certs=settings.ca_certificates or None,
                         heartbeat_grace_ms=settings.broker_heartbeat_grace_ms)

    if settings.broker_endpoints[0].scheme == "memory":
        link: Any = _embedded(reactor, ready, parts)
    else:
        link = stomp(settings.broker_endpoints)
    links = [link, stomp(settings.broker_endpoints2)] if settings.broker_endpoints2 else [link]
    tap: Any = None
    trace_file = trace or settings.trace_file
    if trace_file:
        from .trace.config import trace_config
        from .trace.record import TraceWriter

        duplex: Any = None
        if settings.mode != "simplex":  # the GCs and mode, so replay rebuilds this core
            from .trace.duplex import duplex_config

            duplex = duplex_config(cast(Any, core))
        try:
            config = trace_config(codec=codec, options=ready["options"],
                                  secure_password=ready["encrypt"] is not None,
                                  dialect_file=settings.dialect, locale_dir=settings.locale_dir,
                                  duplex=duplex)
            tap = TraceWriter(trace_file, max_bytes=settings.trace_max_bytes,
                              redact_body=codec.redacted_body, config=config,
                              not_agents=(codec.dialect.system_agent,
                                          *(c.client_destination for c in
                                            getattr(core, "codecs", (codec,)))))
        except OSError as exc:
            raise StartError(f"cannot write trace file {trace_file}: "
                             f"{exc.strerror or exc}") from None
        parts["trace"] = tap
    if settings.monitor_port is not None:
        from .monitor.recorder import Tee
        from .monitor.server import monitor_tap

        parts["monitor_tap"] = watcher = monitor_tap()
        tap = Tee(tap, watcher) if tap is not None else watcher
    if settings.mode != "simplex":
        from .adapters.duplex_service import DuplexService

        service: GatewayService = DuplexService(cast(Any, core), links, reactor,
                                                max_line=settings.max_line, tap=tap)
    else:
        from .adapters.pacing import Pacer

        pacer = Pacer(link, reactor, size=settings.pacing_queue_size,
                      timeout=settings.command_timeout)
        from .adapters.admission import SignInAdmission

        admission = SignInAdmission(reactor, window=settings.sign_in_window,
                                    queue_seconds=settings.sign_in_queue_seconds,
                                    command_timeout=settings.command_timeout)
        service = GatewayService(core, link, reactor, max_line=settings.max_line, tap=tap,
                                 pacer=pacer, admission=admission)
    factory = ScsServerFactory(service, ScsLimits(
        max_connections=settings.max_connections, idle_timeout=settings.idle_timeout,
        output_pause=settings.output_pause_bytes, output_close=settings.output_close_bytes,
        token=ready.get("token")))
    parts["scs_factory"] = factory
    try:
        if settings.tls_certificate:
            try:
                context = cast(Any, ssl).DefaultOpenSSLContextFactory(settings.tls_key,
                                                           settings.tls_certificate)
            except Exception as exc:
                raise StartError(f"TLS certificate/key cannot be used: {exc}") from None
            if settings.tls_client_ca:
                try:
                    _require_client_certificates(context, settings.tls_client_ca)
                except Exception as exc:
                    raise StartError(f"{settings.path} [Server] TlsClientCa "
                                     f"{settings.tls_client_ca} cannot be used: {exc}") from None
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


def _require_client_certificates(factory: Any, ca_file: str) -> None:
    """Mutual TLS: a client without a certificate signed by ``ca_file`` fails the
    handshake (``[Server] TlsClientCa``)."""
    from OpenSSL import SSL

    def verify(_conn: Any, _cert: Any, _errno: int, _depth: int, ok: int) -> bool:
        return bool(ok)

    context = factory.getContext()
    context.load_verify_locations(ca_file)
    context.set_verify(SSL.VERIFY_PEER | SSL.VERIFY_FAIL_IF_NO_PEER_CERT, verify)


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
    runner = SimulatorRunner(model, link, sim_codec, reactor, queue=settings.queue,
                             queues=settings.queues)
    link.start()
    return runner


def _duplex_core(ready: dict[str, Any]) -> Any:
    """Two GCs (``Mode`` active-passive or active-active): a codec per GC, each answering
    on its own client destination (``<ClientDestination>.<Queue>``)."""
    from .core.duplex import DuplexGateway, duplex_client_destination
    from .core.gcs import parse_mode
    from .gc.codec import GcCodec

    settings = ready["settings"]
    codecs = [GcCodec(ready["dialect"], queue=q,
                      client_destination=duplex_client_destination(
                          settings.client_destination, q),
                      command_expiry=settings.command_expiry) for q in settings.queues]
    try:
        return DuplexGateway(codecs, ready["catalog"], ready["options"],
                             mode=parse_mode(settings.mode),
                             missed_heartbeats=settings.missed_heartbeats,
                             fail_back=settings.fail_back, encrypt=ready["encrypt"])
    except ValueError as exc:
        raise StartError(f"{settings.path} [GenericConnector]: {exc}") from None
