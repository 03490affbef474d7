"""The shim tests build the library and the fake channel manager once per session, with
AddressSanitizer + UndefinedBehaviorSanitizer (SIEBEL_GW_SHIM_SANITIZE=none|address|thread
chooses), and run them against real gateways."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from siebel_gateway.shim.build import Options, build_fakecm, build_library

from .fakecm import FakeCM
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


@pytest.fixture(scope="session")
def shim_tsan(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """A ThreadSanitizer build, for the tests that drive many threads at once."""
    return build(tmp_path_factory.mktemp("shim-tsan"), "thread")


@pytest.fixture
def lab(broker_stomp: tuple[str, int], tmp_path: Path) -> Iterator[ShimLab]:
    lab = ShimLab(broker_stomp, tmp_path)
    try:
        yield lab
    finally:
        lab.stop()


@pytest.fixture
def start_cm(shim: Built, tmp_path: Path) -> Iterator[Callable[..., FakeCM]]:
    """Starts fake channel managers on the session's build; a test that fails leaves none
    running."""
    made: list[FakeCM] = []

    def make(timeout: float = 30.0, built: Built | None = None) -> FakeCM:
        b = built or shim
        cm = FakeCM(b.fakecm, b.lib, tmp_path, timeout=timeout)
        made.append(cm)
        return cm

    yield make
    for cm in made:
        if cm.proc.poll() is None:
            cm.proc.kill()
            cm.proc.wait()
