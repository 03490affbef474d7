"""The simulator's control channel: JSON text on ``/queue/<queue>.sim-control``.

Each message is one JSON object with an ``action``; see docs/simulator.md.  A message with a
``reply-to`` header gets a JSON reply there: ``{"ok": true, ...}`` or ``{"ok": false,
"error": "..."}``.  Bad control input is answered (and logged), never fatal.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from ..gc.states import AgentState, CallState
from .model import FinesseModel, Output, Refused

__all__ = ["ControlError", "handle_control"]


class ControlError(ValueError):
    pass


def _str(msg: dict[str, Any], key: str, default: str | None = None) -> str:
    value = msg.get(key, default)
    if value is None:
        raise ControlError(f"'{key}' is required")
    if not isinstance(value, str | int):
        raise ControlError(f"'{key}' must be a string")
    return str(value)


def _pairs(msg: dict[str, Any], key: str, prefix: str = "") -> list[tuple[str, str]]:
    value = msg.get(key) or {}
    if not isinstance(value, dict) or not all(isinstance(v, str | int) for v in value.values()):
        raise ControlError(f"'{key}' must be an object of string values")
    out = []
    for name, v in value.items():
        full = name if not prefix or name.startswith(prefix) else prefix + name
        out.append((full, str(v)))
    return out


def _inbound(m: FinesseModel, msg: dict[str, Any]) -> dict[str, Any]:
    variables = _pairs(msg, "callVariables")
    for name, _v in variables:
        if name not in {f"callVariable{i}" for i in range(1, 11)}:
            raise ControlError(f"call variable {name!r} is not callVariable1..callVariable10")
    data = variables + _pairs(msg, "ecc", "user.")
    agent = msg.get("agent")
    d = m.place_inbound(None if agent in (None, "") else str(agent), _str(msg, "ani", ""),
                        _str(msg, "dnis", ""), _str(msg, "ced", ""), data)
    return {"dialogId": d.id, "agent": next(p.agent for p in d.parties if p.agent)}


def _agent_call(m: FinesseModel, msg: dict[str, Any]) -> dict[str, Any]:
    caller = m.logged_in(_str(msg, "from"))
    target = m.agent(_str(msg, "to"))
    if target.state == AgentState.LOGOUT:
        raise ControlError(f"agent {target.cfg.id} is not logged in")
    d = m.dial(caller, target.extension, call_type="AGENT_INSIDE")
    return {"dialogId": d.id}


def _service(up: bool) -> Callable[[FinesseModel, dict[str, Any]], dict[str, Any]]:
    def run(m: FinesseModel, msg: dict[str, Any]) -> dict[str, Any]:
        reason = _str(msg, "reason", "")
        if up:
            m.in_service = True
        for dest in sorted(m.destinations):
            m.emit(dest, "IN_SERVICE" if up else "OUT_OF_SERVICE", m.codec.dialect.system_agent,
                   {"Reason": reason})
        if not up:
            m.in_service = False
        else:  # Finesse republishes current state so clients can resynchronise
            for a in m.agents.values():
                if a.state != AgentState.LOGOUT:
                    m.publish_state(a)
        return {}
    return run


def _rona(m: FinesseModel, msg: dict[str, Any]) -> dict[str, Any]:
    agent = _str(msg, "agent")
    ringing = [d for d in m.dialogs.values()
               if (p := d.party(agent)) and p.state == CallState.ALERTING]
    if not ringing:
        raise ControlError(f"no call is ringing at agent {agent}")
    m.rona(ringing[0].id, agent)
    return {"dialogId": ringing[0].id}


def _login_fault(kind: str) -> Callable[[FinesseModel, dict[str, Any]], dict[str, Any]]:
    faults = {"device-busy": ("Device Busy", "the device is in use", "CF_RESOURCE_BUSY"),
              "invalid-extension": ("Invalid Device", "the device does not exist",
                                    "CF_INVALID_LOGON_DEVICE_SPECIFIED")}

    def run(m: FinesseModel, msg: dict[str, Any]) -> dict[str, Any]:
        m.fail_login[_str(msg, "extension")] = faults[kind]
        return {}
    return run


def _cti_error(m: FinesseModel, msg: dict[str, Any]) -> dict[str, Any]:
    m.fail_next[_str(msg, "agent")] = (_str(msg, "errorType", "Call Operation Failure"),
                                       _str(msg, "message", "CF_RESOURCE_OUT_OF_SERVICE"),
                                       _str(msg, "code", "34"))
    return {}


def _far_end_drop(m: FinesseModel, msg: dict[str, Any]) -> dict[str, Any]:
    dialog_id = msg.get("dialogId")
    if dialog_id is None:
        agent = _str(msg, "agent")
        calls = m.agent_dialogs(agent)
        if not calls:
            raise ControlError(f"agent {agent} has no call")
        dialog_id = calls[0].id
    d = m.dialogs.get(str(dialog_id))
    if d is None or d.state == CallState.DROPPED:
        raise ControlError(f"no live dialog {dialog_id}")
    m.drop_party(d, None, far_end=True)
    return {"dialogId": d.id}


def _dialogs(m: FinesseModel, msg: dict[str, Any]) -> dict[str, Any]:
    """What Finesse holds about an agent's live calls (what a test compares with)."""
    agent = _str(msg, "agent")
    m.agent(agent)
    out = []
    for d in m.agent_dialogs(agent):
        p = d.party(agent)
        out.append({"dialogId": d.id, "state": str(p.state if p else d.state),
                    "startTime": m.iso(p.started) if p is not None and p.started else ""})
    return {"dialogs": out}


ACTIONS: dict[str, Callable[[FinesseModel, dict[str, Any]], dict[str, Any]]] = {
    "dialogs": _dialogs,
    "inbound-call": _inbound,
    "agent-call": _agent_call,
    "out-of-service": _service(False),
    "in-service": _service(True),
    "rona": _rona,
    "device-busy": _login_fault("device-busy"),
    "invalid-extension": _login_fault("invalid-extension"),
    "cti-error": _cti_error,
    "far-end-drop": _far_end_drop,
}


def handle_control(model: FinesseModel, text: str) -> tuple[dict[str, Any], list[Output]]:
    """Run one control message; returns the reply object and the model's outputs."""
    try:
        msg = json.loads(text)
    except json.JSONDecodeError as exc:
        return {"ok": False, "error": f"control message is not JSON: {exc.msg} at line "
                                      f"{exc.lineno} column {exc.colno}"}, []
    if not isinstance(msg, dict):
        return {"ok": False, "error": "control message must be a JSON object"}, []
    action = msg.get("action")
    run = ACTIONS.get(action) if isinstance(action, str) else None
    if run is None:
        return {"ok": False, "error": f"unknown action {action!r}; one of "
                                      f"{', '.join(sorted(ACTIONS))}"}, []
    try:
        result = run(model, msg)
    except (ControlError, Refused, ValueError) as exc:
        model.take()
        text_ = exc.message if isinstance(exc, Refused) else str(exc)
        return {"ok": False, "action": action, "error": text_}, []
    return {"ok": True, "action": action, **result}, model.take()
