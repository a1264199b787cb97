"""eRoamingEVSEData: PushEvseData (CPO) and PullEvseData (EMP), digest §1.3 rows 10
and 12, paths from the operation table (``paths.py``).

Both are bulk operations, so both avoid per-record framework work:

* the push body is validated by pydantic-core in one pass straight from the bytes
  (``model_validate_json``; no ``json.loads`` then validation of Python objects), each
  record checked by the POI check (``poi.py``, findings stored, never a refusal) and
  kept as its wire JSON (date-times as sent, ``deltaType``/``lastUpdate`` dropped:
  those the hub assigns). That synchronous stretch runs with the cyclic garbage
  collector paused: a 50,000-record body makes a few million container objects, none
  of them cyclic, and the collector's generation scans over that growing heap were
  60-70% of the parse (bench/oicp_data.py, py-spy);
* the pull answers stored JSON texts with four keys added (``OperatorID``,
  ``OperatorName``, ``lastUpdate``, and ``deltaType`` for a LastCall pull) by splicing
  text, not by parsing each record and writing it again: the stored text is the hub's
  own serialisation, so its geo objects have one known shape and a Google <->
  DecimalDegree conversion is a rearrangement of their texts (:func:`splice_record`);
  any other conversion parses the record (:func:`wire_record`).

``LastCall`` with ``SearchCenter``, ``CountryCodes`` or ``OperatorIds`` is refused
(022, HTTP 200), as is any other business rule; a body that is not the shape: 400/022.
"""

from __future__ import annotations

import gc
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError

from evroam.core.oicp import (
    ActionType as CoreAction,
)
from evroam.core.oicp import (
    EvseDataEntry,
    EvseDataQuery,
    GeoCircle,
    InvalidRequest,
    PoiFinding,
    StoredEvseData,
    authentication_mask,
)
from evroam.oicp.v2_3 import ids, pages, poi
from evroam.oicp.v2_3.codes import Code
from evroam.oicp.v2_3.deps import (
    CallerDep,
    HubDep,
    acting_operator,
    acting_provider,
    describe,
    parse,
    parse_body,
)
from evroam.oicp.v2_3.errors import DataError
from evroam.oicp.v2_3.jsonwalk import JsonShapeError, Walker
from evroam.oicp.v2_3.models.common import Acknowledgement, DateTime, StatusCode
from evroam.oicp.v2_3.models.evse import EvseDataRecord
from evroam.oicp.v2_3.models.evsedata import PullEvseDataRequest, PushEvseDataRequest
from evroam.oicp.v2_3.models.geo import GeoCoordinates, Notation
from evroam.oicp.v2_3.paths import OperationName as N
from evroam.oicp.v2_3.paths import operation
from evroam.services.oicp import evsedata as service

PUSH_PATH = operation(N.PUSH_EVSE_DATA).template
PULL_PATH = operation(N.PULL_EVSE_DATA).template

router = APIRouter(tags=["eRoamingEVSEData"])

#: Hub-assigned fields of a record, never kept from a push.
_ASSIGNED = {"deltaType", "lastUpdate"}
#: Record members holding coordinates (converted to the requested notation).
_GEO_FIELDS = ("GeoCoordinates", "GeoChargingPointEntrance")

# The geo objects of a stored record, as the hub's own serialisation writes them (field
# order of the models, no whitespace). A key followed by ``:{"`` cannot occur inside a
# JSON string (its quotes would be escaped), so these only match structure. The
# coordinate texts were validated against the notation's pattern (digits, sign, point;
# Google's separators may be escaped tabs, which these leave to the parsing path).
_GEO_KEY = r'"(GeoCoordinates|GeoChargingPointEntrance)":\{"'
_ANY_GEO = re.compile(_GEO_KEY + r'(\w+)"')
_STORED_DECIMAL = re.compile(
    _GEO_KEY + r'DecimalDegree":\{"Longitude":"([-0-9.]+)","Latitude":"([-0-9.]+)"\}\}'
)
_STORED_GOOGLE = re.compile(_GEO_KEY + r'Google":\{"Coordinates":"([-0-9., ]+)"\}\}')


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off for a synchronous bulk step (module
    docstring). Reference counting still frees everything; the collector runs again
    afterwards. Never hold it across an ``await``: other requests would run with it
    off."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def entry_of(record: EvseDataRecord) -> EvseDataEntry:
    """A parsed record as the service stores it: IDs, JSON text, filter columns and
    its POI check."""
    report = poi.check_record(record)
    latitude, longitude = record.GeoCoordinates.to_floats()
    return EvseDataEntry(
        evse_id=record.EvseID,
        canonical_evse_id=ids.canonical(record.EvseID),
        operator=ids.operator_of_evse(record.EvseID),
        record=record.model_dump_json(by_alias=True, exclude_none=True, exclude=_ASSIGNED),
        country=record.Address.Country,
        latitude=latitude,
        longitude=longitude,
        accessibility=record.Accessibility.value,
        auth_modes=authentication_mask(m.value for m in record.AuthenticationModes),
        calibration=record.CalibrationLawDataAvailability.value,
        renewable=record.RenewableEnergy,
        hubject_compatible=record.IsHubjectCompatible,
        open_24h=record.IsOpen24Hours,
        poi_score=report.score,
        poi_findings=tuple(
            PoiFinding(f.property, f.severity.value, f.message) for f in report.findings
        ),
    )


_RECORDS_AT = ("OperatorEvseData", "EvseDataRecord")


def _record_entry(n: int, span: str) -> EvseDataEntry:
    try:
        record = EvseDataRecord.model_validate_json(span)
    except ValidationError as exc:
        raise DataError(describe(exc, (*_RECORDS_AT, n)), http_status=400) from None
    return entry_of(record)


def parse_push(text: str) -> tuple[PushEvseDataRequest, list[EvseDataEntry]]:
    """An eRoamingPushEvseData body: its envelope validated as the model (with an empty
    record list) and its records as entries, each validated from its own span and
    dropped before the next (``jsonwalk``: a full load of 50,000 records no longer
    holds 50,000 models). HTTP 400/022 saying what was wrong otherwise."""
    walker = Walker(text)
    envelope: dict[str, Any] = {}
    entries: list[EvseDataEntry] | None = None
    try:
        if walker.peek() != "{":
            raise DataError("the body must be a JSON object", http_status=400)
        for key in walker.members():
            if key != _RECORDS_AT[0] or walker.peek() != "{":
                envelope[key] = walker.value()
                continue
            if key in envelope:
                raise DataError(f"{key} appears twice", http_status=400)
            data: dict[str, Any] = {}
            envelope[key] = data
            for inner in walker.members():
                if inner != _RECORDS_AT[1] or walker.peek() != "[":
                    data[inner] = walker.value()
                    continue
                if inner in data:
                    raise DataError(f"{inner} appears twice", http_status=400)
                data[inner] = []  # validated below, record by record
                entries = [_record_entry(n, span) for n, span in enumerate(walker.elements())]
        walker.end()
    except JsonShapeError as exc:
        raise DataError(f"the body is not JSON: {exc}", http_status=400) from None
    push = parse(PushEvseDataRequest, envelope)
    return push, entries or []


async def read_text(request: Request) -> str:
    """The body as text, read without keeping a second copy in the request (a full
    load is tens of megabytes); HTTP 400/022 when it is not UTF-8."""
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise DataError("the body is not JSON: not valid UTF-8", http_status=400) from None


@router.post(PUSH_PATH, summary="eRoamingPushEvseData")
async def push_evse_data(
    operatorID: str, request: Request, hub: HubDep, caller: CallerDep
) -> dict[str, Any]:
    acting_operator(caller, operatorID)  # 017 before the body is read
    text = await read_text(request)
    with collector_paused():
        push, entries = parse_push(text)
        data = push.OperatorEvseData
        operator = acting_operator(caller, operatorID, data.OperatorID)
        action = CoreAction(push.ActionType.value)
        operator_id, operator_name = data.OperatorID, data.OperatorName
        # Freed by reference counting while the collector is off, so its first run
        # afterwards does not trace millions of objects about to die.
        del text, push, data
    await service.push_evse_data(
        hub.uow, operator, action, operator_id, operator_name, entries, datetime.now(UTC)
    )
    return Acknowledgement.model_validate(
        {"Result": True, "StatusCode": StatusCode.of(Code.SUCCESS)}
    ).to_wire()


def query_of(pull: PullEvseDataRequest) -> EvseDataQuery:
    """The pull's filters as a storage query (LastCall conflicts already refused)."""
    circle = None
    if pull.SearchCenter is not None:
        latitude, longitude = pull.SearchCenter.GeoCoordinates.to_floats()
        circle = GeoCircle(latitude, longitude, float(pull.SearchCenter.Radius))

    def values(items: list[Any] | None) -> tuple[str, ...] | None:
        return None if items is None else tuple(str(getattr(i, "value", i)) for i in items)

    return EvseDataQuery(
        countries=values(pull.CountryCodes),
        operators=None
        if pull.OperatorIds is None
        else tuple(ids.canonical_operator(o) for o in pull.OperatorIds),
        auth_mask=None
        if pull.AuthenticationModes is None
        else authentication_mask(m.value for m in pull.AuthenticationModes),
        accessibility=values(pull.Accessibility),
        calibration=values(pull.CalibrationLawDataAvailability),
        renewable=pull.RenewableEnergy,
        hubject_compatible=pull.IsHubjectCompatible,
        open_24h=pull.IsOpen24Hours,
        changed_since=None if pull.LastCall is None else pull.LastCall.value,
        circle=circle,
    )


def convert_geo(geo: dict[str, Any], notation: Notation) -> dict[str, Any]:
    """Coordinates as stored (validated, one notation) in ``notation``. Between Google
    and DecimalDegree the texts are only rearranged (both hold the same decimal text,
    which the model's conversion would keep too); DegreeMinuteSeconds goes through
    the model."""
    if notation.value in geo:
        return geo
    decimal = geo.get("DecimalDegree")
    if notation is Notation.GOOGLE and isinstance(decimal, dict):
        return {"Google": {"Coordinates": f"{decimal['Latitude']} {decimal['Longitude']}"}}
    google = geo.get("Google")
    if notation is Notation.DECIMAL_DEGREE and isinstance(google, dict):
        latitude, longitude = google["Coordinates"].replace(",", " ").split()
        return {"DecimalDegree": {"Longitude": longitude, "Latitude": latitude}}
    return GeoCoordinates.model_validate(geo).in_notation(notation).to_wire()


def wire_record(
    stored: StoredEvseData, notation: Notation, since: datetime | None
) -> dict[str, Any]:
    """A stored record as a PullEvseDataRecord in ``notation``."""
    record: dict[str, Any] = json.loads(stored.record)
    for name in _GEO_FIELDS:
        geo = record.get(name)
        if isinstance(geo, dict):
            record[name] = convert_geo(geo, notation)
    record["OperatorID"] = stored.operator_id
    record["OperatorName"] = stored.operator_name
    record["lastUpdate"] = DateTime.of(stored.updated_at).text
    if since is not None:
        record["deltaType"] = stored.delta(since).value
    return record


def splice_record(
    stored: StoredEvseData,
    notation: Notation,
    since: datetime | None,
    tails: dict[tuple[str, str, datetime, str | None], str] | None = None,
) -> str | None:
    """:func:`wire_record` as JSON text, made from the stored text without parsing
    it; ``None`` when its coordinates need more than a Google <-> DecimalDegree
    rearrangement (then :func:`wire_record` does it). ``tails`` keeps the added keys'
    text per operator, time and delta for the rest of a page (a full load gives
    thousands of records the same ones)."""
    text = stored.record
    if notation is Notation.GOOGLE:
        text = _STORED_DECIMAL.sub(
            lambda m: f'"{m[1]}":{{"Google":{{"Coordinates":"{m[3]} {m[2]}"}}}}', text
        )
    elif notation is Notation.DECIMAL_DEGREE:
        text = _STORED_GOOGLE.sub(_google_to_decimal, text)
    if any(m[2] != notation.value for m in _ANY_GEO.finditer(text)):
        return None
    if not (text.startswith("{") and text.endswith("}")):
        return None
    delta = None if since is None else stored.delta(since).value
    key = (stored.operator_id, stored.operator_name, stored.updated_at, delta)
    tail = tails.get(key) if tails is not None else None
    if tail is None:
        added = {
            "OperatorID": stored.operator_id,
            "OperatorName": stored.operator_name,
            "lastUpdate": DateTime.of(stored.updated_at).text,
        }
        if delta is not None:
            added["deltaType"] = delta
        tail = _dumps(added)
        if tails is not None:
            tails[key] = tail
    return f"{text[:-1]},{tail[1:]}" if len(text) > 2 else tail


def _google_to_decimal(m: re.Match[str]) -> str:
    latitude, longitude = m[2].replace(",", " ").split()
    return f'"{m[1]}":{{"DecimalDegree":{{"Longitude":"{longitude}","Latitude":"{latitude}"}}}}'


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def page_text(
    rows: list[StoredEvseData],
    notation: Notation,
    since: datetime | None,
    page: pages.PageRequest,
    total: int,
) -> bytes:
    """The answer's body: :func:`pages.page_body` with the records spliced in as
    text (:func:`splice_record`, else :func:`wire_record`)."""
    tails: dict[tuple[str, str, datetime, str | None], str] = {}
    records = [
        splice_record(r, notation, since, tails) or _dumps(wire_record(r, notation, since))
        for r in rows
    ]
    frame = pages.page_body([], page, total)
    frame["numberOfElements"] = len(rows)
    frame["empty"] = not rows
    head = _dumps({"content": []})
    rest = _dumps({k: v for k, v in frame.items() if k != "content"})
    return f"{head[:-2]}{','.join(records)}],{rest[1:]}".encode()


@router.post(PULL_PATH, summary="eRoamingPullEvseData")
async def pull_evse_data(
    providerID: str, request: Request, hub: HubDep, caller: CallerDep
) -> Response:
    acting_provider(caller, providerID)
    page = pages.parse_page_query(request.query_params)
    pull = await parse_body(request, PullEvseDataRequest)
    acting_provider(caller, providerID, pull.ProviderID)
    conflicts = pull.last_call_conflicts()
    if conflicts:
        raise InvalidRequest(f"LastCall cannot be combined with {', '.join(conflicts)}")
    since = None if pull.LastCall is None else pull.LastCall.value
    rows, total = await service.pull_evse_data(hub.uow, query_of(pull), page.offset, page.size)
    body = page_text(rows, pull.GeoCoordinatesResponseFormat, since, page, total)
    return Response(body, media_type="application/json")
