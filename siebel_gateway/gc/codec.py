"""Encode GC commands and decode GC events with a ``Dialect``.

Commands: JMS TextMessages on the GC queue, JMSType (STOMP ``type``) from the command's
``Type`` template, body from its ``Body`` template.  Events: ``agentId#Event#f2#f3...``
text, typed by the dialect's field list.

The protocol has no escaping, so a value containing one of the dialect's delimiters
(``,`` ``#`` ``|``) or a line break can never be sent intact: it is refused with an error
naming the command and field (never the value: it may be a password).  Events that do not
fit the dialect are refused with a reason and counted in ``rejected``; nothing raises
past ``decode`` but ``GcDecodeError``.

A GC that sends only what the public event catalogue documents (the dialect's
``Catalogue`` positions) stops an event after its last catalogue field: ``decode`` takes
any width from there to the dialect's full width, the missing fields as None (sent but
empty is ``""`` / ``()``).  ``encode_event(..., catalogue_only=True)`` writes that form.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..errors import GcFaultError, ScsFaultError
from .dialect import Dialect, EventShape, FieldSpec
from .messages import BrokerMessage

__all__ = ["GcCodec", "GcDecodeError", "GcEncodeError", "GcEvent"]

_PLACEHOLDER = re.compile(r"\{([A-Za-z][A-Za-z0-9_]*)\}")
_CONTROL = "\r\n\x00"
_SURROGATE = re.compile("[\ud800-\udfff]")

FieldValue = str | int | bool | tuple[str, ...] | tuple[tuple[str, str], ...] | None


class GcEncodeError(ScsFaultError, ValueError):
    """A command that cannot be expressed in the dialect; ``field`` names the value it
    refused (empty when the command itself is the problem), never the value itself."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


class GcDecodeError(GcFaultError, ValueError):
    """An event that does not fit the dialect; ``kind`` groups the reasons for counting."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class GcEvent:
    name: str
    agent_id: str
    fields: Mapping[str, FieldValue] = field(default_factory=dict)

    def text(self, name: str, default: str = "") -> str:
        value = self.fields.get(name)
        return default if value is None else str(value)


def _clip(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


class GcCodec:
    def __init__(self, dialect: Dialect, *, queue: str = "Connector1",
                 client_destination: str = "siebel-gateway",
                 command_expiry: float = 30.0) -> None:
        if command_expiry < 0:
            raise ValueError("command expiry must be >= 0 seconds (0: commands never expire)")
        self.dialect = dialect
        #: Seconds a command stays valid on the broker: a GC that comes back later must not
        #: execute a stale AnswerCall.  0 sends no ``expires``.
        self.command_expiry = command_expiry
        self.queue = queue
        self.client_destination = client_destination
        self.rejected: Counter[str] = Counter()
        self.command_destination = dialect.command_destination.format(
            Queue=queue, ClientDestination=client_destination)
        self.event_destination = dialect.event_destination.format(
            Queue=queue, ClientDestination=client_destination)

    # -- commands -------------------------------------------------------------------

    def check_value(self, where: str, name: str, value: str) -> None:
        bad = next((c for c in value if c in self.dialect.forbidden or c in _CONTROL), None)
        if bad is None and _SURROGATE.search(value):
            raise GcEncodeError(f"{where}: {name} contains a lone surrogate (half of a UTF-16 "
                                "pair), which UTF-8 cannot carry", name)
        if bad is not None:
            shown = {"\r": "a carriage return", "\n": "a line break", "\x00": "a NUL"}.get(
                bad, f"'{bad}'")
            raise GcEncodeError(f"{where}: {name} contains {shown}, which the GC protocol uses "
                                "as a delimiter; it cannot be sent without being corrupted",
                                name)

    def encode(self, command: str, values: Mapping[str, str], *, now_ms: int | None = None,
               expires_ms: int = 0, headers: Mapping[str, str] | None = None) -> BrokerMessage:
        """``now_ms`` (wall clock, epoch ms) stamps ``expires = now + command_expiry``;
        ``expires_ms`` sets an absolute expiry instead."""
        shape = self.dialect.commands.get(command)
        if shape is None:
            raise GcEncodeError(f"unknown GC command {command!r} (the dialect "
                                f"{self.dialect.path} defines {', '.join(self.dialect.commands)})")
        full = {"ClientDestination": self.client_destination, "Queue": self.queue, **values}
        for name in shape.placeholders:
            if name not in full:
                raise GcEncodeError(f"GC command {command} needs {name}")
            self.check_value(f"GC command {command}", name, full[name])

        def fill(template: str) -> str:
            return _PLACEHOLDER.sub(lambda m: full[m.group(1)], template)

        out = {"type": fill(shape.type_template), **(headers or {})}
        if not expires_ms and now_ms is not None and self.command_expiry:
            expires_ms = now_ms + int(self.command_expiry * 1000)
        if expires_ms:
            out["expires"] = str(expires_ms)
        return BrokerMessage(destination=self.command_destination, body=fill(shape.body_template),
                             headers=out)

    def parse_command(self, message: BrokerMessage) -> tuple[str, dict[str, str]]:
        """The far side's view (simulator): which command, with which values."""
        jms_type = message.type
        for shape in self.dialect.commands.values():
            values = _match(shape.type_template, jms_type)
            if values is None:
                continue
            body = _match(shape.body_template, message.body)
            if body is None:
                raise GcDecodeError("body", f"GC command {shape.name}: body does not fit "
                                            f"{shape.body_template!r}")
            return shape.name, {**values, **body}
        raise GcDecodeError("unknown", f"no GC command has JMSType {_clip(jms_type)!r}")

    def redacted_body(self, message: BrokerMessage, secret: str = "Password", *,
                      keep_encrypted: bool = True) -> str:
        """The body with the ``secret`` field shown as ``***`` unless it is already
        encrypted (``3DES:...``) and ``keep_encrypted``: what traces and logs may show of a
        Connect or Login."""
        try:
            name, values = self.parse_command(message)
        except GcDecodeError:
            return message.body
        value = values.get(secret)
        if value is None or (keep_encrypted and value.startswith("3DES:")):
            return message.body
        values[secret] = "***"
        shape = self.dialect.commands[name]
        return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), ""), shape.body_template)

    # -- events ---------------------------------------------------------------------

    def encode_event(self, name: str, agent_id: str, values: Mapping[str, FieldValue], *,
                     catalogue_only: bool = False) -> str:
        """``catalogue_only``: only the public catalogue's fields, nothing after the last
        of them (what a GC written from the catalogue alone sends)."""
        shape = self.dialect.events.get(name)
        if shape is None:
            raise GcEncodeError(f"unknown GC event {name!r}")
        width = shape.catalogue_width if catalogue_only else shape.width
        parts = [agent_id, name] + [""] * (width - 2)
        self.check_value(f"GC event {name}", "agent id", agent_id)
        for spec in shape.fields:
            if not catalogue_only or spec.position in shape.catalogue:
                parts[spec.position] = self._format(name, spec, values.get(spec.name))
        return self.dialect.event_separator.join(parts)

    def _format(self, event: str, spec: FieldSpec, value: FieldValue) -> str:
        where = f"GC event {event}"
        d = self.dialect
        if value is None:
            return ""
        if spec.type == "bool":
            return "true" if value else "false"
        if spec.type in ("list", "csv"):
            sep = d.list_separator if spec.type == "list" else ","
            items = [str(v) for v in value] if isinstance(value, tuple) else [str(value)]
            for item in items:
                self.check_value(where, spec.name, item)
            return sep.join(items)
        if spec.type == "map":
            pairs = [item for item in value if isinstance(item, tuple)] \
                if isinstance(value, tuple) else []
            out = []
            for k, v in pairs:
                self.check_value(where, f"{spec.name} name", str(k))
                self.check_value(where, f"{spec.name} {k}", str(v))
                if "=" in str(k):
                    raise GcEncodeError(f"{where}: {spec.name} name {k!r} contains '='")
                out.append(f"{k}={v}")
            return d.list_separator.join(out)
        text = str(value)
        self.check_value(where, spec.name, text)
        if spec.type == "key":
            return f"key:{text}"
        if spec.type == "count":
            return f"x:{text}"
        return text

    def decode(self, body: str) -> GcEvent:
        try:
            return self._decode(body)
        except GcDecodeError as exc:
            self.rejected[exc.kind] += 1
            raise

    def _decode(self, body: str) -> GcEvent:
        parts = body.split(self.dialect.event_separator)
        if len(parts) < 2 or not parts[1]:
            raise GcDecodeError("shape", f"not a GC event (expected agentId"
                                         f"{self.dialect.event_separator}Event...): "
                                         f"{_clip(body)!r}")
        name = parts[1]
        shape = self.dialect.events.get(name)
        if shape is None:
            raise GcDecodeError("unknown", f"unknown GC event {_clip(name)!r}")
        if not shape.catalogue_width <= len(parts) <= shape.width:
            expected = str(shape.width) if shape.catalogue_width == shape.width \
                else f"{shape.catalogue_width} (the catalogue's) to {shape.width}"
            raise GcDecodeError("width", f"GC event {name} has {len(parts)} fields; the dialect "
                                         f"expects {expected}: {_clip(body)!r}")
        values = {spec.name: self._convert(shape, spec, parts[spec.position])
                  if spec.position < len(parts) else None
                  for spec in shape.fields}
        return GcEvent(name=name, agent_id=parts[0], fields=values)

    def _convert(self, shape: EventShape, spec: FieldSpec, raw: str) -> FieldValue:
        where = f"GC event {shape.name} field {spec.position} ({spec.name})"
        t = spec.type
        if t == "text":
            return raw
        if t == "int":
            if raw == "":
                return None
            try:
                return int(raw)
            except ValueError:
                raise GcDecodeError("number", f"{where} is not a number: "
                                              f"{_clip(raw)!r}") from None
        if t == "bool":
            if raw.casefold() not in ("true", "false"):
                raise GcDecodeError("bool", f"{where} is not true/false: {_clip(raw)!r}")
            return raw.casefold() == "true"
        if t in ("list", "csv"):
            sep = self.dialect.list_separator if t == "list" else ","
            return tuple(raw.split(sep)) if raw else ()
        if t == "map":
            pairs = []
            for item in (raw.split(self.dialect.list_separator) if raw else []):
                k, eq, v = item.partition("=")
                if not eq:
                    raise GcDecodeError("map", f"{where}: {_clip(item)!r} is not name=value")
                pairs.append((k, v))
            return tuple(pairs)
        prefix = "key:" if t == "key" else "x:"
        if not raw.startswith(prefix):
            raise GcDecodeError("prefix", f"{where} should start with {prefix!r}: {_clip(raw)!r}")
        rest = raw[len(prefix):]
        if t == "count":
            if not rest.isdigit():
                raise GcDecodeError("number", f"{where} is not x:<number>: {_clip(raw)!r}")
            return int(rest)
        return rest


def _match(template: str, text: str) -> dict[str, str] | None:
    """Invert a ``{Name}`` template; placeholders never contain delimiters."""
    m = _template_pattern(template).fullmatch(text)
    return m.groupdict() if m else None


@functools.lru_cache(maxsize=256)
def _template_pattern(template: str) -> re.Pattern[str]:
    """Compiled once per template (building it was ~7 % of the simulator's CPU under load)."""
    return re.compile("".join(
        f"(?P<{part}>[^,#|]*)" if i % 2 else re.escape(part)
        for i, part in enumerate(_PLACEHOLDER.split(template))))
