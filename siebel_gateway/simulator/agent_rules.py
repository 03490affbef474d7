"""Agent rules of the simulated Finesse: sign-in, state changes, reason codes, wrap-up
(reference/finesse.md sections 1-2 and 7; the flavour differences are in model.py)."""

from __future__ import annotations

from ..gc.states import AgentState, CallState
from .state import ON_CALL, CancelTimer, Key, ModelBase, Refused, SimAgent

__all__ = ["AgentRules"]


class AgentRules(ModelBase):
    # -- agent commands --------------------------------------------------------------------

    def cmd_Connect(self, agent_id: str, v: dict[str, str]) -> None:  # noqa: N802
        a = self.agent(agent_id)
        new = v["ClientDestination"]
        if a.destination and a.destination != new and a.state != AgentState.LOGOUT:
            # Signed in through another gateway: the last sign-in wins, and the gateway
            # that had the agent hears it signed out, so two sessions never share one
            # agent's events (docs/operations.md "Several gateway processes").
            self.emit(a.destination, "State", a.cfg.id, {
                "State": AgentState.LOGOUT, "ReasonCode": -1,
                "ReasonLabel": "signed in through another gateway",
                "PendingState": AgentState.NONE,
                "StateChangeTime": self.iso(), "FullName": a.cfg.full_name,
                "ReasonCodeId": -1, "Extension": a.extension})
        a.destination = new
        self.destinations.add(a.destination)

    def cmd_Login(self, agent_id: str, v: dict[str, str]) -> None:  # noqa: N802
        a = self.agent(agent_id)
        password, extension = v.get("Password", ""), v.get("Extension", "")
        if not a.destination:
            raise Refused("Invalid State", f"agent {agent_id} must Connect before Login",
                          "GENERAL_ERROR")
        if not password:
            raise Refused("Parameter Missing", "password is missing", "MISSING_PASSWORD")
        if password.startswith("3DES:"):
            if self.decrypt is None:
                raise Refused("Authorization Failure", "the password is encrypted but this "
                              "Generic Connector has no Triple-DES key", "GENERAL_ERROR")
            try:
                password = self.decrypt(password)
            except ValueError:
                raise Refused("Authorization Failure", "the encrypted password cannot be "
                              "decrypted with this Generic Connector's key",
                              "GENERAL_ERROR") from None
        if password != a.cfg.password:
            raise Refused("Authorization Failure", f"wrong password for agent {agent_id}",
                          "CF_GENERIC_UNSPECIFIED")
        if not extension:
            raise Refused("Parameter Missing", "extension is missing", "MISSING_EXTENSION")
        fault = self.fail_login.pop(extension, None)
        if fault is not None:
            raise Refused(*fault)
        if extension.startswith("+") and self.ucce:
            raise Refused("Invalid Device", f"UCCE cannot sign in on E.164 extension {extension}",
                          "CF_INVALID_LOGON_DEVICE_SPECIFIED")
        known = self.data.agent_on(extension)
        if known is None:
            raise Refused("Invalid Device", f"extension {extension} does not exist",
                          "WRONG_EXTENSION")
        other = next((o for o in self.agents.values() if o.extension == extension
                      and o.state != AgentState.LOGOUT and o is not a), None)
        if other is not None:
            raise Refused("Device Busy", f"extension {extension} is in use by agent "
                          f"{other.cfg.id}", "CF_RESOURCE_BUSY")
        cfg = a.cfg
        self.emit(a.destination, "AgentInfo", agent_id, {
            "FirstName": cfg.first_name, "LastName": cfg.last_name,
            "IsSupervisor": cfg.supervisor, "WrapUpMode": cfg.wrap_up_incoming,
            "TeamCount": "1" if cfg.team else "0", "Teams": (cfg.team,) if cfg.team else (),
            "FullName": cfg.full_name})
        if a.state == AgentState.LOGOUT:  # a re-login keeps the current state (forced sign-in)
            a.extension = extension
            self.set_state(a, AgentState.NOT_READY)
        else:
            self.publish_state(a)
        for d in self.agent_dialogs(agent_id):
            self.dialog_status(a, d)

    def require_reason(self, category: str, code_text: str) -> tuple[int, str, int]:
        configured = self.data.category(category)
        if not code_text:
            if configured:
                raise Refused("Parameter Missing", f"a {category} reason code is required",
                              "finesse.api.reasoncode.require_reasoncode")
            return -1, "", -1
        try:
            code = int(code_text)
        except ValueError:
            raise Refused("Invalid Input", f"reason code {code_text!r} is not a number",
                          "finesse.api.reasoncode.not_valid") from None
        reason = self.data.reason(category, code)
        if reason is None:
            raise Refused("Invalid Input", f"{code} is not a {category} reason code",
                          "finesse.api.reasoncode.not_valid")
        return reason.code, reason.label, reason.id

    def cmd_Logout(self, agent_id: str, v: dict[str, str]) -> None:  # noqa: N802
        a = self.logged_in(agent_id)
        allowed = (AgentState.NOT_READY,) if self.ucce else (AgentState.NOT_READY, AgentState.READY)
        if a.state not in allowed:
            raise Refused("Invalid State", f"LOGOUT is not allowed from {a.state} on "
                          f"{self.flavour.upper()} (only from {' or '.join(allowed)})",
                          "CF_INVALID_OBJECT_STATE")
        code, label, rid = self.require_reason("LOGOUT", v.get("ReasonCode", ""))
        self.end_wrap_up(a)  # a wrap-up left open would count as a call at the next sign-in
        a.pending, a.extension = AgentState.NONE, ""
        self.set_state(a, AgentState.LOGOUT, code, label, rid)

    def cmd_ForceLogout(self, agent_id: str, v: dict[str, str]) -> None:  # noqa: N802
        a = self.logged_in(agent_id)
        if a.state in ON_CALL or a.state == AgentState.RESERVED:
            a.pending = AgentState.LOGOUT
            self.publish_state(a)
            return
        self.end_wrap_up(a)  # a wrap-up left open would count as a call at the next sign-in
        a.extension = ""
        self.set_state(a, AgentState.LOGOUT, 20002 if self.ucce else 255)

    def cmd_MakeReady(self, agent_id: str, v: dict[str, str]) -> None:  # noqa: N802
        a = self.logged_in(agent_id)
        if a.state in ON_CALL:
            if not self.ucce:
                raise Refused("Invalid State", "a pending READY is not allowed during a call "
                              "on UCCX", "265")
            a.pending = AgentState.READY
            self.publish_state(a)
            return
        if a.state in (AgentState.RESERVED,):
            raise Refused("Invalid State", "READY is not allowed while a call is reserved",
                          "CF_INVALID_OBJECT_STATE")
        self.end_wrap_up(a)
        self.set_state(a, AgentState.READY)

    def cmd_MakeNotReady(self, agent_id: str, v: dict[str, str]) -> None:  # noqa: N802
        self.not_ready(agent_id, "")

    def cmd_MakeNotReadyWithReason(self, agent_id: str, v: dict[str, str]) -> None:  # noqa: N802
        self.not_ready(agent_id, v.get("ReasonCode", ""))

    def not_ready(self, agent_id: str, code_text: str) -> None:
        a = self.logged_in(agent_id)
        code, label, rid = self.require_reason("NOT_READY", code_text)
        if a.state in ON_CALL:
            if not self.ucce and a.pending_nr_set:
                raise Refused("Invalid State", "the pending NOT_READY reason can be set only "
                              "once per call on UCCX", "265")
            a.pending, a.pending_nr_set = AgentState.NOT_READY, True
            a.reason_code, a.reason_label, a.reason_id = code, label, rid
            self.publish_state(a)
            return
        if a.state == AgentState.RESERVED:
            raise Refused("Invalid State", "NOT_READY is not allowed while a call is reserved",
                          "CF_INVALID_OBJECT_STATE")
        self.end_wrap_up(a)
        self.set_state(a, AgentState.NOT_READY, code, label, rid)

    def cmd_MakeWorkReady(self, agent_id: str, v: dict[str, str]) -> None:  # noqa: N802
        a = self.logged_in(agent_id)
        if not self.ucce:
            raise Refused("Invalid State", "UCCX has no WORK_READY state", "265")
        if a.state not in ON_CALL:
            raise Refused("Invalid State", "WORK_READY can be requested only during a call",
                          "CF_INVALID_OBJECT_STATE")
        a.wrap_ready, a.pending = True, AgentState.READY
        self.publish_state(a)

    def cmd_GetState(self, agent_id: str, v: dict[str, str]) -> None:  # noqa: N802
        self.publish_state(self.agent(agent_id))

    def reason_list(self, agent_id: str, category: str) -> None:
        a = self.agent(agent_id)
        if category == "WRAP_UP":
            codes = labels = self.data.wrap_up_reasons
        else:
            rs = self.data.category(category)
            codes, labels = tuple(str(r.code) for r in rs), tuple(r.label for r in rs)
        self.emit(a.destination, "ReasonCodes", agent_id,
                  {"Category": category, "Codes": codes, "Labels": labels})

    def cmd_GetNotReadyReasons(self, agent_id: str, v: dict[str, str]) -> None:  # noqa: N802
        self.reason_list(agent_id, "NOT_READY")

    def cmd_GetLogoutReasons(self, agent_id: str, v: dict[str, str]) -> None:  # noqa: N802
        self.reason_list(agent_id, "LOGOUT")

    def cmd_GetWrapUpReasons(self, agent_id: str, v: dict[str, str]) -> None:  # noqa: N802
        self.reason_list(agent_id, "WRAP_UP")


    def end_wrap_up(self, a: SimAgent) -> None:
        if a.state in (AgentState.WORK, AgentState.WORK_READY):
            self.out.append(CancelTimer(Key(a.cfg.id, "wrap")))
            for did in a.wrap_dialogs:
                d = self.dialogs.get(did)
                p = d.party(a.cfg.id) if d else None
                if p is not None:
                    p.state = CallState.DROPPED
            a.wrap_dialogs = []

