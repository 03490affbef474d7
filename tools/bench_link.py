#!/usr/bin/env python3
"""Benchmark: the broker link (StompLink on Twisted) against plain stomp.py, same run, same broker.

1. request -> reply: a responder in a separate process (plain stomp.py) echoes each request
   to its reply-to queue.  One request in flight; warm-up dropped; p50/p99 of the round
   trip for plain stomp.py (threading.Event) and for StompLink (Deferreds, reactor),
   interleaved sample by sample so broker drift hits both alike.
2. one way: N x 300-byte messages sent as fast as possible, and N drained from a preloaded
   queue, for plain stomp.py and for StompLink.

    python tools/bench_link.py --broker 127.0.0.1:61613 [--rtts 3000] [--messages 20000]

Targets (issue 3): StompLink adds at most 60 us at p50; keeps 20,000 msg/s one way.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import threading
import time
import uuid
from typing import Any

import stomp

BODY = "x" * 300


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def responder(host: str, port: int, queue: str) -> None:
    conn = stomp.Connection12([(host, port)], auto_content_length=False)

    class Echo(stomp.ConnectionListener):  # type: ignore[misc]
        def on_message(self, frame: Any) -> None:
            conn.send(frame.headers["reply-to"], frame.body,
                      headers={"correlation-id": frame.headers.get("correlation-id", "")})

    conn.set_listener("echo", Echo())
    conn.connect(wait=True)
    conn.subscribe(f"/queue/{queue}", id="1", ack="auto")
    print("READY", flush=True)
    sys.stdin.read()  # until the parent closes our stdin
    conn.disconnect()


class RawRequester:
    """Plain stomp.py: send, then wait on a threading.Event set by the receiver thread."""

    def __init__(self, host: str, port: int, queue: str) -> None:
        self.conn = stomp.Connection12([(host, port)], auto_content_length=False)
        self.got = threading.Event()
        got = self.got

        class Listener(stomp.ConnectionListener):  # type: ignore[misc]
            def on_message(self, frame: Any) -> None:
                got.set()

        self.conn.set_listener("l", Listener())
        self.conn.connect(wait=True)
        self.queue = queue
        self.reply = f"/queue/{queue}.raw-reply"
        self.conn.subscribe(self.reply, id="1", ack="auto")

    def once(self, i: int) -> float:
        self.got.clear()
        t0 = time.perf_counter()
        self.conn.send(f"/queue/{self.queue}", BODY,
                       headers={"reply-to": self.reply, "correlation-id": str(i)})
        if not self.got.wait(10):
            raise TimeoutError("no reply from the responder in 10 s")
        return time.perf_counter() - t0


def raw_one_way(host: str, port: int, n: int) -> tuple[float, float]:
    queue = f"/queue/bench.oneway.raw.{uuid.uuid4().hex}"
    conn = stomp.Connection12([(host, port)], auto_content_length=False)
    done = threading.Event()
    count = [0]

    class Listener(stomp.ConnectionListener):  # type: ignore[misc]
        def on_message(self, frame: Any) -> None:
            count[0] += 1
            if count[0] == n:
                done.set()

    conn.set_listener("l", Listener())
    conn.connect(wait=True)
    t0 = time.perf_counter()
    for _ in range(n):
        conn.send(queue, BODY)
    send_rate = n / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    conn.subscribe(queue, id="1", ack="auto")
    done.wait(120)
    drain_rate = n / (time.perf_counter() - t0)
    conn.disconnect()
    return send_rate, drain_rate


def link_runs(host: str, port: int, queue: str, n: int, warm: int, *, messages: int,
              raw: RawRequester) -> tuple[list[float], list[float], float, float]:
    """Round trips interleaved sample by sample: one plain stomp.py (blocking, on the
    reactor thread while nothing else runs there), one through StompLink; then the one-way
    runs of the link."""
    from twisted.internet import reactor as _reactor
    from twisted.internet.defer import Deferred, DeferredList

    from siebel_gateway.adapters.link import parse_broker_url
    from siebel_gateway.adapters.stomp_link import StompLink
    from siebel_gateway.core.broker_messages import BrokerMessage

    reactor: Any = _reactor
    link = StompLink(parse_broker_url(f"stomp://{host}:{port}"), reactor=reactor, clock=reactor,
                     heartbeats=(0, 0))
    reply = f"/queue/{queue}.link-reply"
    oneway = f"/queue/bench.oneway.link.{uuid.uuid4().hex}"
    samples: list[float] = []
    raw_samples: list[float] = []
    result: dict[str, float] = {}
    waiting: list[Deferred[None]] = []
    drained = [0]

    def on_reply(_m: BrokerMessage) -> None:
        d = waiting.pop()
        d.callback(None)

    def on_oneway(_m: BrokerMessage) -> None:
        drained[0] += 1
        if drained[0] == messages:
            result["drain"] = messages / (time.perf_counter() - result["drain_t0"])
            reactor.callLater(0, finish)

    link.subscribe(reply, on_reply)

    async def run() -> None:
        await link.start()
        for i in range(n + warm):
            raw_t = raw.once(i)
            d: Deferred[None] = Deferred()
            waiting.append(d)
            t0 = time.perf_counter()
            link.publish(BrokerMessage(destination=f"/queue/{queue}", body=BODY,
                                       headers={"reply-to": reply, "correlation-id": str(i)}))
            await d
            if i >= warm:
                samples.append(time.perf_counter() - t0)
                raw_samples.append(raw_t)
        t0 = time.perf_counter()
        sends = [link.publish(BrokerMessage(destination=oneway, body=BODY))
                 for _ in range(messages)]
        await DeferredList(sends)
        result["send"] = messages / (time.perf_counter() - t0)
        result["drain_t0"] = time.perf_counter()
        link.subscribe(oneway, on_oneway)

    def finish() -> None:
        link.stop().addBoth(lambda _: reactor.stop())

    Deferred.fromCoroutine(run()).addErrback(lambda f: (print(f), reactor.stop()))
    reactor.run()
    return raw_samples, samples, result["send"], result["drain"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--broker", default="127.0.0.1:61613", help="STOMP host:port")
    ap.add_argument("--rtts", type=int, default=3000)
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--messages", type=int, default=20000)
    ap.add_argument("--responder", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--queue", default="", help=argparse.SUPPRESS)
    args = ap.parse_args()
    host, _, port_text = args.broker.rpartition(":")
    port = int(port_text)
    if args.responder:
        responder(host, port, args.queue)
        return
    queue = f"bench.req.{uuid.uuid4().hex[:8]}"
    child = subprocess.Popen([sys.executable, __file__, "--responder", "--broker", args.broker,
                              "--queue", queue], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             text=True)
    assert child.stdout is not None and child.stdin is not None
    assert child.stdout.readline().strip() == "READY"
    try:
        requester = RawRequester(host, port, queue)
        raw, link, link_send, link_drain = link_runs(host, port, queue, args.rtts,
                                                     args.warmup, messages=args.messages,
                                                     raw=requester)
        requester.conn.disconnect()
        raw_send, raw_drain = raw_one_way(host, port, args.messages)
    finally:
        child.stdin.close()
        child.wait(timeout=30)
    us = 1e6
    print(f"request->reply, {args.rtts} round trips each, interleaved (responder in a "
          "separate process):")
    print(f"  plain stomp.py : p50 {percentile(raw, .5) * us:7.0f} us   p99 "
          f"{percentile(raw, .99) * us:7.0f} us   mean {statistics.mean(raw) * us:7.0f} us")
    print(f"  StompLink      : p50 {percentile(link, .5) * us:7.0f} us   p99 "
          f"{percentile(link, .99) * us:7.0f} us   mean {statistics.mean(link) * us:7.0f} us")
    print(f"  link adds      : p50 {(percentile(link, .5) - percentile(raw, .5)) * us:+7.0f} us"
          f"   (target <= +60 us)")
    print(f"one way, {args.messages} x 300 B:")
    print(f"  plain stomp.py : send {raw_send:9,.0f} msg/s   drain {raw_drain:9,.0f} msg/s")
    print(f"  StompLink      : send {link_send:9,.0f} msg/s   drain {link_drain:9,.0f} msg/s"
          f"   (target >= 20,000)")


if __name__ == "__main__":
    main()
