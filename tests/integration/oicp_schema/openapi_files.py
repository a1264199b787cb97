"""Hubject's OICP 2.3 OpenAPI files, read from ``../shared/oicp/openapi/`` and corrected
in memory for the property run.

The files are never changed on disk (NOTES.md beside them records their commits and
hashes). Each correction below names the defect it repairs: D1-D8 are NOTES.md's, the
others are listed in :data:`FURTHER_DEFECTS` with the reason the hub, not the file, is
right. Every correction keeps what a partner may legally send at least as wide as the
OICP 2.3 specification allows: the run must prove the hub accepts what the spec
accepts, not what a loosened file would let through.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

#: The folder, relative to the checkout's parent as CI lays it out (shared/ beside main/).
OPENAPI_DIR = Path(__file__).resolve().parents[4] / "shared" / "oicp" / "openapi"
CPO_FILE = "oicp-cpo-2.3.yaml"
EMP_FILE = "oicp-emp-2.3.yaml"

ACK_REF = "#/components/schemas/eRoamingAcknowledgment"

#: The HTTP answers the hub gives besides 200, each an acknowledgement with
#: ``Result: false`` (``oicp/v2_3/hub/app.py``'s table). 5xx is deliberately absent:
#: a 5xx is always a hub bug here.
ERROR_STATUSES = {
    "400": "body not JSON or not the operation's shape (022)",
    "403": "certificate of no partner, address not allowed (017)",
    "404": "no such operation (022)",
    "405": "not POST (022)",
    "413": "body larger than the hub's bound (022)",
}

#: Defects found by this run that NOTES.md does not list (file wrong, hub right).
FURTHER_DEFECTS = {
    "E1": "Identification and GeoCoordinates hold one member/notation (spec data types; "
    "digest §8.5), the files allow {} and all at once",
    "E3": "ID patterns with a literal '|' in character classes ([\\*|\\-], [\\d|X]; "
    "digest §8.7) and \\d (any Unicode digit in Python's re): the spec's examples and "
    "prose name ASCII digits and '*'/'-' separators only",
    "E4": "HashedPIN.Value's pattern is escaped twice (\\\\. admits a backslash)",
    "E5": "country and currency codes are ISO 3166-1 alpha-3 / ISO 4217: three upper-case "
    "letters, the files allow any three characters",
    "E6": "coordinates, a radius, meter readings, prices, emissions, power and capacity "
    "have a range (latitude within 90, "
    "longitude within 180, radius and meter values not negative); MeterValueInBetween "
    "holds meterValues; a pricing push holds at least one EVSE pricing; a TimeZone is "
    "UTC+hh:mm, a period's begin/end hh:mm (spec data types); a PIN has at most 20 characters",
    "E7": "AuthorizeRemoteStart requires SessionID, which the EMP sends only when it "
    "has one (EMP data types; digest §1.3, §7.4)",
    "E8": "ChargingPoolID's pattern has no anchors (any text containing a pool ID "
    "passes); ReferenceUnit is free text where the spec lists HOUR, KILOWATT_HOUR, MINUTE; "
    "SignedMeteringValues holds at most 10, an EVSE pricing at least one product",
    "E9": "date-times are 'format: date-time' (RFC 3339, which admits a lower-case t/z); "
    "the spec's format and every example use upper-case T and Z, which the hub requires",
    "E10": "a Progress notification names neither ChargingDuration nor "
    "ConsumedEnergyProgress in the files, which makes it report nothing",
    "E2": "the 200 answer of every operation may be a bare eRoamingAcknowledgment "
    "(Result false) for a business refusal (OICP 2.3 'Error handling'), the files "
    "declare only the success body on the operations that answer data",
}


def available() -> str | None:
    """Why the files cannot be read (a reason for ``pytest.skip``), or ``None``."""
    for name in (CPO_FILE, EMP_FILE):
        if not (OPENAPI_DIR / name).is_file():
            return f"Hubject's OpenAPI file {OPENAPI_DIR / name} is absent"
    return None


def load(name: str) -> dict[str, Any]:
    with open(OPENAPI_DIR / name, encoding="utf-8") as fh:
        data: dict[str, Any] = yaml.safe_load(fh)
    return data


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    """Every mapping inside ``node``, depth first."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _post(doc: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, item in doc["paths"].items():
        yield path, item["post"]


def _schema(doc: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = doc["components"]["schemas"][name]
    return found


def _texts(node: Any) -> Any:
    if isinstance(node, dict):
        return {key: _texts(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_texts(value) for value in node]
    if isinstance(node, datetime):
        return node.isoformat().replace("+00:00", "Z")
    return node


def timestamps_as_text(doc: dict[str, Any]) -> None:
    """D6: the unquoted ``ExpiryDate`` example is a YAML timestamp, a ``datetime`` once read
    (and no JSON type at all): written back as the text the file meant."""
    fixed = _texts(doc)
    doc.clear()
    doc.update(fixed)


def add_error_responses(doc: dict[str, Any]) -> None:
    """D1: only HTTP 200 is declared; the hub's 4xx answers are acknowledgements."""
    for _, op in _post(doc):
        for status, why in ERROR_STATUSES.items():
            op["responses"].setdefault(
                status,
                {
                    "description": why,
                    "content": {"application/json": {"schema": {"$ref": ACK_REF}}},
                },
            )


def acknowledgement_answers(doc: dict[str, Any]) -> None:
    """E2: an operation answering data answers a refusal (017, 018, 022 ...) as a bare
    acknowledgement with HTTP 200, as Hubject does; the files name only the data body."""
    for _, op in _post(doc):
        media = op["responses"]["200"]["content"]["application/json"]
        if media["schema"] != {"$ref": ACK_REF}:
            media["schema"] = {"anyOf": [media["schema"], {"$ref": ACK_REF}]}


def string_lengths(doc: dict[str, Any]) -> None:
    """D5: string lengths written as ``maximum``/``minimum`` (numeric keywords, ignored for
    strings): made ``maxLength``/``minLength`` so generated values keep to the spec's
    lengths, which the hub enforces."""
    for node in _walk(doc["components"]["schemas"]):
        if node.get("type") == "string":
            if "maximum" in node:
                node["maxLength"] = node.pop("maximum")
            if "minimum" in node:
                node["minLength"] = node.pop("minimum")


def notification_dispatch(doc: dict[str, Any]) -> None:
    """D2: the four notification variants all admit every ``Type``, so a strict oneOf
    refuses valid notifications. The hub dispatches on ``Type``: each alternative takes
    its own value only, and the oneOf becomes that anyOf."""
    path = "/notificationmgmt/v11/charging-notifications"
    media = doc["paths"][path]["post"]["requestBody"]["content"]["application/json"]
    alternatives = []
    for kind in ("Start", "Progress", "End", "Error"):
        ref = {"$ref": f"#/components/schemas/eRoamingChargingNotification{kind}"}
        own: dict[str, Any] = {"properties": {"Type": {"type": "string", "enum": [kind]}}}
        if kind == "Progress":
            # E10: a progress notification reports progress: a duration or an energy.
            own["anyOf"] = [
                {"required": ["ChargingDuration"]},
                {"required": ["ConsumedEnergyProgress"]},
            ]
        alternatives.append({"allOf": [ref, own]})
    media["schema"] = {"anyOf": alternatives}


def status_pull_dispatch(doc: dict[str, Any]) -> None:
    """D2: the three status pulls overlap (the plain one requires only ProviderID). The hub
    dispatches on the keys (``models.status.pull_request_model``): ``EvseID`` makes the
    pull by ID, ``OperatorID`` by operator, neither the plain pull; the response oneOf
    becomes an anyOf too."""
    path = "/evsepull/v21/providers/{providerID}/status-records"
    if path not in doc["paths"]:
        return
    op = doc["paths"][path]["post"]
    base = "#/components/schemas/eRoamingPullEVSEStatus"
    request = op["requestBody"]["content"]["application/json"]
    request["schema"] = {
        "anyOf": [
            {
                "allOf": [
                    {"$ref": base},
                    {"not": {"anyOf": [{"required": ["EvseID"]}, {"required": ["OperatorID"]}]}},
                ]
            },
            {"allOf": [{"$ref": base + "ByID"}, {"not": {"required": ["OperatorID"]}}]},
            {"allOf": [{"$ref": base + "ByOperatorID"}, {"not": {"required": ["EvseID"]}}]},
        ]
    }
    response = op["responses"]["200"]["content"]["application/json"]
    if "oneOf" in response["schema"]:
        response["schema"] = {"anyOf": response["schema"]["oneOf"]}


def single_member(doc: dict[str, Any]) -> None:
    """E1: Identification and GeoCoordinates hold exactly one member (the hub's models
    refuse ``{}`` and several at once with 400); the files set no bound."""
    for name in ("Identification", "GeoCoordinates"):
        schemas = doc["components"]["schemas"]
        if name in schemas:
            schemas[name]["minProperties"] = 1
            schemas[name]["maxProperties"] = 1


def _patterns(doc: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for node in _walk(doc["components"]["schemas"]):
        if isinstance(node.get("pattern"), str):
            yield node


def ascii_patterns(doc: dict[str, Any]) -> None:
    """E3 (digest §8.7): '|' is no alternation inside a character class, and a generator
    reading \\d the Python way sends Arabic-Indic digits: both are the file's slips."""
    for node in _patterns(doc):
        pattern = node["pattern"]
        for wrong, right in (
            (r"[\d|A-Za-z]", "[0-9A-Za-z]"),
            (r"[\d|X]", "[0-9X]"),
            (r"[\*|\-]", r"[*\-]"),
            (r"\d", "[0-9]"),
            (r"\s", "[ ]"),
        ):
            pattern = pattern.replace(wrong, right)
        node["pattern"] = pattern


def hashed_pin(doc: dict[str, Any]) -> None:
    """E4: HashedPIN.Value's class escaped twice (a backslash passes)."""
    for node in _patterns(doc):
        node["pattern"] = node["pattern"].replace("\\\\", "\\")


def code_letters(doc: dict[str, Any]) -> None:
    """E5: alpha-3 country codes and ISO 4217 currencies are three upper-case letters."""
    schemas = doc["components"]["schemas"]
    targets = [schemas.get("CountryCode"), schemas.get("CurrencyID")]
    address = schemas.get("EvseDataRecord", {}).get("properties", {}).get("Address", {})
    targets.append(address.get("properties", {}).get("Country"))
    for node in targets:
        if node is not None and "$ref" not in node:
            node["pattern"] = "^[A-Z]{3}$"


#: Quantities that cannot be negative: a radius, energy, prices, emissions, power, capacity.
_NOT_NEGATIVE = {
    "Radius",
    "ConsumedEnergy",
    "PricingDefaultPrice",
    "PricePerReferenceUnit",
    "PricePerAdditionalReferenceUnit",
    "CO2Emission",
    "NuclearWaste",
    "MaximumProductChargingPower",
    "MaxCapacity",
}

_LATITUDE = r"-?[1-8]?[0-9]\.[0-9]{1,6}"
_LONGITUDE = r"-?(1[0-7][0-9]|[1-9]?[0-9])\.[0-9]{1,6}"


def ranges(doc: dict[str, Any]) -> None:
    """E6: the ranges the hub checks and the files leave out."""
    schemas = doc["components"]["schemas"]
    geo = schemas["GeoCoordinates"]["properties"]
    geo["Google"]["properties"]["Coordinates"]["pattern"] = f"^{_LATITUDE} {_LONGITUDE}$"
    geo["DecimalDegree"]["properties"]["Latitude"]["pattern"] = f"^{_LATITUDE}$"
    geo["DecimalDegree"]["properties"]["Longitude"]["pattern"] = f"^{_LONGITUDE}$"
    dms = geo["DegreeMinuteSeconds"]["properties"]
    for axis, whole in (
        ("Latitude", "-?[1-8]?[0-9]"),
        ("Longitude", "-?(1[0-7][0-9]|[1-9]?[0-9])"),
    ):
        dms[axis]["pattern"] = f"^{whole}°[ ]?[0-5]?[0-9]'[ ]?[0-5]?[0-9]\\.[0-9]+''$"
    for node in _walk(schemas):
        props = node.get("properties")
        if not isinstance(props, dict):
            continue
        for key, prop in props.items():
            if not isinstance(prop, dict):
                continue
            if key in _NOT_NEGATIVE or (
                key.startswith("MeterValue") and prop.get("type") == "number"
            ):
                prop["minimum"] = 0
            if key == "TimeZone" and prop.get("type") == "string":
                prop["pattern"] = "^UTC[+-](0[0-9]|1[0-4]):[0-5][0-9]$"
            if key in ("begin", "end") and prop.get("type") == "string":
                prop["pattern"] = "^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$"
            if key == "PIN" and prop.get("type") == "string":
                prop["maxLength"] = 20
            if key == "MeterValueInBetween":
                prop["required"] = ["meterValues"]
                prop["properties"]["meterValues"]["items"]["minimum"] = 0
    push = schemas.get("eRoamingPushEVSEPricing")
    if push is not None:
        pricing = push["properties"]["EVSEPricing"]
        pricing["minItems"] = 1
        pricing["items"]["properties"]["EvseIDProductList"]["minItems"] = 1


def remote_start_session(doc: dict[str, Any]) -> None:
    """E7: SessionID is the EMP's to give or leave out."""
    required = _schema(doc, "eRoamingAuthorizeRemoteStart")["required"]
    if "SessionID" in required:
        required.remove("SessionID")


def spec_shapes(doc: dict[str, Any]) -> None:
    """E8: an unanchored pool ID pattern, the reference units' enum, two list bounds."""
    schemas = doc["components"]["schemas"]
    if "ReferenceUnit" in schemas:
        schemas["ReferenceUnit"]["enum"] = ["HOUR", "KILOWATT_HOUR", "MINUTE"]
    for node in _walk(schemas):
        props = node.get("properties")
        if not isinstance(props, dict):
            continue
        pool = props.get("ChargingPoolID")
        if isinstance(pool, dict) and "pattern" in pool:
            pool["pattern"] = "^" + pool["pattern"].strip("^$") + "$"
        signed = props.get("SignedMeteringValues")
        if isinstance(signed, dict) and signed.get("type") == "array":
            signed["maxItems"] = 10


def date_times(doc: dict[str, Any]) -> None:
    """E9: date-times with upper-case T and Z, seconds and an offset, as the spec writes
    them (digest §4)."""
    for node in _walk(doc["components"]["schemas"]):
        expiry = node.get("properties", {}).get("ExpiryDate")
        if isinstance(expiry, dict) and expiry.get("type") == "string":
            expiry["format"] = "date-time"
    for node in _walk(doc["components"]["schemas"]):
        if node.get("type") == "string" and node.get("format") == "date-time":
            node["pattern"] = (
                "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}"
                "(\\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})$"
            )


def pagination(doc: dict[str, Any]) -> None:
    """D3: the paged operations take ``page`` and ``size`` query parameters the files
    only describe in prose (default 20, at most 2000)."""
    for path, op in _post(doc):
        if path.endswith(
            (
                "/get-charge-detail-records-request",
                "/evsepull/v23/providers/{providerID}/data-records",
            )
        ):
            op.setdefault("parameters", []).extend(
                [
                    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 0}},
                    {
                        "name": "size",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "maximum": 2000},
                    },
                ]
            )


CORRECTIONS: tuple[Callable[[dict[str, Any]], None], ...] = (
    timestamps_as_text,
    add_error_responses,
    acknowledgement_answers,
    string_lengths,
    notification_dispatch,
    status_pull_dispatch,
    single_member,
    ascii_patterns,
    hashed_pin,
    code_letters,
    ranges,
    remote_start_session,
    spec_shapes,
    date_times,
    pagination,
)


def corrected(name: str) -> dict[str, Any]:
    """The file ``name`` with every correction applied (a fresh copy each call)."""
    doc = copy.deepcopy(load(name))
    for correct in CORRECTIONS:
        correct(doc)
    return doc
