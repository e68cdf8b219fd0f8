"""Self-signed key pairs for the development stand-ins (the dev MPass IdP and the dev SAML SP).

Real deployments use the certificate registered with MPass; these are only for
one machine, live under ``instance/saml/`` (gitignored) and are made on first use.
"""
from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

VALID_FOR = dt.timedelta(days=3650)


def ensure_keypair(directory: Path | str, name: str) -> tuple[Path, Path]:
    """Return ``(cert_path, key_path)`` for ``directory/name.crt`` and ``.key``, creating them if missing.

    The certificate is a self-signed RSA-2048 certificate (sha256) whose subject is ``name``.
    An existing pair is kept as is, so restarting the stack keeps the trust between IdP and SP.
    """
    directory = Path(directory)
    cert_path = directory / f"{name}.crt"
    key_path = directory / f"{name}.key"
    if cert_path.exists() and key_path.exists():
        return cert_path, key_path
    directory.mkdir(parents=True, exist_ok=True)

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "MD"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "eSocial development"),
        x509.NameAttribute(NameOID.COMMON_NAME, name),
    ])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + VALID_FOR)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.TraditionalOpenSSL,
        encryption_algorithm=serialization.NoEncryption(),
    )
    # The key is readable by its owner only; write it first so a crash never leaves a cert without its key.
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key_pem)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path
