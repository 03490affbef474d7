"""The gateway's runtime settings: a DEF-syntax file (``def_templates/gateway.def``).

    [Server]            Listen, TlsCertificate, TlsKey, MaxLineBytes
    [Broker]            Url, User, PasswordEnv, PasswordFile, CaCertificates, HeartbeatMs,
                        PacingQueueSize
    [GenericConnector]  Queue, ClientDestination, Dialect, CommandExpirySeconds,
                        CommandTimeoutSeconds, HeartbeatSeconds, ClockSkewWarningSeconds
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
    "Server": ("Listen", "TlsCertificate", "TlsKey", "MaxLineBytes"),
    "Broker": ("Url", "User", "PasswordEnv", "PasswordFile", "CaCertificates", "HeartbeatMs",
               "PacingQueueSize"),
    "GenericConnector": ("Queue", "ClientDestination", "Dialect", "CommandExpirySeconds",
                         "CommandTimeoutSeconds", "HeartbeatSeconds",
                         "ClockSkewWarningSeconds"),
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
    broker_url: str = "memory://"
    broker_endpoints: tuple[BrokerEndpoint, ...] = (BrokerEndpoint("memory"),)
    broker_user: str = ""
    broker_password_env: str = ""
    broker_password_file: str = ""
    ca_certificates: str = ""
    broker_heartbeat_ms: int = 1000
    #: GC commands waiting in the gateway for the broker (adapters/pacing.py).
    pacing_queue_size: int = 100_000
    queue: str = "Connector1"
    client_destination: str = "siebel-gateway"
    dialect: str = ""
    command_expiry: float = 30.0
    command_timeout: float = 10.0
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


def parse_listen(text: str) -> tuple[str, int]:
    host, sep, port = text.strip().rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) < 65536:
        raise ValueError(f"listen address {text!r} is not HOST:PORT (port 0-65535; 0 picks "
                         "a free port)")
    return host.strip("[]") or "127.0.0.1", int(port)


_NUMBERS = {  # key -> (attribute, kind, minimum, maximum)
    ("Server", "MaxLineBytes"): ("max_line", int, 1024, 1 << 30),
    ("Broker", "HeartbeatMs"): ("broker_heartbeat_ms", int, 0, 600_000),
    ("Broker", "PacingQueueSize"): ("pacing_queue_size", int, 1, 10_000_000),
    ("GenericConnector", "CommandExpirySeconds"): ("command_expiry", float, 0, 86_400),
    ("GenericConnector", "CommandTimeoutSeconds"): ("command_timeout", float, 0.1, 3_600),
    ("GenericConnector", "HeartbeatSeconds"): ("heartbeat", float, 1, 3_600),
    ("GenericConnector", "ClockSkewWarningSeconds"): ("clock_skew_warning", float, 0, 86_400),
    ("Trace", "MaxBytes"): ("trace_max_bytes", int, 4096, 1 << 40),
}
_TEXTS = {
    ("Server", "TlsCertificate"): "tls_certificate", ("Server", "TlsKey"): "tls_key",
    ("Broker", "User"): "broker_user", ("Broker", "PasswordEnv"): "broker_password_env",
    ("Broker", "PasswordFile"): "broker_password_file",
    ("Broker", "CaCertificates"): "ca_certificates",
    ("GenericConnector", "Queue"): "queue",
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
          "SecurePasswordKeyFile", "Directory", "File", "AdminTokenFile")


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
    if bool(values.get("tls_certificate")) != bool(values.get("tls_key")):
        err(1, 1, "[Server] TlsCertificate and TlsKey go together: give both or neither")
    if bool(values.get("monitor_tls_certificate")) != bool(values.get("monitor_tls_key")):
        err(1, 1, "[Monitor] TlsCertificate and TlsKey go together: give both or neither")
    if any(p.severity is Severity.ERROR for p in problems):
        raise DefFileError([p for p in problems if p.severity is Severity.ERROR])
    return GatewaySettings(**values)  # type: ignore[arg-type]
