"""Who is calling over OCPI: the credentials token in ``Authorization: Token <x>``.

Tokens we issue are 256-bit random values stored as SHA-256 hashes, and a request is
matched by looking its hash up (both the raw and the Base64-decoded reading of the
header, since partners send either). Finding a 256-bit random value by its hash leaks
nothing an attacker can use, so no constant-time comparison of the raw value is needed.

Recently seen tokens are cached for a few seconds so that a busy partner does not cost a
database round trip per request; any token change on this node clears the cache at once,
so a revoked token is refused by the next request.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from evroam.core.credentials_tokens import hash_token, header_token_candidates
from evroam.core.ports import UnitOfWorkFactory
from evroam.core.types import CredentialsTokenKind, Partner
from evroam.ocpi.common.errors import InvalidParameters, Unauthorized

CACHE_SECONDS = 10.0
TOUCH_EVERY_SECONDS = 30.0
MAX_HEADER = 512

_Found = tuple[Partner, CredentialsTokenKind, str]


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated OCPI caller. ``token`` is the raw token it presented (kept only for
    the duration of the request, e.g. to echo it in a credentials GET); ``token_hash`` is
    what identifies it in the store."""

    partner: Partner
    kind: CredentialsTokenKind
    token: str = field(repr=False)
    token_hash: str = field(repr=False)


class AuthCache:
    """Token hash -> (partner, kind) for a few seconds, with single-flight lookups.

    Concurrent requests that miss on the same token share one database lookup, so an
    expiry under load costs one query, not one per connection. ``clear`` bumps a
    generation number: a lookup that started before a token change does not put its
    (possibly stale) answer back into the cache. ``clock`` is injectable so tests drive
    time instead of sleeping.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._entries: dict[str, tuple[float, Partner, CredentialsTokenKind]] = {}
        # Authorization header -> (expiry, caller): a busy partner sends the same header
        # every time, so a hit skips decoding and hashing it (a tenth of an EVSE PATCH).
        self._callers: dict[str, tuple[float, Caller]] = {}
        self._inflight: dict[tuple[str, ...], asyncio.Future[_Found]] = {}
        self._touched: dict[int, float] = {}
        self._clock = clock
        self.generation = 0
        self.lookups = 0

    def __repr__(self) -> str:
        return f"AuthCache({len(self._entries)} entries, generation {self.generation})"

    def clear(self) -> None:
        self.generation += 1
        self._entries.clear()
        self._callers.clear()
        self._touched.clear()

    def get(self, token_hash: str) -> tuple[Partner, CredentialsTokenKind] | None:
        entry = self._entries.get(token_hash)
        if entry is None:
            return None
        expires, partner, kind = entry
        if expires < self._clock():
            self._entries.pop(token_hash, None)
            return None
        return partner, kind

    def put(
        self, token_hash: str, partner: Partner, kind: CredentialsTokenKind, generation: int
    ) -> None:
        if generation != self.generation:
            return
        if len(self._entries) > 10_000:
            self._entries.clear()
        self._entries[token_hash] = (self._clock() + CACHE_SECONDS, partner, kind)

    def caller(self, header: str) -> Caller | None:
        entry = self._callers.get(header)
        if entry is None:
            return None
        if entry[0] < self._clock():
            self._callers.pop(header, None)
            return None
        return entry[1]

    def put_caller(self, header: str, caller: Caller, generation: int) -> None:
        """Remember the caller of ``header`` for as long as its token's entry lives."""
        if generation != self.generation:
            return
        entry = self._entries.get(caller.token_hash)
        if entry is None:
            return
        if len(self._callers) > 10_000:
            self._callers.clear()
        self._callers[header] = (entry[0], caller)

    def due_for_touch(self, partner_id: int) -> bool:
        """True at most every TOUCH_EVERY_SECONDS per partner: last_connection is coarse."""
        now = self._clock()
        last = self._touched.get(partner_id)
        if last is not None and now - last < TOUCH_EVERY_SECONDS:
            return False
        self._touched[partner_id] = now
        return True


class Authenticator:
    """Turns an Authorization header into a :class:`Caller`, through the cache."""

    def __init__(self, uow: UnitOfWorkFactory, cache: AuthCache) -> None:
        self.uow = uow
        self.cache = cache

    async def authenticate(self, header: str | None) -> Caller:
        cache = self.cache
        if header:
            known = cache.caller(header)
            if known is not None:
                return known
        generation = cache.generation
        caller = await self._authenticate(header)
        assert header is not None  # parse_authorization refuses a missing one
        cache.put_caller(header, caller, generation)
        return caller

    async def _authenticate(self, header: str | None) -> Caller:
        candidates = parse_authorization(header)
        hashes = [hash_token(c) for c in candidates]
        cache = self.cache
        for token, h in zip(candidates, hashes, strict=True):
            hit = cache.get(h)
            if hit is not None:
                return Caller(partner=hit[0], kind=hit[1], token=token, token_hash=h)
        key = tuple(hashes)
        pending = cache._inflight.get(key)
        if pending is None:
            pending = asyncio.get_running_loop().create_future()
            cache._inflight[key] = pending
            try:
                pending.set_result(await self._lookup(hashes))
            except Exception as exc:  # waiters get the same answer (e.g. Unauthorized)
                pending.set_exception(exc)
            except BaseException:
                pending.cancel()
                raise
            finally:
                cache._inflight.pop(key, None)
        partner, kind, stored_hash = await asyncio.shield(pending)
        token = candidates[hashes.index(stored_hash)]
        return Caller(partner=partner, kind=kind, token=token, token_hash=stored_hash)

    async def _lookup(self, hashes: list[str]) -> _Found:
        cache = self.cache
        generation = cache.generation
        cache.lookups += 1
        async with self.uow(read_only=True) as uow:
            found = await uow.credentials_tokens.find(hashes, datetime.now(UTC))
            if found is None:
                raise Unauthorized("unknown credentials token")
            partner_id, kind, stored_hash = found
            partner = await uow.partners.get(partner_id)
        if partner is None:
            raise Unauthorized("unknown credentials token")
        cache.put(stored_hash, partner, kind, generation)
        return partner, kind, stored_hash


def parse_authorization(header: str | None) -> list[str]:
    """Token candidates from ``Authorization: Token <x>``; 401 when absent or malformed."""
    if not header:
        raise Unauthorized("missing Authorization header (expected 'Token <credentials token>')")
    if len(header) > MAX_HEADER:
        raise Unauthorized("Authorization header too long")
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() != "token" or not value:
        raise Unauthorized("Authorization header must be 'Token <credentials token>'")
    return header_token_candidates(value)


def require_full_token(caller: Caller) -> None:
    """Token A opens versions, version details and the credentials POST only (401 elsewhere)."""
    if caller.kind == CredentialsTokenKind.A:
        raise Unauthorized("token A is only valid for versions and the credentials registration")


def check_routing_headers(
    caller: Caller,
    headers: Mapping[str, str],
    own_parties: set[tuple[str, str]],
) -> None:
    """Functional modules: OCPI-from-* must be one of the caller's parties, OCPI-to-* ours.

    Absent headers are tolerated (many partners omit them); present and wrong is 2001.
    """
    get = headers.get
    from_cc, from_pid = get("ocpi-from-country-code"), get("ocpi-from-party-id")
    if from_cc or from_pid:
        if (str(from_cc).upper(), str(from_pid).upper()) not in caller.partner.party_keys:
            raise InvalidParameters(
                f"OCPI-from-country-code/OCPI-from-party-id {from_cc}/{from_pid} do not match "
                "the parties in your credentials"
            )
    to_cc, to_pid = get("ocpi-to-country-code"), get("ocpi-to-party-id")
    if to_cc or to_pid:
        if (str(to_cc).upper(), str(to_pid).upper()) not in own_parties:
            raise InvalidParameters(
                f"OCPI-to-country-code/OCPI-to-party-id {to_cc}/{to_pid} is not a party of "
                "this platform"
            )
