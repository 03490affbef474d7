"""The ``config`` of a trace's start line: what a fresh core needs to behave as the one
that wrote the trace, and the core built back from it.

Shipped resources (the default GC dialect, the shipped texts) are *not* copied into the
trace: a golden trace must show a change in them as a diff.  A site's own dialect file and
locale texts are copied, so a field trace replays with the site's settings anywhere.
Secrets are not: driver parameters named like passwords (``records.redact``) are written as
``***``, and the
Triple-DES key is only said to exist (replay compares password fields masked).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from ..core.gateway import GatewayCore, GatewayOptions
from ..gc.codec import GcCodec
from ..gc.dialect import load_dialect
from ..locales import load_catalog, locale_files
from .duplex import duplex_core
from .records import redact

__all__ = ["ConfigError", "core_from_config", "trace_config"]


class ConfigError(ValueError):
    """The start line cannot be turned back into a gateway core."""


def trace_config(*, codec: GcCodec, options: GatewayOptions, secure_password: bool,
                 dialect_file: str = "", locale_dir: str = "",
                 duplex: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``duplex``: a duplex gateway's GCs and mode (``trace.duplex.duplex_config``)."""
    opts = asdict(options)
    opts["driver_defaults"] = redact([[k, v] for k, v in options.driver_defaults])
    config: dict[str, Any] = {
        "queue": codec.queue, "client_destination": codec.client_destination,
        "command_expiry": codec.command_expiry, "options": opts,
        "secure_password": secure_password,
    }
    if duplex is not None:
        config["duplex"] = dict(duplex)
    if dialect_file:
        with open(dialect_file, encoding="utf-8") as f:
            config["dialect"] = {"file": dialect_file, "text": f.read()}
    if locale_dir:
        config["locale"] = {name: data.decode("utf-8")
                            for name, data in locale_files(locale_dir).items()}
    return config


def _masked(password: str) -> str:
    return "3DES:***"


def core_from_config(config: Mapping[str, Any]) -> GatewayCore:
    """Raises ``ConfigError`` naming what is wrong with the start line."""
    from ..def_file import DefFileError

    try:
        raw = dict(config["options"])
        raw["media_types"] = tuple(raw.get("media_types", ("Voice",)))
        raw["driver_defaults"] = tuple((str(k), str(v))
                                       for k, v in raw.get("driver_defaults", ()))
        options = GatewayOptions(**raw)
        dialect_info = config.get("dialect")
        dialect = load_dialect(dialect_info["file"], data=dialect_info["text"].encode()) \
            if dialect_info else load_dialect()
        locale = config.get("locale")
        catalog = load_catalog(files={k: v.encode() for k, v in locale.items()}) \
            if locale else load_catalog()
        codec = GcCodec(dialect, queue=config["queue"],
                        client_destination=config["client_destination"],
                        command_expiry=float(config["command_expiry"]))
        encrypt = _masked if config.get("secure_password") else None
        if config.get("duplex") is not None:
            return duplex_core(config["duplex"], dialect=dialect,
                               command_expiry=float(config["command_expiry"]),
                               catalog=catalog, options=options, encrypt=encrypt)
    except DefFileError as exc:
        raise ConfigError("the dialect or texts in the start line have errors:\n"
                          + "\n".join(p.format() for p in exc.problems)) from None
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ConfigError(f"the start line's config is incomplete or malformed ({exc!r})") \
            from None
    return GatewayCore(codec, catalog, options, encrypt=encrypt)
