"""Bounds on what one SCS connection can make the gateway hold: driver instances per
connection and in all, services per driver (``[Server] MaxDriversPerConnection``,
``MaxDrivers``, ``MaxServicesPerDriver``).  Pure: counts in, a refusal (SCAPI code and the
text naming the setting) or None out; ``scs_side`` answers and logs it."""

from __future__ import annotations

from .scs_wire import ScError

__all__ = ["driver_refusal", "service_refusal"]


def driver_refusal(on_connection: int, in_all: int, *, per_connection: int,
                   overall: int) -> tuple[int, str] | None:
    """Why one more ``CreateISCDriverInstance`` is refused, given the drivers this
    connection and the gateway already hold (a driver waiting for its resume counts for the
    gateway, not for a connection)."""
    if on_connection >= per_connection:
        return int(ScError.DRIVER_CREATION_ERR), (
            f"this connection already holds {per_connection} driver instances ([Server] "
            "MaxDriversPerConnection); release one (ReleaseISCDriverInstance) before "
            "creating another")
    if in_all >= overall:
        return int(ScError.DRIVER_CREATION_ERR), (
            f"the gateway already holds {overall} driver instances ([Server] MaxDrivers); "
            "try again later")
    return None


def service_refusal(driver: str, services: int, *, per_driver: int) -> tuple[int, str] | None:
    """Why one more ``RequestService`` on ``driver`` (holding ``services``) is refused."""
    if services >= per_driver:
        return int(ScError.SERVICE_CREATION_ERR), (
            f"driver {driver!r} already holds {per_driver} services ([Server] "
            "MaxServicesPerDriver); release one (ReleaseISCServiceInstance) or create "
            "another driver instance")
    return None
