"""D10: trace redaction is a rule, not a list: any key whose name contains ``pin`` or
``password`` (any case, any prefix), in every object and [key, value] list of every trace
line, and LogIn's ``stringParam``; the trace still replays."""

from __future__ import annotations

import json
from pathlib import Path

from siebel_gateway.core.broker_messages import BrokerMessage
from siebel_gateway.trace.replay import load_trace, replay

from ..driver.harness import Rig
from ..hidden import assert_hidden

SECRETS = ("s3cret-driver", "s3cret-service", "s3cret-agent", "s3cret-snake", "s3cret-box",
           "s3cret-header", "s3cret-deep")


def test_no_secret_reaches_the_trace_under_any_name(tmp_path: Path) -> None:
    path = tmp_path / "gw.jsonl"
    rig = Rig(trace=path)
    c = rig.client()
    driver = c.call("CreateISCDriverInstance", mediaType="Voice", language="ENU",
                    connectString="", params=[["Driver:Password", "s3cret-driver"],
                                              ["Driver:UseSecurePassword", "FALSE"]])
    assert driver["code"] == 0
    svc = c.call("RequestService", driver=driver["driver"], connectString="",
                 params=[["Service:AgentPin", "s3cret-service"], ["AgentId", "1001"],
                         ["Extension", "2001"]])["service"]
    r = c.call("InvokeCommand", service=svc, cmdTrackId="1", name="LogIn",
               stringParam="s3cret-box", params=[["AgentPassword", "s3cret-agent"],
                                                 ["agent_pin", "s3cret-snake"],
                                                 ["AgentPin", "secret1001"]])
    assert r["code"] == 0
    rig.pump(1)
    rig.link.publish(BrokerMessage(destination="/topic/gw1", body="1001#x",
                                   headers={"type": "Junk", "X-Pin-Code": "s3cret-header"}))
    rig.pump(1)
    rig.service.tap.close()  # type: ignore[attr-defined]
    text = path.read_text()
    assert_hidden(text, (*SECRETS[:-1], "secret1001"), "the trace")
    lines = [json.loads(line) for line in text.splitlines()]
    login = next(ln for ln in lines if ln.get("msg", {}).get("method") == "InvokeCommand")
    assert login["msg"]["params"]["stringParam"] == "***"
    assert ["agent_pin", "***"] in login["msg"]["params"]["params"]
    create = next(ln for ln in lines
                  if ln.get("msg", {}).get("method") == "CreateISCDriverInstance")
    # a flag named like a password is a setting, not a secret: kept (replay needs it)
    assert ["Driver:UseSecurePassword", "FALSE"] in create["msg"]["params"]["params"]
    assert replay(load_trace(path)).identical


def test_the_rule_reaches_every_depth_and_keeps_what_is_not_secret() -> None:
    from siebel_gateway.trace.records import redact

    record = {"a": [{"b": {"Password": "s3cret-deep", "pinned": "x"}}],
              "pairs": [["MyPIN", "1234"], ["Name", "Chris"], ["Pin", ""]],
              "Service:AgentPin": 1234, "UsePassword": True, "n": None}
    assert redact(record) == {"a": [{"b": {"Password": "***", "pinned": "***"}}],
                              "pairs": [["MyPIN", "***"], ["Name", "Chris"], ["Pin", ""]],
                              "Service:AgentPin": "***", "UsePassword": True, "n": None}
