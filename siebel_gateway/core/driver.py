"""Driver instances: the parameters a ``CreateISCDriverInstance`` carries, checked once.

Parameter names are the Siebel DEF's ``Driver:`` names without the prefix (SCS strips it);
the DEF read at start gives the defaults, the request's values override them.  Unknown
names are kept (Siebel passes everything) but do not change behaviour.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ..errors import ScsFaultError

__all__ = ["DriverConfigError", "DriverSettings", "parse_driver_params", "strip_prefix"]

_BOOLS = {"TRUE": True, "Y": True, "YES": True, "1": True,
          "FALSE": False, "N": False, "NO": False, "0": False, "": False}


class DriverConfigError(ScsFaultError, ValueError):
    """A driver parameter with a value the gateway cannot use."""


@dataclass(frozen=True)
class DriverSettings:
    media_type: str = "Voice"
    language: str = "ENU"
    #: "UCCE" or "UCCX": decides single-step transfer, WORK_READY, logout rules.
    flavour: str = "UCCE"
    not_ready_reason_required: bool = False
    logout_reason_required: bool = False
    wrap_up_reason_required: bool = False
    use_secure_password: bool = False
    force_logout_on_release: bool = True
    reset_timer_on_wrap_up: bool = False
    notify_when_done: bool = False
    notify_timeout: float = 15.0
    simulate: bool = False

    @property
    def ucce(self) -> bool:
        return self.flavour == "UCCE"


_FIELDS = {
    "flavour": "Flavour", "not_ready_reason_required": "NotReadyReasonRequired",
    "logout_reason_required": "LogoutReasonRequired",
    "wrap_up_reason_required": "WrapUpReasonRequired",
    "use_secure_password": "UseSecurePassword", "force_logout_on_release": "ForceLogoutOnRelease",
    "reset_timer_on_wrap_up": "ResetTimerOnWrapUp", "notify_when_done": "NotifyWhenDone",
    "notify_timeout": "NotifyTimeoutSeconds", "simulate": "Simulate",
}


def strip_prefix(name: str) -> str:
    """A DEF parameter name as SCS passes it: without ``Driver:``/``Service:``."""
    for prefix in ("Driver:", "Service:"):
        if name.startswith(prefix):
            return name[len(prefix):]
    return name


def parse_driver_params(params: Iterable[tuple[str, str]], *, media_type: str = "Voice",
                        language: str = "ENU",
                        defaults: Iterable[tuple[str, str]] = ()) -> DriverSettings:
    """Defaults first, then ``params`` (later values win; names compare without case)."""
    values: dict[str, tuple[str, str]] = {}
    for name, value in (*defaults, *params):
        values[strip_prefix(name).casefold()] = (strip_prefix(name), value)
    out: dict[str, object] = {"media_type": media_type, "language": (language or "ENU").upper()}
    for attr, name in _FIELDS.items():
        found = values.get(name.casefold())
        if found is None:
            continue
        raw = found[1].strip()
        if attr == "flavour":
            flavour = raw.upper()
            if flavour not in ("UCCE", "UCCX"):
                raise DriverConfigError(f"driver parameter Flavour is {raw!r}; use UCCE "
                                        "(also PCCE) or UCCX")
            out[attr] = flavour
        elif attr == "notify_timeout":
            try:
                seconds = float(raw)
            except ValueError:
                seconds = -1.0
            if not 0 < seconds <= 3600:
                raise DriverConfigError(f"driver parameter NotifyTimeoutSeconds is {raw!r}; "
                                        "use a number of seconds between 0 and 3600")
            out[attr] = seconds
        else:
            flag = _BOOLS.get(raw.upper())
            if flag is None:
                raise DriverConfigError(f"driver parameter {name} is {raw!r}; use TRUE or "
                                        "FALSE")
            out[attr] = flag
    return DriverSettings(**out)  # type: ignore[arg-type]


def service_values(params: Iterable[tuple[str, str]]) -> Mapping[str, str]:
    """``Service:AgentId`` / ``AgentId`` ... as a case-insensitive lookup (first wins)."""
    out: dict[str, str] = {}
    for name, value in params:
        out.setdefault(strip_prefix(name).casefold(), value)
    return out
