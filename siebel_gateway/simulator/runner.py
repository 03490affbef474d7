"""Run the Finesse model over a broker link: commands in, events out, timers on a clock."""

from __future__ import annotations

import json
import random
from typing import Any

from twisted.logger import Logger

from ..adapters.link import BrokerLink
from ..adapters.pacing import Pacer
from ..core.broker_messages import BrokerMessage
from ..gc.codec import GcCodec, GcDecodeError
from ..ports import Clock
from .control import handle_control
from .model import CancelTimer, Emit, FinesseModel, Key, Output, StartTimer

__all__ = ["SimulatorRunner"]

log = Logger()


class SimulatorRunner:
    def __init__(self, model: FinesseModel, link: BrokerLink, codec: GcCodec, clock: Clock,
                 *, queue: str = "Connector1") -> None:
        self.model, self.link, self.codec, self.clock = model, link, codec, clock
        self.control_destination = f"/queue/{queue}.sim-control"
        self.timers: dict[Key, Any] = {}
        self.rejected_commands = 0
        self.expired_commands = 0
        self.generated_calls = 0
        self._generator: Any = None
        # Events go through the same pacing as the gateway's commands: a broker at its
        # memory limit refuses SENDs, and a refused event must be sent again, not lost.
        self.pacer = Pacer(link, clock, size=1_000_000, timeout=60.0)
        link.subscribe(codec.command_destination, self.on_command)
        link.subscribe(self.control_destination, self.on_control)

    def on_command(self, message: BrokerMessage) -> None:
        expires = int(message.headers.get("expires", "0") or 0)
        if expires and expires <= int(self.clock.seconds() * 1000):
            self.expired_commands += 1
            log.warn("expired GC command {type} not executed", type=message.type)
            return
        try:
            name, values = self.codec.parse_command(message)
        except GcDecodeError as exc:
            self.rejected_commands += 1
            log.warn("GC command refused: {reason}", reason=str(exc))
            return
        try:
            outputs = self.model.handle_command(name, values)
        except Exception:  # a simulator bug must not take the simulator down
            log.failure("simulator failed on {type}", type=message.type)
            self.model.take()
            return
        self.execute(outputs)

    def on_control(self, message: BrokerMessage) -> None:
        reply, outputs = handle_control(self.model, message.body)
        if not reply["ok"]:
            log.warn("simulator control refused: {error}", error=reply["error"])
        self.execute(outputs)
        reply_to = message.headers.get("reply-to")
        if reply_to:
            self.publish(BrokerMessage(destination=reply_to, body=json.dumps(reply)))

    def execute(self, outputs: list[Output]) -> None:
        for out in outputs:
            if isinstance(out, Emit):
                destination = self.codec.dialect.event_destination.format(
                    ClientDestination=out.destination, Queue=self.codec.queue)
                stamp = str(int(self.clock.seconds() * 1000))
                self.publish(BrokerMessage(destination=destination, body=out.text,
                                           headers={"gcTimestamp": stamp}))
            elif isinstance(out, StartTimer):
                self.cancel(out.key)
                self.timers[out.key] = self.clock.callLater(out.delay, self.fire, out.key)
            elif isinstance(out, CancelTimer):
                self.cancel(out.key)

    def publish(self, message: BrokerMessage) -> None:
        # No owner: the events keep the one order the model made them in (a GC publishes in
        # order; ordering per agent let one agent's event overtake another's).  Only while a
        # full broker refuses can a retried event land behind a later one.
        d = self.pacer.publish(message)
        d.addErrback(lambda f: log.error("simulator could not publish to {dest}: {why}",
                                         dest=message.destination, why=f.getErrorMessage()))

    def cancel(self, key: Key) -> None:
        call = self.timers.pop(key, None)
        if call is not None and call.active():
            call.cancel()

    def fire(self, key: Key) -> None:
        self.timers.pop(key, None)
        self.execute(self.model.timer_fired(key))

    def start_generator(self, calls_per_second: float, seed: int = 0) -> None:
        """Place inbound calls to READY agents at a fixed rate, random ANI (seeded)."""
        rng = random.Random(seed)
        interval = 1.0 / calls_per_second

        def tick() -> None:
            body = json.dumps({"action": "inbound-call", "ani": f"415555{rng.randrange(10000):04d}",
                               "dnis": "8005550100",
                               "callVariables": {"callVariable1": f"1-{rng.randrange(99999)}"}})
            reply, outputs = handle_control(self.model, body)
            if reply["ok"]:
                self.generated_calls += 1
            self.execute(outputs)
            self._generator = self.clock.callLater(interval, tick)

        self._generator = self.clock.callLater(interval, tick)
