"""Mutual TLS for OICP: the hub's server context, partner-side client contexts, and the
client certificate handed to the application.

A partner authenticates with its client certificate only (digest §6): the hub's TLS
layer accepts certificates signed by the configured CA and nothing else, and the
application then compares the certificate's identity with the OperatorID/ProviderID of
each request (status 017 when they differ). The application sees the certificate
through the ASGI TLS extension (``scope["extensions"]["tls"]``, ASGI spec "TLS
Extension"), which uvicorn does not fill in; :class:`ClientCertProtocol` does.

Choices, and why:

* :class:`ClientCertProtocol` extends uvicorn's **httptools** protocol, the one uvicorn
  picks by default when ``uvicorn[standard]`` is installed, so the hub keeps the parser
  it would have had. httptools builds each request's scope in ``on_message_begin``, a
  hook that runs once per request, before the scope reaches the app; h11's scope is built
  inline in its event loop, with no such hook.
* The certificate is read once per connection, in ``connection_made`` (asyncio calls it
  after the handshake), and renegotiation is switched off in :func:`server_ssl_context`
  (``OP_NO_RENEGOTIATION``), so the identity of a connection cannot change under it.
* ``client_cert_chain`` holds the peer certificate alone: Python 3.11's ``ssl`` gives
  the peer's leaf certificate, not the chain it sent (that came in 3.13); the leaf is
  what carries the identity.
* Nothing verifies against the system store on the server side: a certificate from a
  public CA says nothing about who is an OICP partner.
"""

from __future__ import annotations

import asyncio
import inspect
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast
from urllib.parse import unquote

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from evroam.oicp.certs import SAN_URI_PREFIX

#: The ``tls_version`` numbers of the ASGI TLS extension (the protocol version as it
#: appears on the wire), by the names ``ssl.SSLObject.version()`` gives.
TLS_VERSIONS = {"TLSv1": 0x0301, "TLSv1.1": 0x0302, "TLSv1.2": 0x0303, "TLSv1.3": 0x0304}


# ---------------------------------------------------------------------------- contexts


def server_ssl_context(cert: Path, key: Path, client_ca: Path) -> ssl.SSLContext:
    """The hub's context: TLS 1.2 or later, a client certificate required and verified
    against ``client_ca`` alone, no renegotiation (module docstring)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.options |= ssl.OP_NO_RENEGOTIATION
    ctx.load_cert_chain(str(cert), str(key))
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(cafile=str(client_ca))
    return ctx


def client_ssl_context(cert: Path | None, key: Path | None, ca: Path | None) -> ssl.SSLContext:
    """A context for httpx (``httpx.Client(verify=...)``): TLS 1.2 or later, the server
    verified against ``ca`` (the system store when None) with its host name checked, and
    the client certificate ``cert`` presented when given (``key`` None: the key is in
    ``cert``'s file)."""
    if cert is None and key is not None:
        raise ValueError("a client key needs its certificate")
    ctx = ssl.create_default_context(
        ssl.Purpose.SERVER_AUTH, cafile=str(ca) if ca is not None else None
    )
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if cert is not None:
        ctx.load_cert_chain(str(cert), str(key) if key is not None else None)
    return ctx


@dataclass(frozen=True)
class ServerContextFactory:
    """uvicorn's ``ssl_context_factory``: :func:`server_ssl_context` instead of uvicorn's
    own context (which sets no minimum version and allows renegotiation). A picklable
    object rather than a closure, since uvicorn hands its configuration to worker
    processes."""

    cert: Path
    key: Path
    client_ca: Path

    def __call__(self, config: object, default: object) -> ssl.SSLContext:
        return server_ssl_context(self.cert, self.key, self.client_ca)


def uvicorn_tls_kwargs(cert: Path, key: Path, client_ca: Path) -> dict[str, Any]:
    """Keyword arguments for ``uvicorn.Config``/``uvicorn.run``: the hub's certificate,
    client certificates required against ``client_ca``, and :class:`ClientCertProtocol`.

    On uvicorn versions with ``ssl_context_factory`` (0.54 and later) the context is
    :func:`server_ssl_context`; the file arguments stay so uvicorn knows it serves TLS."""
    import uvicorn

    kwargs: dict[str, Any] = {
        "ssl_certfile": str(cert),
        "ssl_keyfile": str(key),
        "ssl_ca_certs": str(client_ca),
        "ssl_cert_reqs": ssl.CERT_REQUIRED,
        "http": client_cert_protocol(),
    }
    if "ssl_context_factory" in inspect.signature(uvicorn.Config).parameters:
        kwargs["ssl_context_factory"] = ServerContextFactory(cert, key, client_ca)
    return kwargs


# ---------------------------------------------------------------------------- the ASGI extension


def _cipher_suite(ssl_object: ssl.SSLObject) -> int | None:
    """The IANA number of the negotiated cipher suite. ``SSLObject.cipher()`` names it
    the OpenSSL way; the context's cipher list maps names to OpenSSL ids, whose low 16
    bits are the IANA number."""
    negotiated = ssl_object.cipher()
    if negotiated is None:
        return None
    for cipher in ssl_object.context.get_ciphers():
        if cipher.get("name") == negotiated[0]:
            return int(cipher["id"]) & 0xFFFF
    return None


def tls_extension(ssl_object: ssl.SSLObject | None) -> dict[str, Any] | None:
    """The ASGI TLS extension for a connection, None when it is not TLS."""
    if ssl_object is None:
        return None
    der = ssl_object.getpeercert(binary_form=True)
    chain: list[str] = []
    name: str | None = None
    if der:
        cert = x509.load_der_x509_certificate(der)
        chain.append(cert.public_bytes(serialization.Encoding.PEM).decode("ascii"))
        name = cert.subject.rfc4514_string()
    version = ssl_object.version()
    return {
        "server_cert": None,
        "client_cert_chain": chain,
        "client_cert_name": name,
        # The handshake failed otherwise (CERT_REQUIRED): no connection, no request.
        "client_cert_error": None,
        "tls_version": TLS_VERSIONS.get(version) if version else None,
        "cipher_suite": _cipher_suite(ssl_object),
    }


class ClientCertProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol plus the ASGI TLS extension in every request's scope
    (module docstring). Each request gets its own copy of the connection's extension, so
    an application that changes it changes nothing for the next request."""

    _tls: dict[str, Any] | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._tls = tls_extension(transport.get_extra_info("ssl_object"))

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._tls is not None:
            tls = {**self._tls, "client_cert_chain": list(self._tls["client_cert_chain"])}
            extensions = cast(dict[str, Any], self.scope.setdefault("extensions", {}))
            extensions["tls"] = tls


def client_cert_protocol() -> type:
    """The uvicorn ``http`` protocol class that exposes the client certificate."""
    return ClientCertProtocol


# ---------------------------------------------------------------------------- reading the identity


def peer_certificate(scope: Mapping[str, Any]) -> x509.Certificate | None:
    """The client certificate of the request, from the ASGI TLS extension; None when the
    connection has none (not TLS, no certificate, or one that does not parse: such a
    certificate identifies nobody)."""
    extensions = scope.get("extensions")
    tls = extensions.get("tls") if isinstance(extensions, Mapping) else None
    chain = tls.get("client_cert_chain") if isinstance(tls, Mapping) else None
    if not chain or not isinstance(chain, list | tuple) or not isinstance(chain[0], str):
        return None
    try:
        return x509.load_pem_x509_certificate(chain[0].encode("ascii"))
    except ValueError:  # UnicodeEncodeError is one too
        return None


def _san_identity(uri: str) -> str:
    """A URI SAN as ID text: ``urn:oicp:DE*ABC`` → ``DE*ABC`` (prefix matched without
    regard to case, as URN scheme and namespace are); other URIs as they are."""
    if uri[: len(SAN_URI_PREFIX)].lower() == SAN_URI_PREFIX:
        return unquote(uri[len(SAN_URI_PREFIX) :])
    return uri


def certificate_identities(cert: x509.Certificate, field: Literal["cn", "san"]) -> list[str]:
    """The identities ``cert`` vouches for, each as the text a request's
    OperatorID/ProviderID is compared with (the caller compares canonical forms,
    :func:`evroam.oicp.v2_3.ids.canonical`).

    ``"cn"``: the subject's commonName values. ``"san"``: the subject alternative names
    of DNS type as they are, and of URI type with the ``urn:oicp:`` prefix of evroam's
    partner certificates removed. A certificate whose extensions do not parse has no SAN
    identity."""
    if field == "cn":
        attributes = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        return list(dict.fromkeys(a.value for a in attributes if isinstance(a.value, str)))
    if field != "san":
        raise ValueError(f"unknown identity field {field!r} (cn or san)")
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (x509.ExtensionNotFound, ValueError):
        return []
    found = list(san.get_values_for_type(x509.DNSName))
    found += [_san_identity(u) for u in san.get_values_for_type(x509.UniformResourceIdentifier)]
    return list(dict.fromkeys(found))
