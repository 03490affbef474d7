"""A throw-away PKI for TLS tests: a CA, a server certificate for localhost and a client
certificate signed by the CA, and a stranger's self-signed client certificate."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def _write(tmp: Path, stem: str, cert: x509.Certificate, key: Any) -> tuple[Path, Path]:
    cert_file, key_file = tmp / f"{stem}.pem", tmp / f"{stem}.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


def _cert(subject: str, key: Any, issuer: str, issuer_key: Any, *, ca: bool = False,
          server: bool = False) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    builder = (x509.CertificateBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
               .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5))
               .not_valid_after(now + datetime.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), True))
    if server:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost")]), False)
    return builder.sign(issuer_key, hashes.SHA256())


class Pki:
    def __init__(self, tmp: Path) -> None:
        ca_key = ec.generate_private_key(ec.SECP256R1())
        self.ca_cert, _ = _write(tmp, "ca", _cert("test CA", ca_key, "test CA", ca_key,
                                                  ca=True), ca_key)
        key = ec.generate_private_key(ec.SECP256R1())
        self.server_cert, self.server_key = _write(
            tmp, "server", _cert("localhost", key, "test CA", ca_key, server=True), key)
        key = ec.generate_private_key(ec.SECP256R1())
        self.client_cert, self.client_key = _write(
            tmp, "client", _cert("scs-shim", key, "test CA", ca_key), key)
        key = ec.generate_private_key(ec.SECP256R1())
        self.stranger = _write(tmp, "stranger", _cert("intruder", key, "intruder", key), key)
