"""The route dependencies of the OICP hub: who is calling, from where, acting as whom,
and the body as the operation's model.

Every operation runs these checks in this order, before it looks at anything else
(digest §6; OICP 2.3 CPO/EMP §"Security"):

1. **Certificate → partner(s).** The TLS layer has already refused a connection without
   a client certificate signed by the configured CA (``oicp/tls.py``). The identities in
   the certificate (subject CN or SAN, ``EVROAM_OICP__CERT_IDENTITY``) are looked up
   among the partners' ``cert_identity``, compared in canonical form (upper case,
   ``*``/``-`` removed). None matches: HTTP 403 with status 017.
2. **Source address.** The partner's allowlist (addresses, CIDR blocks, IPv4 and IPv6)
   must contain the connection's peer address; an empty list allows every address. The
   address is the TCP peer's: the OICP listener never trusts ``X-Forwarded-For``.
   Refused: HTTP 403 with status 017, before the body is read.
3. **Acting ID.** The OperatorID (or ProviderID) in the path must be the caller's, in the
   role the operation needs; it is checked before the body is read, and the ID in the
   body after it is parsed (:func:`acting_operator`, :func:`acting_provider`). Either
   one not the caller's: status 017 with HTTP 200, as Hubject answers it, and nothing
   happens.
4. **Body.** Read here, not by FastAPI (which would parse it before step 2): not JSON,
   not an object, or not the operation's shape → HTTP 400 with status 022 saying what
   was wrong (:func:`parse_body`).

Steps 1-2 give HTTP 403 rather than 200: they refuse the connection's sender, not a
request of a known partner, and a client must not take them for a business answer.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypeVar

from fastapi import Depends, Request
from pydantic import BaseModel, ValidationError

from evroam.core.oicp import OicpPartner, OicpRole
from evroam.core.ports import OicpUnitOfWorkFactory
from evroam.oicp import tls
from evroam.oicp.v2_3 import ids
from evroam.oicp.v2_3.errors import DataError, UnauthorizedAccess

log = logging.getLogger("evroam.oicp")

ModelT = TypeVar("ModelT", bound=BaseModel)

#: Validation problems listed in one answer (the rest are counted).
_SHOWN_ERRORS = 5


class CallerDirectory:
    """The partners of each client certificate identity, remembered for ``ttl`` seconds.

    Why: step 1 is on every request, and looking the certificate up cost a read
    transaction per request, the largest part of a status push after the write itself
    (py-spy, ``bench/oicp_status.py``). The hub's operator API clears it on every partner
    change (``clear``), so a removed partner or a narrowed allowlist applies at once
    there; the time-to-live bounds how long a change made by another process (a second
    hub on the same database) takes. Only found partners are kept: an unknown
    certificate is looked up each time, so a partner added elsewhere is seen at once
    and a stranger cannot fill the memory.
    """

    MAX_ENTRIES = 10_000

    def __init__(
        self,
        uow: OicpUnitOfWorkFactory,
        ttl: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._uow = uow
        self._ttl = ttl
        self._clock = clock
        self._found: dict[tuple[str, ...], tuple[float, tuple[OicpPartner, ...]]] = {}

    async def partners(self, identities: Sequence[str]) -> tuple[OicpPartner, ...]:
        key = tuple(identities)
        now = self._clock()
        hit = self._found.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        async with self._uow(read_only=True) as u:
            partners = tuple(await u.oicp_partners.by_cert_identity(identities))
        if partners and self._ttl > 0:
            if len(self._found) >= self.MAX_ENTRIES:
                self._found.clear()
            self._found[key] = (now + self._ttl, partners)
        else:
            self._found.pop(key, None)
        return partners

    def clear(self) -> None:
        self._found.clear()


@dataclass(frozen=True, slots=True)
class HubContext:
    """What the hub's routes need, built by the wiring (``web/oicp/app.py``) and kept in
    ``app.state.hub``. ``callers``: the certificate lookup (one per hub process, shared
    with the operator API, which clears it); none: a fresh one without memory."""

    uow: OicpUnitOfWorkFactory
    cert_identity: Literal["cn", "san"] = "cn"
    callers: CallerDirectory | None = None

    def directory(self) -> CallerDirectory:
        return self.callers if self.callers is not None else CallerDirectory(self.uow, ttl=0)


@dataclass(frozen=True, slots=True)
class Caller:
    """The partners the client certificate names whose allowlist admits the address."""

    partners: tuple[OicpPartner, ...]
    address: str | None


async def get_hub(request: Request) -> HubContext:
    # async: FastAPI runs a plain ``def`` dependency on a worker thread, a thread
    # hand-off on every request for an attribute read (py-spy, bench/oicp_status.py).
    hub = getattr(request.app.state, "hub", None)
    if not isinstance(hub, HubContext):
        raise RuntimeError("the OICP hub app has no HubContext (app.state.hub)")
    return hub


HubDep = Annotated[HubContext, Depends(get_hub)]


async def current_caller(request: Request, hub: HubDep) -> Caller:
    """Steps 1 and 2 of the module docstring."""
    address = request.client.host if request.client else None
    cert = tls.peer_certificate(request.scope)
    if cert is None:
        # Only reachable without the TLS listener in front (tests, a misconfiguration).
        raise UnauthorizedAccess("a client certificate is required", http_status=403)
    identities = tls.certificate_identities(cert, hub.cert_identity)
    partners = await hub.directory().partners(identities)
    if not partners:
        log.warning("refused %s: certificate identity %r is no partner", address, identities)
        raise UnauthorizedAccess(
            "the client certificate does not belong to a partner of this hub", http_status=403
        )
    allowed = tuple(p for p in partners if p.allows(address))
    if not allowed:
        log.warning(
            "refused %s: not in the allowed networks of %s",
            address,
            ", ".join(p.partner_id for p in partners),
        )
        raise UnauthorizedAccess(
            f"calls from {address} are not allowed for this partner", http_status=403
        )
    return Caller(allowed, address)


CallerDep = Annotated[Caller, Depends(current_caller)]


def _acting(
    caller: Caller, role: OicpRole, path_id: str, body_id: str | None, canonical: str | None
) -> OicpPartner:
    what = "OperatorID" if role is OicpRole.CPO else "ProviderID"
    if canonical is not None:
        for partner in caller.partners:
            if partner.canonical_id == canonical and partner.holds(role):
                if body_id is None:
                    return partner
                if _canonical(role, body_id) == canonical:
                    return partner
                raise UnauthorizedAccess(
                    f"the {what} in the body ({body_id}) is not the one in the path"
                )
    article = "an" if role is OicpRole.CPO else "a"
    raise UnauthorizedAccess(
        f"{path_id} is not {article} {what} of the client certificate's partner"
    )


def _canonical(role: OicpRole, value: str) -> str | None:
    if role is OicpRole.CPO:
        return ids.canonical_operator(value) if ids.is_operator_id(value) else None
    return ids.canonical(value) if ids.is_provider_id(value) else None


def acting_operator(caller: Caller, path_id: str, body_id: str | None = None) -> OicpPartner:
    """The partner acting as the CPO ``path_id`` (and ``body_id``, once the body is
    read); ``UnauthorizedAccess`` (017) unless both are the caller's OperatorID and it
    holds the CPO role."""
    return _acting(caller, OicpRole.CPO, path_id, body_id, _canonical(OicpRole.CPO, path_id))


def acting_provider(caller: Caller, path_id: str, body_id: str | None = None) -> OicpPartner:
    """As :func:`acting_operator`, for the EMP role and ProviderIDs."""
    return _acting(caller, OicpRole.EMP, path_id, body_id, _canonical(OicpRole.EMP, path_id))


def describe(exc: ValidationError, at: tuple[str | int, ...] = ()) -> str:
    """Pydantic's errors as ``field.path: message``, without the input values (which may
    be large, and are the partner's own anyway); ``at``: where in the body the validated
    part lies (one record of a walked push)."""
    errors = exc.errors(include_url=False, include_input=False, include_context=False)
    parts = []
    for err in errors[:_SHOWN_ERRORS]:
        loc = ".".join(str(x) for x in (*at, *err.get("loc", ())))
        parts.append(f"{loc}: {err.get('msg')}" if loc else str(err.get("msg")))
    if len(errors) > _SHOWN_ERRORS:
        parts.append(f"and {len(errors) - _SHOWN_ERRORS} more")
    return "; ".join(parts)


async def read_json(request: Request) -> dict[str, Any]:
    """The body as a JSON object, or ``DataError`` with HTTP 400."""
    raw = await request.body()
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        detail = exc.msg if isinstance(exc, json.JSONDecodeError) else "not valid UTF-8 JSON"
        raise DataError(f"the body is not JSON: {detail}", http_status=400) from None
    if not isinstance(data, dict):
        raise DataError("the body must be a JSON object", http_status=400)
    return data


def parse(model: type[ModelT], data: dict[str, Any]) -> ModelT:
    """``data`` as ``model``, or ``DataError`` with HTTP 400 listing what was wrong."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise DataError(describe(exc), http_status=400) from None


async def parse_body(request: Request, model: type[ModelT]) -> ModelT:
    return parse(model, await read_json(request))
