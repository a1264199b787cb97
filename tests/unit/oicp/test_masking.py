"""Masking of identifications for the operator's views (``oicp/v2_3/masking.py``)."""

from __future__ import annotations

from evroam.oicp.v2_3.masking import mask_identification, mask_value, masked


def test_an_identifier_keeps_only_its_last_characters() -> None:
    assert mask_value("04A2B3C4D5E6F7", 4) == "…E6F7"
    assert mask_value("DE-OFL-CAet5e4XY-3", 5) == "…4XY-3"


def test_a_short_identifier_shows_at_most_half_of_itself() -> None:
    assert mask_value("ABCDEF", 4) == "…DEF"
    assert mask_value("A", 4) == "…"


def test_each_member_is_shown_by_type_with_its_identifiers_masked() -> None:
    assert mask_identification({"RFIDMifareFamilyIdentification": {"UID": "0A1B2C3D"}}) == {
        "type": "RFIDMifareFamilyIdentification",
        "UID": "…2C3D",
    }
    card = {
        "RFIDIdentification": {
            "UID": "0A1B2C3D4E",
            "RFID": "mifareDes",
            "EvcoID": "DE-ABC-C12345678-9",
            "PrintedNumber": "CARD-0000-1234",
        }
    }
    assert mask_identification(card) == {
        "type": "RFIDIdentification",
        "UID": "…3D4E",
        "EvcoID": "…678-9",
        "PrintedNumber": "…1234",
        "RFID": "mifareDes",
    }


def test_pins_and_their_hashes_are_never_shown() -> None:
    hashed = {"Value": "$2b$10$abcdefghijklmnopqrstuv", "Function": "Bcrypt"}
    qr = {
        "QRCodeIdentification": {"EvcoID": "DE-ABC-C12345678-9", "PIN": "4711", "HashedPIN": hashed}
    }
    assert mask_identification(qr) == {"type": "QRCodeIdentification", "EvcoID": "…678-9"}
    record = {"SessionID": "s", "Identification": qr, "Extra": [{"PIN": "1"}, {"UID": "0A1B2C3D"}]}
    assert masked(record) == {
        "SessionID": "s",
        "Identification": {"QRCodeIdentification": {"EvcoID": "…678-9"}},
        "Extra": [{}, {"UID": "…2C3D"}],
    }


def test_what_is_not_an_identification_gives_none() -> None:
    assert mask_identification(None) is None
    assert mask_identification({}) is None
    assert mask_identification("RFID") is None
    assert mask_identification({"RemoteIdentification": "DE-ABC"}) == {
        "type": "RemoteIdentification"
    }


def test_deep_nesting_is_cut_off() -> None:
    deep: object = {"UID": "0A1B2C3D"}
    for _ in range(50):
        deep = {"x": deep}
    text = repr(masked(deep))
    assert "0A1B2C3D" not in text and "…" in text
