"""Looking partners up: by id, by party, all of them."""

from __future__ import annotations

import re

from evroam.core.errors import PartnerNotFound
from evroam.core.ports import Credentials
from evroam.core.types import Partner, Party
from evroam.services.context import PartnerContext

# An operator names a partner by its id or by one of its parties (``NL-ABC``); anything
# else is answered "not found" without being echoed back in full.
_ID = re.compile(r"[0-9]{1,18}")
_PARTY = re.compile(r"([A-Za-z]{2})[-*/]([A-Za-z0-9]{3})")


def shorten(ref: str, limit: int = 40) -> str:
    """A reference as it may appear in an answer: printable ASCII, cut to ``limit``."""
    safe = "".join(c if " " < c < "\x7f" else "?" for c in ref[:limit])
    return safe + ("…" if len(ref) > limit else "")


class PartnerDirectory:
    def __init__(self, ctx: PartnerContext) -> None:
        self.ctx = ctx

    @property
    def own_parties(self) -> tuple[Party, ...]:
        return self.ctx.own_parties

    @property
    def versions_url(self) -> str:
        return self.ctx.versions_url

    @property
    def supported_versions(self) -> tuple[str, ...]:
        return self.ctx.supported_versions

    def own_credentials(self, token: str) -> Credentials:
        return self.ctx.own_credentials(token)

    async def get(self, partner_id: int) -> Partner:
        async with self.ctx.uow(read_only=True) as uow:
            partner = await uow.partners.get(partner_id)
        if partner is None:
            raise PartnerNotFound(f"no partner {partner_id}")
        return partner

    async def list(self) -> list[Partner]:
        async with self.ctx.uow(read_only=True) as uow:
            return await uow.partners.list()

    async def resolve(self, ref: str) -> Partner:
        """A partner by its id or by any of its parties written ``CC-PID`` (any case)."""
        ref = ref.strip()
        if _ID.fullmatch(ref):
            return await self.get(int(ref))
        match = _PARTY.fullmatch(ref)
        if match is None:
            raise PartnerNotFound(
                f"{shorten(ref)!r} is neither a partner id nor a party like NL-ABC"
            )
        cc, pid = match.group(1).upper(), match.group(2).upper()
        async with self.ctx.uow(read_only=True) as uow:
            partner = await uow.partners.find_by_party(cc, pid)
        if partner is None:
            raise PartnerNotFound(f"no partner holds party {cc}-{pid}")
        return partner
