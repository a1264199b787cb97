"""Answers of the Tokens routes that the shared helpers do not build: error envelopes that
keep the routing headers (OCPI 2.2.1 transport §"Routing headers": every response of a
functional module carries them, refusals included), and AuthorizationInfo around the
stored token text."""

from __future__ import annotations

import json

from starlette.responses import Response

from evroam.core.errors import DomainError
from evroam.ocpi.common.errors import OcpiError
from evroam.ocpi.common.handlers import error_response, map_domain_error
from evroam.services.tokens import Authorization


def refusal(exc: OcpiError | DomainError, routing: dict[str, str]) -> Response:
    """The envelope the shared handlers would write, plus the routing headers."""
    err = exc if isinstance(exc, OcpiError) else map_domain_error(exc)
    return error_response(err, headers=routing)


def authorization_info_json(auth: Authorization) -> str:
    """AuthorizationInfo (mod_tokens §"AuthorizationInfo Object") as JSON text: the
    stored token is embedded as stored, absent optional fields are left out."""
    parts = [f'"allowed":{json.dumps(auth.allowed)}', f'"token":{auth.token_json}']
    if auth.location is not None:
        parts.append('"location":' + json.dumps(auth.location, separators=(",", ":")))
    parts.append(f'"authorization_reference":{json.dumps(auth.reference)}')
    if auth.info is not None:
        parts.append('"info":' + json.dumps(auth.info, separators=(",", ":")))
    return "{" + ",".join(parts) + "}"
