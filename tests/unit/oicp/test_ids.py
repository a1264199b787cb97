"""OICP identifiers (digest §4): each accepts the specification's examples and refuses
near misses (the literal ``|`` of the published classes, lower case where the pattern
has none, wrong lengths, non-ASCII digits)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pydantic import BaseModel, ValidationError

from evroam.oicp.v2_3 import ids
from evroam.oicp.v2_3.models import common

ARABIC_INDIC_8 = "\u0668"  # a digit to \d without re.ASCII

CASES: list[tuple[str, Callable[[str], bool], list[str], list[str]]] = [
    (
        "EvcoID",
        ids.is_evco_id,
        ["DE-8EO-CAet5e4XY-3", "DE8EOCAet5e43X1", "DE*8EO*Aet5e4*3", "DE-8EO-Aet5e4-3",
         "DE8EOAet5e43", "DE-DCB-C12345678-X"],
        ["DE|8EO|Aet5e4|3", "DE*8EO*Aet5e4*x", "DE-8EO-cAet5e4XY-3", "DE8EOAet5e4",
         "DE*8EO*Aet5e4*3X", f"DE8EOAet5e4{ARABIC_INDIC_8}", "D-8EO-CAet5e4XY-3",
         "DE-8EO-CAet5e4XY-|"],
    ),
    (
        "UID",
        ids.is_uid,
        ["7568290FFF765F", "1234ABCD", "0123456789ABCDEF0123", "7568290fff765f"],
        ["AFFH1768", "12345ABCD", "1234ABC", "7568290FFF765F0", f"1234ABC{ARABIC_INDIC_8}", ""],
    ),
    (
        "SessionID",
        ids.is_session_id,
        ["b2688855-7f00-0002-6d8e-48d883f6abb6", "f98efba4-02d8-4fa0-b810-9a9d50d2c527"],
        ["b2688855-7f00-0002-6d8e-48d883f6abb", "b2688855_7f00_0002_6d8e_48d883f6abb6",
         "b2688855-7f00-0002-6d8e-48d883f6abb6-", "{b2688855-7f00-0002-6d8e-48d883f6abb6}"],
    ),
    (
        "ChargingPoolID",
        ids.is_charging_pool_id,
        ["IT*123*P456*AB789", "DE*ABC*P1234TEST*1", "DEABCP1"],
        ["IT*123*E456", "xIT*123*P456", "IT*123*P", "IT|123*P456", "IT*123*P" + "1" * 31],
    ),
    (
        "HashValue",
        ids.is_hash_value,
        ["a5ghdhf73h", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"],
        ["a5ghdhf73", "a" * 101, "a5ghdhf73h!", "a5ghdhf73h\\"],
    ),
    (
        "PhoneNumber",
        ids.is_phone_number,
        ["+0305132787", "+49123123123123", "+12345"],
        ["0305132787", "+1234", "+" + "1" * 16, "+49 30 5132787", f"+4930{ARABIC_INDIC_8}5132787"],
    ),
    (
        "LanguageCode",
        ids.is_language_code,
        ["en", "de", "deu", "en-GB", "zh-CHN-Hans", "en-x-custom"],
        ["EN", "en-gb", "e", "english", "en_GB"],
    ),
    (
        "ProviderID or *",
        ids.is_provider_id_or_all,
        ["*", "DE-8EO", "DE*8EO", "DE8EO"],
        ["**", "DE-8EO*", "DE-8EOX", "x*", "DE|8EO"],
    ),
    (
        "ProviderID",
        ids.is_provider_id,
        ["DE8EO", "DE-8EO", "DE*8EO", "de-dcb"],
        ["DE|8EO", "DE--8EO", "DE-8E", "D-8EO", f"DE-8E{ARABIC_INDIC_8}"],
    ),
    (
        "OperatorID",
        ids.is_operator_id,
        ["DE*A36", "DEA36", "+49*536", "49*536"],
        ["DE-A36", "DE|A36", "+49536", "+49*53", f"+49*53{ARABIC_INDIC_8}"],
    ),
    (
        "EvseID",
        ids.is_evse_id,
        ["DE*AB7*E840*6487", "DEAB7E8406487", "+49*810*000*438", "DE*XYZ*ETEST1"],
        ["DE*AB7*840*6487", "DE|AB7*E840", "+49*810", "DE*AB7*e840", f"+49*810*00{ARABIC_INDIC_8}"],
    ),
]  # fmt: skip

# The same patterns, run by pydantic-core's Rust engine inside the models.
FIELD_TYPES = {
    "EvcoID": common.EvcoIDType,
    "UID": common.UIDType,
    "SessionID": common.SessionIDType,
    "ChargingPoolID": common.ChargingPoolIDType,
    "HashValue": common.HashValueType,
    "PhoneNumber": common.PhoneNumberType,
    "LanguageCode": common.LanguageCodeType,
    "ProviderID or *": common.ProviderIDOrAllType,
    "ProviderID": common.ProviderIDType,
    "OperatorID": common.OperatorIDType,
    "EvseID": common.EvseIDType,
}


@pytest.mark.parametrize("name, check, good, bad", CASES, ids=[c[0] for c in CASES])
def test_identifier_accepts_examples_and_refuses_near_misses(
    name: str, check: Callable[[str], bool], good: list[str], bad: list[str]
) -> None:
    assert [v for v in good if not check(v)] == []
    assert [v for v in bad if check(v)] == []


@pytest.mark.parametrize("name, check, good, bad", CASES, ids=[c[0] for c in CASES])
def test_model_field_agrees_with_the_python_pattern(
    name: str, check: Callable[[str], bool], good: list[str], bad: list[str]
) -> None:
    class Holder(BaseModel):
        value: FIELD_TYPES[name]  # type: ignore[valid-type]

    for value in good:
        Holder(value=value)
    for value in bad:
        with pytest.raises(ValidationError):
            Holder(value=value)


def test_provider_of_evco_in_both_forms() -> None:
    assert ids.provider_of_evco("DE-8EO-CAet5e4XY-3") == "DE8EO"
    assert ids.provider_of_evco("DE*8EO*Aet5e4*3") == "DE8EO"
    assert ids.provider_of_evco("de8eoCAet5e43X1") == "DE8EO"
    assert ids.provider_of_evco("DE-8EO-Aet5e4-3") == ids.canonical_provider("DE*8EO")


def test_uid_canonical_form_is_upper_case() -> None:
    assert ids.canonical_uid("7568290fff765f") == "7568290FFF765F"
