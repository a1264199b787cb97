"""TLS plumbing (``oicp/tls.py``): the contexts, the ASGI TLS extension read from a real
(in-memory) handshake, uvicorn's configuration, and the identities read from a
certificate. Over real sockets and processes: tests/integration/oicp_tls."""

from __future__ import annotations

import datetime as dt
import pickle
import ssl
from pathlib import Path

import pytest
import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from evroam.oicp import certs, tls

# IANA numbers of the suites OpenSSL may pick here, written out independently of the
# OpenSSL id the code under test masks.
IANA = {
    "TLS_AES_128_GCM_SHA256": 0x1301,
    "TLS_AES_256_GCM_SHA384": 0x1302,
    "TLS_CHACHA20_POLY1305_SHA256": 0x1303,
    "ECDHE-RSA-AES128-GCM-SHA256": 0xC02F,
    "ECDHE-RSA-AES256-GCM-SHA384": 0xC030,
    "ECDHE-RSA-CHACHA20-POLY1305": 0xCCA8,
}


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, certs.CertFiles]:
    d = tmp_path_factory.mktemp("pki")
    other = tmp_path_factory.mktemp("other")
    ca = certs.make_dev_ca(d)
    other_ca = certs.make_dev_ca(other)
    return {
        "ca": ca,
        "hub": certs.make_server_cert(ca, d),
        "partner": certs.make_partner_cert(ca, d, "DE*ABC"),
        "stranger": certs.make_partner_cert(other_ca, other, "DE*ABC"),
    }


def server_context(pki: dict[str, certs.CertFiles]) -> ssl.SSLContext:
    return tls.server_ssl_context(pki["hub"].cert, pki["hub"].key, pki["ca"].cert)


def handshake(
    server_ctx: ssl.SSLContext, client_ctx: ssl.SSLContext
) -> tuple[ssl.SSLObject, ssl.SSLObject]:
    """A complete TLS handshake between the two contexts over memory buffers; the
    server side's error, if any, is raised."""
    c_in, c_out, s_in, s_out = (ssl.MemoryBIO() for _ in range(4))
    client = client_ctx.wrap_bio(c_in, c_out, server_hostname="127.0.0.1")
    server = server_ctx.wrap_bio(s_in, s_out, server_side=True)
    done = {"client": False, "server": False}
    for _ in range(20):
        for name, side in (("client", client), ("server", server)):
            if not done[name]:
                try:
                    side.do_handshake()
                    done[name] = True
                except ssl.SSLWantReadError:
                    pass
        s_in.write(c_out.read())
        c_in.write(s_out.read())
        if all(done.values()):
            # TLS 1.3: the server checks the client's certificate on its last flight;
            # a read makes the client see a refusal sent after its own handshake ended.
            try:
                server.read(1)
            except ssl.SSLWantReadError:
                pass
            return client, server
    raise AssertionError(f"handshake did not finish: {done}")


def test_server_context_requires_a_client_certificate_from_the_client_ca_only(
    pki: dict[str, certs.CertFiles],
) -> None:
    ctx = server_context(pki)
    assert ctx.verify_mode == ssl.CERT_REQUIRED
    assert ctx.minimum_version == ssl.TLSVersion.TLSv1_2
    assert ctx.options & ssl.OP_NO_RENEGOTIATION
    # The configured CA and nothing from the system store.
    assert ctx.cert_store_stats()["x509_ca"] == 1
    [ca] = ctx.get_ca_certs()
    assert ("commonName", "evroam development CA") in [rdn[0] for rdn in ca["subject"]]


def test_client_context_trusts_the_given_ca_only_and_checks_the_host_name(
    pki: dict[str, certs.CertFiles],
) -> None:
    ctx = tls.client_ssl_context(pki["partner"].cert, pki["partner"].key, pki["ca"].cert)
    assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname
    assert ctx.minimum_version == ssl.TLSVersion.TLSv1_2
    assert ctx.cert_store_stats()["x509_ca"] == 1
    with pytest.raises(ValueError):
        tls.client_ssl_context(None, pki["partner"].key, pki["ca"].cert)


def test_client_context_without_a_ca_uses_the_system_store(
    pki: dict[str, certs.CertFiles],
) -> None:
    system = ssl.create_default_context().cert_store_stats()["x509_ca"]
    ctx = tls.client_ssl_context(None, None, None)
    assert ctx.cert_store_stats()["x509_ca"] == system


def test_handshake_exposes_the_partner_certificate_as_the_asgi_tls_extension(
    pki: dict[str, certs.CertFiles],
) -> None:
    client_ctx = tls.client_ssl_context(pki["partner"].cert, pki["partner"].key, pki["ca"].cert)
    _, server = handshake(server_context(pki), client_ctx)
    ext = tls.tls_extension(server)
    assert ext is not None
    [pem] = ext["client_cert_chain"]
    assert pem == pki["partner"].cert.read_text()
    assert ext["client_cert_name"] == "CN=DE*ABC"
    assert ext["client_cert_error"] is None and ext["server_cert"] is None
    assert ext["tls_version"] == 0x0304
    assert ext["cipher_suite"] == IANA[server.cipher()[0]]  # type: ignore[index]


def test_tls_12_handshake_gives_its_version_and_suite_numbers(
    pki: dict[str, certs.CertFiles],
) -> None:
    client_ctx = tls.client_ssl_context(pki["partner"].cert, pki["partner"].key, pki["ca"].cert)
    client_ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    _, server = handshake(server_context(pki), client_ctx)
    ext = tls.tls_extension(server)
    assert ext is not None and ext["tls_version"] == 0x0303
    assert ext["cipher_suite"] == IANA[server.cipher()[0]]  # type: ignore[index]
    assert ext["client_cert_name"] == "CN=DE*ABC"


@pytest.mark.parametrize("maximum", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3])
@pytest.mark.parametrize("who", ["nobody", "stranger"])
def test_server_refuses_no_certificate_and_one_from_another_ca(
    pki: dict[str, certs.CertFiles], who: str, maximum: ssl.TLSVersion
) -> None:
    client_ctx = tls.client_ssl_context(
        pki[who].cert if who != "nobody" else None,
        pki[who].key if who != "nobody" else None,
        pki["ca"].cert,
    )
    client_ctx.maximum_version = maximum
    with pytest.raises(ssl.SSLError) as refused:
        handshake(server_context(pki), client_ctx)
    reason = "PEER_DID_NOT_RETURN_A_CERTIFICATE" if who == "nobody" else "CERTIFICATE_VERIFY_FAILED"
    assert refused.value.reason == reason


def test_tls_extension_is_none_without_tls() -> None:
    assert tls.tls_extension(None) is None


def test_uvicorn_kwargs_configure_uvicorn_with_the_server_context_and_the_protocol(
    pki: dict[str, certs.CertFiles],
) -> None:
    kwargs = tls.uvicorn_tls_kwargs(pki["hub"].cert, pki["hub"].key, pki["ca"].cert)
    assert kwargs["ssl_cert_reqs"] == ssl.CERT_REQUIRED
    assert kwargs["ssl_ca_certs"] == str(pki["ca"].cert)
    assert kwargs["http"] is tls.client_cert_protocol() is tls.ClientCertProtocol
    assert issubclass(tls.client_cert_protocol(), HttpToolsProtocol)

    async def app(scope: object, receive: object, send: object) -> None:
        raise AssertionError("not called")

    config = uvicorn.Config(app, **kwargs)
    config.load()
    assert config.http_protocol_class is tls.ClientCertProtocol
    assert config.ssl is not None
    assert config.ssl.verify_mode == ssl.CERT_REQUIRED
    assert config.ssl.minimum_version == ssl.TLSVersion.TLSv1_2
    assert config.ssl.options & ssl.OP_NO_RENEGOTIATION
    assert config.ssl.cert_store_stats()["x509_ca"] == 1
    # uvicorn hands its configuration to worker processes.
    assert pickle.loads(pickle.dumps(kwargs)) == kwargs


def scope_with(chain: object) -> dict[str, object]:
    return {"type": "http", "extensions": {"tls": {"client_cert_chain": chain}}}


def test_peer_certificate_is_the_first_of_the_chain(pki: dict[str, certs.CertFiles]) -> None:
    pem = pki["partner"].cert.read_text()
    cert = tls.peer_certificate(scope_with([pem, pki["ca"].cert.read_text()]))
    assert cert == certs.load_certificate(pki["partner"].cert)


@pytest.mark.parametrize(
    "scope",
    [
        {"type": "http"},
        {"type": "http", "extensions": {}},
        {"type": "http", "extensions": {"tls": None}},
        scope_with([]),
        scope_with(None),
        scope_with(["not a certificate"]),
        scope_with(["-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"]),
        scope_with(["é"]),
        scope_with([b"bytes"]),
        scope_with("a string"),
    ],
)
def test_peer_certificate_is_none_without_a_usable_certificate(scope: dict[str, object]) -> None:
    assert tls.peer_certificate(scope) is None


def make_cert(names: list[str], sans: list[x509.GeneralName] | None) -> x509.Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, n) for n in names])
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
    )
    if sans is not None:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(key, hashes.SHA256())


def test_identities_of_a_partner_certificate_match_in_cn_and_san(
    pki: dict[str, certs.CertFiles], tmp_path: Path
) -> None:
    cert = certs.load_certificate(pki["partner"].cert)
    assert tls.certificate_identities(cert, "cn") == ["DE*ABC"]
    assert tls.certificate_identities(cert, "san") == ["DE*ABC"]
    din = certs.load_certificate(certs.make_partner_cert(pki["ca"], tmp_path, "+49*810").cert)
    assert tls.certificate_identities(din, "san") == ["+49*810"]


def test_san_identities_are_dns_names_and_uris_with_the_oicp_prefix_removed() -> None:
    cert = make_cert(
        ["DE*ABC", "DE*DEF"],
        [
            x509.DNSName("deabc"),
            x509.UniformResourceIdentifier("URN:OICP:DE%2A8PS"),
            x509.UniformResourceIdentifier("https://partner.example/"),
            x509.RFC822Name("ops@partner.example"),
            x509.DNSName("deabc"),
        ],
    )
    assert tls.certificate_identities(cert, "cn") == ["DE*ABC", "DE*DEF"]
    assert tls.certificate_identities(cert, "san") == [
        "deabc",
        "DE*8PS",
        "https://partner.example/",
    ]


def test_a_certificate_without_san_has_no_san_identity() -> None:
    cert = make_cert(["DE*ABC"], None)
    assert tls.certificate_identities(cert, "san") == []
    assert tls.certificate_identities(make_cert([], None), "cn") == []
    with pytest.raises(ValueError):
        tls.certificate_identities(cert, "fingerprint")  # type: ignore[arg-type]
