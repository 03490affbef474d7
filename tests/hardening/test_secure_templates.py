"""The shipped Siebel templates set ``UseSecurePassword = TRUE`` (issue 12 S4): a key made
by ``siebel-gateway keygen`` is the gateway's and the GC's; a template-driven login crosses
to the GC Triple-DES encrypted and the GC (the simulator) decrypts it; without a key
``serve`` does not start, and the demo runs on a one-off key it never shows."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

from siebel_gateway.crypto import DEFAULT_KEY_ENV, decrypt_password, parse_key

from ..driver.scs_client import ScsSocketClient
from ..hidden import assert_hidden
from .serving import ROOT, UCCE, start


def _no_key_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != DEFAULT_KEY_ENV}


def _cli(*args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "siebel_gateway.cli", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout, env=_no_key_env(),
                          check=False)


def test_the_templates_ship_with_secure_passwords_on() -> None:
    for flavour in ("ucce", "uccx"):
        text = (ROOT / "def_templates" / f"siebel-{flavour}.def").read_text()
        assert 'Driver:UseSecurePassword       = "TRUE"' in text, flavour


def test_keygen_writes_a_private_key_file_and_never_prints_the_key(tmp_path: Path) -> None:
    key_file = tmp_path / "lab.key"
    done = _cli("keygen", str(key_file))
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    text = key_file.read_text().strip()
    assert len(parse_key(text, "lab.key")) == 24
    assert_hidden(done.stdout + done.stderr, (text,), "keygen's output")
    again = _cli("keygen", str(key_file))
    assert again.returncode == 2 and "exists; not overwriting a key" in again.stderr
    assert key_file.read_text().strip() == text


def test_a_template_login_reaches_the_gc_encrypted_and_the_gc_decrypts_it(
        tmp_path: Path) -> None:
    key_file = tmp_path / "gw.key"
    assert _cli("keygen", str(key_file)).returncode == 0
    trace = tmp_path / "trace.jsonl"
    served = start(tmp_path, "", "--trace", str(trace), env={DEFAULT_KEY_ENV: ""},
                   extra_config=f'[Security]\nSecurePasswordKeyFile = "{key_file}"\n')
    try:
        c = ScsSocketClient("127.0.0.1", served.port)
        d = c.call("CreateISCDriverInstance", mediaType="Voice", language="ENU",
                   connectString="", params=[])["driver"]  # the template's parameters
        s = c.call("RequestService", driver=d, connectString="",
                   params=[["AgentId", "1001"], ["Extension", "2001"]])["service"]
        r = c.call("InvokeCommand", service=s, cmdTrackId="1", name="LogIn", stringParam="",
                   params=[["AgentPin", "secret1001"]])
        assert r == {"code": 0}
        # the simulator (the GC) decrypted the password: the agent is signed in
        assert c.wait_event("EventAgentLogin")["fields"]["AgentState"] == "NOT_READY"
        c.close()
        time.sleep(0.3)
    finally:
        served.stop()
    records = [json.loads(line) for line in trace.read_text().splitlines()[1:]]
    login = next(r["msg"]["body"] for r in records if r["edge"] == "gc" and r["dir"] == "out"
                 and r["msg"]["headers"].get("type") == "Login#1001")
    token = login.split(",")[0]
    assert token.startswith("3DES:")
    key = parse_key(key_file.read_text(), "gw.key")
    assert decrypt_password(token, key) == "secret1001"
    assert_hidden(trace.read_text() + served.log_text(), ("secret1001", key.hex()),
                  "the trace and the log")


def test_a_template_without_a_key_does_not_start(tmp_path: Path) -> None:
    cfg = tmp_path / "gw.def"  # a real GC on a broker: it must have the gateway's key
    cfg.write_text('[Server]\nListen = "127.0.0.1:0"\n[Broker]\nUrl = "stomp://127.0.0.1:61613"\n',
                   encoding="utf-8")
    done = _cli("serve", "--config", str(cfg), "--def", str(UCCE))
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert (f"{UCCE} sets UseSecurePassword = TRUE but {cfg} names no Triple-DES key "
            "([Security] SecurePasswordKeyFile or SecurePasswordKeyEnv) and "
            "SIEBEL_GW_PASSWORD_KEY is not set. 'siebel-gateway keygen FILE' writes a new "
            "key file") in done.stderr
    cfg.write_text('[Server]\nListen = "127.0.0.1:0"\n[Security]\nSecurePasswordKeyFile = '
                   f'"{tmp_path / "missing.key"}"\n', encoding="utf-8")  # even on memory://
    done = _cli("serve", "--config", str(cfg), "--def", str(UCCE))
    assert done.returncode == 2 and "missing.key: cannot read" in done.stderr, done.stderr


def test_serve_on_the_embedded_gc_without_a_key_shares_a_one_off_key(tmp_path: Path) -> None:
    served = start(tmp_path, "", env={DEFAULT_KEY_ENV: ""})  # the README's serve command
    try:
        c = ScsSocketClient("127.0.0.1", served.port)
        d = c.call("CreateISCDriverInstance", mediaType="Voice", language="ENU",
                   connectString="", params=[])["driver"]
        s = c.call("RequestService", driver=d, connectString="",
                   params=[["AgentId", "1002"], ["Extension", "2002"]])["service"]
        assert c.call("InvokeCommand", service=s, cmdTrackId="1", name="LogIn",
                      stringParam="", params=[["AgentPin", "secret1002"]]) == {"code": 0}
        assert c.wait_event("EventAgentLogin")["fields"]["AgentState"] == "NOT_READY"
        c.close()
    finally:
        err = served.stop()
    assert "share a one-off Triple-DES key held in memory" in err
    assert_hidden(err + served.log_text(), ("secret1002",), "serve's output")


def test_the_demo_without_a_key_runs_on_a_one_off_key(tmp_path: Path) -> None:
    done = _cli("demo", "--trace", str(tmp_path / "demo.jsonl"))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "Triple-DES encrypted with a one-off key held in memory only" in done.stdout
    assert done.stdout.splitlines()[-1].startswith("demo: every step behaved")
    trace = (tmp_path / "demo.jsonl").read_text()
    assert '"3DES:' in trace
    assert_hidden(done.stdout + done.stderr + trace, ("secret100",), "the demo's output")
