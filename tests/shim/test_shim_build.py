"""``siebel-gateway shim build``: the library from the sources inside the package, against
the shipped scapi_compat.h or a given scapi.h, the Windows cross-build, and clear errors."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from siebel_gateway.shim.build import MINGW, SHIM_DIR

ROOT = Path(__file__).resolve().parents[2]
EXPORTS = ["APIVersion", "CreateISCDriverInstance", "RequestCommandEventList",
           "FreeSCStrParamList", "RequestService", "ReleaseISCDriverInstance",
           "GetImplementationObject", "InvokeCommand", "InvokeCommandEx", "AcceptWorkItem",
           "HandleQueuedWorkItem", "NotifyEventHandlingFinished", "ReleaseWorkItem",
           "SuspendWorkItem", "ResumeWorkItem", "ReleaseISCServiceInstance"]
#: The cross-compiler's objdump (reads the DLL's export table).
OBJDUMP = "x86_64-w64-mingw32-objdump"


def shim_build(*args: str, env: dict[str, str] | None = None, cwd: Path = ROOT,
               python_path: Path | None = None) -> subprocess.CompletedProcess[str]:
    e = {**os.environ, **(env or {})}
    if python_path:
        e["PYTHONPATH"] = str(python_path)
    return subprocess.run([sys.executable, "-m", "siebel_gateway.cli", "shim", "build", *args],
                          capture_output=True, text=True, cwd=cwd, env=e, check=False)


def test_build_prints_the_library_that_exports_every_scapi_function(tmp_path: Path) -> None:
    done = shim_build("--out", str(tmp_path / "out"), "--fake-cm", "--debug")
    assert done.returncode == 0, done.stderr
    lib, fakecm = (Path(p) for p in done.stdout.split())
    assert lib == tmp_path / "out" / "libsiebelgw_shim.so" and lib.is_file()
    assert fakecm.name == "siebelgw_fakecm" and os.access(fakecm, os.X_OK)
    nm = subprocess.run(["nm", "-D", "--defined-only", str(lib)], capture_output=True,
                        text=True, check=True).stdout
    exported = {line.split()[-1] for line in nm.splitlines() if " T " in line}
    assert exported == set(EXPORTS)  # nothing else leaks out of the library


def test_no_compiler_is_a_clear_error(tmp_path: Path) -> None:
    done = shim_build("--out", str(tmp_path), env={"CC": "/nonexistent/cc"})
    assert done.returncode == 1
    assert done.stderr.startswith("siebel-gateway shim build: no C compiler found "
                                  "(looked for /nonexistent/cc)")
    assert "Traceback" not in done.stderr
    done = shim_build("--out", str(tmp_path), "--target", "windows", env={"PATH": "/nonexistent"})
    assert done.returncode == 1
    assert f"no Windows cross-compiler found ({MINGW}); install mingw-w64" in done.stderr


def test_build_against_siebels_own_header(tmp_path: Path) -> None:
    real = tmp_path / "SCAPI.H"  # whatever its name, it is included as scapi.h
    real.write_text((SHIM_DIR / "include" / "scapi_compat.h").read_text())
    done = shim_build("--out", str(tmp_path / "out"), "--scapi-h", str(real))
    assert done.returncode == 0, done.stderr
    # the given header is the one used: one that lacks the types does not compile
    bad = tmp_path / "empty.h"
    bad.write_text("/* not the SCAPI header */\n")
    done = shim_build("--out", str(tmp_path / "out2"), "--scapi-h", str(bad))
    assert done.returncode == 1
    assert "compiling the shim (libsiebelgw_shim.so) failed" in done.stderr
    assert "ISC_CHAR" in done.stderr  # the compiler's own words follow
    done = shim_build("--out", str(tmp_path / "out3"), "--scapi-h", str(tmp_path / "nope.h"))
    assert done.returncode == 1
    assert "nope.h: no such file" in done.stderr


def _mingw() -> str | None:
    found = shutil.which(MINGW)
    if (found and shutil.which(OBJDUMP)) or os.geteuid() != 0:
        return found
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq",
                                                "gcc-mingw-w64-x86-64",
                                                "binutils-mingw-w64-x86-64"]):
        if subprocess.run(cmd, capture_output=True, env=env, check=False).returncode != 0:
            return None
    return shutil.which(MINGW)


def test_windows_cross_build(tmp_path: Path) -> None:
    if not _mingw():
        pytest.skip(f"{MINGW} is missing and Debian's gcc-mingw-w64-x86-64 could not be "
                    "installed (not root, or no package source)")
    done = shim_build("--out", str(tmp_path), "--target", "windows")
    assert done.returncode == 0, done.stderr
    dll = Path(done.stdout.strip())
    assert dll == tmp_path / "siebelgw_shim.dll"
    assert dll.read_bytes()[:2] == b"MZ"
    objdump = shutil.which(OBJDUMP)
    assert objdump, (f"{OBJDUMP} is missing, so the DLL's export table cannot be checked: it "
                     "comes with the cross-compiler (Debian binutils-mingw-w64-x86-64, which "
                     "tools/test installs)")
    table = subprocess.run([objdump, "-p", str(dll)], capture_output=True, text=True,
                           check=True).stdout
    for name in EXPORTS:
        assert f" {name}\n" in table, name


def test_an_installed_package_builds_the_shim(tmp_path: Path) -> None:
    wheel_dir = tmp_path / "wheel"
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
                           "-w", str(wheel_dir), str(ROOT)], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    (wheel,) = wheel_dir.glob("siebel_gateway-*.whl")
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        z.extractall(tmp_path / "site")
    for part in ("include/scapi_compat.h", "src/shim.c", "src/plat.h", "fakecm/fakecm.c",
                 "Makefile"):
        assert f"siebel_gateway/shim/{part}" in names, part
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    built = shim_build("--out", "out", "--fake-cm", cwd=elsewhere,
                       python_path=tmp_path / "site")
    assert built.returncode == 0, built.stderr
    assert built.stdout.split()[0] == "out/libsiebelgw_shim.so"
    assert (elsewhere / "out" / "siebelgw_fakecm").is_file()
