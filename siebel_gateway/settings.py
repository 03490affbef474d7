"""The gateway's runtime settings: a DEF-syntax file (``def_templates/gateway.def``).

    [Server]            Listen, TlsCertificate, TlsKey, MaxLineBytes, TlsClientCa,
                        AuthTokenFile, AuthTokenEnv, MaxConnections, IdleTimeoutSeconds,
                        OutputPauseBytes, OutputCloseBytes, ResumeGraceSeconds,
                        MaxDriversPerConnection, MaxDrivers, MaxServicesPerDriver
    [Broker]            Url, Url2, User, PasswordEnv, PasswordFile, CaCertificates, HeartbeatMs,
                        PacingQueueSize, HeartbeatGraceMs
    [GenericConnector]  Queue, ClientDestination, Dialect, CommandExpirySeconds,
                        CommandTimeoutSeconds, HeartbeatSeconds, ClockSkewWarningSeconds,
                        Mode, MissedHeartbeats, FailBack, SignInWindow, SignInQueueSeconds
    [Security]          SecurePasswordKeyFile, SecurePasswordKeyEnv
    [Locale]            Directory
    [Trace]             File, MaxBytes
    [Monitor]           Listen, TlsCertificate, TlsKey, AdminTokenFile, AdminTokenEnv

Secrets are referenced (a file or an environment variable), never written in the file.
``load_settings`` reports every problem with file, line and column, like ``def check``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .adapters.link import BrokerEndpoint, parse_broker_url
from .def_file import DefFileError, Problem, Severity
from .def_file.parser import parse_bytes
from .def_file.schema import ParamSpec, SectionSchema, register_schemas
from .def_file.validate import check_structure

__all__ = ["GatewaySettings", "load_settings", "parse_listen"]

_SECTIONS = {
    "Server": ("Listen", "TlsCertificate", "TlsKey", "MaxLineBytes", "TlsClientCa",
               "AuthTokenFile", "AuthTokenEnv", "MaxConnections", "IdleTimeoutSeconds",
               "OutputPauseBytes", "OutputCloseBytes", "ResumeGraceSeconds",
               "MaxDriversPerConnection", "MaxDrivers", "MaxServicesPerDriver"),
    "Broker": ("Url", "Url2", "User", "PasswordEnv", "PasswordFile", "CaCertificates",
               "HeartbeatMs", "PacingQueueSize", "HeartbeatGraceMs"),
    "GenericConnector": ("Queue", "ClientDestination", "Dialect", "CommandExpirySeconds",
                         "CommandTimeoutSeconds", "HeartbeatSeconds",
                         "ClockSkewWarningSeconds", "Mode", "MissedHeartbeats", "FailBack",
                         "SignInWindow", "SignInQueueSeconds"),
    "Security": ("SecurePasswordKeyFile", "SecurePasswordKeyEnv"),
    "Locale": ("Directory",),
    "Trace": ("File", "MaxBytes"),
    "Monitor": ("Listen", "TlsCertificate", "TlsKey", "AdminTokenFile", "AdminTokenEnv"),
}
GATEWAY_TYPES = register_schemas(*(
    SectionSchema(name, False, {k: ParamSpec(k) for k in (*keys, "Comments")})
    for name, keys in _SECTIONS.items()))


@dataclass(frozen=True)
class GatewaySettings:
    path: str = "<defaults>"
    listen_host: str = "127.0.0.1"
    listen_port: int = 7788
    tls_certificate: str = ""
    tls_key: str = ""
    max_line: int = 1 << 20
    tls_client_ca: str = ""
    auth_token_file: str = ""
    auth_token_env: str = ""
    max_connections: int = 1000
    idle_timeout: float = 60.0
    output_pause_bytes: int = 1 << 20
    output_close_bytes: int = 64 << 20
    resume_grace: float = 60.0
    #: Driver instances one SCS connection / the gateway may hold, services per driver
    #: (core/scs_side.py; docs/operations.md "Resources one client can hold").
    max_drivers_per_connection: int = 32
    max_drivers: int = 10_000
    max_services_per_driver: int = 20_000
    broker_url: str = "memory://"
    broker_endpoints: tuple[BrokerEndpoint, ...] = (BrokerEndpoint("memory"),)
    broker_user: str = ""
    broker_password_env: str = ""
    broker_password_file: str = ""
    ca_certificates: str = ""
    broker_heartbeat_ms: int = 1000
    #: The heart-beat interval offered to the broker (adapters/heartbeat.py).
    broker_heartbeat_grace_ms: int = 10_000
    #: GC commands waiting in the gateway for the broker (adapters/pacing.py).
    pacing_queue_size: int = 100_000
    queue: str = "Connector1"
    #: Every GC named by ``Queue`` (one: simplex; two: duplex), the first is ``queue``.
    queues: tuple[str, ...] = ("Connector1",)
    #: simplex | active-passive | active-active (core/gcs.py).
    mode: str = "simplex"
    missed_heartbeats: int = 3
    fail_back: bool = False
    #: The second GC's broker ([Broker] Url2); empty: the same broker as the first.
    broker_url2: str = ""
    broker_endpoints2: tuple[BrokerEndpoint, ...] = ()
    client_destination: str = "siebel-gateway"
    dialect: str = ""
    command_expiry: float = 30.0
    command_timeout: float = 10.0
    #: Sign-ins in flight at the GC; the rest wait, at most this long (adapters/admission.py).
    sign_in_window: int = 100
    sign_in_queue_seconds: float = 600.0
    heartbeat: float = 30.0
    clock_skew_warning: float = 2.0
    key_file: str = ""
    key_env: str = ""
    locale_dir: str = ""
    trace_file: str = ""
    trace_max_bytes: int = 100 << 20
    #: The monitor's HTTP listener (docs/monitor.md); port None: no monitor.
    monitor_host: str = "127.0.0.1"
    monitor_port: int | None = 8077
    monitor_tls_certificate: str = ""
    monitor_tls_key: str = ""
    monitor_token_file: str = ""
    monitor_token_env: str = ""

    def monitor_token(self) -> bytes | None:
        """The admin token (None: admin actions disabled); raises ``OSError``/``KeyError``
        with a readable message.  Never logged, never shown."""
        if self.monitor_token_file:
            value = Path(self.monitor_token_file).read_text().strip()
            if not value:
                raise KeyError(f"admin token file {self.monitor_token_file} is empty")
            return value.encode()
        if self.monitor_token_env:
            import os

            env = os.environ.get(self.monitor_token_env, "").strip()
            if not env:
                raise KeyError(f"environment variable {self.monitor_token_env} (monitor "
                               "admin token) is not set")
            return env.encode()
        return None

    def broker_password(self) -> str | None:
        """Read at start; raises ``OSError``/``KeyError`` with a readable message."""
        if self.broker_password_file:
            return Path(self.broker_password_file).read_text().strip()
        if self.broker_password_env:
            import os

            value = os.environ.get(self.broker_password_env)
            if value is None:
                raise KeyError(f"environment variable {self.broker_password_env} (broker "
                               "password) is not set")
            return value
        return None

    def auth_token(self) -> str | None:
        """The SCS client token, read at start (``None``: no token asked); raises
        ``OSError``/``KeyError``/``ValueError`` with a message that never holds the token."""
        if self.auth_token_file:
            value = Path(self.auth_token_file).read_text(encoding="utf-8").strip()
            where = f"file {self.auth_token_file}"
        elif self.auth_token_env:
            import os

            env = os.environ.get(self.auth_token_env)
            if env is None:
                raise KeyError(f"environment variable {self.auth_token_env} (SCS client "
                               "token) is not set")
            value, where = env.strip(), f"environment variable {self.auth_token_env}"
        else:
            return None
        if len(value) < 16:
            raise ValueError(f"the SCS client token in {where} is shorter than 16 "
                             "characters; use a long random one (e.g. openssl rand -hex 32)")
        return value


def parse_listen(text: str) -> tuple[str, int]:
    host, sep, port = text.strip().rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) < 65536:
        raise ValueError(f"listen address {text!r} is not HOST:PORT (port 0-65535; 0 picks "
                         "a free port)")
    return host.strip("[]") or "127.0.0.1", int(port)


_NUMBERS = {  # key -> (attribute, kind, minimum, maximum)
    ("Server", "MaxLineBytes"): ("max_line", int, 1024, 1 << 30),
    ("Server", "MaxConnections"): ("max_connections", int, 1, 1_000_000),
    ("Server", "IdleTimeoutSeconds"): ("idle_timeout", float, 0.1, 86_400),
    ("Server", "OutputPauseBytes"): ("output_pause_bytes", int, 4096, 1 << 40),
    ("Server", "OutputCloseBytes"): ("output_close_bytes", int, 4096, 1 << 40),
    ("Server", "ResumeGraceSeconds"): ("resume_grace", float, 0, 86_400),
    ("Server", "MaxDriversPerConnection"): ("max_drivers_per_connection", int, 1, 1_000_000),
    ("Server", "MaxDrivers"): ("max_drivers", int, 1, 10_000_000),
    ("Server", "MaxServicesPerDriver"): ("max_services_per_driver", int, 1, 10_000_000),
    ("Broker", "HeartbeatMs"): ("broker_heartbeat_ms", int, 0, 600_000),
    ("Broker", "PacingQueueSize"): ("pacing_queue_size", int, 1, 10_000_000),
    ("Broker", "HeartbeatGraceMs"): ("broker_heartbeat_grace_ms", int, 0, 3_600_000),
    ("GenericConnector", "CommandExpirySeconds"): ("command_expiry", float, 0, 86_400),
    ("GenericConnector", "CommandTimeoutSeconds"): ("command_timeout", float, 0.1, 3_600),
    ("GenericConnector", "HeartbeatSeconds"): ("heartbeat", float, 1, 3_600),
    ("GenericConnector", "ClockSkewWarningSeconds"): ("clock_skew_warning", float, 0, 86_400),
    ("GenericConnector", "MissedHeartbeats"): ("missed_heartbeats", int, 1, 100),
    ("GenericConnector", "SignInWindow"): ("sign_in_window", int, 1, 1_000_000),
    ("GenericConnector", "SignInQueueSeconds"): ("sign_in_queue_seconds", float, 1, 86_400),
    ("Trace", "MaxBytes"): ("trace_max_bytes", int, 4096, 1 << 40),
}
_TEXTS = {
    ("Server", "TlsCertificate"): "tls_certificate", ("Server", "TlsKey"): "tls_key",
    ("Server", "TlsClientCa"): "tls_client_ca", ("Server", "AuthTokenFile"): "auth_token_file",
    ("Server", "AuthTokenEnv"): "auth_token_env",
    ("Broker", "User"): "broker_user", ("Broker", "PasswordEnv"): "broker_password_env",
    ("Broker", "PasswordFile"): "broker_password_file",
    ("Broker", "CaCertificates"): "ca_certificates",
    ("GenericConnector", "ClientDestination"): "client_destination",
    ("GenericConnector", "Dialect"): "dialect",
    ("Security", "SecurePasswordKeyFile"): "key_file",
    ("Security", "SecurePasswordKeyEnv"): "key_env",
    ("Locale", "Directory"): "locale_dir", ("Trace", "File"): "trace_file",
    ("Monitor", "TlsCertificate"): "monitor_tls_certificate",
    ("Monitor", "TlsKey"): "monitor_tls_key",
    ("Monitor", "AdminTokenFile"): "monitor_token_file",
    ("Monitor", "AdminTokenEnv"): "monitor_token_env",
}
_PATHS = ("TlsCertificate", "TlsKey", "PasswordFile", "CaCertificates", "Dialect",
          "SecurePasswordKeyFile", "Directory", "File", "AdminTokenFile", "TlsClientCa",
          "AuthTokenFile")


def _queues(text: str) -> dict[str, object]:
    names = tuple(q.strip() for q in text.split(","))
    if not 1 <= len(names) <= 2 or not all(names):
        raise ValueError(f"name one GC queue or two separated by a comma, not {text!r}")
    bad = next((q for q in names if not all(c.isalnum() or c in "._-" for c in q)), None)
    if bad is not None:
        raise ValueError(f"queue name {bad!r} may hold letters, digits, '.', '_' and '-' only")
    return {"queues": names, "queue": names[0]}


def _url2(text: str) -> dict[str, object]:
    if not text.strip():
        return {"broker_url2": "", "broker_endpoints2": ()}
    endpoints = parse_broker_url(text)
    if endpoints[0].scheme == "memory":
        raise ValueError("the second GC's broker must be stomp://, stomp+ssl:// or failover:")
    return {"broker_url2": text.strip(), "broker_endpoints2": endpoints}


def _flag(text: str) -> dict[str, object]:
    value = text.strip().upper()
    if value not in ("TRUE", "FALSE"):
        raise ValueError(f"write TRUE or FALSE, not {text!r}")
    return {"fail_back": value == "TRUE"}


_DUPLEX = {
    ("GenericConnector", "Queue"): _queues,
    ("GenericConnector", "Mode"): lambda text: {"mode": text.strip().lower()},
    ("GenericConnector", "FailBack"): _flag,
    ("Broker", "Url2"): _url2,
}


def duplex_check(values: dict[str, object]) -> dict[str, object]:
    """Mode and the number of queues agree (Mode defaults to active-passive with two);
    raises ``ValueError`` saying what to change."""
    queues = values.get("queues", ("Connector1",))
    assert isinstance(queues, tuple)
    mode = str(values.get("mode") or ("simplex" if len(queues) == 1 else "active-passive"))
    if mode not in ("simplex", "active-passive", "active-active"):
        raise ValueError(f"Mode must be simplex, active-passive or active-active, not {mode!r}")
    if (mode == "simplex") != (len(queues) == 1):
        raise ValueError(f"Mode = {mode} needs {'one GC' if mode == 'simplex' else 'two GCs'} "
                         f"in Queue, which names {len(queues)} ({', '.join(queues)})")
    if values.get("broker_url2") and len(queues) == 1:
        raise ValueError("[Broker] Url2 is the broker of the second GC, but Queue names one")
    return {"mode": mode}


def load_settings(path: str | Path) -> GatewaySettings:
    file = Path(path)
    result = parse_bytes(file.read_bytes(), str(file), GATEWAY_TYPES)
    problems = [*result.problems, *check_structure(result.model)]
    values: dict[str, object] = {"path": str(file)}

    def err(line: int, column: int, message: str) -> None:
        problems.append(Problem(file=str(file), line=line, column=column,
                                severity=Severity.ERROR, message=message))

    base = file.parent
    for section in result.model.sections:
        for p in section.params:
            key = (section.type, p.key)
            if key == ("Server", "Listen"):
                try:
                    values["listen_host"], values["listen_port"] = parse_listen(p.value)
                except ValueError as exc:
                    err(p.line, p.value_column, str(exc))
            elif key == ("Monitor", "Listen"):
                if not p.value.strip():
                    values["monitor_port"] = None
                else:
                    try:
                        values["monitor_host"], values["monitor_port"] = parse_listen(p.value)
                    except ValueError as exc:
                        err(p.line, p.value_column, f"[Monitor] Listen: {exc} (empty: no "
                                                    "monitor)")
            elif key == ("Broker", "Url"):
                try:
                    values["broker_endpoints"] = parse_broker_url(p.value)
                    values["broker_url"] = p.value.strip()
                except ValueError as exc:
                    err(p.line, p.value_column, str(exc))
            elif key in _DUPLEX:
                try:
                    values.update(_DUPLEX[key](p.value))
                except ValueError as exc:
                    err(p.line, p.value_column, f"{p.key}: {exc}")
            elif key in _NUMBERS:
                attr, kind, low, high = _NUMBERS[key]
                try:
                    number = kind(p.value.strip())
                except ValueError:
                    number = None
                if number is None or not low <= number <= high:
                    err(p.line, p.value_column, f"{p.key} must be a number from {low} to "
                                                f"{high}, not {p.value!r}")
                else:
                    values[attr] = number
            elif key in _TEXTS:
                value = p.value.strip()
                if value and key[1] in _PATHS:
                    value = str(base / value) if not Path(value).is_absolute() else value
                values[_TEXTS[key]] = value
    where = next(((p.line, p.value_column) for sec in result.model.sections for p in sec.params
                  if (sec.type, p.key) == ("GenericConnector", "Mode")), (1, 1))
    try:
        values.update(duplex_check(values))
    except ValueError as exc:
        err(*where, f"[GenericConnector] {exc}")
    if bool(values.get("tls_certificate")) != bool(values.get("tls_key")):
        err(1, 1, "[Server] TlsCertificate and TlsKey go together: give both or neither")
    if bool(values.get("monitor_tls_certificate")) != bool(values.get("monitor_tls_key")):
        err(1, 1, "[Monitor] TlsCertificate and TlsKey go together: give both or neither")
    if values.get("tls_client_ca") and not values.get("tls_certificate"):
        err(1, 1, "[Server] TlsClientCa (client certificates) needs TlsCertificate and TlsKey "
                  "(the gateway's own TLS)")
    if values.get("auth_token_file") and values.get("auth_token_env"):
        err(1, 1, "[Server] AuthTokenFile and AuthTokenEnv: give one or neither")
    pause = values.get("output_pause_bytes", GatewaySettings.output_pause_bytes)
    close = values.get("output_close_bytes", GatewaySettings.output_close_bytes)
    if isinstance(pause, int) and isinstance(close, int) and close <= pause:
        err(1, 1, f"[Server] OutputCloseBytes ({close}) must be larger than OutputPauseBytes "
                  f"({pause}): a connection is paused first, closed only past the second bound")
    if any(p.severity is Severity.ERROR for p in problems):
        raise DefFileError([p for p in problems if p.severity is Severity.ERROR])
    return GatewaySettings(**values)  # type: ignore[arg-type]
