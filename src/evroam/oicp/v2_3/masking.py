"""Identifications as an operator sees them: recognisable, not reusable.

The hub keeps identifications as partners sent them (``IdentificationType``, digest
§4): an RFID card's UID, an EvcoID (QR code, Plug&Charge, remote), a printed card
number, and for QR codes a PIN's hash. Whoever reads the operator API needs to tell
one card or contract from another, not to copy it: a UID or printed number keeps its
last 4 characters, an EvcoID its last 5 (its check digit and the characters before
it), and PINs and their hashes are left out whole.

:func:`mask_identification` shapes one identification for display; :func:`masked`
walks any stored message (a CDR, a charging notification) and masks every
identifier it finds wherever it sits, so a field that carries one outside
``Identification`` is masked too.
"""

from __future__ import annotations

from typing import Any

#: How many trailing characters stay visible, per field holding an identifier.
VISIBLE = {"UID": 4, "PrintedNumber": 4, "EvcoID": 5}
#: Fields never shown, whatever they hold (a PIN, its hash, OICP 2.1 hash data).
HIDDEN = frozenset({"PIN", "HashedPIN", "LegacyHashData"})
#: What stands for the characters left out.
ELLIPSIS = "…"
#: How deep a stored message is walked; deeper parts are replaced, not shown.
MAX_DEPTH = 20


def mask_value(value: object, visible: int) -> str:
    """``value``'s last ``visible`` characters after an ellipsis; a value no longer
    than twice that shows only its last half (rounded down), so a short one is not
    given away whole."""
    s = str(value)
    keep = min(visible, len(s) // 2)
    return ELLIPSIS + (s[-keep:] if keep else "")


def masked(data: Any, depth: int = 0) -> Any:
    """A copy of JSON ``data`` with identifiers masked and PINs left out."""
    if depth > MAX_DEPTH:
        return ELLIPSIS
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for key, value in data.items():
            if key in HIDDEN:
                continue
            if key in VISIBLE and isinstance(value, str | int | float):
                out[key] = mask_value(value, VISIBLE[key])
            else:
                out[key] = masked(value, depth + 1)
        return out
    if isinstance(data, list):
        return [masked(item, depth + 1) for item in data]
    return data


def mask_identification(identification: Any) -> dict[str, Any] | None:
    """One identification as ``{"type": member, <field>: masked value, ...}``: the
    member's name and its identifying fields masked (``RFIDType`` kept, it names the
    card technology). ``None`` for anything that is not an identification object."""
    if not isinstance(identification, dict) or not identification:
        return None
    member, body = next(iter(identification.items()))
    shown: dict[str, Any] = {"type": str(member)}
    if isinstance(body, dict):
        for key in ("UID", "EvcoID", "PrintedNumber"):
            value = body.get(key)
            if isinstance(value, str | int | float):
                shown[key] = mask_value(value, VISIBLE[key])
        if isinstance(body.get("RFID"), str):
            shown["RFID"] = body["RFID"]
    return shown
