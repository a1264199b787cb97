"""``evroam oicp csr|dev-ca|dev-cert``: the keys and certificates of OICP's mutual TLS.

``csr`` is for production: a partner's private key stays on its machine and the signing
request goes to Hubject (or to the operator of an evroam hub), whose CA signs it.
``dev-ca`` and ``dev-cert`` make a throw-away CA, the hub's server certificate and
partner certificates, so a hub and its partners run over real mutual TLS on one machine;
they say so on every run.

Nothing here prints a private key, only where it is. Existing files are kept unless
``--force``: a replaced key may have had a signed certificate, a replaced CA invalidates
every certificate it signed. The IDs given are checked with
:mod:`evroam.oicp.v2_3.ids` before anything is generated.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from evroam.cli.common import Command, console, fail, line
from evroam.cli.partner_views import print_json

DEVELOPMENT_ONLY = (
    "for development only: anyone with ca.key can make certificates this hub accepts; "
    "production partners use certificates from Hubject's PKI or the hub operator's CA"
)
DEFAULT_HOSTS = ("127.0.0.1", "localhost")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
ForceOpt = Annotated[bool, typer.Option("--force", help="Replace existing files.")]


def register(app: typer.Typer) -> None:
    """Add ``csr``, ``dev-ca`` and ``dev-cert`` to the ``evroam oicp`` group."""
    app.command("csr", cls=Command)(csr)
    app.command("dev-ca", cls=Command)(dev_ca)
    app.command("dev-cert", cls=Command)(dev_cert)


def _refuse_existing(paths: list[Path], force: bool) -> None:
    existing = [str(p) for p in paths if p.exists()]
    if existing and not force:
        raise fail(f"{', '.join(existing)} already exist(s); use --force to replace", 1)


def _cert_info(path: Path) -> dict[str, Any]:
    # cryptography is loaded by these commands only, not by every evroam command.
    from evroam.oicp import certs

    cert = certs.load_certificate(path)
    return {
        "cert": str(path),
        "subject": cert.subject.rfc4514_string(),
        "not_after": cert.not_valid_after_utc.isoformat(),
        "sha256": certs.fingerprint(cert),
    }


def _print_cert(title: str, info: dict[str, Any], key: Path) -> None:
    out = console()
    line(out, title, style="bold")
    line(out, f"{'certificate:':13}", info["cert"])
    line(out, f"{'private key:':13}", str(key), " (mode 0600; never share it)")
    line(out, f"{'subject:':13}", info["subject"])
    if info.get("names"):
        line(out, f"{'names:':13}", ", ".join(info["names"]))
    line(out, f"{'valid until:':13}", info["not_after"])
    line(out, f"{'SHA-256:':13}", info["sha256"])


def _write_failed(exc: OSError) -> typer.Exit:
    if isinstance(exc, FileExistsError):
        return fail(f"{exc}; use --force to replace", 1)
    where = f" {exc.filename}" if exc.filename else ""
    return fail(f"cannot write{where}: {exc.strerror or exc}", 1)


def csr(
    out: Annotated[
        Path,
        typer.Option("--out", metavar="DIR", help="Directory for the private key and the request."),
    ],
    operator_id: Annotated[
        str | None,
        typer.Option(
            "--operator-id", metavar="ID", help="OperatorID the certificate is for (DE*ABC)."
        ),
    ] = None,
    provider_id: Annotated[
        str | None,
        typer.Option(
            "--provider-id", metavar="ID", help="ProviderID the certificate is for (DE*8PS)."
        ),
    ] = None,
    organization: Annotated[
        str | None,
        typer.Option("--organization", metavar="NAME", help="Organization name (O=)."),
    ] = None,
    country: Annotated[
        str | None,
        typer.Option("--country", metavar="CC", help="Two-letter country code (C=)."),
    ] = None,
    force: ForceOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Make a private key and a CSR for Hubject's PKI.

    The key (RSA 2048, mode 0600) stays here; send the .csr file. Its subject CN is the
    OperatorID or ProviderID, the identity every OICP request is checked against."""
    # cryptography is loaded by these commands only, not by every evroam command.
    from cryptography import x509

    from evroam.oicp import certs

    if (operator_id is None) == (provider_id is None):
        raise fail("give exactly one of --operator-id and --provider-id", 2)
    try:
        files = certs.make_csr(
            out,
            operator_id=operator_id,
            provider_id=provider_id,
            organization=organization,
            country=country,
            overwrite=force,
        )
    except ValueError as exc:  # the ID, the country or the organization
        raise fail(str(exc), 2) from None
    except OSError as exc:  # FileExistsError without --force among them
        raise _write_failed(exc) from None
    request = x509.load_pem_x509_csr(files.cert.read_bytes())
    info = {
        "key": str(files.key),
        "csr": str(files.cert),
        "subject": request.subject.rfc4514_string(),
        "sha256": certs.fingerprint(request),
    }
    if as_json:
        print_json(info)
        return
    console_out = console()
    line(console_out, "certificate signing request", style="bold")
    line(console_out, f"{'request:':13}", info["csr"], " (send this file)")
    line(console_out, f"{'private key:':13}", info["key"], " (mode 0600; it stays here)")
    line(console_out, f"{'subject:':13}", info["subject"])
    line(console_out, f"{'SHA-256:':13}", info["sha256"])


def dev_ca(
    directory: Annotated[
        Path,
        typer.Argument(metavar="DIR", help="Directory for the CA and the hub's certificate."),
    ],
    host: Annotated[
        list[str] | None,
        typer.Option(
            "--host",
            metavar="HOST",
            help="Another name or address of the hub (repeat); 127.0.0.1 and localhost "
            "are always in.",
        ),
    ] = None,
    force: ForceOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Make a development CA and the hub's certificate.

    Writes ca.pem/ca.key (the CA) and hub.pem/hub.key (the hub's TLS server certificate,
    signed by the CA, for 127.0.0.1, localhost and every --host). Then make partner
    certificates with 'evroam oicp dev-cert DIR ID'. For development only."""
    # cryptography is loaded by these commands only, not by every evroam command.
    from evroam.oicp import certs

    hosts = list(dict.fromkeys([*DEFAULT_HOSTS, *(host or [])]))
    names = ("ca.pem", "ca.key", "hub.pem", "hub.key")
    _refuse_existing([directory / n for n in names], force)
    try:
        for name in hosts:  # before the CA is made: a refusal leaves nothing behind
            certs.host_san(name)
        ca = certs.make_dev_ca(directory, overwrite=force)
        hub = certs.make_server_cert(ca, directory, hosts=hosts, overwrite=force)
    except ValueError as exc:
        raise fail(str(exc), 2) from None
    except OSError as exc:
        raise _write_failed(exc) from None
    ca_info = {**_cert_info(ca.cert), "key": str(ca.key)}
    hub_info = {**_cert_info(hub.cert), "key": str(hub.key), "names": hosts}
    if as_json:
        print_json({"development_only": True, "ca": ca_info, "server": hub_info})
        return
    out = console()
    line(out, f"warning: {DEVELOPMENT_ONLY}", style="bold yellow")
    _print_cert("development CA (partners' certificates are checked against it)", ca_info, ca.key)
    _print_cert("hub server certificate", hub_info, hub.key)


def dev_cert(
    directory: Annotated[
        Path,
        typer.Argument(metavar="DIR", help="Directory holding the CA made by 'dev-ca'."),
    ],
    identity: Annotated[
        str,
        typer.Argument(metavar="ID", help="The partner's OperatorID or ProviderID."),
    ],
    force: ForceOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Make a partner certificate from the development CA.

    The client certificate is signed by the CA in DIR; its subject CN and its subject
    alternative name (urn:oicp:ID) carry the ID, as the hub expects. For development only."""
    # cryptography is loaded by these commands only, not by every evroam command.
    from evroam.oicp import certs

    kind = certs.partner_id_kind(identity)
    if kind is None:
        raise fail(
            f"{identity!r} is neither an OperatorID (DE*ABC, +49*810) nor a ProviderID "
            "(DE*8PS, DE-8PS)",
            2,
        )
    ca = certs.CertFiles(cert=directory / "ca.pem", key=directory / "ca.key")
    if not (ca.cert.is_file() and ca.key.is_file()):
        raise fail(f"no development CA in {directory}: run 'evroam oicp dev-ca {directory}'", 1)
    try:
        files = certs.make_partner_cert(ca, directory, identity, overwrite=force)
    except OSError as exc:
        raise _write_failed(exc) from None
    except ValueError as exc:  # a CA file that is not a PEM certificate or RSA key
        raise fail(f"cannot use the CA in {directory}: {exc}", 1) from None
    info = {
        **_cert_info(files.cert),
        "key": str(files.key),
        "identity": identity,
        "kind": kind,
        "names": [certs.partner_san(identity)],
    }
    if as_json:
        print_json({"development_only": True, **info})
        return
    out = console()
    line(out, f"warning: {DEVELOPMENT_ONLY}", style="bold yellow")
    _print_cert(f"partner certificate for {kind} {identity}", info, files.key)
