"""Building OCPI answers on the server side."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.responses import Response

from evroam.ocpi.common.envelope import dump_json, envelope


def ocpi_response(
    data: Any = None,
    *,
    status_code: int = 1000,
    message: str | None = None,
    http_status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    return Response(
        dump_json(envelope(data, status_code, message)),
        status_code=http_status,
        media_type="application/json",
        headers=dict(headers) if headers else None,
    )
