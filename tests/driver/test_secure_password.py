"""UseSecurePassword: the password leaves the gateway Triple-DES encrypted, the simulator
(as the GC) decrypts it, and the clear password appears in no output."""

from __future__ import annotations

import json
from pathlib import Path

from siebel_gateway.core.scs_messages import APIVersion
from siebel_gateway.core.scs_wire import Request
from siebel_gateway.crypto import decrypt_password, encrypt_password, parse_key
from siebel_gateway.trace.record import TraceWriter

from .harness import Rig

KEY = parse_key("00112233445566778899aabbccddeeff0123456789abcdef", "test key")


def secure_rig() -> Rig:
    return Rig(encrypt=lambda pw: encrypt_password(pw, KEY),
               decrypt=lambda token: decrypt_password(token, KEY))


def test_password_is_encrypted_on_the_wire_and_the_login_succeeds() -> None:
    rig = secure_rig()
    a = rig.agent(params=[("UseSecurePassword", "TRUE")])
    a.invoke("LogIn", AgentId="1001", AgentPin="secret1001", Extension="2001")
    rig.pump()
    connect, login = (m for m in rig.sent if m.type in ("Connect#1001", "Login#1001")
                      and m.body != "gw1,")  # not core/recover.py's Connect
    token = connect.body.split(",")[1]
    assert token.startswith("3DES:") and decrypt_password(token, KEY) == "secret1001"
    assert login.body.startswith("3DES:")
    assert "secret1001" not in connect.body + login.body
    assert rig.model.agents["1001"].state == "NOT_READY"


def test_without_a_key_the_driver_instance_is_refused() -> None:
    rig = Rig()
    c = rig.client()
    r = c.call("CreateISCDriverInstance", mediaType="Voice", language="ENU",
               connectString="", params=[["UseSecurePassword", "TRUE"]])
    assert r == {"code": 9, "error": "UseSecurePassword is TRUE but the gateway has no "
                                     "Triple-DES key ([Security] in the gateway file)"}


def test_bad_driver_parameters_are_refused_with_their_name() -> None:
    rig = Rig()
    c = rig.client()
    r = c.call("CreateISCDriverInstance", mediaType="Voice", language="ENU",
               connectString="", params=[["Driver:Flavour", "CUCM"]])
    assert r["code"] == 9 and "Flavour is 'CUCM'" in r["error"]
    r = c.call("CreateISCDriverInstance", mediaType="Email", language="ENU",
               connectString="", params=[])
    assert r["code"] == 3


def test_traces_never_hold_a_clear_password(tmp_path: Path) -> None:
    for secure in (False, True):
        rig = secure_rig()
        trace = TraceWriter(tmp_path / f"t{secure}.jsonl", redact_body=rig.codec.redacted_body)
        rig.service.tap = trace
        a = rig.agent(params=[("UseSecurePassword", str(secure).upper())])
        a.invoke("LogIn", AgentId="1001", AgentPin="secret1001", Extension="2001")
        rig.pump()
        trace.close()
        text = (tmp_path / f"t{secure}.jsonl").read_text()
        assert "secret1001" not in text
        records = [json.loads(line) for line in text.splitlines()][1:]  # after the start line
        login_in = next(r for r in records if r["edge"] == "scs" and r["dir"] == "in"
                        and r["msg"].get("params", {}).get("name") == "LogIn")
        assert ["AgentPin", "***"] in login_in["msg"]["params"]["params"]
        login_out = next(r for r in records if r["edge"] == "gc" and r["dir"] == "out"
                         and r["msg"]["headers"]["type"] == "Login#1001")
        body = login_out["msg"]["body"]
        assert body.startswith("3DES:") if secure else body == "***,2001"


def test_trace_files_rotate_by_size(tmp_path: Path) -> None:
    w = TraceWriter(tmp_path / "t.jsonl", max_bytes=4096)
    for n in range(200):
        w.scs_in(1, Request(n, APIVersion()), float(n))
    w.close()
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names[:2] == ["t.jsonl", "t.jsonl.1"] and len(names) <= 6
    assert all(p.stat().st_size <= 4096 + 200 for p in tmp_path.iterdir())
