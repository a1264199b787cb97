"""The OICP 2.3 hub's partner-facing operations.

One module per OICP service, each exporting ``router`` (a FastAPI ``APIRouter`` whose
paths are those of digest §1.2, relative to ``/api/oicp``). ``ROUTERS`` lists them; the
hub app (``app.py``) mounts what is listed, nothing else: no decorators, no global
registry. Adding a service is one module and one entry here (``status.py`` shows the
pattern: dependencies from ``deps.py``, the body parsed by ``deps.parse_body``, the
acting ID checked in path and body, a service function on core types, the answer built
from the wire models).
"""

from __future__ import annotations

from fastapi import APIRouter

from evroam.oicp.v2_3.hub import (
    authdata,
    authorization,
    cdrs,
    evsedata,
    notifications,
    pricing,
    reservation,
    status,
)

ROUTERS: tuple[APIRouter, ...] = (
    status.router,
    evsedata.router,
    pricing.router,
    authorization.router,
    authdata.router,
    cdrs.router,
    notifications.router,
    reservation.router,
)
