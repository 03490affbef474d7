"""Golden strings of the default dialect, pinned against the public GC catalogue
(reference/finesse.md section 6.4 / 6.5): JMSType = Command#agentId, CSV bodies,
'#'-delimited events with the agent id in field 0 and the event name in field 1."""

from __future__ import annotations

import pytest

from siebel_gateway.gc.codec import FieldValue, GcCodec, GcDecodeError, GcEncodeError
from siebel_gateway.gc.dialect import load_dialect

CODEC = GcCodec(load_dialect(), queue="Connector1", client_destination="sgw.host1")


@pytest.mark.parametrize(("command", "values", "jms_type", "body"), [
    ("Hello", {}, "Hello#sgw.host1", ""),
    ("Beat", {}, "Beat#sgw.host1", ""),
    ("Connect", {"AgentId": "1001", "Password": "p"}, "Connect#1001", "sgw.host1,p"),
    ("Login", {"AgentId": "1001", "Password": "p", "Extension": "2001"}, "Login#1001", "p,2001"),
    ("Logout", {"AgentId": "1001", "ReasonCode": "10"}, "Logout#1001", "10"),
    ("MakeReady", {"AgentId": "1001"}, "MakeReady#1001", ""),
    ("MakeNotReady", {"AgentId": "1001"}, "MakeNotReady#1001", ""),
    ("MakeNotReadyWithReason", {"AgentId": "1001", "ReasonCode": "2"},
     "MakeNotReadyWithReason#1001", "2"),
    ("MakeWorkReady", {"AgentId": "1001"}, "MakeWorkReady#1001", ""),
    ("GetState", {"AgentId": "1001"}, "GetState#1001", ""),
    ("ForceLogout", {"AgentId": "1001"}, "force_logout#1001", ""),
    ("MakeCall", {"AgentId": "1001", "Number": "4155550100"}, "MakeCall#1001", "4155550100"),
    ("AnswerCall", {"AgentId": "1001", "DialogId": "16804377"}, "AnswerCall#1001", "16804377"),
    ("HoldCall", {"AgentId": "1001", "DialogId": "7"}, "HoldCall#1001", "7"),
    ("RetrieveCall", {"AgentId": "1001", "DialogId": "7"}, "RetrieveCall#1001", "7"),
    ("ReleaseCall", {"AgentId": "1001", "DialogId": "7"}, "ReleaseCall#1001", "7"),
    ("SingleStepTransfer", {"AgentId": "1001", "Destination": "2002", "DialogId": "7"},
     "Transfer_sst#1001", "2002,7"),
    ("ConsultCall", {"AgentId": "1001", "Destination": "2002", "DialogId": "7"},
     "ConsultCall#1001", "2002,7"),
    ("TransferCall", {"AgentId": "1001", "Extension": "2001", "DialogId": "7"},
     "TransferCall#1001", "2001,7"),
    ("ConferenceCall", {"AgentId": "1001", "Extension": "2001", "DialogId": "7"},
     "ConferenceCall#1001", "2001,7"),
    ("SendDTMF", {"AgentId": "1001", "Digits": "12*", "DialogId": "7"}, "SendDTMF#1001", "12*,7"),
    ("UpdateCallData", {"AgentId": "1001", "DialogId": "7", "WrapUpReason": "Sales Call"},
     "UpdateCallData#1001", "7,Sales Call"),
    ("GetDialogState", {"AgentId": "1001", "DialogId": "7"}, "GetDialogState#1001", "7"),
    ("GetNotReadyReasons", {"AgentId": "1001"}, "reasoncodenotready#1001", ""),
    ("GetLogoutReasons", {"AgentId": "1001"}, "reasoncodelogout#1001", ""),
    ("GetWrapUpReasons", {"AgentId": "1001"}, "wrapupreasoncode#1001", ""),
])
def test_command_wire_form(command: str, values: dict[str, str], jms_type: str, body: str) -> None:
    message = CODEC.encode(command, values)
    assert (message.destination, message.type, message.body) == ("/queue/Connector1", jms_type,
                                                                 body)
    assert CODEC.parse_command(message) == (command, {**values, **(
        {"ClientDestination": "sgw.host1"} if "ClientDestination" in
        CODEC.dialect.commands[command].placeholders else {})})


def test_commands_expire_after_the_configured_time_default_30_s() -> None:
    values = {"AgentId": "1", "DialogId": "2"}
    assert CODEC.encode("AnswerCall", values, now_ms=1_000).headers["expires"] == "31000"
    quick = GcCodec(load_dialect(), command_expiry=5)
    assert quick.encode("AnswerCall", values, now_ms=1_000).headers["expires"] == "6000"
    never = GcCodec(load_dialect(), command_expiry=0)
    assert "expires" not in never.encode("AnswerCall", values, now_ms=1_000).headers
    assert "expires" not in CODEC.encode("AnswerCall", values).headers  # no clock, no stamp


def test_expiry_header_is_absolute_epoch_ms() -> None:
    message = CODEC.encode("AnswerCall", {"AgentId": "1", "DialogId": "2"},
                           expires_ms=1_700_000_030_000)
    assert message.headers["expires"] == "1700000030000"


@pytest.mark.parametrize(("text", "name", "agent", "fields"), [
    ("system#IN_SERVICE#", "IN_SERVICE", "system", {"Reason": ""}),
    ("1001#State#NOT_READY#-1######2001", "State", "1001",
     {"State": "NOT_READY", "ReasonCode": -1, "ReasonLabel": "", "PendingState": "",
      "StateChangeTime": "", "FullName": "", "ReasonCodeId": None, "Extension": "2001"}),
    ("1001#AgentInfo#Chris#Smith#false#NOT_ALLOWED#x:2#Sales|Support#Chris Smith", "AgentInfo",
     "1001", {"FirstName": "Chris", "LastName": "Smith", "IsSupervisor": False,
              "WrapUpMode": "NOT_ALLOWED", "TeamCount": 2, "Teams": ("Sales", "Support"),
              "FullName": "Chris Smith"}),
    ("1001#ReasonCodes#NOT_READY#1,2,3#Break,Lunch,Meeting", "ReasonCodes", "1001",
     {"Category": "NOT_READY", "Codes": ("1", "2", "3"), "Labels": ("Break", "Lunch", "Meeting")}),
    ("1001#NewInboundCall#4155550100#8005550100#key:16804377#ACD_IN#1234#"
     "callVariable1=1-23|user.AccountId=A9#", "NewInboundCall", "1001",
     {"ANI": "4155550100", "DNIS": "8005550100", "DialogId": "16804377", "CallType": "ACD_IN",
      "CED": "1234", "CallData": (("callVariable1", "1-23"), ("user.AccountId", "A9")),
      "ParentDialogId": ""}),
    ("1001#ConsultCall#ALERTING#key:16804378#2002#INITIATED#16804377", "ConsultCall", "1001",
     {"DialogState": "ALERTING", "DialogId": "16804378", "OtherNumber": "2002",
      "ParticipantState": "INITIATED", "ParentDialogId": "16804377"}),
    ("1001#Error#Invalid State#Pending READY refused#265#MakeReady", "Error", "1001",
     {"ErrorType": "Invalid State", "Message": "Pending READY refused", "ErrorCode": "265",
      "Command": "MakeReady"}),
])
def test_event_wire_form(text: str, name: str, agent: str, fields: dict[str, object]) -> None:
    event = CODEC.decode(text)
    assert (event.name, event.agent_id, dict(event.fields)) == (name, agent, fields)
    assert CODEC.encode_event(name, agent, fields) == text  # type: ignore[arg-type]


@pytest.mark.parametrize("field", ["Password", "Extension", "AgentId"])
@pytest.mark.parametrize("bad", [",", "#", "|", "\n"])
def test_delimiters_in_values_are_refused_naming_the_field_not_the_value(field: str,
                                                                         bad: str) -> None:
    values = {"AgentId": "1001", "Password": "s3cret", "Extension": "2001"}
    values[field] = f"s3cret{bad}x"
    with pytest.raises(GcEncodeError) as info:
        CODEC.encode("Login", values)
    assert f"GC command Login: {field} contains" in str(info.value)
    assert "s3cret" not in str(info.value)


def test_missing_command_value_is_named() -> None:
    with pytest.raises(GcEncodeError, match="GC command Login needs Extension"):
        CODEC.encode("Login", {"AgentId": "1", "Password": "p"})


@pytest.mark.parametrize(("text", "kind", "message"), [
    ("garbage", "shape", "not a GC event"),
    ("1001#Bogus#x", "unknown", "unknown GC event 'Bogus'"),
    ("1001#State#READY", "width", "GC event State has 3 fields; the dialect expects 10"),
    ("1001#State#READY#abc######2001", "number",
     "GC event State field 3 (ReasonCode) is not a number: 'abc'"),
    ("1001#AgentInfo#A#B#maybe#X#x:1#T#A B", "bool", "field 4 (IsSupervisor) is not true/false"),
    ("1001#NewInboundCall#1#2#16804377#ACD_IN##a=b#", "prefix", "should start with 'key:'"),
    ("1001#NewInboundCall#1#2#key:1#ACD_IN##novalue#", "map", "'novalue' is not name=value"),
])
def test_malformed_events_are_refused_with_a_reason_and_counted(text: str, kind: str,
                                                                message: str) -> None:
    codec = GcCodec(load_dialect())
    with pytest.raises(GcDecodeError) as info:
        codec.decode(text)
    assert message in str(info.value)
    assert codec.rejected == {kind: 1}


@pytest.mark.parametrize(("body", "fields"), [
    # Exactly the public catalogue's forms (finesse.md 6.5), nothing of ours.
    ("1001#InboundCall#HELD#16804377#4155550100",
     {"DialogState": "HELD", "DialogId": "16804377", "FromAddress": "4155550100",
      "ParticipantState": None, "CallData": None, "SecondaryId": None}),
    ("1001#NewInboundCall#4155550100##key:16804377",
     {"ANI": "4155550100", "DNIS": "", "DialogId": "16804377", "CallType": None,
      "CallData": None}),
    ("1001#ConsultCall#INITIATED#key:16804378#2002",
     {"DialogState": "INITIATED", "DialogId": "16804378", "OtherNumber": "2002",
      "ParentDialogId": None}),
    ("1001#State#READY#-1####Chris Smith##2001",
     {"State": "READY", "ReasonCode": -1, "ReasonLabel": "", "PendingState": "",
      "ReasonCodeId": None, "FullName": "Chris Smith", "Extension": "2001"}),
    ("1001#ReasonCodes##1,2#Break,Lunch",
     {"Category": "", "Codes": ("1", "2"), "Labels": ("Break", "Lunch")}),
    ("1001#Error##Invalid State", {"Message": "Invalid State", "ErrorType": "",
                                   "Command": None, "ErrorCode": None}),
    ("system#IN_SERVICE", {"Reason": None}),
    ("1001#DialogStatus", {"DialogId": None, "Actions": None, "CallData": None}),
])
def test_events_with_only_the_catalogue_fields_decode(body: str,
                                                      fields: dict[str, object]) -> None:
    event = CODEC.decode(body)
    assert {k: event.fields[k] for k in fields} == fields


def test_catalogue_only_encoding_writes_nothing_of_ours() -> None:
    values: dict[str, FieldValue] = {
        "DialogState": "HELD", "DialogId": "7", "FromAddress": "4155550100",
        "ParticipantState": "HELD", "ToAddress": "8005550100", "CallType": "ACD_IN",
        "CallData": (("callVariable1", "x"),), "ParentDialogId": "3"}
    assert CODEC.encode_event("InboundCall", "1001", values, catalogue_only=True) == \
        "1001#InboundCall#HELD#7#4155550100"
    assert CODEC.encode_event("InboundCall", "1001", values) == \
        "1001#InboundCall#HELD#7#4155550100#HELD#8005550100#ACD_IN##callVariable1=x#3#"
    assert CODEC.encode_event("Error", "1001", {"Message": "m", "Command": "Login"},
                              catalogue_only=True) == "1001#Error##m"


def test_shorter_than_the_catalogue_is_still_refused() -> None:
    with pytest.raises(GcDecodeError, match=r"InboundCall has 4 fields; the dialect expects "
                                            r"5 \(the catalogue's\) to 12"):
        CODEC.decode("1001#InboundCall#HELD#7")
    with pytest.raises(GcDecodeError, match="State has 3 fields"):
        CODEC.decode("1001#State#READY")
