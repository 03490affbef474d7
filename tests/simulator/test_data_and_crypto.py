from __future__ import annotations

from pathlib import Path

import pytest

from siebel_gateway.crypto import (
    KeyError3DES,
    decrypt_password,
    encrypt_password,
    load_key,
    parse_key,
)
from siebel_gateway.simulator.data import DATA_DIR, DataError, load_data, load_reasons, load_users

from .harness import Sim


def test_sample_data_matches_the_fixed_names() -> None:
    users = load_users(DATA_DIR / "users.xml")
    assert sorted(users) == [str(i) for i in range(1001, 1021)]
    assert {u.extension for u in users.values()} == {str(i) for i in range(2001, 2021)}
    assert all(u.password == f"secret{u.id}" for u in users.values())
    reasons = load_reasons(DATA_DIR / "reason_codes.xml")
    assert {r.category for r in reasons} == {"NOT_READY", "LOGOUT"}
    assert all(r.id != r.code for r in reasons)
    assert "secret1001" not in repr(users["1001"])


@pytest.mark.parametrize(("text", "message"), [
    ("<Users><User><loginId>1</loginId></User>", "users.xml:1: not well-formed XML"),
    ("<Users>\n  <User>\n    <firstName>A</firstName>\n  </User>\n</Users>",
     "users.xml:2: <user> has no <loginId>"),
    ("<Users>\n<User><loginId>1</loginId><settings><wrapUpOnIncoming>SOMETIMES"
     "</wrapUpOnIncoming></settings></User></Users>",
     "users.xml:2: wrapUpOnIncoming 'SOMETIMES' is not one of"),
    ("<Users/>", "users.xml:1: no <User> elements"),
])
def test_bad_user_xml_names_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "users.xml"
    path.write_text(text)
    with pytest.raises(DataError) as info:
        load_users(path)
    assert str(info.value).startswith(f"{tmp_path}/{message}")


def test_bad_reason_code_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "reasons.xml"
    path.write_text("<ReasonCodes>\n<ReasonCode><uri>/finesse/api/ReasonCode/x</uri>"
                    "<category>NOT_READY</category><code>1</code><label>B</label>"
                    "</ReasonCode></ReasonCodes>")
    with pytest.raises(DataError, match=r"reasons.xml:2: uri id 'x' is not a number"):
        load_data(DATA_DIR / "users.xml", path, DATA_DIR / "wrap_up_reasons.xml")


KEY_HEX = "0123456789abcdeffedcba98765432100011223344556677"


def test_triple_des_round_trip_and_wrong_key() -> None:
    key = parse_key(KEY_HEX, "test")
    token = encrypt_password("secret1001", key)
    assert token.startswith("3DES:") and "secret" not in token
    assert decrypt_password(token, key) == "secret1001"
    assert encrypt_password("p", key) != encrypt_password("p", key)  # fresh IV each time
    other = parse_key("00" * 8 + "11" * 8, "other")
    with pytest.raises(ValueError, match="cannot be decrypted with this key"):
        decrypt_password(token, other)


def test_key_sources_and_their_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    keyfile = tmp_path / "des.key"
    keyfile.write_text(KEY_HEX + "\n")
    assert load_key(file=str(keyfile)) == parse_key(KEY_HEX, "x")
    monkeypatch.setenv("SGW_DES_KEY", KEY_HEX)
    assert load_key(env="SGW_DES_KEY") == parse_key(KEY_HEX, "x")
    with pytest.raises(KeyError3DES, match="environment variable NOPE"):
        load_key(env="NOPE")
    keyfile.write_text("abcd")
    with pytest.raises(KeyError3DES) as info:
        load_key(file=str(keyfile))
    assert "16 or 24 bytes" in str(info.value) and "abcd" not in str(info.value)
    with pytest.raises(KeyError3DES, match="degenerates to single DES"):
        parse_key("00" * 16, "weak")


def test_call_generator_routes_calls_to_ready_agents() -> None:
    sim = Sim()
    sim.login("1001", ready=True)
    sim.login("1002", ready=True)
    sim.runner.start_generator(2.0, seed=5)
    events = sim.advance(0.5) + sim.advance(0.5)
    rings = [e for e in events if e.name == "NewInboundCall"]
    assert [e.agent_id for e in rings] == ["1001", "1002"]
    assert all(e.text("ANI").startswith("415555") for e in rings)
    assert sim.runner.generated_calls == 2
    sim.advance(0.5)  # nobody READY: the call is not placed, nothing breaks
    assert sim.runner.generated_calls == 2
