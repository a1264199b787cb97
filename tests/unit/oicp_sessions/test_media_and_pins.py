"""How the hub reduces an Identification to what it compares (medium keys, the EvcoID's
provider, no clear PIN kept) and how it hashes PINs."""

from __future__ import annotations

import json

import pytest

from evroam.oicp.v2_3.errors import DataError
from evroam.oicp.v2_3.hub.session_support import checked_identification, medium_of
from evroam.oicp.v2_3.models.identification import Identification
from evroam.oicp.v2_3.paths import OperationName as N
from evroam.services.oicp.authdata import hash_pin, pin_matches


def ident(data: dict[str, object]) -> Identification:
    return Identification.model_validate(data)


def test_both_rfid_members_of_one_uid_share_a_key_whatever_the_case() -> None:
    mifare = medium_of(ident({"RFIDMifareFamilyIdentification": {"UID": "0a1b2c3d"}}))
    card = medium_of(ident({"RFIDIdentification": {"UID": "0A1B2C3D", "RFID": "mifareCls"}}))
    assert mifare.key == card.key == "RFID:0A1B2C3D"
    assert mifare.provider is None


def test_an_rfid_card_naming_a_contract_routes_to_its_provider() -> None:
    card = {"UID": "0A1B2C3D", "RFID": "mifareCls", "EvcoID": "DE-ONL-CXYZ98765-4"}
    assert medium_of(ident({"RFIDIdentification": card})).provider == "DEONL"


def test_media_of_one_evcoid_differ_by_kind() -> None:
    evco = "DE*8EO*Aet5e4*3"
    keys = {
        medium_of(ident({name: {"EvcoID": evco}})).key
        for name in ("QRCodeIdentification", "PlugAndChargeIdentification", "RemoteIdentification")
    }
    assert keys == {"QR:DE8EOAET5E43", "PNC:DE8EOAET5E43", "REMOTE:DE8EOAET5E43"}


def test_the_clear_pin_is_kept_apart_and_out_of_the_json_and_repr() -> None:
    medium = medium_of(ident({"QRCodeIdentification": {"EvcoID": "DE8EOAet5e43", "PIN": "4711"}}))
    assert medium.pin == "4711"
    assert json.loads(medium.wire) == {"QRCodeIdentification": {"EvcoID": "DE8EOAet5e43"}}
    assert "4711" not in repr(medium)
    assert medium.provider == "DE8EO"


@pytest.mark.parametrize(
    ("name", "data"),
    [
        (N.AUTHORIZE_START, {"RemoteIdentification": {"EvcoID": "DE8EOAet5e43"}}),
        (N.AUTHORIZE_START, {"RFIDIdentification": {"UID": "0A1B2C3D", "RFID": "nfc"}}),
        (N.AUTHORIZE_STOP, {"QRCodeIdentification": {"EvcoID": "DE8EOAet5e43"}}),
        (N.AUTHORIZE_REMOTE_START, {"RFIDMifareFamilyIdentification": {"UID": "0A1B2C3D"}}),
        (N.RESERVATION_START, {"PlugAndChargeIdentification": {"EvcoID": "DE8EOAet5e43"}}),
    ],
)
def test_a_medium_the_operation_does_not_admit_is_022(name: N, data: dict[str, object]) -> None:
    with pytest.raises(DataError) as raised:
        checked_identification(name, ident(data))
    assert raised.value.code.value == "022" and raised.value.additional_info


def test_any_medium_is_admitted_in_records_and_uploads() -> None:
    card = ident({"RFIDIdentification": {"UID": "0A1B2C3D", "RFID": "nfc"}})
    assert checked_identification(N.CHARGE_DETAIL_RECORD, card).key == "RFID:0A1B2C3D"
    assert checked_identification(N.PUSH_AUTHENTICATION_DATA, card).key == "RFID:0A1B2C3D"


def test_pin_hashes_are_salted_and_checked() -> None:
    one, two = hash_pin("4711"), hash_pin("4711")
    assert one != two and "4711" not in one
    assert pin_matches("4711", one) and pin_matches("4711", two)
    assert not pin_matches("4712", one)


@pytest.mark.parametrize("stored", ["", "scrypt$x", "bcrypt$1$2$3$4$5", "scrypt$16384$8$1$!!$??"])
def test_a_stored_hash_that_is_not_ours_matches_nothing(stored: str) -> None:
    assert not pin_matches("4711", stored)
