"""``siebel-gateway keygen FILE``: a new Triple-DES key for ``UseSecurePassword``.

Writes 24 random bytes as hex to a new file of mode 0600 (never overwrites one) and says
where it went; the key itself is never printed.  Name the file in the gateway file's
``[Security] SecurePasswordKeyFile`` and give the Generic Connector the same key
(``simulate-gc --des-key-file FILE`` in a lab).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["add_parser", "run"]


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("keygen", help="write a new Triple-DES key file for UseSecurePassword")
    p.add_argument("file", metavar="FILE", help="the key file to create (mode 0600)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from .crypto import write_key_file

    path = Path(args.file)
    try:
        write_key_file(path)
    except FileExistsError:
        print(f"siebel-gateway keygen: {path} exists; not overwriting a key", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"siebel-gateway keygen: cannot create {path}: {exc.strerror}", file=sys.stderr)
        return 2
    print(f"siebel-gateway keygen: wrote a new Triple-DES key to {path} (mode 0600). Name it "
          "in [Security] SecurePasswordKeyFile and give the Generic Connector the same key.")
    return 0
