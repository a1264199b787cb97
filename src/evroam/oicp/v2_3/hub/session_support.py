"""What the hub's session operations share: an Identification as the services compare
it (:func:`medium_of`), the per-operation check of which media are allowed (022), the
wire answers of the core refusals these operations raise, and acknowledgements that
carry the session's IDs.

Refusals (``core/oicp_sessions.py``) and their codes; ``hub/app.py`` answers the ones of
``core/oicp.py`` (017, 018, 022) itself:

=======================  =====  ==========================================
UnknownSession           400    Session is invalid
NoSuchPartner            300    Partner not found
ForeignEvco              019    Inconsistent EvcoID
UnknownEvse              603    Unknown EVSE ID
EvseNotCompatible        604    EVSE ID is not Hubject compatible
DuplicateCdr             022    Data error (``services/oicp/cdrs.py`` says why)
=======================  =====  ==========================================
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from evroam.core.oicp_sessions import (
    DuplicateCdr,
    EvseNotCompatible,
    ForeignEvco,
    Medium,
    NoSuchPartner,
    OicpSession,
    UnknownEvse,
    UnknownSession,
)
from evroam.oicp.v2_3 import ids
from evroam.oicp.v2_3.codes import Code
from evroam.oicp.v2_3.errors import (
    DataError,
    EvseNotHubjectCompatible,
    InconsistentEvcoId,
    OicpError,
    PartnerNotFound,
    SessionIsInvalid,
    UnknownEvseId,
)
from evroam.oicp.v2_3.models.common import StatusCode
from evroam.oicp.v2_3.models.identification import (
    Identification,
    Member,
    identification_problem,
)
from evroam.oicp.v2_3.paths import OperationName, operation

_KINDS = {
    Member.RFID_MIFARE_FAMILY: "RFID",
    Member.RFID: "RFID",
    Member.QR_CODE: "QR",
    Member.PLUG_AND_CHARGE: "PNC",
    Member.REMOTE: "REMOTE",
}

_REFUSALS: tuple[tuple[type[Exception], type[OicpError]], ...] = (
    (UnknownSession, SessionIsInvalid),
    (NoSuchPartner, PartnerNotFound),
    (ForeignEvco, InconsistentEvcoId),
    (UnknownEvse, UnknownEvseId),
    (EvseNotCompatible, EvseNotHubjectCompatible),
    (DuplicateCdr, DataError),
)


def medium_of(identification: Identification) -> Medium:
    """The medium key (an RFID card by its UID, whichever RFID member carries it; the
    others by their EvcoID), the provider its EvcoID names, the JSON as sent without a
    clear PIN, and that PIN apart."""
    member = identification.member
    value = identification.uid if member in (Member.RFID_MIFARE_FAMILY, Member.RFID) else None
    evco = identification.evco_id
    canonical_value = ids.canonical_uid(value) if value else ids.canonical(evco or "")
    wire = identification.to_wire()
    pin: str | None = None
    qr = identification.QRCodeIdentification
    if qr is not None:
        pin = qr.PIN
        wire[Member.QR_CODE.value].pop("PIN", None)
    return Medium(
        key=f"{_KINDS[member]}:{canonical_value}",
        provider=ids.provider_of_evco(evco) if evco else None,
        wire=json.dumps(wire, separators=(",", ":")),
        pin=pin,
    )


def checked_identification(name: OperationName, identification: Identification) -> Medium:
    """The medium, if the operation admits it (paths.py ``identification``), else
    ``DataError`` (022) saying what to use; nothing has been stored yet."""
    use = operation(name).identification
    if use is not None:
        problem = identification_problem(use, identification)
        if problem is not None:
            raise DataError(problem)
    return medium_of(identification)


@contextmanager
def translated() -> Iterator[None]:
    """The refusals of the module docstring as the hub answers them."""
    try:
        yield
    except tuple(c for c, _ in _REFUSALS) as exc:
        wire = next(w for c, w in _REFUSALS if isinstance(exc, c))
        raise wire(str(exc) or None) from None


def session_ids(session: OicpSession | None) -> dict[str, Any]:
    """The session's IDs as an answer carries them (digest §3)."""
    if session is None:
        return {}
    out: dict[str, Any] = {"SessionID": session.session_id}
    if session.cpo_partner_session_id:
        out["CPOPartnerSessionID"] = session.cpo_partner_session_id
    if session.emp_partner_session_id:
        out["EMPPartnerSessionID"] = session.emp_partner_session_id
    return out


def status(code: Code, info: str | None = None) -> dict[str, Any]:
    return StatusCode.of(code, info).to_wire()


def acknowledgement(
    result: bool, status_code: dict[str, Any], session: OicpSession | None = None
) -> dict[str, Any]:
    return {"Result": result, "StatusCode": status_code, **session_ids(session)}
