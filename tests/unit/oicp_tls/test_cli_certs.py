"""``evroam oicp csr|dev-ca|dev-cert`` through the real command tree (``evroam.cli.main``):
what they write and print, ``--json``, and their refusals."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from cryptography import x509
from typer.testing import CliRunner, Result

from evroam.cli.main import app
from evroam.oicp import certs


def run(*args: str) -> Result:
    return CliRunner().invoke(app, ["oicp", *args], env={"COLUMNS": "200"})


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture(scope="module")
def ca_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory with a development CA made by ``dev-ca`` (read-only for the tests
    that share it: they write partner certificates of distinct IDs only)."""
    d = tmp_path_factory.mktemp("ca")
    result = run("dev-ca", str(d))
    assert result.exit_code == 0, result.output
    return d


def test_csr_writes_the_key_and_request_and_prints_paths_subject_and_fingerprint(
    tmp_path: Path,
) -> None:
    result = run(
        "csr", "--operator-id", "DE*ABC", "--out", str(tmp_path), "--organization", "[b]Lade"
    )
    assert result.exit_code == 0, result.output
    key, request = tmp_path / "DE_ABC.key", tmp_path / "DE_ABC.csr"
    csr = x509.load_pem_x509_csr(request.read_bytes())
    assert mode(key) == 0o600
    out = result.stdout
    assert str(key) in out and str(request) in out
    assert "CN=DE*ABC,O=[b]Lade" in out  # the organization as given, not as markup
    assert certs.fingerprint(csr) in out
    assert "PRIVATE KEY" not in result.output
    key_body = key.read_text().splitlines()[1]
    assert key_body not in result.output


def test_csr_json_gives_paths_subject_and_fingerprint(tmp_path: Path) -> None:
    result = run("csr", "--provider-id", "DE-8PS", "--out", str(tmp_path), "--json")
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    csr = x509.load_pem_x509_csr(Path(answer["csr"]).read_bytes())
    assert answer == {
        "key": str(tmp_path / "DE-8PS.key"),
        "csr": str(tmp_path / "DE-8PS.csr"),
        "subject": "CN=DE-8PS",
        "sha256": certs.fingerprint(csr),
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--operator-id", "DE|8EO"], "is not an OperatorID"),
        (["--provider-id", "DE*8P"], "is not a ProviderID"),
        (["--operator-id", "DE*ABC", "--provider-id", "DE*8PS"], "exactly one"),
        ([], "exactly one"),
        (["--operator-id", "DE*ABC", "--country", "Germany"], "country code"),
    ],
)
def test_csr_refuses_bad_input_with_exit_2_and_writes_nothing(
    tmp_path: Path, args: list[str], message: str
) -> None:
    result = run("csr", "--out", str(tmp_path / "out"), *args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


def test_csr_keeps_existing_files_without_force(tmp_path: Path) -> None:
    assert run("csr", "--operator-id", "DE*ABC", "--out", str(tmp_path)).exit_code == 0
    key = (tmp_path / "DE_ABC.key").read_bytes()
    result = run("csr", "--operator-id", "DE*ABC", "--out", str(tmp_path))
    assert result.exit_code == 1
    assert "--force" in result.stderr
    assert (tmp_path / "DE_ABC.key").read_bytes() == key
    forced = run("csr", "--operator-id", "DE*ABC", "--out", str(tmp_path), "--force")
    assert forced.exit_code == 0, forced.output
    assert (tmp_path / "DE_ABC.key").read_bytes() != key


def test_dev_ca_makes_a_ca_and_a_hub_certificate_and_says_it_is_for_development(
    tmp_path: Path,
) -> None:
    result = run("dev-ca", str(tmp_path), "--host", "hub.example", "--host", "10.1.2.3")
    assert result.exit_code == 0, result.output
    assert "for development only" in result.stdout
    ca = certs.load_certificate(tmp_path / "ca.pem")
    hub = certs.load_certificate(tmp_path / "hub.pem")
    hub.verify_directly_issued_by(ca)
    san = hub.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["localhost", "hub.example"]
    assert [str(a) for a in san.get_values_for_type(x509.IPAddress)] == ["127.0.0.1", "10.1.2.3"]
    assert mode(tmp_path / "ca.key") == mode(tmp_path / "hub.key") == 0o600
    assert certs.fingerprint(ca) in result.stdout and certs.fingerprint(hub) in result.stdout


def test_dev_ca_json(tmp_path: Path) -> None:
    result = run("dev-ca", str(tmp_path), "--json")
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["development_only"] is True
    assert answer["ca"]["cert"] == str(tmp_path / "ca.pem")
    assert answer["ca"]["key"] == str(tmp_path / "ca.key")
    assert answer["server"]["names"] == ["127.0.0.1", "localhost"]
    hub = certs.load_certificate(Path(answer["server"]["cert"]))
    assert answer["server"]["sha256"] == certs.fingerprint(hub)


def test_dev_ca_keeps_an_existing_ca_without_force(tmp_path: Path) -> None:
    assert run("dev-ca", str(tmp_path)).exit_code == 0
    before = (tmp_path / "ca.pem").read_bytes()
    result = run("dev-ca", str(tmp_path))
    assert result.exit_code == 1 and "--force" in result.stderr
    assert (tmp_path / "ca.pem").read_bytes() == before
    assert run("dev-ca", str(tmp_path), "--force").exit_code == 0
    assert (tmp_path / "ca.pem").read_bytes() != before


def test_dev_ca_refuses_a_bad_host(tmp_path: Path) -> None:
    result = run("dev-ca", str(tmp_path), "--host", "not a host")
    assert result.exit_code == 2
    assert "neither an IP address nor a host name" in result.stderr
    assert not (tmp_path / "ca.pem").exists()


def test_dev_cert_issues_a_partner_certificate_signed_by_the_ca(ca_dir: Path) -> None:
    result = run("dev-cert", str(ca_dir), "DE*XYZ")
    assert result.exit_code == 0, result.output
    cert = certs.load_certificate(ca_dir / "DE_XYZ.pem")
    cert.verify_directly_issued_by(certs.load_certificate(ca_dir / "ca.pem"))
    assert cert.subject.rfc4514_string() == "CN=DE*XYZ"
    assert mode(ca_dir / "DE_XYZ.key") == 0o600
    out = result.stdout
    assert "for development only" in out and "OperatorID DE*XYZ" in out
    assert str(ca_dir / "DE_XYZ.pem") in out and "urn:oicp:DE*XYZ" in out


def test_dev_cert_json(ca_dir: Path) -> None:
    result = run("dev-cert", str(ca_dir), "DE-8PS", "--json")
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["identity"] == "DE-8PS" and answer["kind"] == "ProviderID"
    assert answer["subject"] == "CN=DE-8PS" and answer["names"] == ["urn:oicp:DE-8PS"]
    assert answer["cert"] == str(ca_dir / "DE-8PS.pem")
    assert answer["key"] == str(ca_dir / "DE-8PS.key")
    assert answer["development_only"] is True


@pytest.mark.parametrize("identity", ["DE|8EO", "DE*ABCD", "\x1b[2JDE*ABC"])
def test_dev_cert_refuses_what_is_not_an_oicp_id(ca_dir: Path, identity: str) -> None:
    result = run("dev-cert", str(ca_dir), identity)
    assert result.exit_code == 2
    assert "neither an OperatorID" in result.stderr
    assert "\x1b" not in result.stderr  # a control character is printed escaped


def test_dev_cert_needs_the_ca(tmp_path: Path) -> None:
    result = run("dev-cert", str(tmp_path), "DE*ABC")
    assert result.exit_code == 1
    assert "no development CA" in result.stderr and "dev-ca" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_dev_cert_keeps_an_existing_certificate_without_force(ca_dir: Path) -> None:
    assert run("dev-cert", str(ca_dir), "+49*810").exit_code == 0
    before = (ca_dir / "=2B49_810.pem").read_bytes()
    result = run("dev-cert", str(ca_dir), "+49*810")
    assert result.exit_code == 1 and "--force" in result.stderr
    assert (ca_dir / "=2B49_810.pem").read_bytes() == before
    assert run("dev-cert", str(ca_dir), "+49*810", "--force").exit_code == 0
    assert (ca_dir / "=2B49_810.pem").read_bytes() != before
