"""The OICP hub's domain: its partners, their roles and access rules, EVSE statuses.

An OICP partner is known by one ID (an OperatorID when it is a CPO, a ProviderID when it
is an EMP; a company holding both roles under one ID uses it as either, digest §1.1).
The ID is kept as the operator gave it and compared in its canonical form (upper case,
``*``/``-`` removed: ``DE*ABC`` and ``DEABC`` are one partner, digest §6); the wire
layer computes that form, so this module needs no knowledge of ID syntax.

Access is two checks, both made before a request is looked at (digest §6):
``cert_identity`` is what its TLS client certificate must carry (by default its ID),
``allowed_networks`` the source addresses it may call from. An empty list means any
address: the certificate alone is the credential then, as on Hubject without IP
whitelisting.

Errors here are meaning-level; the OICP edge maps them to status codes (``hub/app.py``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from evroam.core.errors import DomainError

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class OicpRole(StrEnum):
    """The two OICP partner roles (digest §1.1)."""

    CPO = "CPO"
    EMP = "EMP"


class EvseStatus(StrEnum):
    """An EVSE's dynamic status (OICP 2.3 data types, EvseStatus). ``EvseNotFound`` is
    only answered by the hub (pull by ID), never stored."""

    AVAILABLE = "Available"
    RESERVED = "Reserved"
    OCCUPIED = "Occupied"
    OUT_OF_SERVICE = "OutOfService"
    EVSE_NOT_FOUND = "EvseNotFound"
    UNKNOWN = "Unknown"


class ActionType(StrEnum):
    """How a push changes what the hub holds for the pushing partner (digest §1.3
    "ActionType semantics")."""

    FULL_LOAD = "fullLoad"
    UPDATE = "update"
    INSERT = "insert"
    DELETE = "delete"


def identity_key(text: str) -> str:
    """How certificate identities are compared: as IDs are (upper case, ``*`` and ``-``
    removed), so a certificate reading ``DEABC`` matches a partner ``DE*ABC``."""
    return text.strip().upper().replace("*", "").replace("-", "")


def parse_network(text: str) -> Network:
    """An address or CIDR block; a bare address is a /32 (/128) network. Host bits set
    in a block (``10.0.0.1/8``) are refused: the operator meant something else."""
    return ipaddress.ip_network(text.strip(), strict=True)


def normalize_networks(texts: Iterable[str]) -> tuple[str, ...]:
    """Each entry validated and written in its compressed form, duplicates dropped, in
    the order given; raises ``ValueError`` naming the bad entry."""
    out: list[str] = []
    for text in texts:
        try:
            net = parse_network(text)
        except ValueError as exc:
            raise ValueError(f"{text!r} is not an IP address or CIDR block: {exc}") from None
        if str(net) not in out:
            out.append(str(net))
    return tuple(out)


@dataclass(slots=True)
class OicpPartner:
    """A CPO and/or EMP registered with the hub by its operator."""

    partner_id: str
    canonical_id: str
    roles: frozenset[OicpRole]
    cert_identity: str
    allowed_networks: tuple[str, ...] = ()
    endpoint: str | None = None
    name: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    def holds(self, role: OicpRole) -> bool:
        return role in self.roles

    def allows(self, address: str | None) -> bool:
        """Whether a request from ``address`` may proceed: any address when the list is
        empty; otherwise the address must lie in one of the networks (an IPv4-mapped
        IPv6 address counts as its IPv4 address). No address (a Unix socket) is refused
        when the list is not empty."""
        if not self.allowed_networks:
            return True
        if not address:
            return False
        try:
            ip = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return any(ip in ipaddress.ip_network(n) for n in self.allowed_networks)


@dataclass(frozen=True, slots=True)
class EvseStatusRecord:
    """One EVSE's status as pushed: the EvseID as sent, its canonical form, the canonical
    OperatorID it belongs to (from its prefix), and the status."""

    evse_id: str
    canonical_evse_id: str
    operator: str
    status: EvseStatus


@dataclass(frozen=True, slots=True)
class StoredEvseStatus:
    """An EVSE status the hub holds: ``changed_at`` is when the status last took its
    current value (a push repeating it does not move it), ``pushed_at`` the last push."""

    operator: str
    evse_id: str
    canonical_evse_id: str
    status: EvseStatus
    changed_at: datetime
    pushed_at: datetime


@dataclass(frozen=True, slots=True)
class OperatorStatuses:
    """The statuses of one operator as a pull answers them."""

    operator_id: str
    operator_name: str | None
    records: list[StoredEvseStatus] = field(default_factory=list)


# ---------------------------------------------------------------------- errors


class OicpRefusal(DomainError):
    """A request the hub refuses; the edge answers it with the matching OICP code."""


class NotActingForSelf(OicpRefusal):
    """The caller named an ID that is not its own, or acts in a role it does not hold
    (OICP 017)."""


class ForeignEvse(OicpRefusal):
    """An EvseID of another operator in a push (OICP 018)."""


class InvalidRequest(OicpRefusal):
    """A request breaking a rule its shape cannot express: a push against its ActionType
    (insert of a known EVSE, update of an unknown one), one EVSE twice, too many IDs;
    OICP 022 with what was wrong."""


class UnsupportedFilter(OicpRefusal):
    """A pull filter the hub cannot apply yet (OICP 022, never silently ignored)."""


class OicpPartnerExists(DomainError):
    """Another partner already has this ID (in canonical form)."""


class OicpPartnerUnknown(DomainError):
    """No partner with this ID."""


class InvalidOicpPartner(DomainError):
    """Partner data the operator gave breaks a rule (role/ID form, networks, URL)."""
