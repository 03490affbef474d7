"""The shim tests build the library and the fake channel manager once per session, with
AddressSanitizer + UndefinedBehaviorSanitizer (SIEBEL_GW_SHIM_SANITIZE=none|address|thread
chooses), and run them against real gateways."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from siebel_gateway.shim.build import Options, build_fakecm, build_library

from .lab import ShimLab


@dataclass(frozen=True)
class Built:
    lib: Path
    fakecm: Path
    sanitize: str | None


def build(out: Path, sanitize: str | None) -> Built:
    opts = Options(out=out, sanitize=sanitize)
    return Built(build_library(opts), build_fakecm(opts), sanitize)


@pytest.fixture(scope="session")
def shim(tmp_path_factory: pytest.TempPathFactory) -> Built:
    choice = os.environ.get("SIEBEL_GW_SHIM_SANITIZE", "address")
    return build(tmp_path_factory.mktemp("shim"), None if choice == "none" else choice)


@pytest.fixture
def lab(broker_stomp: tuple[str, int], tmp_path: Path) -> Iterator[ShimLab]:
    lab = ShimLab(broker_stomp, tmp_path)
    try:
        yield lab
    finally:
        lab.stop()
