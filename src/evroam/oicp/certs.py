"""Keys and certificates for OICP's mutual TLS: a partner's key and CSR for Hubject's PKI,
and a development CA with the hub's server certificate and partner certificates.

OICP has no tokens: a partner is who its client certificate says it is, and the hub
compares that identity with the OperatorID/ProviderID each request acts for (digest §6,
status 017). Two kinds of material follow from that:

* **Production**: a partner generates its own private key and sends Hubject (or the
  operator of an evroam hub) a PKCS#10 request whose subject CN is its OperatorID or
  ProviderID (:func:`make_csr`). The key never leaves the machine.
* **Development**: a throw-away CA (:func:`make_dev_ca`) signs the hub's server
  certificate (:func:`make_server_cert`) and partner certificates
  (:func:`make_partner_cert`), so a hub and its partners run over real mutual TLS on one
  machine.

Partner certificates carry the identity twice: as the subject CN, and as a URI subject
alternative name ``urn:oicp:<ID>`` (:data:`SAN_URI_PREFIX`; characters outside
``A-Z a-z 0-9 * + - . _ ~`` percent-encoded). A URI rather than a DNS name because IDs in
the DIN form (``+49*810``) and with ``*`` are not DNS names; :mod:`evroam.oicp.tls` reads
it back to the ID text, so a hub configured to match on the SAN sees the same identity
as one matching on the CN.

Private keys are written with mode 0600 from creation on (never created readable, then
narrowed), through a temporary file renamed into place, so a reader never sees half a key.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from evroam.oicp.v2_3 import ids

#: How a partner certificate names its identity in the subject alternative name.
SAN_URI_PREFIX = "urn:oicp:"

#: RFC 5280's upper bound for a commonName (ub-common-name).
MAX_COMMON_NAME = 64

#: Certificates start this long before "now": a peer whose clock is a little behind must
#: not see a certificate that is not valid yet.
_BACKDATE = dt.timedelta(minutes=5)

_CA_FILES = ("ca.pem", "ca.key")
_SERVER_FILES = ("hub.pem", "hub.key")
# RFC 1123 host names (A-labels only: a certificate holds IDNA-encoded names).
_HOST_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$", re.ASCII)
_COUNTRY = re.compile(r"^[A-Za-z]{2}$", re.ASCII)
_FILE_SAFE = re.compile(r"[A-Za-z0-9-]", re.ASCII)


@dataclass(frozen=True)
class CertFiles:
    """A certificate (or, from :func:`make_csr`, a signing request) and its private key."""

    cert: Path
    key: Path


# ---------------------------------------------------------------------------- file helpers


def file_stem(identity: str) -> str:
    """A file name stem for ``identity`` that is safe on every file system and tells
    different identities apart: letters, digits and inner ``-`` stay, ``*`` becomes
    ``_``, anything else ``=XX`` (its UTF-8 bytes in hex). ``DE*ABC`` → ``DE_ABC``,
    ``+49*810`` → ``=2B49_810``."""
    out = []
    for i, char in enumerate(identity):
        if _FILE_SAFE.fullmatch(char) and not (i == 0 and char == "-"):
            out.append(char)
        elif char == "*":
            out.append("_")
        else:
            out.extend(f"={b:02X}" for b in char.encode("utf-8"))
    return "".join(out)


def _write(path: Path, data: bytes, *, mode: int, overwrite: bool) -> None:
    """Write ``data`` to ``path`` with ``mode``, atomically. Without ``overwrite`` an
    existing file is an error (``FileExistsError``), checked again at the rename."""
    if not overwrite and path.exists():
        raise FileExistsError(f"{path} exists")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if overwrite:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)  # fails if another writer created it meanwhile
            os.unlink(tmp)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _refuse_existing(paths: Sequence[Path], overwrite: bool) -> None:
    """Refuse before generating anything, so a refused call leaves no half-written pair."""
    if overwrite:
        return
    existing = [str(p) for p in paths if p.exists()]
    if existing:
        raise FileExistsError(f"{', '.join(existing)} exists")


def _write_key(path: Path, key: rsa.RSAPrivateKey, *, overwrite: bool) -> None:
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    _write(path, pem, mode=0o600, overwrite=overwrite)


def _new_key(key_size: int = 2048) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=key_size)


# ---------------------------------------------------------------------------- loading


def load_certificate(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def load_private_key(path: Path) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError(f"{path}: not an RSA private key")
    return key


def fingerprint(data: x509.Certificate | x509.CertificateSigningRequest) -> str:
    """SHA-256 of the DER form, as ``AB:CD:...`` (what ``openssl -fingerprint`` prints)."""
    der = data.public_bytes(serialization.Encoding.DER)
    digest = hashes.Hash(hashes.SHA256())
    digest.update(der)
    return ":".join(f"{b:02X}" for b in digest.finalize())


# ---------------------------------------------------------------------------- validation


def partner_id_kind(value: str) -> str | None:
    """``"OperatorID"`` or ``"ProviderID"`` for a valid ID (an ID valid as both, such
    as ``DEABC``, is an OperatorID here: the certificate does not care), else None."""
    if ids.is_operator_id(value):
        return "OperatorID"
    if ids.is_provider_id(value):
        return "ProviderID"
    return None


def _check_identity(identity: str) -> None:
    if not identity or len(identity) > MAX_COMMON_NAME:
        raise ValueError(f"an identity has 1 to {MAX_COMMON_NAME} characters")
    if not identity.isprintable():
        raise ValueError("an identity has no control characters")


def host_san(host: str) -> x509.GeneralName:
    """The SAN for a host: an IP address SAN for an address, a DNS SAN for a host name;
    ValueError for anything else."""
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        pass
    name = host.rstrip(".")
    labels = name.split(".")
    if len(name) > 253 or not all(_HOST_LABEL.fullmatch(label) for label in labels):
        raise ValueError(f"{host!r} is neither an IP address nor a host name")
    return x509.DNSName(name.lower())


def _days(days: int) -> dt.timedelta:
    if days < 1:
        raise ValueError("a certificate is valid for at least one day")
    return dt.timedelta(days=days)


# ---------------------------------------------------------------------------- building


def _issue(
    ca: CertFiles | None,
    subject: x509.Name,
    key: rsa.RSAPrivateKey,
    days: int,
    extensions: Sequence[tuple[x509.ExtensionType, bool]],
) -> x509.Certificate:
    """Sign a certificate for ``key`` with the CA in ``ca`` (self-signed when None).

    Subject and authority key identifiers are always set: OpenSSL's strict verification
    (Python 3.13's default) rejects certificates without them."""
    now = dt.datetime.now(dt.UTC)
    if ca is None:
        issuer_key, issuer_name = key, subject
        aki = x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key())
    else:
        issuer_key = load_private_key(ca.key)
        issuer = load_certificate(ca.cert)
        issuer_name = issuer.subject
        aki = x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key())
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        .not_valid_after(now + _days(days))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(aki, False)
    )
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical)
    return builder.sign(issuer_key, hashes.SHA256())


def _key_usage(*, cert_sign: bool = False, key_encipherment: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=False,
        key_encipherment=key_encipherment,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _write_pair(
    directory: Path,
    names: tuple[str, str],
    cert: x509.Certificate,
    key: rsa.RSAPrivateKey,
    overwrite: bool,
) -> CertFiles:
    files = CertFiles(cert=directory / names[0], key=directory / names[1])
    _write_key(files.key, key, overwrite=overwrite)
    _write(
        files.cert, cert.public_bytes(serialization.Encoding.PEM), mode=0o644, overwrite=overwrite
    )
    return files


def make_dev_ca(
    directory: Path,
    *,
    common_name: str = "evroam development CA",
    days: int = 3650,
    overwrite: bool = True,
) -> CertFiles:
    """A self-signed CA for development (``ca.pem``, ``ca.key`` in ``directory``).

    It may sign end-entity certificates only (path length 0). Replacing it
    (``overwrite``) invalidates every certificate it signed; the CLI asks for ``--force``.
    """
    _check_identity(common_name)
    directory.mkdir(parents=True, exist_ok=True)
    _refuse_existing([directory / n for n in _CA_FILES], overwrite)
    key = _new_key()
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "evroam development"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )
    cert = _issue(
        None,
        subject,
        key,
        days,
        [
            (x509.BasicConstraints(ca=True, path_length=0), True),
            (_key_usage(cert_sign=True), True),
        ],
    )
    return _write_pair(directory, _CA_FILES, cert, key, overwrite)


def make_server_cert(
    ca: CertFiles,
    directory: Path,
    *,
    hosts: Sequence[str] = ("127.0.0.1", "localhost"),
    days: int = 825,
    overwrite: bool = True,
) -> CertFiles:
    """The hub's TLS server certificate (``hub.pem``, ``hub.key``), signed by ``ca``.

    Each host becomes a subject alternative name, an IP address SAN for addresses and a
    DNS SAN for names: clients match the SAN, not the CN (RFC 6125), and an address
    written as a DNS name does not match. 825 days is the longest lifetime Apple's TLS
    clients accept for a server certificate."""
    if not hosts:
        raise ValueError("a server certificate needs at least one host")
    sans = list(dict.fromkeys(host_san(h) for h in hosts))
    directory.mkdir(parents=True, exist_ok=True)
    _refuse_existing([directory / n for n in _SERVER_FILES], overwrite)
    key = _new_key()
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0][:MAX_COMMON_NAME])])
    cert = _issue(
        ca,
        subject,
        key,
        days,
        [
            (x509.BasicConstraints(ca=False, path_length=None), True),
            (_key_usage(key_encipherment=True), True),
            (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False),
            (x509.SubjectAlternativeName(sans), False),
        ],
    )
    return _write_pair(directory, _SERVER_FILES, cert, key, overwrite)


def partner_san(identity: str) -> str:
    """The URI SAN a partner certificate carries for ``identity`` (``urn:oicp:DE*ABC``)."""
    return SAN_URI_PREFIX + quote(identity, safe="*+-._~")


def make_partner_cert(
    ca: CertFiles,
    directory: Path,
    identity: str,
    *,
    days: int = 825,
    overwrite: bool = True,
) -> CertFiles:
    """A client certificate for a partner, signed by ``ca``: subject CN ``identity`` and
    the URI SAN :func:`partner_san` (module docstring). Files are ``<stem>.pem`` and
    ``<stem>.key`` with :func:`file_stem`.

    ``identity`` is not checked to be an OperatorID or ProviderID (the CLI checks it),
    so tests can also make certificates a hub must refuse; it must fit a CN."""
    _check_identity(identity)
    stem = file_stem(identity)
    names = (f"{stem}.pem", f"{stem}.key")
    directory.mkdir(parents=True, exist_ok=True)
    _refuse_existing([directory / n for n in names], overwrite)
    key = _new_key()
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, identity)])
    cert = _issue(
        ca,
        subject,
        key,
        days,
        [
            (x509.BasicConstraints(ca=False, path_length=None), True),
            (_key_usage(key_encipherment=True), True),
            (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), False),
            (
                x509.SubjectAlternativeName(
                    [x509.UniformResourceIdentifier(partner_san(identity))]
                ),
                False,
            ),
        ],
    )
    return _write_pair(directory, names, cert, key, overwrite)


def make_csr(
    directory: Path,
    *,
    operator_id: str | None = None,
    provider_id: str | None = None,
    organization: str | None = None,
    country: str | None = None,
    key_size: int = 2048,
    overwrite: bool = False,
) -> CertFiles:
    """A new private key and a PKCS#10 signing request for it (``<stem>.key``,
    ``<stem>.csr``; ``cert`` is the request's path), subject ``CN=<the ID>`` plus
    ``O``/``C`` when given.

    RSA with 2048 bits by default because that is the key Hubject's PKI asks partners
    for in its certificate onboarding; larger keys (``key_size``) work with any TLS peer
    but cost every handshake. Exactly one of ``operator_id``/``provider_id``: a
    certificate identifies one partner role. Refuses to replace existing files unless
    ``overwrite``: a key may already have a signed certificate, and losing it means a new
    onboarding round."""
    if (operator_id is None) == (provider_id is None):
        raise ValueError("give exactly one of operator_id and provider_id")
    if operator_id is not None:
        identity = operator_id
        if not ids.is_operator_id(identity):
            raise ValueError(f"{identity!r} is not an OperatorID (e.g. DE*ABC or +49*810)")
    else:
        identity = provider_id or ""
        if not ids.is_provider_id(identity):
            raise ValueError(f"{identity!r} is not a ProviderID (e.g. DE*8PS or DE-8PS)")
    if key_size < 2048:
        raise ValueError("an RSA key has at least 2048 bits")
    attributes = []
    if country is not None:
        if not _COUNTRY.fullmatch(country):
            raise ValueError(f"{country!r} is not a two-letter country code")
        attributes.append(x509.NameAttribute(NameOID.COUNTRY_NAME, country.upper()))
    if organization is not None:
        if not organization.strip() or len(organization) > 64 or not organization.isprintable():
            raise ValueError("an organization name has 1 to 64 printable characters")
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, identity))

    stem = file_stem(identity)
    files = CertFiles(cert=directory / f"{stem}.csr", key=directory / f"{stem}.key")
    directory.mkdir(parents=True, exist_ok=True)
    _refuse_existing([files.key, files.cert], overwrite)
    key = _new_key(key_size)
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name(attributes))
        .sign(key, hashes.SHA256())
    )
    _write_key(files.key, key, overwrite=overwrite)
    _write(
        files.cert, csr.public_bytes(serialization.Encoding.PEM), mode=0o644, overwrite=overwrite
    )
    return files
