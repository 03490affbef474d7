"""Run the Finesse model over a broker link: commands in, events out, timers on a clock.

One model can serve several GC queues (a duplex GC: ``simulate-gc --queue Connector1
--queue Connector2``): the agent state lives in the Finesse model, each queue is one GC in
front of it.  A queue can be taken down through the control channel (``gc-down``: silent,
or out of service) and brought back (``gc-up``); a down GC carries no commands and no
events for the clients that reached Finesse through it.
"""

from __future__ import annotations

import functools
import json
import random
from collections.abc import Sequence
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
                 *, queue: str = "Connector1", queues: Sequence[str] = ()) -> None:
        self.model, self.link, self.codec, self.clock = model, link, codec, clock
        self.control_destination = f"/queue/{queue}.sim-control"
        self.queues = tuple(queues) or (queue,)
        #: queue -> "silent" | "out-of-service" for a GC taken down by the control channel.
        self.down: dict[str, str] = {}
        #: client destination -> the queue its commands came through.
        self.reached_through: dict[str, str] = {}
        self.timers: dict[Key, Any] = {}
        self.rejected_commands = 0
        self.expired_commands = 0
        self.generated_calls = 0
        self._generator: Any = None
        # Events go through the same pacing as the gateway's commands: a broker at its
        # memory limit refuses SENDs, and a refused event must be sent again, not lost.
        self.pacer = Pacer(link, clock, size=1_000_000, timeout=60.0)
        for q in self.queues:
            destination = codec.dialect.command_destination.format(
                Queue=q, ClientDestination=codec.client_destination)
            link.subscribe(destination, functools.partial(self._on_queue, q))
        link.subscribe(self.control_destination, self.on_control)

    def _on_queue(self, queue: str, message: BrokerMessage) -> None:
        self.on_command(message, queue)

    def on_command(self, message: BrokerMessage, queue: str = "") -> None:
        queue = queue or self.queues[0]
        mode = self.down.get(queue)
        if mode == "silent":
            return
        if mode is not None:  # out of service: Hello/Beat answered so, the rest not run
            self._out_of_service_reply(message, queue)
            return
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
        reply_to = values.get("ClientDestination", "")
        if reply_to and len(self.queues) > 1:
            self.reached_through[reply_to] = queue
        try:
            outputs = self.model.handle_command(name, values)
        except Exception:  # a simulator bug must not take the simulator down
            log.failure("simulator failed on {type}", type=message.type)
            self.model.take()
            return
        self.execute(outputs)

    def _out_of_service_reply(self, message: BrokerMessage, queue: str) -> None:
        try:
            name, values = self.codec.parse_command(message)
        except GcDecodeError:
            return
        if name in ("Hello", "Beat") and values.get("ClientDestination"):
            self.reached_through[values["ClientDestination"]] = queue
            self.emit(Emit(values["ClientDestination"], self.codec.encode_event(
                "OUT_OF_SERVICE", self.codec.dialect.system_agent, {"Reason": "gc-down"})))
        else:
            log.info("GC {queue} is out of service: {type} not carried out", queue=queue,
                     type=message.type)

    def gc_control(self, msg: dict[str, Any]) -> dict[str, Any]:
        """``gc-down`` / ``gc-up`` of one queue (the transport's part of the simulator)."""
        queue = msg.get("queue")
        if queue not in self.queues:
            return {"ok": False, "error": f"'queue' must be one of {', '.join(self.queues)}, "
                                          f"not {queue!r}"}
        clients = [d for d, q in self.reached_through.items() if q == queue]
        if msg["action"] == "gc-up":
            self.down.pop(queue, None)
            self.execute([Emit(d, self.codec.encode_event(
                "IN_SERVICE", self.codec.dialect.system_agent, {"Reason": "gc-up"}))
                for d in clients])
            return {"ok": True, "queue": queue, "status": "IN_SERVICE"}
        mode = msg.get("mode", "silent")
        if mode not in ("silent", "out-of-service"):
            return {"ok": False, "error": f"'mode' must be silent or out-of-service, "
                                          f"not {mode!r}"}
        if mode == "out-of-service":
            self.execute([Emit(d, self.codec.encode_event(
                "OUT_OF_SERVICE", self.codec.dialect.system_agent, {"Reason": "gc-down"}))
                for d in clients])
        self.down[queue] = mode
        return {"ok": True, "queue": queue, "status": mode}

    def on_control(self, message: BrokerMessage) -> None:
        try:
            msg = json.loads(message.body)
        except ValueError:
            msg = None
        if isinstance(msg, dict) and msg.get("action") in ("gc-down", "gc-up"):
            reply: dict[str, Any] = self.gc_control(msg)
            if not reply["ok"]:
                log.warn("simulator control refused: {error}", error=reply["error"])
            reply_to = message.headers.get("reply-to")
            if reply_to:
                self.publish(BrokerMessage(destination=reply_to, body=json.dumps(reply)))
            return
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
                if self.reached_through.get(out.destination) in self.down:
                    continue  # the GC this client reached Finesse through is down
                self.emit(out)
            elif isinstance(out, StartTimer):
                self.cancel(out.key)
                self.timers[out.key] = self.clock.callLater(out.delay, self.fire, out.key)
            elif isinstance(out, CancelTimer):
                self.cancel(out.key)

    def emit(self, out: Emit) -> None:
        destination = self.codec.dialect.event_destination.format(
            ClientDestination=out.destination, Queue=self.codec.queue)
        stamp = str(int(self.clock.seconds() * 1000))
        self.publish(BrokerMessage(destination=destination, body=out.text,
                                   headers={"gcTimestamp": stamp}))

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
