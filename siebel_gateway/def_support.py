"""Does a Siebel DEF ask only for what the gateway (or a given driver) supports?

Every ``DeviceCommand`` a command invokes and every ``DeviceEvent`` a handler listens to
must be on the driver's lists (``RequestCommandEventList``); Siebel's own special names
(``@...``) are run by Siebel and never reach the driver.  A command with no DeviceCommand,
no subcommands and no ServiceMethod falls back to a device command of its own name, as
SCS does.  Used by ``serve`` at start and by the console against a live gateway.
"""

from __future__ import annotations

from collections.abc import Collection

from .def_file import DefModel, Problem, Severity
from .def_file.model import Command

__all__ = ["driver_defaults", "unsupported"]


def _device_command(c: Command) -> tuple[str, int, int] | None:
    p = c.get_param("DeviceCommand")
    if p is not None:
        return p.value, p.line, p.value_column
    if c.subcommands or c.get("ServiceMethod") or c.get("Script"):
        return None
    return c.name, c.line, 1


def unsupported(model: DefModel, commands: Collection[str],
                events: Collection[str]) -> list[Problem]:
    problems: list[Problem] = []

    def err(line: int, column: int, message: str) -> None:
        problems.append(Problem(file=model.path, line=line, column=column,
                                severity=Severity.ERROR, message=message))

    for c in model.commands.values():
        found = _device_command(c)
        if found is None or found[0].startswith("@") or found[0] in commands:
            continue
        name, line, column = found
        err(line, column, f"[Command:{c.name}] DeviceCommand {name!r} is not supported by the "
                          f"gateway (it supports {', '.join(sorted(commands))})")
    for h in model.handlers.values():
        p = h.get_param("DeviceEvent")
        if p is None or p.value.startswith("@") or p.value in events:
            continue
        err(p.line, p.value_column, f"[EventHandler:{h.name}] DeviceEvent {p.value!r} is not "
                                    f"sent by the gateway (it sends {', '.join(sorted(events))})")
    return problems


def driver_defaults(model: DefModel) -> tuple[tuple[str, str], ...]:
    """The ``Driver:`` and unprefixed driver parameters of every [Driver Parameters:X]."""
    return tuple((k, v) for s in model.driver_parameters.values()
                 for k, v in s.values
                 if not k.startswith("Service:"))
