"""The Prometheus side: one ``CollectorRegistry`` per gateway (never the global one).

Counters and the latency histogram are fed by ``MonitorTap`` as inputs and effects pass;
gauges that describe the present (link, GC, connections, agents by state, reactor lag) are
read from the ``MonitorSource`` at scrape time, so they can never drift from the truth.
The text format is ``prometheus_client``'s own ``generate_latest``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from .views import MonitorSource

__all__ = ["CONTENT_TYPE", "Metrics"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
P = "siebel_gateway_"


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.commands = Counter(f"{P}commands", "SCS requests answered, by command "
                                "(InvokeCommand's name, else the method) and result "
                                "(ok, refused: a non-zero result code, error: a JSON-RPC error)",
                                ["command", "result"], registry=r)
        self.events = Counter(f"{P}events", "HandleEvent callbacks sent to Siebel, by event",
                              ["event"], registry=r)
        self.gc_messages = Counter(f"{P}gc_messages", "messages to (out) and from (in) the "
                                   "Generic Connector", ["direction"], registry=r)
        self.publish_failures = Counter(f"{P}publish_failures", "GC commands the broker "
                                        "link failed to send", registry=r)
        self.reconnects = Counter(f"{P}broker_reconnects", "times the broker link came back "
                                  "up after being down", registry=r)
        self.command_event = Histogram(
            f"{P}command_event_seconds", "time from a command accepted (result 0) to the "
            "first event sent to the same agent service", ["command"], registry=r,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
        self.gc_in = self.gc_messages.labels(direction="in")
        self.gc_out = self.gc_messages.labels(direction="out")
        self.reactor_lag = 0.0
        # ``labels()`` costs more than the increment: children are looked up once (the
        # label values are bounded: the command and event vocabularies).
        self._commands: dict[tuple[str, str], Any] = {}
        self._events: dict[str, Any] = {}
        self._latency: dict[str, Any] = {}

    def command(self, command: str, result: str) -> None:
        key = (command, result)
        child = self._commands.get(key)
        if child is None:
            child = self._commands[key] = self.commands.labels(command=command, result=result)
        child.inc()

    def event(self, name: str) -> None:
        child = self._events.get(name)
        if child is None:
            child = self._events[name] = self.events.labels(event=name)
        child.inc()

    def latency(self, command: str, seconds: float) -> None:
        child = self._latency.get(command)
        if child is None:
            child = self._latency[command] = self.command_event.labels(command=command)
        child.observe(seconds)

    def watch(self, source: MonitorSource, extra: Callable[[], Iterable[Metric]] | None = None
              ) -> None:
        """Register the gauges read from ``source`` at each scrape."""
        self.registry.register(_PresentCollector(source, self, extra))

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class _PresentCollector(Collector):
    def __init__(self, source: MonitorSource, metrics: Metrics,
                 extra: Callable[[], Iterable[Metric]] | None) -> None:
        self.source, self.metrics, self.extra = source, metrics, extra

    def collect(self) -> Iterable[Metric]:
        s = self.source.status()
        yield GaugeMetricFamily(f"{P}broker_link_up", "1 while the broker link is connected "
                                "and subscribed", value=1 if s.link.up else 0)
        gc = GaugeMetricFamily(f"{P}gc_in_service", "1 while the Generic Connector on the "
                               "queue answers Hello/Beat with IN_SERVICE", labels=["queue"])
        for g in s.gcs:
            gc.add_metric([g.queue], 1 if g.in_service else 0)
        yield gc
        yield GaugeMetricFamily(f"{P}scs_connections", "open SCS connections",
                                value=s.connections)
        sessions = GaugeMetricFamily(f"{P}sessions", "agent services by agent state",
                                     labels=["state"])
        for state, n in sorted(s.agents_by_state.items()):
            sessions.add_metric([state], n)
        yield sessions
        yield GaugeMetricFamily(f"{P}reactor_lag_seconds", "how late the last monitor tick "
                                "ran (a busy or blocked reactor shows here)",
                                value=self.metrics.reactor_lag)
        yield GaugeMetricFamily(f"{P}pacing_queue_depth", "GC commands waiting in the "
                                "gateway's pacing queue for the broker to take them",
                                value=s.pacing_queue_depth)
        paced = CounterMetricFamily(f"{P}pacing_commands", "GC commands through the pacing "
                                    "queue: sent, refused_by_broker (the broker refused: "
                                    "sent again when it was full, else failed at once "
                                    "with the broker's reason), busy (refused to the "
                                    "agent as 'gateway busy')",
                                    labels=["outcome"])
        for outcome, n in sorted(s.pacing_counts.items()):
            paced.add_metric([outcome], n)
        yield paced
        yield GaugeMetricFamily(f"{P}uptime_seconds", "seconds since the gateway started",
                                value=max(0.0, s.now - s.started_at))
        if self.extra is not None:
            yield from self.extra()
