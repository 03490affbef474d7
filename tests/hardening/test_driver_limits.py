"""D5's family: one SCS connection cannot make the gateway hold driver instances or
services without bound ([Server] MaxDriversPerConnection, MaxDrivers, MaxServicesPerDriver),
over real TCP against ``serve``; a refusal names the setting and costs nothing else."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from siebel_gateway.core.gateway import GatewayOptions
from siebel_gateway.def_file import DefFileError
from siebel_gateway.settings import load_settings

from ..driver.scs_client import ScsSocketClient
from .serving import TEMPLATES, start


def _driver(c: ScsSocketClient) -> dict[str, Any]:
    return c.call("CreateISCDriverInstance", mediaType="Voice", language="ENU",
                  connectString="", params=[])


def _service(c: ScsSocketClient, driver: str, agent: str = "") -> dict[str, Any]:
    params = [["AgentId", agent], ["Extension", "2" + agent[1:]]] if agent else []
    return c.call("RequestService", driver=driver, connectString="", params=params)


def test_drivers_past_the_limits_are_refused_and_a_release_frees_a_slot(
        tmp_path: Path) -> None:
    served = start(tmp_path, 'MaxDriversPerConnection = "2"\nMaxDrivers = "3"')
    try:
        c = ScsSocketClient("127.0.0.1", served.port)
        first = _driver(c)["driver"]
        svc = _service(c, first, "1001")["service"]
        r = c.call("InvokeCommand", service=svc, cmdTrackId="1", name="LogIn",
                   stringParam="", params=[["AgentPin", "secret1001"]])
        assert r == {"code": 0}, r
        c.wait_event("EventAgentLogin")
        second = _driver(c)["driver"]
        assert _driver(c) == {"code": 9, "error": "this connection already holds 2 driver "
                              "instances ([Server] MaxDriversPerConnection); release one "
                              "(ReleaseISCDriverInstance) before creating another"}
        # the connection, its drivers and its agent go on
        assert c.call("InvokeCommand", service=svc, cmdTrackId="2", name="ChangeReadyState",
                      stringParam="", params=[]) == {"code": 0}
        c.wait_event("EventAgentReady")
        assert _service(c, second)["code"] == 0
        # another connection has its own allowance, up to the gateway's
        other = ScsSocketClient("127.0.0.1", served.port)
        assert _driver(other)["code"] == 0
        assert _driver(other) == {"code": 9, "error": "the gateway already holds 3 driver "
                                  "instances ([Server] MaxDrivers); try again later"}
        # a released driver frees its slot (in the connection's and the gateway's count)
        assert c.call("ReleaseISCDriverInstance", driver=second) == {"code": 0}
        third = _driver(c)
        assert third["code"] == 0 and third["driver"] not in (first, second)
        assert c.call("InvokeCommand", service=svc, cmdTrackId="3",
                      name="ChangeNotReadyState", stringParam="",
                      params=[["ReasonCode", "1"]]) == {"code": 0}
        c.wait_event("EventAgentNotReady")
        other.close()
        c.close()
    finally:
        served.stop()
    log = served.log_text()
    assert "CreateISCDriverInstance refused" in log
    assert "MaxDriversPerConnection" in log and "MaxDrivers)" in log


def test_services_past_the_limit_are_refused_and_a_release_frees_a_slot(
        tmp_path: Path) -> None:
    served = start(tmp_path, 'MaxServicesPerDriver = "2"')
    try:
        c = ScsSocketClient("127.0.0.1", served.port)
        driver = _driver(c)["driver"]
        one, two = (_service(c, driver)["service"] for _ in range(2))
        assert _service(c, driver) == {"code": 11, "error": f"driver {driver!r} already "
                                       "holds 2 services ([Server] MaxServicesPerDriver); "
                                       "release one (ReleaseISCServiceInstance) or create "
                                       "another driver instance"}
        assert _service(c, _driver(c)["driver"])["code"] == 0  # another driver may
        assert c.call("ReleaseISCServiceInstance", service=two) == {"code": 0}
        assert _service(c, driver)["code"] == 0
        assert c.call("ReleaseISCServiceInstance", service=one) == {"code": 0}
        c.close()
    finally:
        served.stop()
    assert "MaxServicesPerDriver" in served.log_text()


def test_the_shipped_file_states_the_defaults_and_a_zero_bound_is_refused(
        tmp_path: Path) -> None:
    s = load_settings(TEMPLATES / "gateway.def")
    o = GatewayOptions()
    assert (s.max_drivers_per_connection, s.max_drivers, s.max_services_per_driver) \
        == (o.max_drivers_per_connection, o.max_drivers, o.max_services_per_driver) \
        == (32, 10_000, 20_000)
    bad = tmp_path / "gw.def"
    bad.write_text('[Server]\nMaxDriversPerConnection = "0"\n')
    with pytest.raises(DefFileError) as err:
        load_settings(bad)
    assert "MaxDriversPerConnection" in str(err.value) and "gw.def:2" in str(err.value)
