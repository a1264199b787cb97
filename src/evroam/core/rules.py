"""Pure rules of a roaming connection, on core types only (no I/O).

Services call them twice: once before calling the partner (to refuse early, without a
round trip) and again inside the transaction that commits (the README's promise: every
rule is re-checked where the change is made durable).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from evroam.core.errors import NoMutualVersion, PartyChangeRefused, PartyConflict
from evroam.core.ports import VersionRef
from evroam.core.types import Partner, Party, version_key


def party_keys(roles: Iterable[Party]) -> set[tuple[str, str]]:
    return {p.key for p in roles}


def _labels(keys: Iterable[tuple[str, str]]) -> str:
    return ", ".join(sorted(f"{c}-{p}" for c, p in keys))


def check_party_change(partner: Partner, roles: Sequence[Party]) -> None:
    """A partner keeps the country_code/party_id pairs it registered with, for good
    (OCPI 2.2.1 credentials §"Update": the parties identify URL owners)."""
    new_keys = party_keys(roles)
    if partner.roles and new_keys != partner.party_keys:
        raise PartyChangeRefused(
            "country_code/party_id may not change after registration: registered as "
            f"{_labels(partner.party_keys)}, now {_labels(new_keys)}"
        )


def check_not_own_party(own_parties: Iterable[Party], roles: Sequence[Party]) -> None:
    """A partner may not claim a party this node hosts: objects under it are ours."""
    own = party_keys(own_parties)
    for cc, pid in sorted(party_keys(roles)):
        if (cc, pid) in own:
            raise PartyConflict(f"party {cc}-{pid} is this node's own party")


def check_parties(partner: Partner, own_parties: Iterable[Party], roles: Sequence[Party]) -> None:
    """Both party rules that need no database: no change, none of ours. Whether another
    partner holds a party is decided by the party claim constraint when committing."""
    check_party_change(partner, roles)
    check_not_own_party(own_parties, roles)


def sort_versions(versions: Iterable[str]) -> list[str]:
    return sorted(versions, key=version_key, reverse=True)


def pick_version(supported: Sequence[str], offered: Sequence[VersionRef], url: str) -> VersionRef:
    """The highest version both sides speak (credentials §"Registration", step 2)."""
    by_version = {v.version: v for v in offered}
    for version in sort_versions(supported):
        if version in by_version:
            return by_version[version]
    names = ", ".join(v.version for v in offered) or "none"
    raise NoMutualVersion(
        f"{url} offers versions {names}; this node speaks " + ", ".join(supported)
    )


def pin_version(offered: Sequence[VersionRef], version: str, url: str) -> VersionRef:
    """The version whose credentials endpoint the partner called: the receiving side
    must use exactly that one (credentials §"Registration", step 5)."""
    for v in offered:
        if v.version == version:
            return v
    names = ", ".join(v.version for v in offered) or "none"
    raise NoMutualVersion(f"{url} does not offer version {version} (offers {names})")
