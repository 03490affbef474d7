"""``siebel-gateway shim build``: compile the SCAPI shim library (and the fake channel
manager) from the C sources shipped inside the package, with the machine's C compiler.

No make or CMake is needed: one compiler invocation per artefact.  ``--scapi-h`` builds
against Siebel's own ``scapi.h`` instead of ``include/scapi_compat.h``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["SHIM_DIR", "ShimBuildError", "add_parser", "build_fakecm", "build_library", "run"]

SHIM_DIR = Path(__file__).resolve().parent
SOURCES = ("plat.c", "utf.c", "json.c", "tls.c", "conn.c", "dispatch.c", "resume.c", "shim.c")
WARNINGS = ["-std=c11", "-D_POSIX_C_SOURCE=200809L", "-Wall", "-Wextra",
            "-Wno-unused-parameter"]
SANITIZERS = {
    "address": ["-fsanitize=address,undefined", "-fno-sanitize-recover=undefined",
                "-fno-omit-frame-pointer"],
    "thread": ["-fsanitize=thread"],
}
MINGW = "x86_64-w64-mingw32-gcc"


class ShimBuildError(Exception):
    """A build that cannot go on; the message says what to do."""


@dataclass(frozen=True)
class Options:
    out: Path
    scapi_h: Path | None = None
    debug: bool = False
    target: str = "linux"
    sanitize: str | None = None
    tls: bool = True


def find_compiler(target: str) -> str:
    if target == "windows":
        found = shutil.which(MINGW)
        if not found:
            raise ShimBuildError(f"no Windows cross-compiler found ({MINGW}); install mingw-w64 "
                                 "(Debian: apt-get install mingw-w64)")
        return found
    candidates = [os.environ["CC"]] if os.environ.get("CC") else ["cc", "gcc", "clang"]
    for name in candidates:
        found = shutil.which(name)
        if found:
            return found
    raise ShimBuildError(f"no C compiler found (looked for {', '.join(candidates)}); install "
                         "one (Debian: apt-get install gcc) or set CC")


def _flags(opts: Options) -> list[str]:
    flags = [*WARNINGS, "-g"]
    flags += ["-O0", "-DSGW_DEBUG"] if opts.debug else ["-O2"]
    if opts.sanitize:
        if opts.target == "windows":
            raise ShimBuildError("--sanitize works only for the Linux build")
        flags += SANITIZERS[opts.sanitize]
    return flags


def _compile(cmd: list[str], what: str) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise ShimBuildError(f"compiling {what} failed (exit {done.returncode}):\n"
                             f"{done.stderr.strip()}\ncommand: {' '.join(cmd)}")


def _header_dir(opts: Options) -> list[str]:
    if opts.scapi_h is None:
        return [f"-I{SHIM_DIR / 'include'}"]
    if not opts.scapi_h.is_file():
        raise ShimBuildError(f"--scapi-h {opts.scapi_h}: no such file (give the scapi.h of "
                             "your Siebel installation)")
    # The sources include "scapi.h": a copy under that name, whatever the file is called.
    inc = opts.out / "scapi-include"
    inc.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(opts.scapi_h, inc / "scapi.h")
    return ["-DSGW_REAL_SCAPI", f"-I{inc}", f"-I{SHIM_DIR / 'include'}"]


def openssl_found(cc: str, out: Path) -> bool:
    """Whether OpenSSL's headers and libraries are there (GatewayTls needs them)."""
    probe = out / "openssl-probe.c"
    probe.write_text("#include <openssl/ssl.h>\nint main(void) { return SSL_library_init(); }\n")
    done = subprocess.run([cc, str(probe), "-o", str(out / "openssl-probe"), "-lssl", "-lcrypto"],
                          capture_output=True, check=False)
    probe.unlink()
    (out / "openssl-probe").unlink(missing_ok=True)
    return done.returncode == 0


def build_library(opts: Options) -> Path:
    """Builds the shim into ``opts.out`` and returns the library's path."""
    cc = find_compiler(opts.target)
    opts.out.mkdir(parents=True, exist_ok=True)
    sources = [str(SHIM_DIR / "src" / s) for s in SOURCES]
    if opts.target == "windows":
        lib = opts.out / "siebelgw_shim.dll"
        tail = ["-lws2_32", "-static-libgcc"]
        pic: list[str] = []
    else:
        lib = opts.out / "libsiebelgw_shim.so"
        tail = ["-lpthread"]
        pic = ["-fPIC", "-fvisibility=hidden"]
        if opts.tls and openssl_found(cc, opts.out):
            pic.append("-DSGW_WITH_OPENSSL")
            tail = ["-lssl", "-lcrypto", *tail]
    cmd = [cc, *_flags(opts), *pic, *_header_dir(opts), "-shared", "-o", str(lib), *sources,
           *tail]
    _compile(cmd, f"the shim ({lib.name})")
    return lib


def build_fakecm(opts: Options) -> Path:
    """Builds the fake channel manager (always against scapi_compat.h)."""
    if opts.target == "windows":
        raise ShimBuildError("the fake channel manager runs on Linux only")
    cc = find_compiler("linux")
    opts.out.mkdir(parents=True, exist_ok=True)
    exe = opts.out / "siebelgw_fakecm"
    cmd = [cc, *_flags(opts), f"-I{SHIM_DIR / 'include'}", "-o", str(exe),
           str(SHIM_DIR / "fakecm" / "fakecm.c"), "-ldl", "-lpthread"]
    _compile(cmd, "the fake channel manager")
    return exe


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("shim", help="the native SCAPI shim driver Siebel loads")
    shim_sub = p.add_subparsers(dest="shim_command", required=True, metavar="ACTION")
    b = shim_sub.add_parser("build", help="compile the shim library; prints its path")
    b.add_argument("--scapi-h", type=Path, metavar="PATH",
                   help="Siebel's scapi.h (default: the shipped scapi_compat.h)")
    b.add_argument("--out", type=Path, default=Path("build/shim"), metavar="DIR",
                   help="output directory (default build/shim)")
    b.add_argument("--debug", action="store_true", help="no optimisation, full debug info")
    b.add_argument("--target", choices=("linux", "windows"), default="linux",
                   help="windows: cross-build siebelgw_shim.dll with mingw-w64")
    b.add_argument("--no-tls", action="store_true",
                   help="leave TLS out even when OpenSSL is installed (GatewayTls then fails)")
    b.add_argument("--fake-cm", action="store_true",
                   help="also build the fake channel manager (siebelgw_fakecm)")
    b.add_argument("--sanitize", choices=sorted(SANITIZERS),
                   help="developers: AddressSanitizer+UBSan or ThreadSanitizer build")
    b.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    opts = Options(out=args.out, scapi_h=args.scapi_h, debug=args.debug, target=args.target,
                   sanitize=args.sanitize, tls=not args.no_tls)
    try:
        print(build_library(opts))
        if args.fake_cm:
            print(build_fakecm(opts))
    except ShimBuildError as e:
        print(f"siebel-gateway shim build: {e}", file=sys.stderr)
        return 1
    return 0
