"""``siebel-gateway serve`` as a process: refusals at start name file, line and problem;
a good start serves the SCS protocol over real TCP (here on the embedded memory:// GC)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from ..netutil import NO_MONITOR, free_port, wait_listening
from .scs_client import ScsSocketClient

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "def_templates"


def serve(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "siebel_gateway.cli", "serve", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})})


def refused(*args: str) -> str:
    p = serve(*args)
    _, err = p.communicate(timeout=30)
    assert p.returncode == 2, err
    assert "Traceback" not in err
    return err


def test_bad_gateway_file_is_refused_with_line_and_column(tmp_path: Path) -> None:
    cfg = tmp_path / "gw.def"
    cfg.write_text('[Server]\nListen = "localhost"\n[Broker]\nUrl = "amqp://x"\n'
                   '[GenericConnector]\nCommandTimeoutSeconds = "soon"\n')
    err = refused("--config", str(cfg), "--def", str(TEMPLATES / "siebel-ucce.def"))
    assert f"{cfg}:2:10: error: listen address 'localhost' is not HOST:PORT" in err
    assert f"{cfg}:4:7: error: broker URL 'amqp://x' is not memory://" in err
    assert f"{cfg}:6:25: error: CommandTimeoutSeconds must be a number" in err


def test_unsupported_device_names_in_the_siebel_def_are_listed(tmp_path: Path) -> None:
    siebel = tmp_path / "s.def"
    siebel.write_text((TEMPLATES / "siebel-ucce.def").read_text().replace(
        'DeviceCommand   = "HoldCall"', 'DeviceCommand   = "ParkCall"').replace(
        'DeviceEvent         = "EventDialing"', 'DeviceEvent         = "EventOffHook"'))
    err = refused("--config", str(TEMPLATES / "gateway.def"), "--def", str(siebel))
    assert "DeviceCommand 'ParkCall' is not supported by the gateway" in err
    assert "DeviceEvent 'EventOffHook' is not sent by the gateway" in err
    park = siebel.read_text().splitlines().index('    DeviceCommand   = "ParkCall"') + 1
    assert f"{siebel}:{park}:" in err


def test_secure_password_without_a_key_is_refused(tmp_path: Path) -> None:
    siebel = TEMPLATES / "siebel-ucce.def"  # ships with UseSecurePassword = TRUE
    env = {k: v for k, v in os.environ.items() if k != "SIEBEL_GW_PASSWORD_KEY"}
    p = subprocess.run([sys.executable, "-m", "siebel_gateway.cli", "serve", "--config",
                        str(TEMPLATES / "gateway.def"), "--def", str(siebel), "--broker",
                        "stomp://127.0.0.1:61613"],  # a real GC: it needs the key too
                       capture_output=True, text=True, timeout=60, env=env, check=False)
    assert p.returncode == 2 and "Traceback" not in p.stderr, p.stderr
    assert "sets UseSecurePassword = TRUE but" in p.stderr
    assert "names no Triple-DES key" in p.stderr and "siebel-gateway keygen FILE" in p.stderr


def test_missing_files_and_bad_overrides_are_refused() -> None:
    err = refused("--config", "/nonexistent/gw.def", "--def", "x.def")
    assert "cannot read gateway file /nonexistent/gw.def" in err
    err = refused("--config", str(TEMPLATES / "gateway.def"), "--def",
                  str(TEMPLATES / "siebel-ucce.def"), "--listen", "nowhere")
    assert "listen address 'nowhere' is not HOST:PORT" in err


@pytest.fixture
def embedded_gateway(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    port = free_port()
    trace = tmp_path / "trace.jsonl"
    p = serve("--config", str(TEMPLATES / "gateway.def"), "--def",
              str(TEMPLATES / "siebel-ucce.def"), "--listen", f"127.0.0.1:{port}",
              "--trace", str(trace), "--log-format", "json", "--monitor", "",
              "--log-file", str(tmp_path / "gw.log"))
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            assert p.poll() is None, p.communicate()[1]
            time.sleep(0.05)
    yield port, tmp_path
    p.send_signal(signal.SIGINT)
    p.communicate(timeout=20)


def test_serve_on_the_embedded_default_over_real_tcp(embedded_gateway: tuple[int, Path]) -> None:
    port, tmp = embedded_gateway
    c = ScsSocketClient("127.0.0.1", port)
    assert c.call("APIVersion") == {"code": 0, "version": 2, "protocol": "1.1"}
    d = c.call("CreateISCDriverInstance", mediaType="Voice", language="ENU",
               connectString="", params=[])
    lists = c.call("RequestCommandEventList", mediaType="Voice")
    assert "TransferMute" in lists["commands"] and "EventRinging" in lists["events"]
    s = c.call("RequestService", driver=d["driver"], connectString="",
               params=[["AgentId", "1001"], ["Extension", "2001"]])["service"]
    r = c.call("InvokeCommand", service=s, cmdTrackId="1", name="LogIn", stringParam="",
               params=[["AgentId", "1001"], ["AgentPin", "secret1001"],
                       ["Extension", "2001"]])
    assert r == {"code": 0}
    login = c.wait_event("EventAgentLogin")
    assert login["fields"]["AgentState"] == "NOT_READY"
    c.close()
    time.sleep(0.3)
    log = (tmp / "gw.log").read_text()
    assert "secret1001" not in log and '"log_format"' in log
    trace = (tmp / "trace.jsonl").read_text()
    assert "secret1001" not in trace and '"Login#1001"' in trace


def _self_signed(tmp: Path) -> tuple[Path, Path]:
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), False)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp / "cert.pem", tmp / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


@contextmanager
def tls_serve(tmp: Path) -> Iterator[tuple[int, Path]]:
    """``serve`` over TLS with a fresh self-signed certificate for localhost, on the
    embedded broker; (port, certificate) once it listens."""
    cert, key = _self_signed(tmp)
    port = free_port()
    cfg = tmp / "gw.def"
    cfg.write_text(f'[Server]\nListen = "127.0.0.1:{port}"\nTlsCertificate = "{cert}"\n'
                   f'TlsKey = "{key}"\n[Broker]\nUrl = "memory://"\n{NO_MONITOR}')
    p = serve("--config", str(cfg), "--def", str(TEMPLATES / "siebel-ucce.def"))
    try:
        wait_listening(p, port)
        yield port, cert
    finally:
        p.send_signal(signal.SIGINT)
        p.communicate(timeout=20)


def test_serve_over_tls(tmp_path: Path) -> None:
    import json
    import ssl

    with tls_serve(tmp_path) as (port, cert):
        context = ssl.create_default_context(cafile=str(cert))
        with socket.create_connection(("127.0.0.1", port), timeout=5) as raw, \
                context.wrap_socket(raw, server_hostname="localhost") as tls:
            tls.sendall(b'{"jsonrpc":"2.0","id":1,"method":"APIVersion"}\n')
            line = tls.makefile("rb").readline()
        assert json.loads(line) == {"jsonrpc": "2.0", "id": 1,
                                    "result": {"code": 0, "version": 2, "protocol": "1.1"}}


def test_tls_needs_both_files(tmp_path: Path) -> None:
    cfg = tmp_path / "gw.def"
    cfg.write_text('[Server]\nTlsCertificate = "cert.pem"\n')
    err = refused("--config", str(cfg), "--def", str(TEMPLATES / "siebel-ucce.def"))
    assert "TlsCertificate and TlsKey go together" in err
