"""A complete EVSE data record for the tests, written for them (not a specification
example): every mandatory and recommended property present and plausible."""

from __future__ import annotations

import copy
from typing import Any

_COMPLETE: dict[str, Any] = {
    "EvseID": "DE*EVR*E0001*1",
    "ChargingPoolID": "DE*EVR*P0001",
    "ChargingStationId": "station-1",
    "ChargingStationNames": [{"lang": "en", "value": "Marktplatz"}],
    "HardwareManufacturer": "Example Chargers",
    "ChargingStationImage": "https://example.org/marktplatz.jpg",
    "Address": {
        "Country": "DEU",
        "City": "Freiburg",
        "Street": "Marktplatz",
        "PostalCode": "79098",
        "HouseNum": "1",
        "TimeZone": "UTC+01:00",
    },
    "GeoCoordinates": {"DecimalDegree": {"Longitude": "7.852070", "Latitude": "47.995900"}},
    "Plugs": ["Type 2 Outlet"],
    "ChargingFacilities": [
        {"PowerType": "AC_3_PHASE", "Voltage": 230, "Amperage": 32, "Power": 22}
    ],
    "RenewableEnergy": True,
    "EnergySource": [{"Energy": "Wind", "Percentage": 99}],
    "CalibrationLawDataAvailability": "Local",
    "AuthenticationModes": ["NFC RFID Classic", "REMOTE"],
    "PaymentOptions": ["Contract"],
    "ValueAddedServices": ["None"],
    "Accessibility": "Free publicly accessible",
    "AccessibilityLocation": "OnStreet",
    "HotlinePhoneNumber": "+4976112345",
    "ChargingStationLocationReference": [{"lang": "en", "value": "North side of the square"}],
    "IsOpen24Hours": False,
    "OpeningTimes": [{"Period": [{"begin": "06:00", "end": "22:00"}], "on": "Everyday"}],
    "IsHubjectCompatible": True,
    "DynamicInfoAvailable": "auto",
}


def complete_record() -> dict[str, Any]:
    return copy.deepcopy(_COMPLETE)
