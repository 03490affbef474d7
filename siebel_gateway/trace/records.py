"""What one trace line holds, shared by the recorder, the replayer and the timeline.

A trace is JSON Lines.  The first line describes the gateway that wrote it (``kind:
start``: format version, and what a fresh core needs to behave the same: GC queue and
client destination, command expiry, core options, a custom dialect or locale texts when the
site had them).  Every other line is one *input* to the gateway core or one *output* it
decided, in the order they happened; the outputs of an input follow it directly.

    edge   dir     input?  holds
    scs    open            conn, peer            (an SCS connection; no core input)
    scs    in      yes     conn, msg {id, method, params} or {invalid, id, code}
    scs    close   yes     conn
    scs    out             conn, msg (the JSON-RPC object sent)
    gc     in      yes     msg {destination, headers, body}
    gc     failed  yes     ref, why              (a publish the broker refused)
    gc     out             msg {destination, headers, body}
    link   up|down yes     reason, recovered, queue (a duplex gateway's link of one GC)
    timer  fire    yes     key
    timer  start|cancel    key, delay
    log                    level, text

Every line also has ``mono`` (monotonic seconds) and ``wall`` (the epoch time the core was
given, full precision: replay hands the same value back).  Lines may carry ``agent`` and
``service`` to help a reader; replay ignores them.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping
from typing import Any

from ..core.broker_messages import BrokerMessage
from ..core.effects import CancelTimer, Effect, Log, Publish, StartTimer, ToScs
from ..core.reattach import mask_token
from ..core.scs_wire import Request, WireError

__all__ = ["FORMAT", "INPUTS", "READABLE", "Annotator", "effect_record", "gc_record",
           "is_input", "is_secret_key", "obj", "redact", "render_log", "request_record"]

#: 2: a duplex gateway's start line says its GCs (``config.duplex``) and a link line of
#: one GC's own broker link names it (``queue``).  Format 1 traces are read too; those of
#: a duplex gateway cannot be replayed (``trace/duplex.py`` says why).
FORMAT = 2
READABLE = frozenset({1, 2})
INPUTS = frozenset({("scs", "in"), ("scs", "close"), ("gc", "in"), ("gc", "failed"),
                    ("link", "up"), ("link", "down"), ("timer", "fire"), ("scs", "open")})
#: A key whose name contains one of these (any case, any prefix) holds a secret.
SECRET_PARTS = ("pin", "password")
MASK = "***"


def obj(value: Any) -> dict[str, Any]:
    """``value`` when it is a JSON object, else an empty one (readers of odd traces)."""
    return value if isinstance(value, dict) else {}


def is_input(record: Mapping[str, Any]) -> bool:
    return (record.get("edge"), record.get("dir")) in INPUTS


def is_secret_key(key: object) -> bool:
    """``Password``, ``Driver:Password``, ``Service:AgentPin``, ``agent_pin``, ...: any key
    whose name contains ``pin`` or ``password`` in any case (a rule, not a list, so a new
    parameter or prefix cannot slip through; ``Shipping`` is masked too, on the safe side)."""
    if not isinstance(key, str):
        return False
    folded = key.casefold()
    return any(part in folded for part in SECRET_PARTS)


#: Values a secret-named key may hold that are settings, not secrets (UseSecurePassword).
_FLAGS = frozenset({"true", "false", "y", "n", "yes", "no"})


def _masked(value: Any) -> Any:
    # nothing to hide in these, and replay must see a missing value or a flag as it was
    if value is None or isinstance(value, bool) or value == "" or \
            (isinstance(value, str) and value.casefold() in _FLAGS):
        return value
    return MASK


def redact(value: Any) -> Any:
    """``value`` with the value of every secret key shown as ``***``: in every object
    (``{"Password": ...}``) and every ``[key, value]`` pair of every list, at any depth."""
    if isinstance(value, dict):
        return {k: _masked(v) if is_secret_key(k) else redact(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        if len(value) == 2 and is_secret_key(value[0]) and not isinstance(value[1],
                                                                          list | dict):
            return [value[0], _masked(value[1])]
        return [redact(v) for v in value]
    return value


def request_record(connection: int, item: Request | WireError) -> dict[str, Any]:
    rec: dict[str, Any] = {"edge": "scs", "dir": "in", "conn": connection}
    if isinstance(item, WireError):
        rec["msg"] = {"invalid": item.message, "id": item.id, "code": int(item.code)}
    else:
        params = redact(dict(item.params))
        if item.method == "InvokeCommand" and str(params.get("name", "")).casefold() == \
                "login":  # LogIn's edit box is where an agent may type the PIN
            params["stringParam"] = _masked(params.get("stringParam"))
        if item.method == "ResumeDriverInstance" and isinstance(params.get("session"), str):
            params["session"] = mask_token(params["session"])
        rec["msg"] = {"id": item.id, "method": item.method, "params": params}
    return rec


def _masked_result(message: Mapping[str, Any]) -> dict[str, Any]:
    """A result with its ResumeDriverInstance session token masked (reattach.mask_token)."""
    msg = dict(message)
    result = msg.get("result")
    if isinstance(result, dict) and isinstance(result.get("session"), str):
        msg["result"] = {**result, "session": mask_token(result["session"])}
    return msg


def gc_record(direction: str, message: BrokerMessage, body: str) -> dict[str, Any]:
    return {"edge": "gc", "dir": direction,
            "msg": {"destination": message.destination, "headers": dict(message.headers),
                    "body": body}}


class _Lenient(string.Formatter):
    def get_value(self, key: Any, args: Any, kwargs: Any) -> Any:
        return kwargs.get(key, "{" + str(key) + "}") if isinstance(key, str) \
            else super().get_value(key, args, kwargs)


def render_log(text: str, fields: Mapping[str, Any]) -> str:
    """The log line as a reader sees it (Twisted's ``{name}`` format)."""
    try:
        return _Lenient().format(text, **fields)
    except (ValueError, TypeError, IndexError, AttributeError):
        return f"{text} {dict(fields)!r}"


def effect_record(effect: Effect,
                  redact_body: Callable[[BrokerMessage], str] | None = None) -> dict[str, Any]:
    if isinstance(effect, ToScs):
        return {"edge": "scs", "dir": "out", "conn": effect.connection,
                "msg": _masked_result(effect.message)}
    if isinstance(effect, Publish):
        body = redact_body(effect.message) if redact_body else effect.message.body
        rec = gc_record("out", effect.message, body)
        if effect.ref is not None:
            rec["ref"] = str(effect.ref)
        return rec
    if isinstance(effect, StartTimer):
        return {"edge": "timer", "dir": "start", "key": str(effect.key), "delay": effect.delay}
    if isinstance(effect, CancelTimer):
        return {"edge": "timer", "dir": "cancel", "key": str(effect.key)}
    assert isinstance(effect, Log)
    return {"edge": "log", "dir": effect.level, "text": render_log(effect.text, effect.fields)}


class Annotator:
    """Adds ``service``/``agent`` to records from what earlier records said, so a reader can
    follow one agent: RequestService's AgentId, the service handle in its result, LogIn's
    AgentId, the agent id in GC JMSTypes (``Login#1001``) and event bodies (``1001#...``)."""

    def __init__(self, *not_agents: str) -> None:
        #: GC addresses that are not agents (the system agent, the client destination).
        self.not_agents = frozenset(a for a in not_agents if a)
        self.agent_of: dict[str, str] = {}
        self._asked: dict[tuple[int, Any], str] = {}  # (conn, request id) -> agent / service

    def annotate(self, rec: dict[str, Any]) -> dict[str, Any]:
        edge, direction, msg = rec.get("edge"), rec.get("dir"), rec.get("msg")
        if not isinstance(msg, dict):
            return rec
        if edge == "scs" and direction == "in":
            self._scs_in(rec, msg)
        elif edge == "scs" and direction == "out":
            self._scs_out(rec, msg)
        elif edge == "gc":
            agent = self._gc_agent(direction, msg)
            if agent and agent not in self.not_agents:
                rec["agent"] = agent
        return rec

    def _scs_in(self, rec: dict[str, Any], msg: dict[str, Any]) -> None:
        params = msg.get("params")
        if not isinstance(params, dict):
            return
        pairs = {str(k).casefold(): v for k, v in _pairs(params.get("params"))}
        service = params.get("service")
        if isinstance(service, str):
            rec["service"] = service
            if msg.get("method") in ("InvokeCommand", "InvokeCommandEx") \
                    and isinstance(pairs.get("agentid"), str) and pairs["agentid"]:
                self.agent_of[service] = pairs["agentid"]
            agent = self.agent_of.get(service)
            if agent:
                rec["agent"] = agent
            self._asked[(rec.get("conn", 0), msg.get("id"))] = service
        elif msg.get("method") == "RequestService" and isinstance(pairs.get("agentid"), str):
            self._asked[(rec.get("conn", 0), msg.get("id"))] = "agent:" + pairs["agentid"]

    def _scs_out(self, rec: dict[str, Any], msg: dict[str, Any]) -> None:
        params = msg.get("params")
        service: Any = params.get("service") if isinstance(params, dict) else None
        if "id" in msg:
            asked = self._asked.pop((rec.get("conn", 0), msg.get("id")), None)
            result = msg.get("result")
            if asked and asked.startswith("agent:") and isinstance(result, dict) \
                    and isinstance(result.get("service"), str):
                service = result["service"]
                self.agent_of[service] = asked[6:]
            elif asked and not asked.startswith("agent:"):
                service = asked
        if isinstance(service, str):
            rec["service"] = service
            if service in self.agent_of:
                rec["agent"] = self.agent_of[service]

    @staticmethod
    def _gc_agent(direction: Any, msg: dict[str, Any]) -> str:
        if direction == "out":
            headers = msg.get("headers")
            jms_type = headers.get("type", "") if isinstance(headers, dict) else ""
            return str(jms_type).partition("#")[2]
        body = msg.get("body")
        return str(body).partition("#")[0] if isinstance(body, str) else ""


def _pairs(value: Any) -> list[tuple[Any, Any]]:
    if not isinstance(value, list | tuple):
        return []
    return [(p[0], p[1]) for p in value if isinstance(p, list | tuple) and len(p) == 2]
