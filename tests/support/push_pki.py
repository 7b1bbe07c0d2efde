"""A test certificate authority and a server certificate signed by it, for the push stand-ins' TLS.

The stand-ins speak real TLS, so a client reaches them only if it trusts this CA: notify through
ACCUEIL_PUSH_CA_FILE (added to the default trust store), a third-party client through its SSL context.
The server certificate names `localhost` and `127.0.0.1`, so hostname checks stay on.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True)
class TestPki:
    __test__ = False  # a helper, not a test class for pytest to collect

    ca_file: Path
    cert_file: Path
    key_file: Path

    def server_context(self, alpn: Sequence[str] = ("h2",)) -> ssl.SSLContext:
        """A server-side context with the certificate, offering `alpn` (HTTP/2 wants TLS 1.2 or later)."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(self.cert_file, self.key_file)
        context.set_alpn_protocols(list(alpn))
        return context

    def client_context(self, alpn: Sequence[str] = ("h2",)) -> ssl.SSLContext:
        """A client-side context trusting the test CA alone, offering `alpn`."""
        context = ssl.create_default_context(cafile=str(self.ca_file))
        context.set_alpn_protocols(list(alpn))
        return context


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _files(directory: Path) -> TestPki:
    return TestPki(directory / "push-ca.pem", directory / "push-server.pem", directory / "push-server.key")


def make_pki(directory: Path) -> TestPki:
    """A fresh CA (EC P-256) and a server certificate for localhost and 127.0.0.1, as PEM files in `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    # Backdated a little: a client whose clock is a second behind must not see a certificate from the future.
    not_before, not_after = now - dt.timedelta(hours=1), now + dt.timedelta(days=30)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("accueil test push CA")
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("localhost"))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    pki = _files(directory)
    pki.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    pki.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pki.key_file.write_bytes(_pem(key))
    pki.key_file.chmod(0o600)
    return pki


def load_pki(directory: Path) -> TestPki:
    """The PKI `make_pki` wrote in `directory` (for a stand-in in another process)."""
    pki = _files(directory)
    for path in (pki.ca_file, pki.cert_file, pki.key_file):
        if not path.is_file():
            raise FileNotFoundError(path)
    return pki
