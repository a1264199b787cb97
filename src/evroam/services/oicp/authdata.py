"""PushAuthenticationData on the hub: what an EMP lets the hub authorize offline, and
how a medium is looked up (digest §1.3 row 7, "ActionType semantics"; §1.3 AuthorizeStart
step 2).

A push, in this order:

1. every EvcoID (QR code, Plug&Charge, an RFID card's) belongs to the pushing provider,
   else 019 and nothing is stored; one medium twice in one body is a data error (022);
2. clear PINs are hashed (below), off the event loop;
3. in one transaction, holding the provider's partner row (PostgreSQL ``FOR UPDATE``;
   SQLite's write lock): the ActionType applied to the provider's set (``insert``
   refuses the whole request if any medium is known, ``update`` if any is unknown,
   ``delete`` removes the listed ones, ``fullLoad`` replaces the set). One provider's
   pushes are thus applied one at a time, in the order they reach the lock (digest §6).

**PINs.** The hub never stores a clear PIN. The specification has the hub hash it with
bcrypt; bcrypt is not a dependency of this project and no well-kept bcrypt is in the
standard library, so PINs are hashed with ``hashlib.scrypt`` (memory-hard like bcrypt,
standard library, a random salt per PIN; parameters in the stored text so they can be
raised later) and compared in constant time. A ``HashedPIN`` an EMP pushes is stored as
given; the hub cannot check a clear PIN against a bcrypt value without bcrypt, so such
a record does not authorize offline (the authorization goes on to the EMP, if online).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import os
from collections.abc import Sequence
from dataclasses import dataclass

from evroam.core.oicp import ActionType, InvalidRequest, NotActingForSelf, OicpPartner, OicpRole
from evroam.core.oicp_sessions import AuthenticationRecord, ForeignEvco, Medium
from evroam.core.ports import OicpUnitOfWorkFactory
from evroam.services.oicp.checks import duplicates, listing

# scrypt cost: 16 MiB and some 50 ms per PIN on one core.
_N, _R, _P, _LEN = 2**14, 8, 1, 32


def hash_pin(pin: str) -> str:
    """``scrypt$N$r$p$salt$hash`` (base64) of ``pin``."""
    salt = os.urandom(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=_LEN)
    b64 = base64.b64encode
    return f"scrypt${_N}${_R}${_P}${b64(salt).decode()}${b64(digest).decode()}"


def pin_matches(pin: str, stored: str) -> bool:
    """Whether ``pin`` hashes to ``stored`` (a :func:`hash_pin` text), in constant time."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        got = hashlib.scrypt(
            pin.encode(),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
        )
    except ValueError:
        return False
    return hmac.compare_digest(got, expected)


@dataclass(frozen=True, slots=True)
class AuthDataItem:
    """One pushed medium: its key and JSON (``medium``, with the clear PIN to hash) and
    a ``HashedPIN`` value as given."""

    medium: Medium
    hashed_pin: str | None = None


def check_push(provider: OicpPartner, items: Sequence[AuthDataItem]) -> None:
    """Step 1 of the module docstring."""
    foreign = [
        i.medium.key.partition(":")[2]
        for i in items
        if i.medium.provider is not None and i.medium.provider != provider.canonical_id
    ]
    if foreign:
        raise ForeignEvco(f"EvcoID not of provider {provider.partner_id}: {listing(foreign)}")
    twice = duplicates([item.medium.key for item in items])
    if twice:
        raise InvalidRequest(f"identification given more than once: {listing(twice)}")


def _records(provider: OicpPartner, items: Sequence[AuthDataItem]) -> list[AuthenticationRecord]:
    return [
        AuthenticationRecord(
            provider=provider.canonical_id,
            key=i.medium.key,
            identification=i.medium.wire,
            pin_hash=hash_pin(i.medium.pin) if i.medium.pin is not None else None,
            hashed_pin=i.hashed_pin,
        )
        for i in items
    ]


async def push_authentication_data(
    uow: OicpUnitOfWorkFactory,
    provider: OicpPartner,
    action: ActionType,
    items: Sequence[AuthDataItem],
) -> None:
    """Apply one eRoamingPushAuthenticationData of ``provider`` (the caller, acting as
    EMP); raises ``ForeignEvco``/``InvalidRequest`` with nothing stored."""
    check_push(provider, items)
    records = await asyncio.to_thread(_records, provider, items)
    keys = [r.key for r in records]
    async with uow() as u:
        locked = await u.oicp_partners.get_for_update(provider.canonical_id)
        if locked is None or not locked.holds(OicpRole.EMP):
            raise NotActingForSelf(f"{provider.partner_id} is not a provider of this hub")
        data = u.oicp_auth_data
        if action is ActionType.INSERT:
            known = await data.known(provider.canonical_id, keys)
            if known:
                raise InvalidRequest(
                    f"insert of identifications the hub already has: {listing(sorted(known))}"
                )
            await data.put(records)
        elif action is ActionType.UPDATE:
            known = await data.known(provider.canonical_id, keys)
            missing = [k for k in keys if k not in known]
            if missing:
                raise InvalidRequest(
                    f"update of identifications the hub does not have: {listing(missing)}"
                )
            await data.put(records)
        elif action is ActionType.DELETE:
            await data.delete(provider.canonical_id, keys)
        else:
            await data.delete_all(provider.canonical_id)
            await data.put(records)
        await u.commit()


async def offline_match(
    uow: OicpUnitOfWorkFactory, medium: Medium
) -> tuple[AuthenticationRecord | None, bool]:
    """The pushed record authorizing ``medium``, and whether a record for it exists at
    all (so a wrong PIN is told apart from an unknown medium). A record holding only a
    ``HashedPIN`` is not checkable here (module docstring) and counts as absent."""
    async with uow(read_only=True) as u:
        candidates = await u.oicp_auth_data.find(medium.key)
    checkable = [r for r in candidates if r.hashed_pin is None or r.pin_hash is not None]
    for record in checkable:
        if record.pin_hash is None:
            return record, True  # no PIN was pushed: the medium alone authorizes
        if medium.pin is not None and await asyncio.to_thread(
            pin_matches, medium.pin, record.pin_hash
        ):
            return record, True
    return None, bool(checkable)
