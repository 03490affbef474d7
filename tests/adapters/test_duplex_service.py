"""DuplexService: two GCs, each on its own broker (``[Broker] Url2``).  Each GC command
leaves on the link of its GC, and a link going down takes only its GC down: the agents
move to the GC on the other broker, still signed in."""

from __future__ import annotations

import json
from typing import Any

from twisted.internet.task import Clock

from siebel_gateway.adapters.duplex_service import DuplexService
from siebel_gateway.adapters.memory_link import MemoryBroker
from siebel_gateway.core.duplex import DuplexGateway
from siebel_gateway.core.gcs import Mode
from siebel_gateway.core.scs_wire import Request, parse_line

from ..core.driver import CATALOG
from ..duplex_rig import duplex_codecs, two_gcs


def test_each_gc_on_its_own_broker_and_a_broker_loss_moves_its_agents() -> None:
    clock = Clock()
    clock.advance(1_700_000_000)
    brokers = [MemoryBroker(clock), MemoryBroker(clock)]
    codecs = duplex_codecs()
    core = DuplexGateway(codecs, CATALOG, mode=Mode.ACTIVE_PASSIVE)
    links = [b.link() for b in brokers]
    service = DuplexService(core, links, clock, wall=clock.seconds)
    # one Finesse behind two GCs, each GC on its own broker
    _model, _sims = two_gcs(clock, brokers, codecs[0])
    service.start()
    clock.advance(0)
    assert [t.status.value for t in core.gcs.tracks] == ["IN_SERVICE", "IN_SERVICE"]

    conn = 1  # requests go through the service; what it writes back is not needed here

    def call(method: str, **params: Any) -> None:
        line = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
        item = parse_line(line.encode())
        assert isinstance(item, Request)
        service.line_items(conn, [item])
        clock.advance(0)

    call("CreateISCDriverInstance", mediaType="Voice", language="ENU",
         params=[["Flavour", "UCCE"]])
    driver = next(iter(core.drivers))
    call("RequestService", driver=driver, params=[["AgentId", "1001"], ["Extension", "2001"]])
    svc = next(iter(core.services))
    call("InvokeCommand", service=svc, cmdTrackId="1", name="LogIn",
         params=[["AgentPin", "secret1001"]])
    clock.advance(0)
    session = core.services[svc]
    assert session.phase.name == "LOGGED_IN" and core.gcs.placed["1001"] == 0

    links[0].interrupt()  # the first GC's broker is gone: only that GC is down
    clock.advance(0)
    assert [t.status.value for t in core.gcs.tracks] == ["LINK_DOWN", "IN_SERVICE"]
    assert core.gcs.placed["1001"] == 1
    clock.advance(0)
    assert session.phase.name == "LOGGED_IN" and session.state == "NOT_READY"
    assert session.agent_id == "1001" and core.agents["1001"] is session  # not logged out
