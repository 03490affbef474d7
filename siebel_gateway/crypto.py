"""Triple-DES (CBC) agent passwords, as the Generic Connector's UseSecurePassword expects.

Wire form: ``3DES:`` + base64(8-byte IV + ciphertext), PKCS#7 padding, UTF-8 plaintext.
The key (16 or 24 bytes) comes from a file or an environment variable, written as hex or
base64; it is never a DEF value.  Errors never contain the key or the password.
``siebel-gateway keygen FILE`` writes a new key file (``write_key_file``); with no key
source configured, ``serve`` and ``simulate-gc`` read ``SIEBEL_GW_PASSWORD_KEY``.
"""

from __future__ import annotations

import base64
import binascii
import os
from pathlib import Path

from Crypto.Cipher import DES3
from Crypto.Util.Padding import pad, unpad

__all__ = ["DEFAULT_KEY_ENV", "PREFIX", "KeyError3DES", "decrypt_password",
           "default_key", "encrypt_password", "load_key", "new_key", "parse_key",
           "write_key_file"]

PREFIX = "3DES:"
#: The environment variable read when neither a key file nor a variable is configured.
DEFAULT_KEY_ENV = "SIEBEL_GW_PASSWORD_KEY"


class KeyError3DES(ValueError):  # noqa: N818 - reads as "Triple-DES key error"
    pass


def parse_key(text: str, where: str) -> bytes:
    text = text.strip()
    raw: bytes | None = None
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        try:
            raw = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raw = None
    if raw is None or len(raw) not in (16, 24):
        raise KeyError3DES(f"{where}: a Triple-DES key must be 16 or 24 bytes written as hex "
                           "(32 or 48 digits) or base64")
    try:
        return DES3.adjust_key_parity(raw)
    except ValueError:
        raise KeyError3DES(f"{where}: this key degenerates to single DES; choose another "
                           "key") from None


def load_key(*, file: str | None = None, env: str | None = None) -> bytes:
    if file:
        try:
            return parse_key(Path(file).read_text(), f"key file {file}")
        except OSError as exc:
            raise KeyError3DES(f"key file {file}: cannot read ({exc.strerror})") from None
    if env:
        value = os.environ.get(env)
        if not value:
            raise KeyError3DES(f"environment variable {env} (Triple-DES key) is not set")
        return parse_key(value, f"environment variable {env}")
    raise KeyError3DES("no Triple-DES key source given (a key file or environment variable)")


def default_key() -> bytes | None:
    """The key in ``SIEBEL_GW_PASSWORD_KEY``, or None when it is unset or empty."""
    if not os.environ.get(DEFAULT_KEY_ENV):
        return None
    return load_key(env=DEFAULT_KEY_ENV)


def new_key() -> bytes:
    """24 random bytes usable as a Triple-DES key (odd parity, three distinct parts)."""
    while True:
        try:
            return DES3.adjust_key_parity(os.urandom(24))
        except ValueError:  # degenerate (astronomically rare): draw again
            continue


def write_key_file(path: Path) -> None:
    """A new key as hex in a new file only its owner can read; never overwrites."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(new_key().hex() + "\n")


def encrypt_password(password: str, key: bytes, iv: bytes | None = None) -> str:
    iv = iv if iv is not None else os.urandom(8)
    cipher = DES3.new(key, DES3.MODE_CBC, iv=iv)
    data = cipher.encrypt(pad(password.encode("utf-8"), 8))
    return PREFIX + base64.b64encode(iv + data).decode("ascii")


def decrypt_password(token: str, key: bytes) -> str:
    if not token.startswith(PREFIX):
        raise ValueError("not a Triple-DES password (no 3DES: prefix)")
    try:
        raw = base64.b64decode(token[len(PREFIX):], validate=True)
        if len(raw) < 16 or len(raw) % 8:
            raise ValueError("wrong length")
        cipher = DES3.new(key, DES3.MODE_CBC, iv=raw[:8])
        return unpad(cipher.decrypt(raw[8:]), 8).decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise ValueError("the encrypted password cannot be decrypted with this key") from None
