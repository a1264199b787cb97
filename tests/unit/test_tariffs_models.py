"""Tariffs wire models and conversion (OCPI 2.2.1 mod_tariffs §"Object description").

Every tariff example of the 2.2.1 specification is read from ../shared (skipped with the
reason when absent), accepted, and converted to a canonical document equal in meaning;
every bad input of issue 7 that a Tariff can carry is refused with the field named.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from evroam.core.errors import InvalidInput
from evroam.core.types import InterfaceRole, Role
from evroam.ocpi.common.errors import MalformedJson
from evroam.ocpi.common.jsonbody import parse_json
from evroam.ocpi.v2_2_1 import MODULES
from evroam.ocpi.v2_2_1.tariffs import MODULE
from evroam.ocpi.v2_2_1.tariffs.convert import dumps, parse_tariff, to_document

EXAMPLES = Path(__file__).resolve().parents[3] / "shared" / "ocpi" / "examples" / "2.2.1"
# tariff_put_example.json lacks last_updated, which the Tariff table requires (card. 1):
# the example itself is wrong; it is refused (see test_put_example_without_last_updated).
WRONG_EXAMPLES = {"tariff_put_example.json"}


def example_files() -> list[Path]:
    if not EXAMPLES.is_dir():
        return []
    return sorted(p for p in EXAMPLES.glob("tariff*.json") if p.name not in WRONG_EXAMPLES)


def _skip_without_examples() -> None:
    if not EXAMPLES.is_dir():
        pytest.skip(f"OCPI 2.2.1 examples not found at {EXAMPLES} (../shared is absent)")


def base() -> dict[str, Any]:
    return {
        "country_code": "NL",
        "party_id": "CPO",
        "id": "T1",
        "currency": "EUR",
        "elements": [
            {
                "price_components": [{"type": "ENERGY", "price": 0.25, "vat": 21, "step_size": 1}],
                "restrictions": {"start_time": "08:00", "end_time": "20:00"},
            }
        ],
        "last_updated": "2026-11-25T10:00:00Z",
    }


def test_every_tariff_example_is_there() -> None:
    _skip_without_examples()
    # 18 numbered tariffs and 2 restriction examples (issue 7: "18+").
    assert len(example_files()) >= 20


@pytest.mark.parametrize("path", example_files(), ids=lambda p: p.name)
def test_example_is_accepted_and_round_trips(path: Path) -> None:
    sent = json.loads(path.read_text())
    doc = to_document(parse_tariff(sent))
    # Equal in meaning: same fields, same values (0.50 == 0.5), nothing added as null.
    assert doc == sent
    again = json.loads(dumps(doc))
    assert again == sent
    assert to_document(parse_tariff(again)) == doc


def test_put_example_without_last_updated_is_refused() -> None:
    _skip_without_examples()
    sent = json.loads((EXAMPLES / "tariff_put_example.json").read_text())
    with pytest.raises(InvalidInput, match="last_updated: required field is missing"):
        parse_tariff(sent)


def test_numbers_stay_numbers_as_sent() -> None:
    data = base()
    data["elements"][0]["price_components"][0].update(price=0.25, vat=21)
    data["min_price"] = {"excl_vat": 2, "incl_vat": 2.42}
    text = dumps(to_document(parse_tariff(data)))
    assert '"price":0.25' in text
    assert '"vat":21,' in text  # an integer stays an integer, no 21.0
    assert '"min_price":{"excl_vat":2,"incl_vat":2.42}' in text


def test_absent_vat_stays_absent_and_zero_vat_stays_zero() -> None:
    data = base()
    data["elements"][0]["price_components"] = [
        {"type": "FLAT", "price": 1, "step_size": 1},
        {"type": "TIME", "price": 2, "vat": 0.0, "step_size": 60},
    ]
    doc = to_document(parse_tariff(data))
    first, second = doc["elements"][0]["price_components"]
    assert "vat" not in first
    assert second["vat"] == 0.0


def test_null_on_input_reads_as_absent_and_is_never_sent() -> None:
    data = base() | {"type": None, "tariff_alt_text": None, "energy_mix": None}
    data["elements"][0]["restrictions"]["day_of_week"] = None
    doc = to_document(parse_tariff(data))
    text = dumps(doc)
    assert "null" not in text
    assert "type" not in doc and "tariff_alt_text" not in doc
    assert "day_of_week" not in doc["elements"][0]["restrictions"]


def test_full_tariff_with_energy_mix_round_trips() -> None:
    data = base() | {
        "type": "PROFILE_GREEN",
        "tariff_alt_text": [{"language": "en", "text": "0.25 per kWh"}],
        "tariff_alt_url": "https://cpo.example.com/tariffs/T1",
        "max_price": {"excl_vat": 10, "incl_vat": 12.1},
        "start_date_time": "2026-01-01T00:00:00Z",
        "end_date_time": "2026-12-31T23:59:59Z",
        "energy_mix": {
            "is_green_energy": True,
            "energy_sources": [{"source": "SOLAR", "percentage": 60}],
            "environ_impact": [{"category": "CARBON_DIOXIDE", "amount": 0}],
            "supplier_name": "Sun",
            "energy_product_name": "Green",
        },
    }
    data["elements"][0]["restrictions"] |= {
        "start_date": "2026-01-01",
        "end_date": "2027-01-01",
        "min_kwh": 0,
        "max_kwh": 50.5,
        "min_current": 6,
        "max_current": 32,
        "min_power": 3.7,
        "max_power": 22,
        "min_duration": 0,
        "max_duration": 3600,
        "day_of_week": ["MONDAY", "SUNDAY"],
        "reservation": "RESERVATION_EXPIRES",
    }
    assert to_document(parse_tariff(data)) == data


def _with(path: str, value: Any) -> dict[str, Any]:
    """base() with the field at a dotted path (list indexes as numbers) set to value."""
    data = copy.deepcopy(base())
    target: Any = data
    parts = path.split(".")
    for part in parts[:-1]:
        target = target[int(part)] if part.isdigit() else target[part]
    target[parts[-1]] = value
    return data


PC = "elements.0.price_components.0"
R = "elements.0.restrictions"

BAD = [
    # invalid enums (case-sensitive, types §"string")
    ("type", "WEEKEND", "type"),
    (f"{PC}.type", "KWH", "elements[0].price_components[0].type"),
    (f"{PC}.type", "energy", "elements[0].price_components[0].type"),
    (f"{R}.day_of_week", ["MON"], "elements[0].restrictions.day_of_week[0]"),
    (f"{R}.reservation", "RESERVED", "elements[0].restrictions.reservation"),
    (
        "energy_mix",
        {"is_green_energy": True, "energy_sources": [{"source": "OIL", "percentage": 1}]},
        "energy_mix.energy_sources[0].source",
    ),
    # strings over their length
    ("id", "X" * 37, "id"),
    ("currency", "EURO", "currency"),
    ("party_id", "CPOX", "party_id"),
    ("tariff_alt_text", [{"language": "en", "text": "x" * 513}], "tariff_alt_text[0].text"),
    ("tariff_alt_url", "https://example.com/" + "a" * 250, "tariff_alt_url"),
    # wrong types
    (f"{PC}.price", "0.25", "elements[0].price_components[0].price"),
    (f"{PC}.price", True, "elements[0].price_components[0].price"),
    (f"{PC}.step_size", 1.5, "elements[0].price_components[0].step_size"),
    (f"{PC}.step_size", "60", "elements[0].price_components[0].step_size"),
    (f"{R}.max_duration", 36.5, "elements[0].restrictions.max_duration"),
    ("min_price", {"incl_vat": 1}, "min_price.excl_vat"),
    ("elements", {"price_components": []}, "elements"),
    ("last_updated", "yesterday", "last_updated"),
    ("energy_mix", {"is_green_energy": "yes"}, "energy_mix.is_green_energy"),
    # cardinality + and required fields
    ("elements", [], "elements"),
    ("elements.0.price_components", [], "elements[0].price_components"),
    ("currency", None, "currency"),
    # restriction formats: HH:MM 24 h with leading zeros, YYYY-MM-DD a real day
    (f"{R}.start_time", "24:00", "elements[0].restrictions.start_time"),
    (f"{R}.start_time", "9:00", "elements[0].restrictions.start_time"),
    (f"{R}.end_time", "17:00:00", "elements[0].restrictions.end_time"),
    (f"{R}.start_date", "2015/12/24", "elements[0].restrictions.start_date"),
    (f"{R}.end_date", "2015-13-01", "elements[0].restrictions.end_date"),
    (f"{PC}.step_size", -1, "elements[0].price_components[0].step_size"),
]


@pytest.mark.parametrize(
    ("path", "value", "named"), BAD, ids=[f"{p}={v!r}"[:60] for p, v, _ in BAD]
)
def test_bad_field_is_refused_naming_it(path: str, value: Any, named: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_tariff(_with(path, value))
    assert named in str(info.value)


def test_list_where_an_object_is_expected_is_refused() -> None:
    with pytest.raises(InvalidInput, match="body"):
        parse_tariff([base()])


def test_nan_price_is_refused() -> None:
    with pytest.raises(InvalidInput, match="price"):
        parse_tariff(_with(f"{PC}.price", float("nan")))


def test_malformed_json_is_refused_before_the_model() -> None:
    with pytest.raises(MalformedJson):
        parse_json(b'{"country_code": "NL",')


def test_unknown_fields_are_tolerated_and_dropped() -> None:
    doc = to_document(parse_tariff(base() | {"x_vendor": 1}))
    assert "x_vendor" not in doc


@pytest.mark.parametrize(
    ("roles", "offered"),
    [
        ({Role.CPO}, {InterfaceRole.SENDER}),
        ({Role.EMSP}, {InterfaceRole.RECEIVER}),
        ({Role.NSP}, {InterfaceRole.RECEIVER}),
        ({Role.NAP}, {InterfaceRole.SENDER, InterfaceRole.RECEIVER}),
        ({Role.HUB}, {InterfaceRole.SENDER, InterfaceRole.RECEIVER}),
        ({Role.SCSP}, set()),
    ],
)
def test_interfaces_follow_the_role_table(roles: set[Role], offered: set[InterfaceRole]) -> None:
    # digest §5.8: CPO tariffs S, eMSP R, NSP R, NAP and HUB both, SCSP none.
    assert {i.role for i in MODULE.interfaces(roles)} == offered
    assert MODULE in MODULES
