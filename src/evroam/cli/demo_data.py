"""What ``evroam demo`` loads into its two nodes: the CPO's tariff and two Locations, the
eMSP's tokens, and the arithmetic that checks a CDR against that tariff.

Kept apart from the runner so the test can read the same numbers (the tariff's prices,
the ids) without starting anything. The documents are plain OCPI 2.2.1 objects, loaded
through the operator API exactly as an operator would load their own.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

CPO_PARTY = ("NL", "CPO")
EMSP_PARTY = ("DE", "MSP")
CPO_NAME = "Demo Charge Point Operator"
EMSP_NAME = "Demo Mobility Service Provider"

TARIFF_ID = "DEMO-FAST"
CURRENCY = "EUR"
#: The tariff: a start fee plus a price per kWh (step 1 Wh), VAT 21%.
FLAT_EXCL_VAT = 0.50
ENERGY_EXCL_VAT = 0.59
VAT = 21.0

#: Where the demo's session charges: a 150 kW CCS connector (a few seconds of charging
#: come to a visible fraction of a kWh).
SESSION_LOCATION = "DEMO-A2"
SESSION_EVSE = "A2-DC1"
SESSION_CONNECTOR = "1"
DRIVER_TOKEN = "DEMO-APP-0001"
DRIVER_TOKEN_TYPE = "APP_USER"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def tariff() -> dict[str, Any]:
    cc, pid = CPO_PARTY
    return {
        "country_code": cc,
        "party_id": pid,
        "id": TARIFF_ID,
        "currency": CURRENCY,
        "type": "REGULAR",
        "tariff_alt_text": [
            {"language": "en", "text": "0.50 EUR per session + 0.59 EUR/kWh, excl. 21% VAT"}
        ],
        "elements": [
            {
                "price_components": [
                    {"type": "FLAT", "price": FLAT_EXCL_VAT, "vat": VAT, "step_size": 1},
                    {"type": "ENERGY", "price": ENERGY_EXCL_VAT, "vat": VAT, "step_size": 1},
                ]
            }
        ],
        "last_updated": _now(),
    }


def _connector(cid: str, standard: str, power_type: str, volts: int, amps: int) -> dict[str, Any]:
    # max_voltage is line to neutral for AC_3_PHASE (mod_locations §Connector).
    phases = 3 if power_type == "AC_3_PHASE" else 1
    return {
        "id": cid,
        "standard": standard,
        "format": "SOCKET" if power_type.startswith("AC") else "CABLE",
        "power_type": power_type,
        "max_voltage": volts,
        "max_amperage": amps,
        "max_electric_power": volts * amps * phases,
        "tariff_ids": [TARIFF_ID],
        "last_updated": _now(),
    }


def _evse(uid: str, evse_id: str, *connectors: dict[str, Any]) -> dict[str, Any]:
    return {
        "uid": uid,
        "evse_id": evse_id,
        "status": "AVAILABLE",
        "capabilities": ["REMOTE_START_STOP_CAPABLE", "RESERVABLE"],
        "connectors": list(connectors),
        "last_updated": _now(),
    }


def locations() -> list[dict[str, Any]]:
    """Two Locations: a car park with two 22 kW AC EVSEs, and a highway site with two DC
    EVSEs (150 kW CCS; one with a 50 kW CHAdeMO connector too)."""
    cc, pid = CPO_PARTY
    base = {"country_code": cc, "party_id": pid, "publish": True, "last_updated": _now()}
    ac = "AC_3_PHASE"
    return [
        {
            **base,
            "id": "DEMO-UTR",
            "name": "Utrecht Centraal P+R",
            "address": "Croeselaan 1",
            "city": "Utrecht",
            "postal_code": "3521 BJ",
            "country": "NLD",
            "coordinates": {"latitude": "52.08870", "longitude": "5.10950"},
            "parking_type": "PARKING_GARAGE",
            "time_zone": "Europe/Amsterdam",
            "evses": [
                _evse("UTR-1", "NL*CPO*E1001", _connector("1", "IEC_62196_T2", ac, 230, 32)),
                _evse("UTR-2", "NL*CPO*E1002", _connector("1", "IEC_62196_T2", ac, 230, 32)),
            ],
        },
        {
            **base,
            "id": SESSION_LOCATION,
            "name": "A2 Fast Charge Vinkeveen",
            "address": "Rijksweg A2 12",
            "city": "Vinkeveen",
            "postal_code": "3645 AA",
            "country": "NLD",
            "coordinates": {"latitude": "52.22310", "longitude": "4.94860"},
            "parking_type": "ALONG_MOTORWAY",
            "time_zone": "Europe/Amsterdam",
            "evses": [
                _evse(
                    SESSION_EVSE,
                    "NL*CPO*E2001",
                    _connector(SESSION_CONNECTOR, "IEC_62196_T2_COMBO", "DC", 750, 200),
                    _connector("2", "CHADEMO", "DC", 500, 100),
                ),
                _evse(
                    "A2-DC2",
                    "NL*CPO*E2002",
                    _connector("1", "IEC_62196_T2_COMBO", "DC", 750, 200),
                ),
            ],
        },
    ]


def tokens() -> list[dict[str, Any]]:
    """The eMSP's drivers: the app user who charges, an RFID card, and a blocked card."""
    cc, pid = EMSP_PARTY

    def token(uid: str, kind: str, contract: str, valid: bool) -> dict[str, Any]:
        return {
            "country_code": cc,
            "party_id": pid,
            "uid": uid,
            "type": kind,
            "contract_id": f"{cc}-{pid}-{contract}",
            "issuer": EMSP_NAME,
            "valid": valid,
            "whitelist": "NEVER" if kind == "APP_USER" else "ALLOWED",
            "last_updated": _now(),
        }

    return [
        token(DRIVER_TOKEN, DRIVER_TOKEN_TYPE, "C00001-7", True),
        token("DEMO-RFID-0002", "RFID", "C00002-5", True),
        token("DEMO-RFID-0003", "RFID", "C00003-3", False),
    ]


def billed_wh(total_energy_kwh: float) -> int:
    """The energy the tariff bills: rounded up to whole Wh (step_size 1)."""
    return math.ceil(round(total_energy_kwh * 1000, 6))


def expected_cost(total_energy_kwh: float) -> tuple[float, float]:
    """The tariff's price (excl., incl. VAT) of a session that charged ``total_energy_kwh``,
    worked out here by hand rather than by the pricing code the simulator uses: the start
    fee plus the billed energy at the kWh price."""
    excl = FLAT_EXCL_VAT + ENERGY_EXCL_VAT * billed_wh(total_energy_kwh) / 1000
    return excl, excl * (1 + VAT / 100)


def cost_matches(total_energy_kwh: float, excl_vat: float) -> bool:
    """The CDR's cost is the tariff's price of its energy. The CDR states its energy to
    0.1 Wh, so the Wh it was billed for may be one more than its stated energy rounds up
    to: a CDR is right when it is within one Wh's price of the hand-worked price."""
    excl, _ = expected_cost(total_energy_kwh)
    return abs(excl_vat - excl) <= ENERGY_EXCL_VAT / 1000 + 0.0001
