"""A tiny server for the mutual TLS tests: a Starlette app behind uvicorn, started with
``evroam.oicp.tls.uvicorn_tls_kwargs`` exactly as the hub is, answering what it sees of
the client certificate.

``GET /whoami`` answers the identities (cn and san), the TLS extension's fields and the
client's port (one port = one connection). ``?clobber=1`` then empties the request's
extension, so a test can show the next request on the connection gets its own copy.
``GET /count`` answers how many requests reached the app.

Run: ``python -m tests.integration.oicp_tls.tls_app --port P --cert C --key K --ca CA``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from evroam.oicp.tls import certificate_identities, peer_certificate, uvicorn_tls_kwargs


def create_app() -> Starlette:
    seen = {"requests": 0}

    async def whoami(request: Request) -> JSONResponse:
        seen["requests"] += 1
        tls: dict[str, Any] = request.scope.get("extensions", {}).get("tls") or {}
        cert = peer_certificate(request.scope)
        body = {
            "cn": certificate_identities(cert, "cn") if cert else None,
            "san": certificate_identities(cert, "san") if cert else None,
            "client_cert_name": tls.get("client_cert_name"),
            "chain_length": len(tls.get("client_cert_chain") or []),
            "tls_version": tls.get("tls_version"),
            "cipher_suite": tls.get("cipher_suite"),
            "client_port": request.client.port if request.client else None,
        }
        if request.query_params.get("clobber"):
            tls["client_cert_chain"].clear()
            tls["client_cert_name"] = None
        return JSONResponse(body)

    async def count(request: Request) -> JSONResponse:
        return JSONResponse(seen)

    return Starlette(routes=[Route("/whoami", whoami), Route("/count", count)])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--cert", type=Path, required=True)
    parser.add_argument("--key", type=Path, required=True)
    parser.add_argument("--ca", type=Path, required=True)
    args = parser.parse_args()
    uvicorn.run(
        create_app(),
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        **uvicorn_tls_kwargs(args.cert, args.key, args.ca),
    )


if __name__ == "__main__":
    main()
