"""Key and certificate tooling (``oicp/certs.py``): what the development CA signs, the
names each certificate carries, key file modes, and the CSR a partner sends Hubject."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from evroam.oicp import certs


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, certs.CertFiles]:
    """One CA, its hub certificate and two partner certificates, shared (RSA key
    generation is the slow part); tests that write use their own directories."""
    d = tmp_path_factory.mktemp("pki")
    ca = certs.make_dev_ca(d)
    return {
        "ca": ca,
        "hub": certs.make_server_cert(
            ca, d, hosts=("127.0.0.1", "::1", "localhost", "Hub.Example")
        ),
        "operator": certs.make_partner_cert(ca, d, "DE*ABC"),
        "din": certs.make_partner_cert(ca, d, "+49*810"),
    }


def cert_of(files: certs.CertFiles) -> x509.Certificate:
    return certs.load_certificate(files.cert)


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_the_ca_is_self_signed_and_may_sign_end_entities_only(
    pki: dict[str, certs.CertFiles],
) -> None:
    ca = cert_of(pki["ca"])
    ca.verify_directly_issued_by(ca)
    constraints = ca.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical and constraints.value.ca and constraints.value.path_length == 0
    usage = ca.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.key_cert_sign and usage.crl_sign
    assert ca.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == (
        "evroam development CA"
    )
    assert pki["ca"].cert.name == "ca.pem" and pki["ca"].key.name == "ca.key"


@pytest.mark.parametrize("name", ["hub", "operator", "din"])
def test_the_ca_signs_each_certificate_for_the_key_written_beside_it(
    pki: dict[str, certs.CertFiles], name: str
) -> None:
    cert = cert_of(pki[name])
    cert.verify_directly_issued_by(cert_of(pki["ca"]))
    key = certs.load_private_key(pki[name].key)
    assert key.public_key().public_numbers() == cert.public_key().public_numbers()  # type: ignore[union-attr]
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    # Strict verifiers (Python 3.13's default) want both key identifiers.
    aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ski = cert_of(pki["ca"]).extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    assert aki.key_identifier == ski.value.digest


def test_another_ca_does_not_verify_a_certificate(
    pki: dict[str, certs.CertFiles], tmp_path: Path
) -> None:
    other = certs.make_dev_ca(tmp_path)
    # Same subject name as the real CA: only the signature tells them apart.
    with pytest.raises(InvalidSignature):
        cert_of(pki["operator"]).verify_directly_issued_by(cert_of(other))


def test_server_cert_names_addresses_as_ip_and_names_as_dns_sans(
    pki: dict[str, certs.CertFiles],
) -> None:
    cert = cert_of(pki["hub"])
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.IPAddress) == [
        ipaddress.ip_address("127.0.0.1"),
        ipaddress.ip_address("::1"),
    ]
    assert san.get_values_for_type(x509.DNSName) == ["localhost", "hub.example"]
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH]
    assert pki["hub"].cert.name == "hub.pem" and pki["hub"].key.name == "hub.key"


@pytest.mark.parametrize("hosts", [(), ("bad host",), ("-x.example",), ("a..b",), ("ex_ample",)])
def test_server_cert_refuses_what_is_neither_address_nor_host_name(
    pki: dict[str, certs.CertFiles], tmp_path: Path, hosts: tuple[str, ...]
) -> None:
    with pytest.raises(ValueError):
        certs.make_server_cert(pki["ca"], tmp_path, hosts=hosts)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("name", "identity"), [("operator", "DE*ABC"), ("din", "+49*810")])
def test_partner_cert_carries_the_identity_in_cn_and_uri_san(
    pki: dict[str, certs.CertFiles], name: str, identity: str
) -> None:
    cert = cert_of(pki[name])
    assert [a.value for a in cert.subject] == [identity]
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.UniformResourceIdentifier) == [f"urn:oicp:{identity}"]
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH]


def test_partner_files_are_named_from_the_identity_safe_for_the_file_system(
    pki: dict[str, certs.CertFiles], tmp_path: Path
) -> None:
    assert pki["operator"].cert.name == "DE_ABC.pem" and pki["operator"].key.name == "DE_ABC.key"
    assert pki["din"].cert.name == "=2B49_810.pem"
    files = certs.make_partner_cert(pki["ca"], tmp_path, "../../etc/x y")
    assert files.cert.parent == tmp_path and files.cert.name == "=2E=2E=2F=2E=2E=2Fetc=2Fx=20y.pem"
    # Different identities never share files.
    stems = {certs.file_stem(i) for i in ("DE*ABC", "DE-ABC", "DEABC", "DE_ABC", "de*abc", "-x")}
    assert len(stems) == 6 and not any(s.startswith("-") for s in stems)


@pytest.mark.parametrize("identity", ["", "x" * 65, "DE*AB\nC"])
def test_partner_cert_refuses_an_identity_that_cannot_be_a_cn(
    pki: dict[str, certs.CertFiles], tmp_path: Path, identity: str
) -> None:
    with pytest.raises(ValueError):
        certs.make_partner_cert(pki["ca"], tmp_path, identity)


def test_certificates_are_valid_from_a_little_before_now_for_the_days_asked(
    pki: dict[str, certs.CertFiles], tmp_path: Path
) -> None:
    files = certs.make_partner_cert(pki["ca"], tmp_path, "DE*XYZ", days=2)
    cert = cert_of(files)
    now = dt.datetime.now(dt.UTC)
    assert now - dt.timedelta(minutes=10) < cert.not_valid_before_utc < now
    assert cert.not_valid_after_utc - cert.not_valid_before_utc == dt.timedelta(days=2, minutes=5)
    ca = cert_of(pki["ca"])
    assert ca.not_valid_after_utc - now > dt.timedelta(days=3649)
    with pytest.raises(ValueError):
        certs.make_partner_cert(pki["ca"], tmp_path, "DE*XYZ", days=0)


def test_private_keys_are_mode_0600_and_certificates_readable(
    pki: dict[str, certs.CertFiles],
) -> None:
    for files in pki.values():
        assert mode(files.key) == 0o600, files.key
        assert mode(files.cert) == 0o644, files.cert


def test_a_replaced_key_file_is_0600_even_if_the_old_one_was_readable(
    pki: dict[str, certs.CertFiles], tmp_path: Path
) -> None:
    old = tmp_path / "DE_ABC.key"
    old.write_text("old")
    old.chmod(0o644)
    files = certs.make_partner_cert(pki["ca"], tmp_path, "DE*ABC")
    assert files.key == old and mode(old) == 0o600
    assert b"PRIVATE KEY" in old.read_bytes()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp files


def test_dev_ca_without_overwrite_keeps_the_existing_ca(tmp_path: Path) -> None:
    first = certs.make_dev_ca(tmp_path)
    before = first.key.read_bytes()
    with pytest.raises(FileExistsError):
        certs.make_dev_ca(tmp_path, overwrite=False)
    assert first.key.read_bytes() == before


def test_csr_parses_is_signed_by_its_key_and_names_the_operator(tmp_path: Path) -> None:
    files = certs.make_csr(
        tmp_path, operator_id="DE*ABC", organization="Ladepunkt GmbH", country="de"
    )
    assert (files.cert.name, files.key.name) == ("DE_ABC.csr", "DE_ABC.key")
    csr = x509.load_pem_x509_csr(files.cert.read_bytes())
    assert csr.is_signature_valid
    key = serialization.load_pem_private_key(files.key.read_bytes(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey) and key.key_size == 2048
    assert csr.public_key().public_numbers() == key.public_key().public_numbers()  # type: ignore[union-attr]
    subject = {a.oid: a.value for a in csr.subject}
    assert subject == {
        NameOID.COMMON_NAME: "DE*ABC",
        NameOID.ORGANIZATION_NAME: "Ladepunkt GmbH",
        NameOID.COUNTRY_NAME: "DE",
    }
    assert mode(files.key) == 0o600


def test_csr_for_a_provider_has_only_the_cn_when_nothing_else_is_given(tmp_path: Path) -> None:
    files = certs.make_csr(tmp_path, provider_id="DE-8PS")
    csr = x509.load_pem_x509_csr(files.cert.read_bytes())
    assert csr.subject.rfc4514_string() == "CN=DE-8PS"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"operator_id": "DE|8EO"},  # the stray | of the published pattern
        {"operator_id": "DE*ABCD"},
        {"operator_id": "DE-ABC"},  # no - in an OperatorID
        {"provider_id": "DE*8P"},
        {"provider_id": "+49*810"},
        {"operator_id": "DE*ABC", "provider_id": "DE*8PS"},
        {},
        {"operator_id": "DE*ABC", "country": "DEU"},
        {"operator_id": "DE*ABC", "organization": ""},
        {"operator_id": "DE*ABC", "key_size": 1024},
    ],
)
def test_csr_refuses_bad_input_and_writes_nothing(
    tmp_path: Path, kwargs: dict[str, object]
) -> None:
    with pytest.raises(ValueError):
        certs.make_csr(tmp_path, **kwargs)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


def test_csr_does_not_replace_a_key_unless_told(tmp_path: Path) -> None:
    files = certs.make_csr(tmp_path, operator_id="DE*ABC")
    key, request = files.key.read_bytes(), files.cert.read_bytes()
    with pytest.raises(FileExistsError):
        certs.make_csr(tmp_path, operator_id="DE*ABC")
    assert (files.key.read_bytes(), files.cert.read_bytes()) == (key, request)
    again = certs.make_csr(tmp_path, operator_id="DE*ABC", overwrite=True)
    assert again == files and again.key.read_bytes() != key


def test_fingerprint_is_the_sha256_of_the_der_form(pki: dict[str, certs.CertFiles]) -> None:
    from cryptography.hazmat.primitives import hashes

    cert = cert_of(pki["ca"])
    expected = cert.fingerprint(hashes.SHA256()).hex(":").upper()
    assert certs.fingerprint(cert) == expected
