"""What an operator does to an existing partner: update, rotate, unregister, reset after a
breach, note, withdraw an invitation, delete.

Same order as the handshake (``services/handshake.py``): call the partner first, then
re-read, re-check and commit once. A reset or an unregister that commits while a
rotation's PUT is in flight wins: the rotation then stores nothing of the partner's
answer, so no live token survives beside the new token A.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from evroam.core.credentials_tokens import generate_token, hash_token
from evroam.core.errors import (
    InvalidInput,
    NoInvitation,
    NotRegistered,
    PartnerNotFound,
    PartnerUnreachable,
    PartyChangeRefused,
    StillRegistered,
)
from evroam.core.rules import party_keys
from evroam.core.types import ConnectionStatus, CredentialsTokenKind, Partner
from evroam.services.context import (
    Discovery,
    PartnerContext,
    connect,
    credentials_url,
    suspend,
)
from evroam.services.handshake import Invitation

log = logging.getLogger("evroam.partners")


@dataclass(frozen=True, slots=True)
class UnregisterResult:
    partner: Partner
    remote_ok: bool
    remote_error: str | None


class PartnerLifecycle:
    def __init__(self, ctx: PartnerContext) -> None:
        self.ctx = ctx

    async def _get(self, partner_id: int) -> Partner:
        async with self.ctx.uow(read_only=True) as uow:
            partner = await uow.partners.get(partner_id)
        if partner is None:
            raise PartnerNotFound(f"no partner {partner_id}")
        return partner

    async def update(self, partner_id: int) -> Partner:
        """Re-discover the partner's versions (highest mutual) and PUT fresh credentials."""
        partner = await self._get(partner_id)
        credentials_url(partner)
        if not partner.versions_url or not partner.token_out:
            raise NotRegistered(f"partner {partner.label} is not registered")
        api = self.ctx.api.for_partner(partner.label)
        discovery = await self.ctx.discover(api, partner.versions_url, partner.token_out)
        return await self._put_credentials(partner, discovery)

    async def rotate(self, partner_id: int) -> Partner:
        """PUT credentials with a new token for the partner, on the current version."""
        partner = await self._get(partner_id)
        credentials_url(partner)
        if not partner.version or not partner.versions_url:
            raise NotRegistered(f"partner {partner.label} is not registered")
        discovery = Discovery(partner.version, partner.versions_url, partner.endpoints)
        return await self._put_credentials(partner, discovery)

    async def _put_credentials(self, partner: Partner, discovery: Discovery) -> Partner:
        ctx = self.ctx
        api = ctx.api.for_partner(partner.label)
        cred_url = discovery.credentials_url
        token_out = partner.token_out
        if token_out is None:
            raise NotRegistered(f"partner {partner.label} is not registered")
        new_token = generate_token()
        new_hash = hash_token(new_token)
        # The new token must work before the PUT: the partner re-discovers us with it.
        async with ctx.uow() as uow:
            await uow.credentials_tokens.add(partner.id, CredentialsTokenKind.AUTH, new_hash)
            await uow.commit()
        try:
            theirs = await api.put_credentials(
                cred_url, token_out, discovery.version, ctx.own_credentials(new_token)
            )
            if party_keys(theirs.roles) != partner.party_keys:
                raise PartyChangeRefused(
                    "the partner answered with other country_code/party_id pairs than it "
                    "registered with; kept the old credentials"
                )
            now = ctx.now()
            async with ctx.uow() as uow:
                fresh = await uow.partners.get_for_update(partner.id)
                ours = await uow.credentials_tokens.find([new_hash], now)
                if (
                    fresh is None
                    or not fresh.registered
                    or fresh.token_out != token_out
                    or ours is None
                ):
                    raise NotRegistered(
                        f"partner {partner.label} was reset, unregistered or updated while "
                        "the rotation ran; its answer was discarded"
                    )
                connect(fresh, theirs, discovery, now)
                await uow.partners.save(fresh)
                await uow.credentials_tokens.revoke(partner.id, CredentialsTokenKind.AUTH)
                await uow.credentials_tokens.add(partner.id, CredentialsTokenKind.AUTH, new_hash)
                await uow.commit()
        except Exception:
            async with ctx.uow() as uow:
                await uow.credentials_tokens.revoke_hash(new_hash)
                await uow.commit()
            ctx.tokens_changed()
            raise
        ctx.tokens_changed()
        log.info("credentials of partner %s (%s) updated and rotated", fresh.id, fresh.label)
        return fresh

    async def unregister(self, partner_id: int) -> UnregisterResult:
        """DELETE our registration at the partner, then revoke locally whatever it answered:
        an operator who unregisters wants the traffic to stop."""
        ctx = self.ctx
        partner = await self._get(partner_id)
        cred_url = credentials_url(partner)
        remote_error: str | None = None
        try:
            if partner.token_out and partner.version:
                await ctx.api.for_partner(partner.label).delete_credentials(
                    cred_url, partner.token_out, partner.version
                )
        except PartnerUnreachable as exc:
            remote_error = str(exc)
            log.warning("partner %s: remote unregister failed: %s", partner.label, exc)
        async with ctx.uow() as uow:
            fresh = await uow.partners.get_for_update(partner_id)
            if fresh is None:
                raise PartnerNotFound(f"no partner {partner_id}")
            suspend(fresh, ctx.now())
            await uow.partners.save(fresh)
            await uow.credentials_tokens.revoke(partner_id)
            await uow.party_claims.release(partner_id)
            await uow.commit()
        ctx.tokens_changed()
        log.info("unregistered partner %s (%s)", partner_id, fresh.label)
        return UnregisterResult(fresh, remote_error is None, remote_error)

    async def reset(self, partner_id: int) -> Invitation:
        """After a breach: revoke every token at once, stop all traffic, issue a new token A.

        The partner keeps its id, its parties and their claims, so it must come back as
        itself.
        """
        ctx = self.ctx
        token = generate_token()
        now = ctx.now()
        async with ctx.uow() as uow:
            partner = await uow.partners.get_for_update(partner_id)
            if partner is None:
                raise PartnerNotFound(f"no partner {partner_id}")
            await uow.credentials_tokens.revoke(partner_id)
            partner.token_out = None
            partner.registered_at = None
            partner.pending_since = None
            partner.status = ConnectionStatus.PLANNED
            partner.status_changed_at = now
            partner.updated_at = now
            await uow.partners.save(partner)
            await uow.credentials_tokens.add(
                partner_id, CredentialsTokenKind.A, hash_token(token), now + ctx.token_a_ttl
            )
            await uow.commit()
        ctx.tokens_changed()
        log.warning(
            "partner %s (%s) reset: all tokens revoked, new token A issued",
            partner_id,
            partner.label,
        )
        return Invitation(partner=partner, token=token, versions_url=ctx.versions_url)

    async def set_note(self, partner_id: int, note: str | None) -> Partner:
        """The operator's note, and nothing else (no call to the partner, no new token)."""
        if note is not None and len(note) > 255:
            raise InvalidInput("note: at most 255 characters")
        async with self.ctx.uow() as uow:
            partner = await uow.partners.get_for_update(partner_id)
            if partner is None:
                raise PartnerNotFound(f"no partner {partner_id}")
            partner.note = note
            partner.updated_at = self.ctx.now()
            await uow.partners.save(partner)
            await uow.commit()
        return partner

    async def uninvite(self, partner_id: int) -> Partner | None:
        """Withdraw an unused token A. A partner that never registered disappears with it
        (returns None); one that was reset keeps its record and parties."""
        ctx = self.ctx
        async with ctx.uow() as uow:
            partner = await uow.partners.get_for_update(partner_id)
            if partner is None:
                raise PartnerNotFound(f"no partner {partner_id}")
            if await uow.credentials_tokens.revoke(partner_id, CredentialsTokenKind.A) == 0:
                raise NoInvitation(f"partner {partner.label} holds no unused token A")
            gone = not partner.roles and partner.registered_at is None
            if gone:
                await uow.credentials_tokens.revoke(partner_id)
                await uow.partners.delete(partner_id)
            await uow.commit()
        ctx.tokens_changed()
        log.info("invitation of partner %s withdrawn", partner_id)
        return None if gone else partner

    async def delete(self, partner_id: int) -> None:
        """Remove a partner that holds no live registration (PLANNED, SUSPENDED, or left
        over from an interrupted registration), its tokens and its party claims."""
        ctx = self.ctx
        async with ctx.uow() as uow:
            partner = await uow.partners.get_for_update(partner_id)
            if partner is None:
                raise PartnerNotFound(f"no partner {partner_id}")
            if partner.registered or partner.pending_since is not None:
                raise StillRegistered(
                    f"partner {partner.label} is registered: unregister it first"
                    if partner.registered
                    else f"partner {partner.label}: a registration is in flight"
                )
            await uow.credentials_tokens.revoke(partner_id)
            await uow.party_claims.release(partner_id)
            await uow.partners.delete(partner_id)
            await uow.commit()
        ctx.tokens_changed()
        log.info("partner %s (%s) deleted", partner_id, partner.label)
