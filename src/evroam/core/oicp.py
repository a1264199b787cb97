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
import math
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


# ---------------------------------------------------------------------- EVSE data
#
# What operators push about their EVSEs (eRoamingEVSEData, digest §1.3 row 10) and what
# EMPs pull of it (row 12). The record itself travels as JSON text: the hub keeps the
# validated record as it came (date-times untouched, digest §8.9) and answers it back;
# only the properties the pull filters on are lifted into fields.

#: The ``AuthenticationMode`` values, in the order of their bits in
#: :func:`authentication_mask` (stored, so only ever append).
AUTHENTICATION_MODES: tuple[str, ...] = (
    "NFC RFID Classic",
    "NFC RFID DESFire",
    "PnC",
    "REMOTE",
    "Direct Payment",
    "No Authentication Required",
)


def authentication_mask(modes: Iterable[str]) -> int:
    """The bit set of ``modes`` (unknown values contribute nothing)."""
    mask = 0
    for mode in modes:
        if mode in AUTHENTICATION_MODES:
            mask |= 1 << AUTHENTICATION_MODES.index(mode)
    return mask


class DeltaType(StrEnum):
    """How a record changed since an EMP's ``LastCall`` (digest §8.10)."""

    INSERT = "insert"
    UPDATE = "update"
    DELETE = "delete"


@dataclass(frozen=True, slots=True)
class PoiFinding:
    """One POI quality finding on a pushed record (``oicp/v2_3/poi.py``)."""

    property: str
    severity: str
    message: str


@dataclass(frozen=True, slots=True)
class EvseDataEntry:
    """One pushed EVSE data record, ready to store: its IDs, the record as JSON text,
    the properties PullEvseData filters on, and its POI check."""

    evse_id: str
    canonical_evse_id: str
    operator: str  # the canonical OperatorID its EvseID belongs to
    record: str
    country: str
    latitude: float
    longitude: float
    accessibility: str
    auth_modes: int  # authentication_mask() of its AuthenticationModes
    calibration: str
    renewable: bool
    hubject_compatible: bool
    open_24h: bool
    poi_score: int = 100
    poi_findings: tuple[PoiFinding, ...] = ()


@dataclass(frozen=True, slots=True)
class StoredEvseData:
    """A record the hub holds (or held: ``deleted_at`` set), as a pull answers it."""

    operator: str
    evse_id: str
    canonical_evse_id: str
    operator_id: str
    operator_name: str
    record: str
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None = None

    def delta(self, since: datetime) -> DeltaType:
        """What happened to it after ``since``, for a LastCall delta pull."""
        if self.deleted_at is not None:
            return DeltaType.DELETE
        return DeltaType.INSERT if self.created_at > since else DeltaType.UPDATE


@dataclass(frozen=True, slots=True)
class StoredPoiReport:
    """The POI findings the hub kept for one live record of an operator."""

    evse_id: str
    score: int
    findings: tuple[PoiFinding, ...]
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class GeoCircle:
    """``SearchCenter``: a centre (decimal degrees) and a radius in kilometres."""

    latitude: float
    longitude: float
    radius_km: float

    def bounding_box(self) -> tuple[float, float, float | None, float | None]:
        """(min lat, max lat, min lon, max lon) enclosing the circle, for an indexed
        pre-selection; the longitudes are ``None`` where the circle reaches a pole or
        crosses the antimeridian (then only latitude narrows the search)."""
        dlat = math.degrees(self.radius_km / EARTH_RADIUS_KM)
        low, high = self.latitude - dlat, self.latitude + dlat
        if low <= -90 or high >= 90:
            return max(low, -90.0), min(high, 90.0), None, None
        dlon = dlat / math.cos(math.radians(max(abs(low), abs(high))))
        west, east = self.longitude - dlon, self.longitude + dlon
        if west < -180 or east > 180:
            return low, high, None, None
        return low, high, west, east

    def contains(self, latitude: float, longitude: float) -> bool:
        """Whether the point lies within the radius (great-circle distance)."""
        return distance_km(self.latitude, self.longitude, latitude, longitude) <= self.radius_km


#: Mean Earth radius (IUGG), kilometres.
EARTH_RADIUS_KM = 6371.0088


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance by the haversine formula."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


@dataclass(frozen=True, slots=True)
class EvseDataQuery:
    """The filters of a PullEvseData; ``None`` is "not filtered". Lists are wire values
    (countries alpha-3, operators canonical); ``auth_mask`` matches records supporting
    any of its modes; ``changed_since`` (LastCall) also returns deleted records."""

    countries: tuple[str, ...] | None = None
    operators: tuple[str, ...] | None = None
    auth_mask: int | None = None
    accessibility: tuple[str, ...] | None = None
    calibration: tuple[str, ...] | None = None
    renewable: bool | None = None
    hubject_compatible: bool | None = None
    open_24h: bool | None = None
    changed_since: datetime | None = None
    circle: GeoCircle | None = None


# ---------------------------------------------------------------------- dynamic pricing

#: ``ProviderID`` of an offer made to every EMP.
ALL_PROVIDERS = "*"


@dataclass(frozen=True, slots=True)
class PricingOffer:
    """The pricing products of one operator offered to one EMP (canonical ProviderID)
    or to all (``*``): ``data`` is the PricingProductData object as JSON text, its
    ``PricingProductDataRecords`` the current products."""

    operator: str
    provider: str
    operator_id: str
    provider_id: str
    data: str
    product_count: int
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class EvsePricingEntry:
    """Which products apply at one EVSE for one EMP (or ``*``)."""

    operator: str
    evse_id: str
    canonical_evse_id: str
    provider: str  # canonical ProviderID or "*"
    provider_id: str  # as sent
    products: tuple[str, ...]
    updated_at: datetime | None = None

    @property
    def key(self) -> tuple[str, str]:
        return self.canonical_evse_id, self.provider
