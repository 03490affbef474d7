"""S1/S2: SCS client authentication (a token, mutual TLS) and the refusal to serve an open
port on the network by accident -- against ``serve`` over real TCP."""

from __future__ import annotations

import json
import socket
import ssl
from pathlib import Path
from typing import Any

from ..hidden import assert_hidden
from .serving import refused, start
from .tls import Pki

TOKEN = "t0ken-" + "9f3c2a7e5b1d4c8a" * 2


def _lines(sock: socket.socket, count: int) -> list[dict[str, Any]]:
    buf = b""
    while buf.count(b"\n") < count:
        data = sock.recv(65536)
        assert data, f"connection closed after {buf!r}"
        buf += data
    return [json.loads(line) for line in buf.splitlines()]


def _request(rid: int, method: str, **params: Any) -> bytes:
    return json.dumps({"jsonrpc": "2.0", "id": rid, "method": method,
                       "params": params}).encode() + b"\n"


def _closed(sock: socket.socket) -> bool:
    sock.settimeout(10)
    try:
        while sock.recv(65536):
            pass
    except ConnectionResetError:
        pass
    return True


def test_a_token_is_asked_before_anything_else(tmp_path: Path) -> None:
    token_file = tmp_path / "scs.token"
    token_file.write_text(TOKEN + "\n")
    served = start(tmp_path, f'AuthTokenFile = "{token_file}"')
    try:
        with socket.create_connection(("127.0.0.1", served.port), timeout=10) as s:
            s.sendall(_request(1, "APIVersion"))
            [first] = _lines(s, 1)
            assert first["id"] == 1 and first["result"]["code"] == 4
            assert "authenticate first" in first["result"]["error"]
            # the connection stays: the right token, then a pipelined request, in one write
            s.sendall(_request(2, "Authenticate", token=TOKEN) + _request(3, "APIVersion"))
            assert _lines(s, 2) == [
                {"jsonrpc": "2.0", "id": 2, "result": {"code": 0}},
                {"jsonrpc": "2.0", "id": 3, "result": {"code": 0, "version": 2, "protocol": "1.1"}}]
        with socket.create_connection(("127.0.0.1", served.port), timeout=10) as s:
            s.sendall(_request(7, "Authenticate", token=TOKEN[:-1] + "x")
                      + _request(8, "APIVersion"))
            [answer] = _lines(s, 1)
            assert answer["id"] == 7 and answer["result"]["code"] == 4
            assert "authentication failed" in answer["result"]["error"]
            assert _closed(s)  # and request 8 was never served
        with socket.create_connection(("127.0.0.1", served.port), timeout=10) as s:
            s.sendall(b'{"jsonrpc":"2.0","id":5,"method":"Authenticate","params":{}}\n')
            [bad] = _lines(s, 1)
            assert bad["error"]["code"] == -32602 and "params.token" in bad["error"]["message"]
    finally:
        err = served.stop()
    log = served.log_text()
    assert "wrong token in Authenticate" in log
    assert_hidden(log, (TOKEN, TOKEN[:-1]), "the gateway log")
    assert_hidden(err, (TOKEN,), "serve's standard error")


def test_a_token_from_the_environment_and_its_problems(tmp_path: Path) -> None:
    served = start(tmp_path, 'AuthTokenEnv = "SCS_TOKEN"', env={"SCS_TOKEN": TOKEN})
    try:
        with socket.create_connection(("127.0.0.1", served.port), timeout=10) as s:
            s.sendall(_request(1, "Authenticate", token=TOKEN))
            assert _lines(s, 1)[0]["result"] == {"code": 0}
    finally:
        served.stop()
    err = refused(tmp_path, 'AuthTokenEnv = "SCS_TOKEN_UNSET_HERE"')
    assert "environment variable SCS_TOKEN_UNSET_HERE (SCS client token) is not set" in err
    err = refused(tmp_path, 'AuthTokenEnv = "SCS_TOKEN"', env={"SCS_TOKEN": "short"})
    assert "shorter than 16 characters" in err and "short" not in err.replace(
        "shorter", "")


def test_an_open_port_on_the_network_needs_tls_a_token_or_insecure(tmp_path: Path) -> None:
    err = refused(tmp_path, "", listen="0.0.0.0")
    assert "refusing to listen on 0.0.0.0:" in err
    assert "neither TLS" in err and "AuthTokenFile" in err and "--insecure" in err
    served = start(tmp_path, "", "--insecure", listen="0.0.0.0")
    try:
        with socket.create_connection(("127.0.0.1", served.port), timeout=10) as s:
            s.sendall(_request(1, "APIVersion"))
            assert _lines(s, 1)[0]["result"]["version"] == 2
    finally:
        served.stop()
    token_file = tmp_path / "tok"
    token_file.write_text(TOKEN)
    served = start(tmp_path, f'AuthTokenFile = "{token_file}"', listen="0.0.0.0")
    served.stop()


def test_mutual_tls_accepts_only_clients_with_a_certificate_of_the_ca(tmp_path: Path) -> None:
    pki = Pki(tmp_path)
    served = start(tmp_path, f'TlsCertificate = "{pki.server_cert}"\n'
                             f'TlsKey = "{pki.server_key}"\nTlsClientCa = "{pki.ca_cert}"')
    try:
        good = ssl.create_default_context(cafile=str(pki.ca_cert))
        good.load_cert_chain(str(pki.client_cert), str(pki.client_key))
        with socket.create_connection(("127.0.0.1", served.port), timeout=10) as raw, \
                good.wrap_socket(raw, server_hostname="localhost") as tls:
            tls.sendall(_request(1, "APIVersion"))
            assert json.loads(tls.makefile("rb").readline())["result"]["version"] == 2
        for client in (None, pki.stranger):
            bare = ssl.create_default_context(cafile=str(pki.ca_cert))
            if client is not None:
                bare.load_cert_chain(str(client[0]), str(client[1]))
            with socket.create_connection(("127.0.0.1", served.port), timeout=10) as raw:
                answer = b""
                try:
                    with bare.wrap_socket(raw, server_hostname="localhost") as tls:
                        tls.sendall(_request(1, "APIVersion"))
                        answer = tls.makefile("rb").readline()
                except (ssl.SSLError, ConnectionResetError, BrokenPipeError):
                    pass
                assert answer == b"", f"served without a good client certificate: {answer!r}"
    finally:
        served.stop()
    assert "SCS connection" in served.log_text()
    err = refused(tmp_path, f'TlsClientCa = "{pki.ca_cert}"')
    assert "TlsClientCa (client certificates) needs TlsCertificate and TlsKey" in err
