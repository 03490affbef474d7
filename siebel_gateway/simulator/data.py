"""Agents, reason codes and wrap-up reasons from Finesse REST XML documents (lxml).

Accepted shapes are those of ``GET /finesse/api/Users`` (or a single ``User``),
``/ReasonCodes`` and ``/WrapUpReasons``; element names are matched without regard to a
leading capital (Cisco's own samples mix ``<user>`` and ``<User>``).  Anything wrong is
reported as ``DataError`` naming the file and line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

__all__ = ["Agent", "DataError", "ReasonCode", "SimulatorData", "load_data", "sample_data"]

DATA_DIR = Path(__file__).parent / "data"
WRAP_MODES = ("REQUIRED", "REQUIRED_WITH_WRAP_UP_DATA", "OPTIONAL", "NOT_ALLOWED")


class DataError(ValueError):
    pass


@dataclass(frozen=True)
class Agent:
    id: str
    first_name: str
    last_name: str
    extension: str
    password: str = field(repr=False)
    team: str = ""
    supervisor: bool = False
    wrap_up_incoming: str = "OPTIONAL"
    wrap_up_outgoing: str = "NOT_ALLOWED"
    wrap_up_timer: int = 60

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


@dataclass(frozen=True)
class ReasonCode:
    id: int  # Finesse database id (the {id} of /finesse/api/ReasonCode/{id})
    code: int  # CTI code, what agents and the GC use
    label: str
    category: str  # NOT_READY or LOGOUT


@dataclass(frozen=True)
class SimulatorData:
    agents: dict[str, Agent]
    reasons: tuple[ReasonCode, ...]
    wrap_up_reasons: tuple[str, ...]

    def reason(self, category: str, code: int) -> ReasonCode | None:
        return next((r for r in self.reasons if r.category == category and r.code == code), None)

    def category(self, category: str) -> tuple[ReasonCode, ...]:
        return tuple(r for r in self.reasons if r.category == category)

    def agent_on(self, extension: str) -> Agent | None:
        return next((a for a in self.agents.values() if a.extension == extension), None)


def _local(el: etree._Element) -> str:
    tag = el.tag if isinstance(el.tag, str) else ""
    return tag.rsplit("}", 1)[-1].casefold()


def _child(el: etree._Element, name: str) -> etree._Element | None:
    return next((c for c in el if _local(c) == name.casefold()), None)


def _text(el: etree._Element, name: str, path: Path, *, required: bool = True,
          default: str = "") -> str:
    child = _child(el, name)
    if child is None or child.text is None:
        if required:
            raise DataError(f"{path}:{el.sourceline}: <{_local(el)}> has no <{name}>")
        return default
    return child.text.strip()


def _parse(path: Path) -> etree._Element:
    try:
        return etree.parse(str(path), etree.XMLParser(resolve_entities=False)).getroot()
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if exc.lineno is not None else 0
        raise DataError(f"{path}:{line}: not well-formed XML: {exc.msg}") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read: {exc}") from None


def _int(text: str, path: Path, el: etree._Element, what: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise DataError(f"{path}:{el.sourceline}: {what} {text!r} is not a number") from None


def load_users(path: Path) -> dict[str, Agent]:
    root = _parse(path)
    users = [root] if _local(root) == "user" else [u for u in root if _local(u) == "user"]
    agents: dict[str, Agent] = {}
    for u in users:
        agent_id = _text(u, "loginId", path)
        settings = _child(u, "settings")
        modes = {}
        for key in ("wrapUpOnIncoming", "wrapUpOnOutgoing"):
            value = _text(settings, key, path, required=False, default="OPTIONAL"
                          if key == "wrapUpOnIncoming" else "NOT_ALLOWED") \
                if settings is not None else ("OPTIONAL" if key == "wrapUpOnIncoming"
                                              else "NOT_ALLOWED")
            if value not in WRAP_MODES:
                raise DataError(f"{path}:{u.sourceline}: {key} {value!r} is not one of "
                                f"{', '.join(WRAP_MODES)}")
            modes[key] = value
        timer = _text(settings, "wrapUpTimer", path, required=False, default="60") \
            if settings is not None else "60"
        roles = _child(u, "roles")
        supervisor = roles is not None and any((r.text or "").strip() == "Supervisor"
                                               for r in roles)
        if agent_id in agents:
            raise DataError(f"{path}:{u.sourceline}: user {agent_id} is defined twice")
        password = _text(u, "password", path, required=False, default="")
        agents[agent_id] = Agent(
            id=agent_id, first_name=_text(u, "firstName", path, required=False),
            last_name=_text(u, "lastName", path, required=False),
            extension=_text(u, "extension", path, required=False), password=password,
            team=_text(u, "teamName", path, required=False), supervisor=supervisor,
            wrap_up_incoming=modes["wrapUpOnIncoming"],
            wrap_up_outgoing=modes["wrapUpOnOutgoing"],
            wrap_up_timer=_int(timer, path, u, "wrapUpTimer"))
    if not agents:
        raise DataError(f"{path}:{root.sourceline}: no <User> elements")
    return agents


def load_reasons(path: Path) -> tuple[ReasonCode, ...]:
    root = _parse(path)
    out = []
    for r in (c for c in root if _local(c) == "reasoncode"):
        uri = _text(r, "uri", path)
        category = _text(r, "category", path)
        if category not in ("NOT_READY", "LOGOUT"):
            raise DataError(f"{path}:{r.sourceline}: category {category!r} is not NOT_READY "
                            "or LOGOUT")
        out.append(ReasonCode(id=_int(uri.rstrip("/").rsplit("/", 1)[-1], path, r, "uri id"),
                              code=_int(_text(r, "code", path), path, r, "code"),
                              label=_text(r, "label", path), category=category))
    return tuple(out)


def load_wrap_up(path: Path) -> tuple[str, ...]:
    root = _parse(path)
    return tuple(_text(w, "label", path) for w in root if _local(w) == "wrapupreason")


def load_data(users: Path, reasons: Path, wrap_up: Path) -> SimulatorData:
    return SimulatorData(load_users(users), load_reasons(reasons), load_wrap_up(wrap_up))


def sample_data() -> SimulatorData:
    return load_data(DATA_DIR / "users.xml", DATA_DIR / "reason_codes.xml",
                     DATA_DIR / "wrap_up_reasons.xml")
