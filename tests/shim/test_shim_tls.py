"""GatewayTls: the shim speaks TLS to ``serve`` (memory:// broker with its built-in GC
simulator), verifying the gateway's certificate against GatewayCaFile and its host name."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ..driver.test_serve_cli import _self_signed, tls_serve
from .agent_day import login
from .fakecm import FakeCM


@pytest.fixture
def tls_gateway(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    with tls_serve(tmp_path) as served:
        yield served


def test_an_agent_logs_in_over_tls(start_cm: Callable[..., FakeCM],
                                   tls_gateway: tuple[int, Path], tmp_path: Path) -> None:
    port, cert = tls_gateway
    cm = start_cm()
    r = cm.driver("d", [["Driver:GatewayAddress", f"localhost:{port}"],
                        ["Driver:GatewayTls", "TRUE"], ["Driver:GatewayCaFile", str(cert)]])
    assert r["code"] == 0, (r, cm.log.read_text())
    a = cm.service("a", "d", [["Service:AgentId", "1001"], ["Service:Extension", "2001"]])
    login(a, "1001")
    assert a.release() == 0
    assert cm.cmd("release_driver", "d")["code"] == 0

    # a certificate nobody vouches for, or a name it does not carry: no connection
    (tmp_path / "other").mkdir()
    other, _ = _self_signed(tmp_path / "other")
    r = cm.driver("e", [["GatewayAddress", f"localhost:{port}"], ["GatewayTls", "TRUE"],
                        ["GatewayCaFile", str(other)]])
    assert r["code"] == 6
    r = cm.driver("f", [["GatewayAddress", f"127.0.0.1:{port}"], ["GatewayTls", "TRUE"],
                        ["GatewayCaFile", str(cert)]])
    assert r["code"] == 6  # the certificate names localhost only
    cm.close()
    log = cm.log.read_text()
    assert "the gateway's certificate is not trusted" in log
    assert "secret1001" not in log
