"""Partner lifecycle: invite, the credentials handshake both ways, update, rotate, reset,
unregister, and connection status (HubClientInfo's ConnectionStatus) for every partner.

Rules that hold throughout (OCPI 2.2.1 credentials.asciidoc, digest §3):

* Outbound HTTP is never done inside a database transaction: a slow partner must not
  hold locks. Each action calls the partner first, then re-checks state and commits.
* A refusal changes nothing: every check happens before the single commit.
* Token A is used only to register and is never stored in the clear; tokens we issue
  are stored as hashes; the partner's token is stored because we must send it.
* A partner keeps the country_code/party_id pairs it registered with, for good.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from evroam.core.credentials_tokens import generate_token, hash_token
from evroam.core.errors import (
    AlreadyRegistered,
    DomainError,
    InvalidInput,
    MissingEndpoints,
    NoMutualVersion,
    NotRegistered,
    PartnerNotFound,
    PartnerUnreachable,
    PartyChangeRefused,
    PartyConflict,
)
from evroam.core.ports import Credentials, PartnerApi, UnitOfWork, UnitOfWorkFactory, VersionRef
from evroam.core.types import (
    ConnectionStatus,
    CredentialsTokenKind,
    Endpoint,
    Partner,
    Party,
    version_key,
)

log = logging.getLogger("evroam.partners")


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Invitation:
    partner: Partner
    token: str
    versions_url: str


@dataclass(frozen=True, slots=True)
class UnregisterResult:
    partner: Partner
    remote_ok: bool
    remote_error: str | None


@dataclass(frozen=True, slots=True)
class Discovery:
    version: str
    versions_url: str
    endpoints: list[Endpoint]


class PartnerService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        api: PartnerApi,
        *,
        own_parties: Sequence[Party],
        versions_url: str,
        supported_versions: Sequence[str],
        on_tokens_changed: Callable[[], None] = lambda: None,
    ) -> None:
        self._uow = uow
        self._api = api
        self.own_parties = list(own_parties)
        self.versions_url = versions_url
        self.supported_versions = sorted(supported_versions, key=version_key, reverse=True)
        self._tokens_changed = on_tokens_changed

    # ------------------------------------------------------------------ lookups

    async def get(self, partner_id: int) -> Partner:
        async with self._uow() as uow:
            partner = await uow.partners.get(partner_id)
        if partner is None:
            raise PartnerNotFound(f"no partner {partner_id}")
        return partner

    async def list(self) -> list[Partner]:
        async with self._uow() as uow:
            return await uow.partners.list()

    async def resolve(self, ref: str) -> Partner:
        """A partner by its id or by any of its parties written ``CC-PID`` (case-insensitive)."""
        ref = ref.strip()
        if ref.isdigit():
            return await self.get(int(ref))
        cc, sep, pid = ref.replace("*", "-").replace("/", "-").partition("-")
        if not sep or len(cc) != 2 or len(pid) != 3:
            raise PartnerNotFound(f"{ref!r} is neither a partner id nor a party like NL-ABC")
        async with self._uow() as uow:
            partner = await uow.partners.find_by_party(cc, pid)
        if partner is None:
            raise PartnerNotFound(f"no partner holds party {cc.upper()}-{pid.upper()}")
        return partner

    def own_credentials(self, token: str) -> Credentials:
        return Credentials(token=token, url=self.versions_url, roles=self.own_parties)

    # ------------------------------------------------------------------ checks

    async def _check_parties(
        self, uow: UnitOfWork, partner: Partner, roles: Sequence[Party]
    ) -> None:
        """Refuse a party change, a party of ours, or a party another active partner holds."""
        new_keys = {p.key for p in roles}
        if partner.roles and new_keys != partner.party_keys:
            before = ", ".join(sorted(f"{c}-{p}" for c, p in partner.party_keys))
            after = ", ".join(sorted(f"{c}-{p}" for c, p in new_keys))
            raise PartyChangeRefused(
                f"country_code/party_id may not change after registration: registered as "
                f"{before}, now {after}"
            )
        own = {p.key for p in self.own_parties}
        for cc, pid in sorted(new_keys):
            if (cc, pid) in own:
                raise PartyConflict(f"party {cc}-{pid} is this node's own party")
            other = await uow.partners.find_by_party(cc, pid)
            if (
                other is not None
                and other.id != partner.id
                and other.status != ConnectionStatus.SUSPENDED
                and (other.registered or other.roles)
            ):
                raise PartyConflict(f"party {cc}-{pid} is already registered by partner {other.id}")

    def _pick_version(self, offered: Sequence[VersionRef], url: str) -> VersionRef:
        by_version = {v.version: v for v in offered}
        for version in self.supported_versions:
            if version in by_version:
                return by_version[version]
        names = ", ".join(v.version for v in offered) or "none"
        raise NoMutualVersion(
            f"{url} offers versions {names}; this node speaks " + ", ".join(self.supported_versions)
        )

    async def _discover(
        self, api: PartnerApi, versions_url: str, token: str, version: str | None = None
    ) -> Discovery:
        """GET versions and version details; ``version`` pins it (when we are the receiver)."""
        offered = await api.get_versions(versions_url, token)
        if version is None:
            chosen = self._pick_version(offered, versions_url)
        else:
            match = [v for v in offered if v.version == version]
            if not match:
                names = ", ".join(v.version for v in offered) or "none"
                raise NoMutualVersion(
                    f"{versions_url} does not offer version {version} (offers {names})"
                )
            chosen = match[0]
        endpoints = await api.get_version_details(chosen.url, token, chosen.version)
        if not any(e.identifier == "credentials" for e in endpoints):
            raise MissingEndpoints(f"{chosen.url} lists no credentials endpoint")
        return Discovery(version=chosen.version, versions_url=versions_url, endpoints=endpoints)

    def _credentials_url(self, partner: Partner) -> str:
        ep = partner.endpoint("credentials")
        if ep is None or not partner.token_out or not partner.version:
            raise NotRegistered(f"partner {partner.label} is not registered")
        return ep.url

    # ------------------------------------------------------------------ invite

    async def invite(self, note: str | None = None) -> Invitation:
        """A new PLANNED partner and its token A, to hand over offline with our versions URL."""
        token = generate_token()
        now = _now()
        async with self._uow() as uow:
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
            await uow.credentials_tokens.add(partner.id, CredentialsTokenKind.A, hash_token(token))
            await uow.commit()
        log.info("invited partner %s; token A issued", partner.id)
        return Invitation(partner=partner, token=token, versions_url=self.versions_url)

    # ------------------------------------------------------------------ we register

    async def register(self, versions_url: str, token_a: str, note: str | None = None) -> Partner:
        """Register with a partner that gave us its versions URL and token A (we are Sender).

        Token A is held in memory for the duration of this call only.
        """
        api = self._api
        discovery = await self._discover(api, versions_url, token_a)
        token_b = generate_token()
        now = _now()
        async with self._uow() as uow:
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
                )
            )
            # Committed before the POST: the partner calls our versions back with token B.
            await uow.credentials_tokens.add(
                partner.id, CredentialsTokenKind.AUTH, hash_token(token_b)
            )
            await uow.commit()

        cred_url = next(e.url for e in discovery.endpoints if e.identifier == "credentials")
        try:
            theirs = await api.post_credentials(
                cred_url, token_a, discovery.version, self.own_credentials(token_b)
            )
        except Exception:
            await self._forget(partner.id)
            raise
        try:
            async with self._uow() as uow:
                await self._check_parties(uow, partner, theirs.roles)
        except DomainError:
            # The partner has registered us already: tell it we will not keep the
            # connection, so neither side is left holding a half-made registration.
            await self._forget(partner.id)
            try:
                await api.delete_credentials(cred_url, theirs.token, discovery.version)
            except PartnerUnreachable as exc:
                log.warning("could not undo the registration at %s: %s", versions_url, exc)
            raise
        now = _now()
        async with self._uow() as uow:
            fresh = await uow.partners.get_for_update(partner.id)
            if fresh is None:
                raise PartnerNotFound("partner vanished during registration")
            self._connect(fresh, theirs, discovery, now)
            await uow.partners.save(fresh)
            await uow.commit()
        self._tokens_changed()
        log.info("registered with partner %s (%s) on OCPI %s", fresh.id, fresh.label, fresh.version)
        return fresh

    async def _forget(self, partner_id: int) -> None:
        """Undo a registration that did not complete: no record, no token B left behind."""
        async with self._uow() as uow:
            await uow.credentials_tokens.revoke(partner_id)
            await uow.partners.delete(partner_id)
            await uow.commit()
        self._tokens_changed()

    # ------------------------------------------------------------------ they register

    async def accept_registration(
        self, partner_id: int, used_kind: CredentialsTokenKind, theirs: Credentials, version: str
    ) -> Credentials:
        """A credentials POST (we are Receiver): mirror the partner's discovery with token B,
        then answer with token C. Token A dies in the same transaction."""
        partner = await self.get(partner_id)
        if partner.registered or used_kind != CredentialsTokenKind.A:
            raise AlreadyRegistered(f"partner {partner.label} is already registered")
        async with self._uow() as uow:
            await self._check_parties(uow, partner, theirs.roles)
        api = self._api.for_partner(theirs.roles[0].label)
        discovery = await self._discover(api, theirs.url, theirs.token, version)
        token_c = generate_token()
        now = _now()
        async with self._uow() as uow:
            # Consuming token A first is what makes two concurrent POSTs with the same
            # token A register once: the DELETE takes the write lock (SQLite) or the row
            # lock (PostgreSQL), and the loser finds nothing left to consume.
            if await uow.credentials_tokens.revoke(partner_id, CredentialsTokenKind.A) == 0:
                raise AlreadyRegistered("token A was already used for this registration")
            fresh = await uow.partners.get_for_update(partner_id)
            if fresh is None:
                raise PartnerNotFound(f"partner {partner_id} vanished")
            if fresh.registered:
                raise AlreadyRegistered(f"partner {fresh.label} is already registered")
            await self._check_parties(uow, fresh, theirs.roles)
            fresh.initiated_by_us = False
            self._connect(fresh, theirs, discovery, now)
            await uow.partners.save(fresh)
            await uow.credentials_tokens.revoke(partner_id)
            await uow.credentials_tokens.add(
                partner_id, CredentialsTokenKind.AUTH, hash_token(token_c)
            )
            await uow.commit()
        self._tokens_changed()
        log.info("partner %s (%s) registered with us on OCPI %s", partner_id, fresh.label, version)
        return self.own_credentials(token_c)

    async def accept_update(
        self, partner_id: int, theirs: Credentials, version: str
    ) -> Credentials:
        """A credentials PUT: re-discover with the new token, switch version, new token for them."""
        partner = await self.get(partner_id)
        if not partner.registered:
            raise NotRegistered(f"partner {partner.label} is not registered")
        async with self._uow() as uow:
            await self._check_parties(uow, partner, theirs.roles)
        api = self._api.for_partner(partner.label)
        discovery = await self._discover(api, theirs.url, theirs.token, version)
        new_token = generate_token()
        now = _now()
        async with self._uow() as uow:
            fresh = await uow.partners.get_for_update(partner_id)
            if fresh is None or not fresh.registered:
                raise NotRegistered(f"partner {partner.label} is not registered")
            await self._check_parties(uow, fresh, theirs.roles)
            self._connect(fresh, theirs, discovery, now)
            await uow.partners.save(fresh)
            await uow.credentials_tokens.revoke(partner_id)
            await uow.credentials_tokens.add(
                partner_id, CredentialsTokenKind.AUTH, hash_token(new_token)
            )
            await uow.commit()
        self._tokens_changed()
        log.info("partner %s (%s) updated its credentials", partner_id, fresh.label)
        return self.own_credentials(new_token)

    async def accept_unregister(self, partner_id: int) -> None:
        """A credentials DELETE: every token of the partner dies; it becomes SUSPENDED."""
        async with self._uow() as uow:
            partner = await uow.partners.get_for_update(partner_id)
            if partner is None or not partner.registered:
                raise NotRegistered(f"partner {partner_id} is not registered")
            self._suspend(partner)
            await uow.partners.save(partner)
            await uow.credentials_tokens.revoke(partner_id)
            await uow.commit()
        self._tokens_changed()
        log.info("partner %s (%s) unregistered itself", partner_id, partner.label)

    @staticmethod
    def _connect(
        partner: Partner, theirs: Credentials, discovery: Discovery, now: datetime
    ) -> None:
        """The partner's side of a completed exchange: its token, parties and endpoints."""
        partner.token_out = theirs.token
        partner.roles = list(theirs.roles)
        partner.versions_url = theirs.url
        partner.version = discovery.version
        partner.endpoints = discovery.endpoints
        partner.registered_at = partner.registered_at or now
        partner.last_connection = now
        if partner.status != ConnectionStatus.CONNECTED:
            partner.status = ConnectionStatus.CONNECTED
            partner.status_changed_at = now
        partner.updated_at = now

    @staticmethod
    def _suspend(partner: Partner) -> None:
        now = _now()
        partner.token_out = None
        partner.status = ConnectionStatus.SUSPENDED
        partner.status_changed_at = now
        partner.updated_at = now

    # ------------------------------------------------------------------ we update

    async def update(self, partner_id: int) -> Partner:
        """Re-discover the partner's versions (highest mutual) and PUT fresh credentials."""
        partner = await self.get(partner_id)
        self._credentials_url(partner)
        api = self._api.for_partner(partner.label)
        assert partner.versions_url and partner.token_out
        discovery = await self._discover(api, partner.versions_url, partner.token_out)
        return await self._put_credentials(partner, discovery)

    async def rotate(self, partner_id: int) -> Partner:
        """PUT credentials with a new token for the partner, on the current version."""
        partner = await self.get(partner_id)
        self._credentials_url(partner)
        assert partner.version and partner.versions_url
        return await self._put_credentials(
            partner,
            Discovery(partner.version, partner.versions_url, partner.endpoints),
        )

    async def _put_credentials(self, partner: Partner, discovery: Discovery) -> Partner:
        api = self._api.for_partner(partner.label)
        cred_ep = next((e for e in discovery.endpoints if e.identifier == "credentials"), None)
        if cred_ep is None:
            raise MissingEndpoints("partner lists no credentials endpoint")
        assert partner.token_out
        new_token = generate_token()
        new_hash = hash_token(new_token)
        # The new token must work before the PUT: the partner re-discovers us with it.
        async with self._uow() as uow:
            await uow.credentials_tokens.add(partner.id, CredentialsTokenKind.AUTH, new_hash)
            await uow.commit()
        try:
            theirs = await api.put_credentials(
                cred_ep.url, partner.token_out, discovery.version, self.own_credentials(new_token)
            )
            if {p.key for p in theirs.roles} != partner.party_keys:
                raise PartyChangeRefused(
                    "the partner answered with other country_code/party_id pairs than it "
                    "registered with; kept the old credentials"
                )
        except Exception:
            async with self._uow() as uow:
                await uow.credentials_tokens.revoke_hash(new_hash)
                await uow.commit()
            self._tokens_changed()
            raise
        now = _now()
        async with self._uow() as uow:
            fresh = await uow.partners.get_for_update(partner.id)
            if fresh is None:
                raise PartnerNotFound(f"partner {partner.id} vanished")
            self._connect(fresh, theirs, discovery, now)
            await uow.partners.save(fresh)
            await uow.credentials_tokens.revoke(partner.id, CredentialsTokenKind.AUTH)
            await uow.credentials_tokens.add(partner.id, CredentialsTokenKind.AUTH, new_hash)
            await uow.commit()
        self._tokens_changed()
        log.info("credentials of partner %s (%s) updated and rotated", fresh.id, fresh.label)
        return fresh

    # ------------------------------------------------------------------ we unregister / reset

    async def unregister(self, partner_id: int) -> UnregisterResult:
        """DELETE our registration at the partner, then revoke locally whatever it answered:
        an operator who unregisters wants the traffic to stop."""
        partner = await self.get(partner_id)
        cred_url = self._credentials_url(partner)
        remote_error: str | None = None
        try:
            assert partner.token_out and partner.version
            await self._api.for_partner(partner.label).delete_credentials(
                cred_url, partner.token_out, partner.version
            )
        except PartnerUnreachable as exc:
            remote_error = str(exc)
            log.warning("partner %s: remote unregister failed: %s", partner.label, exc)
        async with self._uow() as uow:
            fresh = await uow.partners.get_for_update(partner_id)
            if fresh is None:
                raise PartnerNotFound(f"no partner {partner_id}")
            self._suspend(fresh)
            await uow.partners.save(fresh)
            await uow.credentials_tokens.revoke(partner_id)
            await uow.commit()
        self._tokens_changed()
        log.info("unregistered partner %s (%s)", partner_id, fresh.label)
        return UnregisterResult(fresh, remote_error is None, remote_error)

    async def reset(self, partner_id: int) -> Invitation:
        """After a breach: revoke every token at once, stop all traffic, issue a new token A.

        The partner keeps its id and its parties, so it must come back as itself.
        """
        token = generate_token()
        now = _now()
        async with self._uow() as uow:
            partner = await uow.partners.get_for_update(partner_id)
            if partner is None:
                raise PartnerNotFound(f"no partner {partner_id}")
            await uow.credentials_tokens.revoke(partner_id)
            partner.token_out = None
            partner.registered_at = None
            partner.status = ConnectionStatus.PLANNED
            partner.status_changed_at = now
            partner.updated_at = now
            await uow.partners.save(partner)
            await uow.credentials_tokens.add(partner_id, CredentialsTokenKind.A, hash_token(token))
            await uow.commit()
        self._tokens_changed()
        log.warning(
            "partner %s (%s) reset: all tokens revoked, new token A issued",
            partner_id,
            partner.label,
        )
        return Invitation(partner=partner, token=token, versions_url=self.versions_url)

    async def set_note(self, partner_id: int, note: str | None) -> Partner:
        if note is not None and len(note) > 255:
            raise InvalidInput("note: at most 255 characters")
        async with self._uow() as uow:
            partner = await uow.partners.get_for_update(partner_id)
            if partner is None:
                raise PartnerNotFound(f"no partner {partner_id}")
            partner.note = note
            partner.updated_at = _now()
            await uow.partners.save(partner)
            await uow.commit()
        return partner

    # ------------------------------------------------------------------ liveness

    async def record_contact(
        self, partner_id: int, ok: bool = True, attempted_at: datetime | None = None
    ) -> None:
        """Record a successful or failed contact.

        A failure only counts if nothing succeeded since ``attempted_at``: a partner that
        called us while our ping to it was failing is not marked OFFLINE by that ping.
        """
        status = ConnectionStatus.CONNECTED if ok else ConnectionStatus.OFFLINE
        async with self._uow() as uow:
            partner = await uow.partners.get_for_update(partner_id)
            if partner is None or not partner.registered:
                return
            if ok:
                await uow.partners.touch(partner_id, _now(), status)
            elif (
                attempted_at is not None
                and partner.last_connection is not None
                and partner.last_connection >= attempted_at
            ):
                return
            elif partner.status != status:
                partner.status = status
                partner.status_changed_at = partner.updated_at = _now()
                await uow.partners.save(partner)
            await uow.commit()

    async def check_liveness(self, silence: timedelta) -> dict[int, ConnectionStatus]:
        """GET versions of each registered partner silent for longer than ``silence``.

        A hub's "still alive" check (digest §2). Returns the status each checked partner got.
        """
        now = _now()
        results: dict[int, ConnectionStatus] = {}
        for partner in await self.list():
            if not partner.registered or not partner.token_out or not partner.versions_url:
                continue
            if partner.last_connection and now - partner.last_connection < silence:
                continue
            attempted_at = _now()
            try:
                await self._api.for_partner(partner.label).get_versions(
                    partner.versions_url, partner.token_out
                )
                ok = True
            except PartnerUnreachable as exc:
                ok = False
                if partner.status != ConnectionStatus.OFFLINE:
                    log.warning("partner %s is offline: %s", partner.label, exc)
            if ok and partner.status == ConnectionStatus.OFFLINE:
                log.info("partner %s is back online", partner.label)
            await self.record_contact(partner.id, ok, attempted_at)
            results[partner.id] = ConnectionStatus.CONNECTED if ok else ConnectionStatus.OFFLINE
        return results
