"""A self-signed certificate for the local Snowflake stand-in.

The Snowflake connector always speaks HTTPS through the stock SnowflakeHook (the hook drops
``protocol=http``), so the stand-in serves TLS. Clients trust it through REQUESTS_CA_BUNDLE set
to a bundle of certifi's roots plus this certificate, so real HTTPS (S3, PyPI) keeps working.
"""

from __future__ import annotations

import ipaddress
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import certifi
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def make_self_signed_cert(
    cert_path: str | os.PathLike[str],
    key_path: str | os.PathLike[str],
    bundle_path: str | os.PathLike[str],
    days: int = 825,
) -> None:
    """Write a self-signed EC P-256 certificate for localhost / 127.0.0.1 (and the names containers use), its key
    and a CA bundle.

    The bundle is certifi's roots followed by the certificate.
    """
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                 # how containers reach it: docker-compose's `local-stack` service, the host from Astro
                 x509.DNSName("local-stack"), x509.DNSName("host.docker.internal")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
                key_agreement=False, key_cert_sign=False, crl_sign=False, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )  # fmt: skip
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        # Python 3.13's default context (VERIFY_X509_STRICT) requires an authority key identifier
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )

    Path(cert_path).write_bytes(cert_pem)
    # the key is a throw-away, but still not for other users of the machine
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key_pem)
    roots = Path(certifi.where()).read_bytes()
    Path(bundle_path).write_bytes(roots.rstrip(b"\n") + b"\n" + cert_pem)
