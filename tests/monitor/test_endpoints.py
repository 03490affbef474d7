"""Every monitor endpoint on a real ``serve`` process (embedded broker + GC simulator):
codes, JSON shapes, metrics moving after a command, live events, admin actions behind
the token, and no secret in any answer (``util.Http`` checks each one)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from .util import ROOT, TOKEN, Gateway, Http, invoke, login, serve, wait_ready


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    tmp = tmp_path_factory.mktemp("monitor")
    # A closed SCS connection releases its agents after ResumeGraceSeconds (protocol v1.1).
    with serve(tmp, monitor_extra='AdminTokenEnv = "GW_ADMIN_TOKEN"\n',
               env={"GW_ADMIN_TOKEN": TOKEN}, server_extra='ResumeGraceSeconds = "0.5"\n') as g:
        wait_ready(g.http)
        yield g


def metrics(http: Http) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    code, hdrs, data = http.request("/metrics")
    assert code == 200 and hdrs["Content-Type"].startswith("text/plain")
    out = {}
    for family in text_string_to_metric_families(data.decode()):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_health_and_readiness(gw: Gateway) -> None:
    assert gw.http.json("/healthz") == (200, {"alive": True})
    assert gw.http.json("/readyz") == (200, {"ready": True, "checks": {}})


def test_status_names_link_gc_connections_uptime_and_version(gw: Gateway) -> None:
    c = gw.client()
    code, s = gw.http.json("/api/status")
    assert code == 200
    assert s["version"] == "0.1.0" and s["ready"] is True and s["uptime_seconds"] >= 0
    assert s["scs"]["listening"] is True and s["scs"]["connections"] >= 1
    assert s["scs"]["address"] == f"127.0.0.1:{gw.scs_port}"
    assert s["link"]["up"] is True and s["link"]["since"].endswith("Z")
    assert s["gcs"] == [{"queue": "Connector1", "in_service": True,
                         "since": s["gcs"][0]["since"]}]
    assert s["admin_actions"] is True
    c.close()


def test_a_command_moves_the_metrics_and_the_agent_views(gw: Gateway) -> None:
    c = gw.client()
    service = login(c, "1001", "2001")
    before = metrics(gw.http)
    key = ("siebel_gateway_commands_total", (("command", "ChangeReadyState"),
                                             ("result", "ok")))
    assert invoke(c, service, "ChangeReadyState") == {"code": 0}
    c.wait_event("EventAgentReady")
    after = metrics(gw.http)
    assert after[key] == before.get(key, 0) + 1
    ev = ("siebel_gateway_events_total", (("event", "EventAgentReady"),))
    assert after[ev] == before.get(ev, 0) + 1
    hist = ("siebel_gateway_command_event_seconds_count", (("command", "ChangeReadyState"),))
    assert after[hist] == before.get(hist, 0) + 1
    assert after[("siebel_gateway_sessions", (("state", "READY"),))] >= 1
    assert after[("siebel_gateway_broker_link_up", ())] == 1
    assert after[("siebel_gateway_gc_in_service", (("queue", "Connector1"),))] == 1
    assert after[("siebel_gateway_scs_connections", ())] >= 1
    out = ("siebel_gateway_gc_messages_total", (("direction", "out"),))
    assert after[out] > before[out]
    assert ("siebel_gateway_reactor_lag_seconds", ()) in after
    assert ("siebel_gateway_publish_failures_total", ()) in after
    assert ("siebel_gateway_broker_reconnects_total", ()) in after
    # every GC command went through the pacing queue, none waits now
    sent = ("siebel_gateway_pacing_commands_total", (("outcome", "sent"),))
    assert after[sent] > before[sent]
    assert after[("siebel_gateway_pacing_queue_depth", ())] == 0
    # a refused command is counted as refused
    refused = ("siebel_gateway_commands_total", (("command", "AnswerCall"),
                                                 ("result", "refused")))
    assert invoke(c, service, "AnswerCall")["code"] != 0
    assert metrics(gw.http)[refused] == after.get(refused, 0) + 1

    code, body = gw.http.json("/api/agents")
    assert code == 200
    row = next(a for a in body["agents"] if a["agent_id"] == "1001")
    assert row == {"agent_id": "1001", "extension": "2001", "state": "READY", "reason": "",
                   "pending_state": "", "calls": 0, "connection": row["connection"],
                   "service": service}
    assert body["by_state"]["READY"] >= 1
    code, one = gw.http.json("/api/agents/1001")
    assert code == 200 and one["state"] == "READY" and one["calls"] == []
    assert one["scs_connection"]["peer"].startswith("127.0.0.1:")
    names = [(e["kind"], e["name"]) for e in one["events"]]
    assert ("command", "LogIn") in names and ("event", "EventAgentLogin") in names
    assert ("command", "ChangeReadyState") in names and ("event", "EventAgentReady") in names
    assert all(e["time"].endswith("Z") for e in one["events"])
    code, filtered = gw.http.json("/api/agents?state=READY&q=100")
    assert code == 200 and [a["agent_id"] for a in filtered["agents"]] == ["1001"]
    c.close()


def test_warnings_show_as_recent_errors(gw: Gateway) -> None:
    c = gw.client()
    d = c.call("CreateISCDriverInstance", mediaType="Voice", language="XYZ",
               connectString="", params=[])
    assert d["code"] == 0
    code, s = gw.http.json("/api/status")
    assert code == 200
    assert any("no texts for language XYZ" in e["text"] and e["level"] == "warn"
               for e in s["errors"]), s["errors"]
    c.close()


def test_bad_requests_get_clear_json_errors(gw: Gateway) -> None:
    code, body = gw.http.json("/api/agents/9999")
    assert code == 404 and "9999" in body["error"]
    code, body = gw.http.json("/nothing/here")
    assert code == 404 and "/nothing/here" in body["error"]
    code, body = gw.http.json("/api/agents?limit=lots")
    assert code == 400 and "limit" in body["error"]
    code, body = gw.http.json("/api/status", method="DELETE")
    assert code == 405 and "DELETE" in body["error"]
    code, body = gw.http.post("/api/admin/force-logout", b"{not json", TOKEN)
    assert code == 400 and "not JSON" in body["error"]
    code, body = gw.http.post("/api/admin/force-logout", {"reason": "10"}, TOKEN)
    assert code == 400 and '"agent"' in body["error"]
    code, body = gw.http.post("/api/admin/reload-texts", {"operator": "x\nFAKE LOG LINE"},
                              TOKEN)
    assert code == 400 and '"operator"' in body["error"]
    code, body = gw.http.post("/api/admin/explode", {}, TOKEN)
    assert code == 404 and "force-logout" in body["error"]


def test_admin_actions_need_the_token(gw: Gateway) -> None:
    code, body = gw.http.post("/api/admin/reload-texts", {})
    assert code == 401 and "Bearer" in body["error"]
    code, body = gw.http.post("/api/admin/reload-texts", {}, "wrong-token")
    assert code == 403 and "not valid" in body["error"]
    code, body = gw.http.post("/api/admin/reload-texts", {"operator": "ops-1"}, TOKEN)
    assert code == 200 and body["ok"] is True and "ENU" in body["message"]


def test_force_logout_is_an_input_answered_to_the_caller(gw: Gateway) -> None:
    c = gw.client()
    service = login(c, "1002", "2002")
    assert invoke(c, service, "ChangeReadyState") == {"code": 0}
    c.wait_event("EventAgentReady")
    # UCCE logs out from Not Ready only: refused, with the gateway's reason, to the caller
    code, body = gw.http.post("/api/admin/force-logout", {"agent": "1002", "reason": "10",
                                                          "operator": "ops-1"}, TOKEN)
    assert code == 409 and body["ok"] is False and "1002" in body["message"]
    assert invoke(c, service, "ChangeNotReadyState", ReasonCode="1") == {"code": 0}
    c.wait_event("EventAgentNotReady")
    code, body = gw.http.post("/api/admin/force-logout",
                              {"agent": "1002", "reason": "10", "operator": "ops-1"}, TOKEN)
    assert (code, body["ok"]) == (200, True), body
    c.wait_event("EventAgentLogout")
    assert not any(str(k).startswith("monitor-") for k in c.results)
    code, gone = gw.http.json("/api/agents")
    assert "1002" not in [a["agent_id"] for a in gone["agents"]]
    code, timeline = gw.http.json("/api/agents/1002")
    assert ("command", "LogOut (monitor)") in [(e["kind"], e["name"])
                                               for e in timeline["events"]]
    code, body = gw.http.post("/api/admin/force-logout", {"agent": "1002"}, TOKEN)
    assert code == 404 and "not logged in" in body["message"]
    log = gw.log.read_text()
    assert "ops-1 from 127.0.0.1" in log and "force-logout of agent 1002" in log
    c.close()


def test_a_traced_force_logout_replays_the_same(tmp_path: Path) -> None:
    trace = tmp_path / "trace.jsonl"
    with serve(tmp_path, monitor_extra='AdminTokenEnv = "GW_ADMIN_TOKEN"\n',
               env={"GW_ADMIN_TOKEN": TOKEN}, args=("--trace", str(trace))) as g:
        wait_ready(g.http)
        c = g.client()
        login(c, "1004", "2004")
        code, body = g.http.post("/api/admin/force-logout", {"agent": "1004", "reason": "11"},
                                 TOKEN)
        assert (code, body["ok"]) == (200, True), body
        c.wait_event("EventAgentLogout")
        c.close()
    assert "monitor-" in trace.read_text()
    run = subprocess.run([sys.executable, "-m", "siebel_gateway.cli", "trace", "replay",
                          str(trace)], check=False, cwd=ROOT, capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr


def _sse_until(port: int, done: Callable[[str, dict[str, Any]], bool],
               on_first: Callable[[], None] | None = None) -> list[tuple[str, dict[str, Any]]]:
    """Read the event stream until ``done(event, data)`` (30 s at most: a bound on a hang,
    not a timing assertion)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=15)
    deadline = time.monotonic() + 30
    s.sendall(b"GET /api/events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
    buf = b""
    events: list[tuple[str, dict[str, Any]]] = []
    try:
        while True:
            assert time.monotonic() < deadline, f"not seen within 30 s: {events}"
            data = s.recv(65536)
            assert data, f"the event stream closed after {events}"
            buf += data
            while b"\n\n" in buf:
                block, buf = buf.split(b"\n\n", 1)
                lines = dict(line.split(": ", 1) for line in block.decode().splitlines()
                             if line.startswith(("event: ", "data: ")))
                if "event" not in lines:
                    continue
                events.append((lines["event"], json.loads(lines["data"])))
                if len(events) == 1 and on_first is not None:
                    on_first()
                if done(*events[-1]):
                    return events
    finally:
        s.close()


def test_live_events_send_a_snapshot_then_the_changed_rows(gw: Gateway) -> None:
    c = gw.client()
    service = login(c, "1003", "2003")
    port = int(gw.http.base.rsplit(":", 1)[1])

    def change() -> None:
        assert invoke(c, service, "ChangeReadyState") == {"code": 0}

    def ready(name: str, data: dict[str, Any]) -> bool:
        return name == "agents" and any(a["agent_id"] == "1003" and a["state"] == "READY"
                                        for a in data["upsert"])

    events = _sse_until(port, ready, on_first=change)
    name, snapshot = events[0]
    assert name == "snapshot"
    assert [a["state"] for a in snapshot["agents"] if a["agent_id"] == "1003"] == ["NOT_READY"]
    assert snapshot["status"]["ready"] is True
    c.close()


def test_an_agent_whose_scs_connection_closes_leaves_the_live_table(gw: Gateway) -> None:
    c = gw.client()
    login(c, "1004", "2004")
    port = int(gw.http.base.rsplit(":", 1)[1])

    def removed(name: str, data: dict[str, Any]) -> bool:
        return name == "agents" and "1004" in data["remove"]

    events = _sse_until(port, removed, on_first=c.close)
    assert "1004" in [a["agent_id"] for a in events[0][1]["agents"]]
    code, body = gw.http.json("/api/agents?q=1004")
    assert code == 200 and body["agents"] == []


def test_the_console_page_and_its_files_are_served(gw: Gateway) -> None:
    code, hdrs, page = gw.http.request("/")
    assert code == 200 and hdrs["Content-Type"].startswith("text/html")
    assert b"/static/app.js" in page and b"https://" not in page
    for name, kind in (("app.js", "text/javascript"), ("style.css", "text/css")):
        code, hdrs, data = gw.http.request(f"/static/{name}")
        assert code == 200 and hdrs["Content-Type"].startswith(kind) and data
    code, _, _ = gw.http.request("/static/../views.py")
    assert code == 404


def test_status_command_prints_one_screen_and_exits_by_readiness(gw: Gateway) -> None:
    run = subprocess.run([sys.executable, "-m", "siebel_gateway.cli", "status",
                          "--monitor", gw.http.base], check=False, cwd=ROOT, capture_output=True,
                         text=True, timeout=30)
    assert run.returncode == 0, run.stderr
    assert "READY" in run.stdout and "Broker   up" in run.stdout
    assert "GC       Connector1: in service" in run.stdout
    assert len(run.stdout.splitlines()) <= 25


def test_status_command_exits_1_when_nothing_answers() -> None:
    from ..netutil import free_port

    run = subprocess.run([sys.executable, "-m", "siebel_gateway.cli", "status",
                          "--monitor", f"127.0.0.1:{free_port()}"], check=False, cwd=ROOT,
                         capture_output=True, text=True, timeout=30)
    assert run.returncode == 1 and "cannot read the monitor" in run.stderr
    assert "Traceback" not in run.stderr


def test_without_a_token_admin_actions_answer_403(tmp_path: Path) -> None:
    with serve(tmp_path) as g:
        code, body = g.http.post("/api/admin/force-logout", {"agent": "1001"}, "anything")
        assert code == 403 and "no admin token" in body["error"]
        code, body = g.http.post("/api/admin/reload-texts", {})
        assert code == 403
        assert g.http.json("/api/status")[1]["admin_actions"] is False
