"""The monitor's HTTP surface (``twisted.web``, in the gateway's own reactor).

    GET  /healthz                   200 while the reactor turns
    GET  /readyz                    200 ready / 503 with each failing check
    GET  /metrics                   Prometheus text (prometheus_client)
    GET  /api/status                link, GCs, connections, uptime, version, recent errors
    GET  /api/agents[?state=&q=&offset=&limit=]
    GET  /api/agents/<id>           one agent: calls and last 50 timeline entries
    GET  /api/events                server-sent events (live.py)
    POST /api/admin/force-logout    {"agent": "1001", "reason": "2", "operator": "..."}
    POST /api/admin/reload-texts    {"operator": "..."}
    GET  /  and /static/<file>      the console (static/)

Every answer is JSON except /metrics, the page and the event stream; a bad request gets a
4xx JSON ``{"error": ...}`` naming the problem.  Admin actions need
``Authorization: Bearer <token>`` (compared in constant time); without a configured token
they answer 403.  Nothing here reads or writes a secret other than that comparison.
"""

from __future__ import annotations

import hmac
import json
from importlib import resources
from typing import Any
from urllib.parse import unquote

from twisted.logger import Logger
from twisted.web import server
from twisted.web.resource import Resource

from .live import LiveHub
from .metrics import CONTENT_TYPE, Metrics
from .views import AdminActions, MonitorSource

__all__ = ["MAX_BODY", "MonitorResource"]

log = Logger(namespace="siebel_gateway.monitor")
MAX_BODY = 64 * 1024
_STATIC = {"index.html": "text/html; charset=utf-8", "app.js": "text/javascript; charset=utf-8",
           "style.css": "text/css; charset=utf-8"}


class HttpError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def _json(request: Any, code: int, body: Any) -> bytes:
    request.setResponseCode(code)
    request.setHeader(b"content-type", b"application/json; charset=utf-8")
    request.setHeader(b"cache-control", b"no-store")
    return json.dumps(body, separators=(",", ":")).encode() + b"\n"


def _static(name: str) -> bytes:
    return resources.files(__package__ or "siebel_gateway.monitor").joinpath(
        "static", name).read_bytes()


class MonitorResource(Resource):
    isLeaf = True  # noqa: N815 (Twisted)

    def __init__(self, source: MonitorSource, metrics: Metrics, hub: LiveHub,
                 actions: AdminActions, token: bytes | None) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.source, self.metrics, self.hub, self.actions = source, metrics, hub, actions
        self._token = token

    def render(self, request: Any) -> bytes | int:
        request.setHeader(b"x-content-type-options", b"nosniff")
        path = "/" + "/".join(p.decode("utf-8", "replace") for p in request.postpath)
        method = request.method.decode("ascii", "replace")
        try:
            if method == "POST":
                return self._post(request, path)
            if method not in ("GET", "HEAD"):
                raise HttpError(405, f"method {method} is not allowed on {path}")
            return self._get(request, path)
        except HttpError as exc:
            return _json(request, exc.code, {"error": exc.message})

    # -- GET -----------------------------------------------------------------------------

    def _get(self, request: Any, path: str) -> bytes | int:
        if path == "/healthz":
            return _json(request, 200, {"alive": True})
        if path == "/readyz":
            checks = self.source.status().checks()
            return _json(request, 503 if checks else 200,
                         {"ready": not checks, "checks": checks})
        if path == "/metrics":
            request.setHeader(b"content-type", CONTENT_TYPE.encode())
            return self.metrics.exposition()
        if path == "/api/status":
            return _json(request, 200, self.source.status().json())
        if path == "/api/agents":
            return _json(request, 200, self._agents(request))
        if path.startswith("/api/agents/"):
            agent_id = unquote(path[len("/api/agents/"):])
            view = self.source.agent(agent_id)
            if view is None:
                raise HttpError(404, f"no agent {agent_id!r} on this gateway")
            return _json(request, 200, view.json(self.source.now()))
        if path == "/api/events":
            self.hub.subscribe(request)
            return server.NOT_DONE_YET
        if path in ("/", "/index.html"):
            return self._file(request, "index.html")
        if path.startswith("/static/") and path[len("/static/"):] in _STATIC:
            return self._file(request, path[len("/static/"):])
        raise HttpError(404, f"nothing at {path}; see /api/status, /metrics, /readyz")

    def _file(self, request: Any, name: str) -> bytes:
        request.setHeader(b"content-type", _STATIC[name].encode())
        request.setHeader(b"content-security-policy",
                          b"default-src 'self'; style-src 'self'; script-src 'self'")
        return _static(name)

    def _agents(self, request: Any) -> dict[str, Any]:
        args = {k.decode(): v[0].decode("utf-8", "replace") for k, v in request.args.items()}
        state = args.get("state", "")
        prefix = args.get("q", "")
        try:
            offset = int(args.get("offset", "0"))
            limit = int(args.get("limit", "100000"))
        except ValueError:
            raise HttpError(400, "offset and limit must be whole numbers") from None
        if offset < 0 or limit < 1:
            raise HttpError(400, "offset must be >= 0 and limit >= 1")
        rows = sorted(self.source.agents(), key=lambda a: a.agent_id)
        by_state: dict[str, int] = {}
        for a in rows:
            by_state[a.state] = by_state.get(a.state, 0) + 1
        rows = [a for a in rows if (not state or a.state == state)
                and (not prefix or a.agent_id.startswith(prefix))]
        return {"total": len(rows), "by_state": by_state, "offset": offset,
                "agents": [a.json() for a in rows[offset:offset + limit]]}

    # -- POST (admin) ----------------------------------------------------------------------

    def _post(self, request: Any, path: str) -> bytes:
        if path not in ("/api/admin/force-logout", "/api/admin/reload-texts"):
            raise HttpError(404, f"no action at {path}; actions: /api/admin/force-logout, "
                            "/api/admin/reload-texts")
        who = self._authorise(request)
        body = self._body(request)
        operator = body.get("operator", "")
        if not isinstance(operator, str) or len(operator) > 100 or not operator.isprintable():
            raise HttpError(400, '"operator" must be a printable text of at most 100 '
                                 'characters')
        who = f"{operator or 'unnamed operator'} from {who}"
        if path == "/api/admin/force-logout":
            agent = body.get("agent")
            reason = body.get("reason", "")
            if not isinstance(agent, str) or not agent.strip() or len(agent) > 64 \
                    or not agent.isprintable():
                raise HttpError(400, 'force-logout needs "agent": the agent id as a string')
            if not isinstance(reason, str) or len(reason) > 32 or not reason.isprintable():
                raise HttpError(400, '"reason" must be a reason code as a string')
            result = self.actions.force_logout(agent.strip(), reason.strip())
            what = f"force-logout of agent {agent.strip()} (reason {reason or 'none'})"
        else:
            result = self.actions.reload_texts()
            what = "reload of the Texts overrides"
        log.info("monitor admin action by {who}: {what}: {outcome}", who=who, what=what,
                 outcome=result.message)
        return _json(request, 200 if result.ok else (result.code or 409), result.json())

    def _authorise(self, request: Any) -> str:
        peer = request.getClientAddress()
        who = f"{getattr(peer, 'host', '?')}:{getattr(peer, 'port', '?')}"
        if self._token is None:
            log.warn("monitor admin action refused from {who}: no admin token configured",
                     who=who)
            raise HttpError(403, "admin actions are disabled: this gateway has no admin "
                                 "token ([Monitor] AdminTokenFile or AdminTokenEnv)")
        header = request.getHeader(b"authorization") or b""
        scheme, _, given = header.partition(b" ")
        if scheme.lower() != b"bearer" or not given:
            raise HttpError(401, "admin actions need the header Authorization: Bearer "
                                 "<admin token>")
        if not hmac.compare_digest(given.strip(), self._token):
            log.warn("monitor admin action refused from {who}: wrong token", who=who)
            raise HttpError(403, "the admin token is not valid")
        return who

    def _body(self, request: Any) -> dict[str, Any]:
        data = request.content.read(MAX_BODY + 1) if request.content is not None else b""
        if len(data) > MAX_BODY:
            raise HttpError(413, f"request body is over {MAX_BODY} bytes")
        if not data.strip():
            return {}
        try:
            body = json.loads(data)
        except (ValueError, UnicodeDecodeError) as exc:
            raise HttpError(400, f"request body is not JSON: {exc}") from None
        if not isinstance(body, dict):
            raise HttpError(400, "request body must be a JSON object")
        return body
