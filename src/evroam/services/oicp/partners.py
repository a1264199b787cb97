"""The hub's OICP partners: add, list, show, change, remove.

The operator registers each partner (there is no self-service handshake in OICP; Hubject
onboards partners by hand too). What a partner may do follows from this record alone:
its roles, the certificate identity it must present and the networks it may call from.
The edge has checked the ID's form for each role and computed its canonical form; here
the rest is checked, and uniqueness is left to the database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from urllib.parse import urlsplit

from evroam.core.oicp import (
    InvalidOicpPartner,
    OicpPartner,
    OicpPartnerUnknown,
    OicpRole,
    normalize_networks,
)
from evroam.core.ports import OicpUnitOfWorkFactory

MAX_NAME = 100
MAX_IDENTITY = 255
MAX_URL = 255


@dataclass(frozen=True, slots=True)
class PartnerDraft:
    """A partner as the operator describes it; ``cert_identity`` None means its ID."""

    partner_id: str
    canonical_id: str
    roles: frozenset[OicpRole]
    cert_identity: str | None = None
    allowed_networks: Sequence[str] = ()
    endpoint: str | None = None
    name: str | None = None


def check_endpoint(url: str | None) -> str | None:
    """The base URL the hub will call the partner at: absolute http(s), a host, no
    credentials, query or fragment (the hub appends the operation's path to it)."""
    if url is None or not url.strip():
        return None
    url = url.strip()
    if len(url) > MAX_URL:
        raise InvalidOicpPartner(f"endpoint: at most {MAX_URL} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidOicpPartner(f"endpoint: not a URL ({exc})") from None
    del port
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise InvalidOicpPartner("endpoint: give an absolute https:// (or http://) URL")
    if parts.username is not None or parts.password is not None:
        raise InvalidOicpPartner("endpoint: credentials do not belong in the URL")
    if parts.query or parts.fragment or any(c.isspace() for c in url):
        raise InvalidOicpPartner("endpoint: no query, fragment or spaces")
    return url.rstrip("/")


def _checked_text(value: str | None, field: str, limit: int) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if len(value) > limit:
        raise InvalidOicpPartner(f"{field}: at most {limit} characters")
    if not value.isprintable():
        raise InvalidOicpPartner(f"{field}: control characters are not allowed")
    return value


def _networks(values: Sequence[str]) -> tuple[str, ...]:
    try:
        return normalize_networks(values)
    except ValueError as exc:
        raise InvalidOicpPartner(f"allowed networks: {exc}") from None


def build_partner(draft: PartnerDraft, now: datetime) -> OicpPartner:
    """The stored form of ``draft``, every field checked (``InvalidOicpPartner``)."""
    if not draft.roles:
        raise InvalidOicpPartner("roles: give CPO, EMP or both")
    identity = _checked_text(draft.cert_identity, "cert_identity", MAX_IDENTITY)
    return OicpPartner(
        partner_id=draft.partner_id,
        canonical_id=draft.canonical_id,
        roles=frozenset(draft.roles),
        cert_identity=identity or draft.partner_id,
        allowed_networks=_networks(draft.allowed_networks),
        endpoint=check_endpoint(draft.endpoint),
        name=_checked_text(draft.name, "name", MAX_NAME),
        created_at=now,
        updated_at=now,
    )


async def add_partner(
    uow: OicpUnitOfWorkFactory, draft: PartnerDraft, now: datetime
) -> OicpPartner:
    """Store a new partner; ``OicpPartnerExists`` if its ID (canonical) is taken."""
    partner = build_partner(draft, now)
    async with uow() as u:
        await u.oicp_partners.add(partner)
        await u.commit()
    return partner


async def list_partners(uow: OicpUnitOfWorkFactory) -> list[OicpPartner]:
    async with uow(read_only=True) as u:
        return await u.oicp_partners.list()


async def get_partner(uow: OicpUnitOfWorkFactory, canonical_id: str) -> OicpPartner:
    async with uow(read_only=True) as u:
        partner = await u.oicp_partners.get(canonical_id)
    if partner is None:
        raise OicpPartnerUnknown(f"no OICP partner {canonical_id}")
    return partner


_UNSET: object = object()


async def update_partner(
    uow: OicpUnitOfWorkFactory,
    canonical_id: str,
    now: datetime,
    *,
    allowed_networks: Sequence[str] | None = None,
    cert_identity: str | None = None,
    endpoint: str | None | object = _UNSET,
    name: str | None | object = _UNSET,
) -> OicpPartner:
    """Change what is given (None/unset: unchanged; an empty endpoint or name clears it).
    The row is locked, so a change does not interleave with a push being applied."""
    async with uow() as u:
        partner = await u.oicp_partners.get_for_update(canonical_id)
        if partner is None:
            raise OicpPartnerUnknown(f"no OICP partner {canonical_id}")
        changed = replace(partner, updated_at=now)
        if allowed_networks is not None:
            changed.allowed_networks = _networks(allowed_networks)
        if cert_identity is not None:
            changed.cert_identity = (
                _checked_text(cert_identity, "cert_identity", MAX_IDENTITY) or partner.partner_id
            )
        if endpoint is not _UNSET:
            assert endpoint is None or isinstance(endpoint, str)
            changed.endpoint = check_endpoint(endpoint)
        if name is not _UNSET:
            assert name is None or isinstance(name, str)
            changed.name = _checked_text(name, "name", MAX_NAME)
        await u.oicp_partners.save(changed)
        await u.commit()
    return changed


async def remove_partner(uow: OicpUnitOfWorkFactory, canonical_id: str) -> None:
    """Remove the partner and the EVSE statuses it pushed (an operator that is gone must
    not go on being answered to EMPs as if its EVSEs were live)."""
    async with uow() as u:
        partner = await u.oicp_partners.get_for_update(canonical_id)
        if partner is None:
            raise OicpPartnerUnknown(f"no OICP partner {canonical_id}")
        await u.oicp_statuses.delete_except(canonical_id, ())
        await u.oicp_partners.remove(canonical_id)
        await u.commit()
