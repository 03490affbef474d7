"""The console's channel manager model and script reader, without any network: what Siebel
would send for a DEF command, and what it would do with an event."""

from __future__ import annotations

from pathlib import Path

import pytest

from siebel_gateway.console.channel import AgentView, Channel, ConsoleError
from siebel_gateway.console.script import ScriptError, parse_script, read_script
from siebel_gateway.def_file import load_file, parse_text

from ..driver.test_serve_cli import TEMPLATES

UCCE = load_file(TEMPLATES / "siebel-ucce.def")
ENABLED, DISABLED = 16, 2


def agent_on_call(ch: Channel) -> AgentView:
    a = AgentView("1001", "secret1001", "2001", service="svc-2")
    a.toolbar = {"AnswerCall": ENABLED | 8, "ChangeNotReadyState": ENABLED,
                 "ChangeReadyState": DISABLED, "LogOut": ENABLED}
    ch.callback(a, "HandleEvent", {"name": "EventRinging", "fields": [
        ["TrackingID", "168001"], ["CallType", "INBOUND"], ["ANI", "4155550100"],
        ["DNIS", "8005550100"], ["CallVariable1", "1-23456"]]})
    return a


def test_driver_and_service_parameters_come_from_the_profile_and_macros() -> None:
    ch = Channel(UCCE)
    assert ch.media_type == "Voice"
    assert ["Flavour", "UCCE"] in ch.driver_params()
    assert all(not k.startswith(("Driver:", "Service:")) for k, _ in ch.driver_params())
    agent = AgentView("1001", "pw", "2001")
    assert ch.service_params(agent) == [["AgentId", "1001"], ["Extension", "2001"]]


def test_a_command_expands_its_cmddata_with_the_selected_call_and_edit_box() -> None:
    ch = Channel(UCCE)
    a = agent_on_call(ch)
    mode, [inv] = ch.invocations(a, "AnswerCallCmd", {})
    assert (mode, inv.device_command, inv.params) == ("single", "AnswerCall",
                                                      (("TrackingID", "168001"),))
    _, [inv] = ch.invocations(a, "MakeCallToEditControl", {"@EditControl": "+1 (408) 555-0199"})
    assert inv.params == (("PhoneNumber", "14085550199"),)  # DialingFilter +1 -> 1
    _, [inv] = ch.invocations(a, "LoginToPBX", {})
    assert dict(inv.params) == {"AgentId": "1001", "AgentPin": "secret1001",
                                "Extension": "2001"}


def test_missing_values_and_required_fields_are_named() -> None:
    ch = Channel(UCCE)
    a = agent_on_call(ch)
    with pytest.raises(ConsoleError, match=r"no value for \{@EditControl:Lookup\}"):
        ch.invocations(a, "MakeCallToEditControl", {})
    with pytest.raises(ConsoleError, match=r"needs Work Phone # matching '\?\*'"):
        ch.invocations(a, "MakeCallToContact", {})
    _, [inv] = ch.invocations(a, "MakeCallToContact", {"Work Phone #": "+14155550111"})
    assert inv.params == (("PhoneNumber", "14155550111"),)


def test_group_commands_pick_the_first_enabled_child_or_run_all() -> None:
    ch = Channel(UCCE)
    a = agent_on_call(ch)
    mode, children = ch.invocations(a, "NotReadyGroup", {"@EditControl": "4"})
    assert mode == "first" and [c.command for c in children] == ["NotReadyBreak"]
    a.toolbar["ChangeNotReadyState"] = DISABLED
    with pytest.raises(ConsoleError, match=r"no subcommand can run.*ChangeNotReadyState is not "
                                           r"enabled"):
        ch.invocations(a, "NotReadyGroup", {})
    a.toolbar["LogIn"] = ENABLED
    mode, children = ch.invocations(a, "SignOnGroup", {})
    assert mode == "all" and [c.device_command for c in children] == ["LogIn"]


def test_command_names_complete_by_unique_prefix() -> None:
    ch = Channel(UCCE)
    assert ch.find("readycmd").name == "ReadyCmd"
    assert ch.find("AnswerC").name == "AnswerCallCmd"
    with pytest.raises(ConsoleError, match=r"could be .*NotReadyBreak.*NotReadyGroup"):
        ch.find("NotReady")
    with pytest.raises(ConsoleError, match="no \\[Command:Fly\\]"):
        ch.find("Fly")


def test_an_event_shows_the_handler_the_pop_and_at_call_end_the_activity() -> None:
    ch = Channel(UCCE)
    a = AgentView("1001", service="svc-2")
    out = ch.callback(a, "HandleEvent", {
        "name": "EventRinging", "notifyWhenDone": True, "trackingId": "168001",
        "fields": [["TrackingID", "168001"], ["CallType", "INBOUND"], ["ANI", "4155550100"],
                   ["DNIS", "8005550100"], ["CallVariable1", "1-23456"]]})
    text = "\n".join(out.lines)
    assert "handler InboundCallServiceRequest -> ServiceRequestPopResponse" in text
    assert "query Service Request/Service Request where [SR Number] = '1-23456'" in text
    assert "screen pop: Service Request Detail View" in text
    assert out.notify == "168001" and out.event is not None
    assert a.calls["168001"].state == "ringing" and a.selected == "168001"
    ended = ch.callback(a, "HandleEvent", {"name": "EventReleased", "fields": [
        ["TrackingID", "168001"], ["CallType", "INBOUND"], ["ANI", "4155550100"],
        ["CallVariable1", "1-23456"]]})
    text = "\n".join(ended.lines)
    assert "activity (Action) by ServiceRequestCallLog" in text
    assert "Description = Call about service request 1-23456" in text
    assert "168001" not in a.calls


def test_the_assumed_record_count_changes_the_branch() -> None:
    ch = Channel(UCCE, records=0)
    a = AgentView("1001", service="svc-2")
    out = ch.callback(a, "HandleEvent", {"name": "EventRinging", "fields": [
        ["TrackingID", "1"], ["CallType", "INBOUND"], ["ANI", "4155550100"]]})
    text = "\n".join(out.lines)
    assert "assuming no record matches" in text
    assert "find dialog Contact with Work Phone #=4155550100" in text
    assert "activity log IncomingCallContactNotFound" in text


def test_a_def_without_a_profile_or_with_an_unknown_one_is_refused() -> None:
    bare = parse_text("[Siebel]\nCommServerVersion = \"7.0\"\n", "bare.def").model
    with pytest.raises(ConsoleError, match=r"bare\.def: no \[Profile:\.\.\.\] section"):
        Channel(bare)
    with pytest.raises(ConsoleError, match=r"no \[Profile:Nope\].*Cisco UCCE"):
        Channel(UCCE, profile="Nope")


def test_scripts_parse_every_kind_of_line() -> None:
    steps = parse_script('# c\nagent 1001 pw 2001\nas 1001\nsay Hello there\n'
                         'MakeCallToEditControl @EditControl=2002\n'
                         'expect EventRinging CallType=INBOUND @View="Contact Detail View" '
                         'within=9\nexpect-refused ReadyCmd\nrecords 0\n'
                         'simulate inbound-call agent=1001 callVariables.callVariable1=x\n'
                         'wait 0.5\nwait\n', "s.txt")
    kinds = [s.kind for s in steps]
    assert kinds == ["agent", "as", "say", "command", "expect", "expect-refused", "records",
                     "simulate", "wait", "wait"]
    expect = steps[4]
    assert expect.values == (("CallType", "INBOUND"), ("@View", "Contact Detail View"))
    assert expect.number == 9 and steps[3].values == (("@EditControl", "2002"),)
    assert steps[2].text == "Hello there" and steps[-1].number == 1.0


@pytest.mark.parametrize(("text", "message"), [
    ("expect\n", "s.txt:1: expect EVENT"),
    ("\nReadyCmd oops\n", "s.txt:2: 'oops' must be written NAME=VALUE"),
    ("wait soon\n", "s.txt:1: wait must be a number, not 'soon'"),
    ("agent\n", "s.txt:1: agent ID [PIN [EXTENSION]]"),
    ('expect EventRinging ANI="41\n', "s.txt:1: No closing quotation"),
    ("records many\n", "s.txt:1: records N"),
])
def test_script_mistakes_name_the_line(text: str, message: str) -> None:
    with pytest.raises(ScriptError) as err:
        parse_script(text, "s.txt")
    assert message in str(err.value)


def test_unreadable_script_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(ScriptError, match=r"cannot read script .*none\.txt"):
        read_script(tmp_path / "none.txt")
    (tmp_path / "bin.txt").write_bytes(b"\xff\xfe")
    with pytest.raises(ScriptError, match="not UTF-8"):
        read_script(tmp_path / "bin.txt")


@pytest.mark.parametrize(("records", "view", "log", "description"), [
    (0, None, "IncomingCallContactNotFound", "Inbound call from unknown number 4155550100"),
    (1, "Contact Detail View", "IncomingCallContactFound", "Inbound call from 4155550100 to "
                                                           "8005550100"),
    (3, "Contact List View", "IncomingCallMultipleContacts",
     "Inbound call from 4155550100 (several contacts match)"),
])
def test_log_singlelog_and_multilog_follow_the_record_count(
        records: int, view: str | None, log: str, description: str) -> None:
    """[EventResponse:ANIPopResponse] has all three: SingleLog for one record, MultiLog
    (with MultiView) for several, and the general Log when nothing matches."""
    clock = [1_000.0]
    ch = Channel(UCCE, records=records, wall=lambda: clock[0])
    a = AgentView("1001", service="svc-2")
    ring = ch.callback(a, "HandleEvent", {"name": "EventRinging", "fields": [
        ["TrackingID", "77"], ["CallType", "INBOUND"], ["ANI", "4155550100"],
        ["DNIS", "8005550100"]]})
    text = "\n".join(ring.lines)
    assert "-> ANIPopResponse" in text
    assert (f"screen pop: {view}" in text) if view else ("screen pop" not in text)
    assert f"activity log {log}" in text
    assert ring.event is not None and ring.event.plan is not None
    assert ring.event.plan.log == log
    clock[0] += 75
    ended = ch.callback(a, "HandleEvent", {"name": "EventReleased", "fields": [
        ["TrackingID", "77"], ["CallType", "INBOUND"], ["ANI", "4155550100"],
        ["DNIS", "8005550100"]]})
    lines = ended.lines
    assert f"call 77 ended after 75 s; activity (Action) by {log}:" in "\n".join(lines)
    assert f"    Description = {description}" in lines
    assert "    ACD Call Duration = 00:01:15" in lines


MULTI_ONLY = """\
[Siebel]
CommServerVersion = "7.0"
[Profile:P]
Driver = "D"
[Driver:D]
Channel Type = "Voice"
[EventHandler:Ring]
DeviceEvent = "EventRinging"
Profile = "P"
Response = "Pop"
Order = "1"
[EventResponse:Pop]
QueryBusObj = "Contact"
QueryBusComp = "Contact"
QuerySpec = "'Work Phone #'='{ANI}'"
SingleView = "Contact Detail View"
MultiLog = "SeveralLog"
Log = "GeneralLog"
[EventLog:SeveralLog]
BusComp = "Action"
LogField.Description = "one of several for {ANI}"
[EventLog:GeneralLog]
BusComp = "Action"
LogField.Description = "general {ANI}"
"""


def test_multilog_without_multiview_pops_the_single_view_and_a_missing_branch_log_falls_back(
        ) -> None:
    model = parse_text(MULTI_ONLY, "multi.def").model
    several = Channel(model, records=2)
    a = AgentView("1001", service="s")
    out = several.callback(a, "HandleEvent", {"name": "EventRinging", "fields": [
        ["TrackingID", "5"], ["ANI", "4085550100"]]})
    text = "\n".join(out.lines)
    assert "screen pop: Contact Detail View" in text and "activity log SeveralLog" in text
    end = several.callback(a, "HandleEvent", {"name": "EventReleased", "fields": [
        ["TrackingID", "5"], ["ANI", "4085550100"]]})
    assert "    Description = one of several for 4085550100" in end.lines
    # one record, but no SingleLog: the general Log records the call
    single = Channel(model, records=1)
    b = AgentView("1002", service="t")
    out = single.callback(b, "HandleEvent", {"name": "EventRinging", "fields": [
        ["TrackingID", "6"], ["ANI", "4085550101"]]})
    assert "activity log GeneralLog" in "\n".join(out.lines)
