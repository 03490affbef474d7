"""Wiring for ``serve``: the tap before the service exists, the listener after.

    tap = monitor_tap()                         # build(): beside the trace writer
    service = GatewayService(..., tap=Tee(trace, tap))
    parts = start_monitor(reactor, ...)         # run(): listen, live hub, reactor lag

A monitor that cannot listen is logged as an error and the gateway serves on without it:
SCS and the GC matter more than the console (the operator sees the error at start).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from twisted.internet.task import LoopingCall
from twisted.logger import Logger
from twisted.web.server import Site

from ..core.texts import Catalog
from .glue import CoreGlue, make_tap
from .live import LiveHub
from .metrics import Metrics
from .recorder import MonitorTap
from .web import MonitorResource

__all__ = ["LAG_INTERVAL", "Monitor", "monitor_tap", "start_monitor"]

log = Logger(namespace="siebel_gateway.monitor")
LAG_INTERVAL = 0.5


class _QuietSite(Site):
    """No access log line per request: probes and scrapes every few seconds would drown
    the gateway's log (admin actions are logged on their own, with who and what)."""

    def log(self, request: Any) -> None:
        pass


def monitor_tap() -> MonitorTap:
    return make_tap(Metrics())


class Monitor:
    """The running monitor: the glue, the site, the hub and the lag probe."""

    def __init__(self, reactor: Any, service: Any, tap: MonitorTap, *, listening: Any,
                 scs_address: str, broker: str, token: bytes | None,
                 reload_catalog: Callable[[], Catalog] | None = None) -> None:
        self.reactor = reactor
        self.glue = CoreGlue(service, tap, listening=listening, scs_address=scs_address,
                             broker=broker, started_at=service.wall(),
                             admin=token is not None, reload_catalog=reload_catalog)
        self.metrics = tap.metrics
        self.metrics.watch(self.glue)
        self.hub = LiveHub(self.glue, reactor)
        self.resource = MonitorResource(self.glue, self.metrics, self.hub, self.glue, token)
        self.site = _QuietSite(self.resource)  # type: ignore[no-untyped-call]
        self.site.displayTracebacks = False
        self.site.noisy = False
        self._lag = LoopingCall(self._tick)
        self._lag.clock = reactor
        self._last = 0.0
        self.port: Any = None

    def _tick(self) -> None:
        now = self.reactor.seconds()
        if self._last:
            self.metrics.reactor_lag = max(0.0, now - self._last - LAG_INTERVAL)
        self._last = now

    def listen(self, host: str, port: int, *, tls_certificate: str = "",
               tls_key: str = "") -> Any:
        """Start listening (raises ``CannotListenError`` or a TLS error)."""
        if tls_certificate:
            from twisted.internet import ssl

            context = cast(Any, ssl).DefaultOpenSSLContextFactory(tls_key, tls_certificate)
            self.port = self.reactor.listenSSL(port, self.site, context, interface=host)
        else:
            self.port = self.reactor.listenTCP(port, self.site, interface=host)
        self.hub.start()
        self._lag.start(LAG_INTERVAL, now=True)
        return self.port

    def stop(self) -> None:
        self.hub.stop()
        if self._lag.running:
            self._lag.stop()
        if self.port is not None:
            self.port.stopListening()


def start_monitor(reactor: Any, parts: dict[str, Any], ready: dict[str, Any]
                  ) -> Monitor | None:
    """Listen as ``[Monitor]`` says (None: disabled, or it could not listen: logged)."""
    settings = ready["settings"]
    tap = parts.get("monitor_tap")
    if settings.monitor_port is None or tap is None:
        return None
    from ..locales import load_catalog

    monitor = Monitor(reactor, parts["service"], tap, listening=parts["listening"],
                      scs_address=f"{settings.listen_host}:{parts['port']}",
                      broker=settings.broker_url, token=ready.get("monitor_token"),
                      reload_catalog=lambda: load_catalog(settings.locale_dir or None))
    scheme = "https" if settings.monitor_tls_certificate else "http"
    try:
        port = monitor.listen(settings.monitor_host, settings.monitor_port,
                              tls_certificate=settings.monitor_tls_certificate,
                              tls_key=settings.monitor_tls_key)
    except Exception as exc:  # CannotListenError, or a TLS file OpenSSL refuses
        log.error("monitor not started: cannot serve {scheme}://{host}:{port}: {error}",
                  scheme=scheme, host=settings.monitor_host, port=settings.monitor_port,
                  error=str(exc))
        return None
    parts["monitor"] = monitor
    parts["monitor_url"] = f"{scheme}://{settings.monitor_host}:{port.getHost().port}"
    return monitor
