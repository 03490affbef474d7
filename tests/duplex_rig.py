"""Two GCs, each on its own in-memory broker, played by one Finesse model (the agent state
lives in Finesse, not in the GC): the rig of the duplex service and duplex trace tests."""

from __future__ import annotations

from twisted.internet.task import Clock

from siebel_gateway.adapters.memory_link import MemoryBroker
from siebel_gateway.core.duplex import duplex_client_destination
from siebel_gateway.gc.codec import GcCodec
from siebel_gateway.simulator.data import sample_data
from siebel_gateway.simulator.model import FinesseModel
from siebel_gateway.simulator.runner import SimulatorRunner

from .core.driver import DIALECT

QUEUES = ("Connector1", "Connector2")


def duplex_codecs() -> list[GcCodec]:
    """The gateway's codec for each GC of ``QUEUES`` (gateway id ``gw``)."""
    return [GcCodec(DIALECT, queue=q, client_destination=duplex_client_destination("gw", q))
            for q in QUEUES]


def two_gcs(clock: Clock, brokers: list[MemoryBroker], codec: GcCodec
            ) -> tuple[FinesseModel, list[SimulatorRunner]]:
    """One Finesse model behind a GC per broker, their links started."""
    model = FinesseModel(sample_data(), codec, now=clock.seconds)
    sims = [SimulatorRunner(model, b.link(), codec, clock, queue=q, queues=(q,))
            for b, q in zip(brokers, QUEUES, strict=True)]
    for sim in sims:
        sim.link.start()
    return model, sims
