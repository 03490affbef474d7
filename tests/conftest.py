"""Shared fixtures.  Broker tests get the broker that tools/test started.

Outside CI a missing broker skips those tests with a reason; in CI
(``CI`` or ``SIEBEL_GW_REQUIRE_BROKER`` set) it fails them, so a green CI
always means the end-to-end tests ran.
"""

from __future__ import annotations

import os

import pytest

from siebel_gateway.crypto import DEFAULT_KEY_ENV, new_key

# The shipped Siebel templates set UseSecurePassword = TRUE: every serve, simulate-gc and
# demo the tests start with them (and no [Security] key of their own) shares this
# session's one-off Triple-DES key through the environment.  It is never printed.
os.environ.setdefault(DEFAULT_KEY_ENV, new_key().hex())


def _required() -> bool:
    return bool(os.environ.get("SIEBEL_GW_REQUIRE_BROKER") or os.environ.get("CI"))


def _endpoint(var: str) -> tuple[str, int]:
    value = os.environ.get(var)
    if not value:
        message = (f"{var} is not set: run the suite with tools/test, which starts a "
                   "private ActiveMQ")
        if _required():
            pytest.fail(message)
        pytest.skip(message)
    host, _, port = value.rpartition(":")
    return host, int(port)


@pytest.fixture(scope="session")
def broker_stomp() -> tuple[str, int]:
    """(host, port) of the test ActiveMQ's STOMP connector."""
    return _endpoint("SIEBEL_GW_BROKER_STOMP")


@pytest.fixture(scope="session")
def broker_openwire() -> tuple[str, int]:
    return _endpoint("SIEBEL_GW_BROKER_OPENWIRE")
