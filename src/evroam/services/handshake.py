"""The credentials handshake, both ways (OCPI 2.2.1 credentials, digest §3): invite with
token A, register with a partner, accept a partner's registration, its update (PUT) and
its unregistration (DELETE); and, at start-up, clean up a registration that a stopped
node left half-made.

Order of operations, and why:

* Outbound HTTP never runs inside a database transaction: a slow partner must not hold
  locks. Each action checks what it can first (to refuse without a round trip), calls
  the partner, then re-reads the partner row in a writing unit of work (row lock on
  PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite), re-checks every rule there, and commits
  once. A refusal or a failed call changes nothing.
* Which partner holds a (country_code, party_id) is decided by the party claim
  constraint in that committing transaction, so two concurrent registrations of one
  party cannot both succeed.
* Token A is never stored in the clear and dies in the transaction that issues token C;
  repeated failed registrations with one token A revoke it.
* When we register, token B is committed before the POST (the partner calls us back with
  it) and the partner is marked pending until the answer is stored.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from evroam.core.credentials_tokens import generate_token, hash_token
from evroam.core.errors import (
    AlreadyRegistered,
    DomainError,
    NotRegistered,
    PartnerNotFound,
    PartnerUnreachable,
    PartyConflict,
)
from evroam.core.ports import Credentials, UnitOfWork
from evroam.core.rules import check_parties, party_keys
from evroam.core.types import ConnectionStatus, CredentialsTokenKind, Partner, Party
from evroam.services.context import PartnerContext, connect, suspend

log = logging.getLogger("evroam.partners")


@dataclass(frozen=True, slots=True)
class Invitation:
    partner: Partner
    # A secret: shown once to the operator, never in a log line or a traceback.
    token: str = field(repr=False)
    versions_url: str


def _host(url: str) -> str:
    return urlsplit(url).netloc or url[:60]


async def _check_claims(uow: UnitOfWork, partner_id: int, roles: list[Party]) -> None:
    """Early refusal when another partner holds one of the parties (no round trip)."""
    for cc, pid in sorted(party_keys(roles)):
        holder = await uow.party_claims.holder(cc, pid)
        if holder is not None and holder != partner_id:
            raise PartyConflict(f"party {cc}-{pid} is already registered by another partner")


class Handshake:
    def __init__(self, ctx: PartnerContext) -> None:
        self.ctx = ctx

    # ------------------------------------------------------------------ invite

    async def invite(self, note: str | None = None) -> Invitation:
        """A new PLANNED partner and its token A, to hand over offline with our versions URL."""
        ctx = self.ctx
        token = generate_token()
        now = ctx.now()
        async with ctx.uow() as uow:
            partner = await uow.partners.add(
                Partner(
                    id=0,
                    status=ConnectionStatus.PLANNED,
                    status_changed_at=now,
                    created_at=now,
                    updated_at=now,
                    note=note,
                )
            )
            await uow.credentials_tokens.add(
                partner.id, CredentialsTokenKind.A, hash_token(token), now + ctx.token_a_ttl
            )
            await uow.commit()
        log.info("invited partner %s; token A issued", partner.id)
        return Invitation(partner=partner, token=token, versions_url=ctx.versions_url)

    # ------------------------------------------------------------------ we register

    async def register(self, versions_url: str, token_a: str, note: str | None = None) -> Partner:
        """Register with a partner that gave us its versions URL and token A (we are Sender).

        Token A is held in memory for the duration of this call only.
        """
        ctx = self.ctx
        api = ctx.api
        try:
            discovery = await ctx.discover(api, versions_url, token_a)
        except DomainError as exc:
            log.warning("registration with %s failed: %s", _host(versions_url), exc)
            raise
        token_b = generate_token()
        now = ctx.now()
        async with ctx.uow() as uow:
            partner = await uow.partners.add(
                Partner(
                    id=0,
                    status=ConnectionStatus.PLANNED,
                    versions_url=discovery.versions_url,
                    version=discovery.version,
                    endpoints=discovery.endpoints,
                    initiated_by_us=True,
                    status_changed_at=now,
                    created_at=now,
                    updated_at=now,
                    note=note,
                    pending_since=now,
                )
            )
            await uow.credentials_tokens.add(
                partner.id, CredentialsTokenKind.AUTH, hash_token(token_b)
            )
            await uow.commit()

        cred_url = discovery.credentials_url
        try:
            theirs = await api.post_credentials(
                cred_url, token_a, discovery.version, ctx.own_credentials(token_b)
            )
        except Exception as exc:
            await self._forget(partner.id)
            log.warning("registration with %s failed: %s", _host(versions_url), exc)
            raise
        label = theirs.roles[0].label if theirs.roles else _host(versions_url)
        try:
            check_parties(partner, ctx.own_parties, theirs.roles)
            now = ctx.now()
            async with ctx.uow() as uow:
                fresh = await uow.partners.get_for_update(partner.id)
                if fresh is None or fresh.pending_since is None:
                    raise PartnerNotFound("the registration was withdrawn while in flight")
                check_parties(fresh, ctx.own_parties, theirs.roles)
                await uow.party_claims.claim(fresh.id, party_keys(theirs.roles))
                connect(fresh, theirs, discovery, now)
                await uow.partners.save(fresh)
                await uow.commit()
        except DomainError as exc:
            # The partner has registered us already: tell it we will not keep the
            # connection, so neither side is left holding a half-made registration.
            await self._forget(partner.id)
            try:
                await api.for_partner(label).delete_credentials(
                    cred_url, theirs.token, discovery.version
                )
            except PartnerUnreachable as undo:
                log.warning("could not undo the registration at %s: %s", label, undo)
            log.warning("registration with %s refused: %s", label, exc)
            raise
        ctx.tokens_changed()
        log.info("registered with partner %s (%s) on OCPI %s", fresh.id, fresh.label, fresh.version)
        return fresh

    async def _forget(self, partner_id: int) -> None:
        """Undo a registration that did not complete: no record, no token B left behind."""
        async with self.ctx.uow() as uow:
            await uow.credentials_tokens.revoke(partner_id)
            await uow.party_claims.release(partner_id)
            await uow.partners.delete(partner_id)
            await uow.commit()
        self.ctx.tokens_changed()

    async def resolve_interrupted(self) -> list[Partner]:
        """At start-up: a registration we started and never finished (the node stopped
        between committing token B and storing the partner's answer) is closed here.

        Its token B is revoked, so the partner, which may show us CONNECTED, can no
        longer call us with it; the partner row stays, with a notice saying what happened,
        until an operator deletes it or registers again.
        """
        ctx = self.ctx
        async with ctx.uow() as uow:
            pending = await uow.partners.list_pending()
            for partner in pending:
                since = partner.pending_since
                await uow.credentials_tokens.revoke(partner.id)
                partner.pending_since = None
                partner.notice = (
                    f"registration with {partner.versions_url} was interrupted "
                    f"(started {since:%Y-%m-%d %H:%M:%S} UTC, node stopped); token B revoked. "
                    "The partner may still list this node as connected."
                    if since
                    else "registration interrupted; token B revoked"
                )
                partner.updated_at = ctx.now()
                await uow.partners.save(partner)
            await uow.commit()
        for partner in pending:
            log.warning("partner %s: %s", partner.id, partner.notice)
        if pending:
            ctx.tokens_changed()
        return pending

    # ------------------------------------------------------------------ they register

    async def accept_registration(
        self, partner_id: int, token_hash: str, theirs: Credentials, version: str
    ) -> Credentials:
        """A credentials POST with token A (we are Receiver): mirror the partner's discovery
        with its token B, then answer with token C. Token A dies in the same transaction."""
        ctx = self.ctx
        label = theirs.roles[0].label if theirs.roles else f"partner#{partner_id}"
        try:
            async with ctx.uow(read_only=True) as uow:
                partner = await uow.partners.get(partner_id)
                if partner is None:
                    raise PartnerNotFound(f"no partner {partner_id}")
                if partner.registered:
                    raise AlreadyRegistered(f"partner {partner.label} is already registered")
                check_parties(partner, ctx.own_parties, theirs.roles)
                await _check_claims(uow, partner_id, theirs.roles)
            api = ctx.api.for_partner(label)
            discovery = await ctx.discover(api, theirs.url, theirs.token, version)
            token_c = generate_token()
            now = ctx.now()
            async with ctx.uow() as uow:
                # Consuming token A first makes two concurrent POSTs with it register once:
                # the loser finds nothing left to consume once the winner has committed.
                if await uow.credentials_tokens.revoke(partner_id, CredentialsTokenKind.A) == 0:
                    raise AlreadyRegistered("token A was already used for this registration")
                fresh = await uow.partners.get_for_update(partner_id)
                if fresh is None:
                    raise PartnerNotFound(f"partner {partner_id} vanished")
                if fresh.registered:
                    raise AlreadyRegistered(f"partner {fresh.label} is already registered")
                check_parties(fresh, ctx.own_parties, theirs.roles)
                await uow.party_claims.claim(partner_id, party_keys(theirs.roles))
                fresh.initiated_by_us = False
                connect(fresh, theirs, discovery, now)
                await uow.partners.save(fresh)
                await uow.credentials_tokens.revoke(partner_id)
                await uow.credentials_tokens.add(
                    partner_id, CredentialsTokenKind.AUTH, hash_token(token_c)
                )
                await uow.commit()
        except DomainError as exc:
            log.warning("registration by %s (partner %s) refused: %s", label, partner_id, exc)
            if not isinstance(exc, AlreadyRegistered):
                await self._count_failure(partner_id, token_hash)
            raise
        ctx.tokens_changed()
        log.info("partner %s (%s) registered with us on OCPI %s", partner_id, fresh.label, version)
        return ctx.own_credentials(token_c)

    async def _count_failure(self, partner_id: int, token_hash: str) -> None:
        """A token A that keeps failing is being probed or misused: after a few failed
        registrations it is revoked, and the operator issues a new one."""
        ctx = self.ctx
        async with ctx.uow() as uow:
            failures = await uow.credentials_tokens.count_failure(token_hash)
            revoked = failures >= ctx.max_registration_attempts
            if revoked:
                await uow.credentials_tokens.revoke_hash(token_hash)
            await uow.commit()
        if revoked:
            ctx.tokens_changed()
            log.warning(
                "partner %s: token A revoked after %d failed registrations; issue a new one "
                "(partners reset, or uninvite and invite again)",
                partner_id,
                failures,
            )

    async def accept_update(
        self, partner_id: int, token_hash: str, theirs: Credentials, version: str
    ) -> Credentials:
        """A credentials PUT: re-discover with the new token, switch version, new token for
        them. A reset or unregister that commits while the partner's callbacks run wins:
        the update then changes nothing."""
        ctx = self.ctx
        async with ctx.uow(read_only=True) as uow:
            partner = await uow.partners.get(partner_id)
        if partner is None or not partner.registered:
            raise NotRegistered(f"partner {partner_id} is not registered")
        check_parties(partner, ctx.own_parties, theirs.roles)
        api = ctx.api.for_partner(partner.label)
        discovery = await ctx.discover(api, theirs.url, theirs.token, version)
        new_token = generate_token()
        now = ctx.now()
        async with ctx.uow() as uow:
            fresh = await uow.partners.get_for_update(partner_id)
            used = await uow.credentials_tokens.find([token_hash], now)
            if fresh is None or not fresh.registered or used is None or used[0] != partner_id:
                raise NotRegistered(
                    f"partner {partner.label} was reset or unregistered while its update ran"
                )
            check_parties(fresh, ctx.own_parties, theirs.roles)
            await uow.party_claims.claim(partner_id, party_keys(theirs.roles))
            connect(fresh, theirs, discovery, now)
            await uow.partners.save(fresh)
            await uow.credentials_tokens.revoke(partner_id)
            await uow.credentials_tokens.add(
                partner_id, CredentialsTokenKind.AUTH, hash_token(new_token)
            )
            await uow.commit()
        ctx.tokens_changed()
        log.info("partner %s (%s) updated its credentials", partner_id, fresh.label)
        return ctx.own_credentials(new_token)

    async def accept_unregister(self, partner_id: int) -> None:
        """A credentials DELETE: every token of the partner dies; it becomes SUSPENDED and
        its parties are free again."""
        ctx = self.ctx
        async with ctx.uow() as uow:
            partner = await uow.partners.get_for_update(partner_id)
            if partner is None or not partner.registered:
                raise NotRegistered(f"partner {partner_id} is not registered")
            suspend(partner, ctx.now())
            await uow.partners.save(partner)
            await uow.credentials_tokens.revoke(partner_id)
            await uow.party_claims.release(partner_id)
            await uow.commit()
        ctx.tokens_changed()
        log.info("partner %s (%s) unregistered itself", partner_id, partner.label)
