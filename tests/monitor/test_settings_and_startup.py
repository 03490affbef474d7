"""``[Monitor]`` in the gateway file, and how ``serve`` starts (or refuses) the monitor."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from siebel_gateway.def_file import DefFileError
from siebel_gateway.settings import load_settings

from ..netutil import free_port, wait_listening
from .util import ROOT, TEMPLATES, serve


def write(tmp: Path, text: str) -> Path:
    p = tmp / "gateway.def"
    p.write_text(text)
    return p


def test_defaults_and_values(tmp_path: Path) -> None:
    s = load_settings(TEMPLATES / "gateway.def")
    assert (s.monitor_host, s.monitor_port, s.monitor_token_file) == ("127.0.0.1", 8077, "")
    s = load_settings(write(tmp_path, '[Monitor]\nListen = "0.0.0.0:9100"\n'
                                      'AdminTokenFile = "token.txt"\n'))
    assert (s.monitor_host, s.monitor_port) == ("0.0.0.0", 9100)
    assert s.monitor_token_file == str(tmp_path / "token.txt")
    assert load_settings(write(tmp_path, '[Monitor]\nListen = ""\n')).monitor_port is None


def test_problems_name_the_line(tmp_path: Path) -> None:
    with pytest.raises(DefFileError) as exc:
        load_settings(write(tmp_path, '[Monitor]\nListen = "nowhere"\nTlsKey = "k.pem"\n'))
    text = "\n".join(p.format() for p in exc.value.problems)
    assert "gateway.def:2:" in text and "[Monitor] Listen" in text
    assert "[Monitor] TlsCertificate and TlsKey go together" in text


def test_the_token_is_read_from_a_file_or_the_environment(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    (tmp_path / "t").write_text("abc\n")
    s = load_settings(write(tmp_path, '[Monitor]\nAdminTokenFile = "t"\n'))
    assert s.monitor_token() == b"abc"
    s = load_settings(write(tmp_path, '[Monitor]\nAdminTokenEnv = "MON_T"\n'))
    monkeypatch.delenv("MON_T", raising=False)
    with pytest.raises(KeyError, match="MON_T"):
        s.monitor_token()
    monkeypatch.setenv("MON_T", "xyz")
    assert s.monitor_token() == b"xyz"
    assert load_settings(TEMPLATES / "gateway.def").monitor_token() is None


def test_serve_refuses_to_start_without_the_token_it_was_told_to_read(tmp_path: Path) -> None:
    cfg = write(tmp_path, '[Monitor]\nListen = "127.0.0.1:0"\n'
                          'AdminTokenFile = "missing-token"\n')
    p = subprocess.run([sys.executable, "-m", "siebel_gateway.cli", "serve", "--config",
                        str(cfg), "--def", str(TEMPLATES / "siebel-ucce.def")], check=False,
                       cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert p.returncode == 2 and "[Monitor]" in p.stderr and "missing-token" in p.stderr
    cfg = write(tmp_path, '[Monitor]\nAdminTokenEnv = "NO_SUCH_TOKEN_VAR"\n')
    p = subprocess.run([sys.executable, "-m", "siebel_gateway.cli", "serve", "--config",
                        str(cfg), "--def", str(TEMPLATES / "siebel-ucce.def")], check=False,
                       cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert p.returncode == 2
    assert "[Monitor]: environment variable NO_SUCH_TOKEN_VAR (monitor admin token) is not " \
           "set" in p.stderr
    assert "Traceback" not in p.stderr


def test_a_busy_monitor_port_is_logged_and_the_gateway_serves_on(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        scs = free_port()
        cfg = write(tmp_path, f'[Server]\nListen = "127.0.0.1:{scs}"\n')
        log = tmp_path / "gw.log"
        p = subprocess.Popen([sys.executable, "-m", "siebel_gateway.cli", "serve", "--config",
                              str(cfg), "--def", str(TEMPLATES / "siebel-ucce.def"),
                              "--monitor", f"127.0.0.1:{taken}"], cwd=ROOT,
                             stdout=subprocess.DEVNULL, stderr=log.open("wb"))
        try:
            wait_listening(p, scs, log)
            deadline = time.monotonic() + 30  # the start-up line follows the monitor's try
            while "siebel-gateway: serving" not in log.read_text():
                assert p.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.05)
        finally:
            p.terminate()
            p.wait(timeout=20)
    text = log.read_text()
    assert f"monitor not started: cannot serve http://127.0.0.1:{taken}" in text
    assert "Traceback" not in text


def test_readiness_names_each_failing_check(tmp_path: Path) -> None:
    dead = free_port()
    with serve(tmp_path, broker=f"stomp://127.0.0.1:{dead}") as gw:
        code, body = gw.http.json("/readyz")
        assert code == 503 and body["ready"] is False
        assert body["checks"]["broker"].startswith("down")
        assert body["checks"]["gc:Connector1"].startswith("not in service")
        assert "scs_listener" not in body["checks"]
        assert gw.http.json("/healthz") == (200, {"alive": True})
        run = subprocess.run([sys.executable, "-m", "siebel_gateway.cli", "status",
                              "--monitor", gw.http.base], check=False, cwd=ROOT,
                             capture_output=True, text=True, timeout=30)
        assert run.returncode == 1 and "NOT READY" in run.stdout
        assert "! broker: down" in run.stdout


def test_the_monitor_over_https(tmp_path: Path) -> None:
    import ssl
    import urllib.request

    from ..driver.test_serve_cli import _self_signed

    cert, key = _self_signed(tmp_path)
    scs, mon = free_port(), free_port()
    cfg = write(tmp_path, f'[Server]\nListen = "127.0.0.1:{scs}"\n[Monitor]\n'
                          f'Listen = "127.0.0.1:{mon}"\nTlsCertificate = "{cert}"\n'
                          f'TlsKey = "{key}"\n')
    log = tmp_path / "gw.log"
    p = subprocess.Popen([sys.executable, "-m", "siebel_gateway.cli", "serve", "--config",
                          str(cfg), "--def", str(TEMPLATES / "siebel-ucce.def")], cwd=ROOT,
                         stdout=subprocess.DEVNULL, stderr=log.open("wb"))
    try:
        wait_listening(p, mon, log)
        context = ssl.create_default_context(cafile=str(cert))
        with urllib.request.urlopen(f"https://localhost:{mon}/healthz", context=context,
                                    timeout=10) as r:
            assert r.status == 200 and r.read() == b'{"alive":true}\n'
        url = f"https://localhost:{mon}"
        run = subprocess.run([sys.executable, "-m", "siebel_gateway.cli", "status",
                              "--monitor", url, "--cafile", str(cert)], check=False,
                             cwd=ROOT, capture_output=True, text=True, timeout=30)
        assert "siebel-gateway 0.1.0" in run.stdout, run.stderr
        unverified = subprocess.run([sys.executable, "-m", "siebel_gateway.cli", "status",
                                     "--monitor", url], check=False, cwd=ROOT,
                                    capture_output=True, text=True, timeout=30)
        assert unverified.returncode == 1 and "CERTIFICATE_VERIFY_FAILED" in unverified.stderr
    finally:
        p.terminate()
        p.wait(timeout=20)
