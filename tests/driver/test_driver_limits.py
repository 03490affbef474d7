"""[Server] MaxDriversPerConnection with protocol v1.1: a driver waiting for its resume
counts for the gateway (MaxDrivers), not for a connection, and a resume is never refused
for the per-connection bound (docs/scs-protocol.md "ResumeDriverInstance")."""

from __future__ import annotations

from siebel_gateway.core.gateway import GatewayOptions

from .harness import Rig


def test_a_detached_driver_counts_for_the_gateway_and_its_resume_is_not_refused() -> None:
    rig = Rig(options=GatewayOptions(max_drivers_per_connection=1, max_drivers=2))
    a = rig.logged_in()
    dropped = a.client
    driver = next(iter(rig.core.drivers.values()))
    dropped.protocol.connectionLost()
    c = rig.client()
    fresh = c.call("CreateISCDriverInstance", mediaType="Voice", language="ENU",
                   connectString="", params=[])
    assert fresh["code"] == 0  # the detached driver is no longer this or any connection's
    assert c.call("CreateISCDriverInstance", mediaType="Voice", language="ENU",
                  connectString="", params=[])["code"] == 9  # one per connection
    r = c.call("ResumeDriverInstance", driver=driver.handle, session=driver.session)
    assert r["code"] == 0 and r["services"] == [{"service": a.service, "agentId": "1001"}]
    assert c.call("InvokeCommand", service=a.service, cmdTrackId="r", name="ChangeReadyState",
                  stringParam="", params=[]) == {"code": 0}
    other = rig.client()
    r = other.call("CreateISCDriverInstance", mediaType="Voice", language="ENU",
                   connectString="", params=[])
    assert r["code"] == 9 and "([Server] MaxDrivers)" in r["error"]
    assert c.call("ReleaseISCDriverInstance", driver=fresh["driver"]) == {"code": 0}
    assert other.call("CreateISCDriverInstance", mediaType="Voice", language="ENU",
                      connectString="", params=[])["code"] == 0
