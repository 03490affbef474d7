"""Feed inputs straight to ``GatewayCore`` and read the effects it returns: no Twisted, no
broker, no simulator.  The GC's events are written here by hand with the dialect's codec,
so a test says exactly what the GC sent."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from siebel_gateway.core.broker_messages import BrokerMessage
from siebel_gateway.core.effects import Effect, Key, Publish, StartTimer, ToScs
from siebel_gateway.core.gateway import GatewayCore, GatewayOptions
from siebel_gateway.core.scs_wire import Request, WireError, parse_line
from siebel_gateway.gc.codec import FieldValue, GcCodec
from siebel_gateway.gc.dialect import load_dialect
from siebel_gateway.locales import load_catalog

DIALECT = load_dialect()
CATALOG = load_catalog()
START = 1_763_700_000.0
CONN = 1


@dataclass
class CoreDriver:
    flavour: str = "UCCE"
    options: GatewayOptions = field(default_factory=GatewayOptions)
    now: float = START
    #: Every effect returned so far, in order.
    log: list[Effect] = field(default_factory=list)
    next_id: int = 0

    def __post_init__(self) -> None:
        self.codec = GcCodec(DIALECT, queue="Connector1", client_destination="gw1")
        self.core = GatewayCore(self.codec, CATALOG, self.options)

    def _keep(self, effects: list[Effect]) -> list[Effect]:
        self.log.extend(effects)
        return effects

    # -- inputs ----------------------------------------------------------------------------

    def request(self, method: str, *, conn: int = CONN, entropy: str = "",
                **params: Any) -> tuple[dict[str, Any], list[Effect]]:
        """One SCS request on connection ``conn`` (``entropy``: the shell's randomness);
        its answer (result or error object) and every effect."""
        self.next_id += 1
        line = json.dumps({"jsonrpc": "2.0", "id": self.next_id, "method": method,
                           "params": params}).encode()
        item = parse_line(line)
        assert isinstance(item, Request | WireError)
        effects = self._keep(self.core.request(conn, item, self.now, entropy=entropy))
        answers = [e.message for e in effects if isinstance(e, ToScs)
                   and e.message.get("id") == self.next_id]
        assert len(answers) == 1, answers
        return dict(answers[0]), effects

    def gc(self, name: str, agent: str, **values: FieldValue) -> list[Effect]:
        body = self.codec.encode_event(name, agent, values)
        return self._keep(self.core.broker_message(
            BrokerMessage(destination=self.codec.event_destination, body=body), self.now))

    def link(self, up: bool) -> list[Effect]:
        return self._keep(self.core.link_status(up, "test", self.now))

    def drop(self, conn: int = CONN) -> list[Effect]:
        """The SCS connection ``conn`` went away."""
        return self._keep(self.core.connection_lost(conn, self.now))

    def fire(self, key: Key) -> list[Effect]:
        return self._keep(self.core.timer(key, self.now))

    # -- set-ups ----------------------------------------------------------------------------

    def available(self) -> list[Effect]:
        """Link up and the GC answering Hello with IN_SERVICE."""
        return [*self.link(True), *self.gc("IN_SERVICE", DIALECT.system_agent, Reason="up")]

    def service(self, agent: str = "1001", extension: str = "2001",
                params: tuple[tuple[str, str], ...] = ()) -> str:
        driver, _ = self.request("CreateISCDriverInstance", mediaType="Voice", language="ENU",
                                 params=[["Flavour", self.flavour], *map(list, params)])
        svc, effects = self.request("RequestService", driver=driver["result"]["driver"],
                                    params=[["AgentId", agent], ["Extension", extension]])
        if f"GetState#{agent}" in published(effects):  # core/recover.py asks; not signed in
            self.gc("State", agent, State="LOGOUT", ReasonCode=-1)
        handle: str = svc["result"]["service"]
        return handle

    def logged_in(self, agent: str = "1001", extension: str = "2001") -> str:
        """A service whose agent the GC has signed in (NOT_READY)."""
        svc = self.service(agent, extension)
        answer, _ = self.request("InvokeCommand", service=svc, cmdTrackId="c1", name="LogIn",
                                 params=[["AgentPin", "pin"]])
        assert answer["result"] == {"code": 0}, answer
        self.gc("IN_SERVICE", DIALECT.system_agent, Reason="up")
        self.gc("State", agent, State="NOT_READY", ReasonCode=-1)
        return svc


# -- reading effects ------------------------------------------------------------------------

def callbacks(effects: list[Effect], service: str | None = None) -> list[dict[str, Any]]:
    """Callbacks (not results), without BeginBatch/EndBatch."""
    return [dict(e.message) for e in effects if isinstance(e, ToScs) and "method" in e.message
            and e.message["method"] not in ("BeginBatch", "EndBatch")
            and (service is None or e.message["params"].get("service") == service)]


def names(effects: list[Effect]) -> list[str]:
    """Callback names; HandleEvent shown as its event."""
    return [c["params"]["name"] if c["method"] == "HandleEvent" else c["method"]
            for c in callbacks(effects)]


def published(effects: list[Effect]) -> list[str]:
    """JMSTypes of the GC commands published."""
    return [e.message.type for e in effects if isinstance(e, Publish)]


def timers(effects: list[Effect]) -> list[Key]:
    return [e.key for e in effects if isinstance(e, StartTimer)]
