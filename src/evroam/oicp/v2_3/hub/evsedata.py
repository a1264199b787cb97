"""eRoamingEVSEData: PushEvseData (CPO) and PullEvseData (EMP), digest §1.3 rows 10
and 12, paths from the operation table (``paths.py``).

Both are bulk operations, so both avoid per-record framework work:

* the push body is validated by pydantic-core in one pass straight from the bytes
  (``model_validate_json``; no ``json.loads`` then validation of Python objects), each
  record checked by the POI check (``poi.py``, findings stored, never a refusal) and
  kept as its wire JSON (date-times as sent, ``deltaType``/``lastUpdate`` dropped:
  those the hub assigns);
* the pull answers stored JSON texts with four keys added (``OperatorID``,
  ``OperatorName``, ``lastUpdate``, and ``deltaType`` for a LastCall pull) and the
  coordinates converted only when they are not already in the requested notation;
  the page is written with ``json.dumps`` directly, not through FastAPI's encoder.

``LastCall`` with ``SearchCenter``, ``CountryCodes`` or ``OperatorIds`` is refused
(022, HTTP 200), as is any other business rule; a body that is not the shape: 400/022.
"""

from __future__ import annotations

import json
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
    ModelT,
    acting_operator,
    acting_provider,
    describe,
    parse_body,
)
from evroam.oicp.v2_3.errors import DataError
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


async def read_model_json(request: Request, model: type[ModelT]) -> ModelT:
    """The body validated as ``model`` straight from its bytes; HTTP 400/022 saying
    what was wrong otherwise."""
    raw = await request.body()
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        raise DataError(describe(exc), http_status=400) from None


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


@router.post(PUSH_PATH, summary="eRoamingPushEvseData")
async def push_evse_data(
    operatorID: str, request: Request, hub: HubDep, caller: CallerDep
) -> dict[str, Any]:
    acting_operator(caller, operatorID)  # 017 before the body is read
    push = await read_model_json(request, PushEvseDataRequest)
    data = push.OperatorEvseData
    operator = acting_operator(caller, operatorID, data.OperatorID)
    entries = [entry_of(r) for r in data.EvseDataRecord]
    await service.push_evse_data(
        hub.uow,
        operator,
        CoreAction(push.ActionType.value),
        data.OperatorID,
        data.OperatorName,
        entries,
        datetime.now(UTC),
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
    notation = pull.GeoCoordinatesResponseFormat
    body = pages.page_body([wire_record(r, notation, since) for r in rows], page, total)
    return Response(
        json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode(),
        media_type="application/json",
    )
