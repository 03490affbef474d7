"""The operations surface: health, readiness, Prometheus metrics, a JSON API, a live web
console and ``siebel-gateway status`` (docs/monitor.md).

    views.py     frozen views + the MonitorSource / AdminActions protocols
    glue.py      the ONLY module that reads the gateway core (port it when core/ changes)
    recorder.py  MonitorTap: counters and timelines from the shell's input/effect stream
    metrics.py   prometheus_client registry (one per gateway)
    web.py       twisted.web resource: endpoints, admin actions
    live.py      server-sent events for the console
    server.py    wiring for ``serve``
    status.py    the ``status`` subcommand
    static/      the console page (plain HTML/CSS/JS, no build step)
"""

__all__: list[str] = []
