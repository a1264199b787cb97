"""``evroam oicp client ...``: everyday OICP 2.3 calls of a CPO or an EMP, against this
hub, Hubject (QA ``https://service-qa.hubject.com``, production
``https://service.hubject.com``) or any OICP 2.3 endpoint.

Every command takes the endpoint and the partner's certificate: ``--url``, ``--cert``,
``--key``, ``--ca`` and ``--operator-id`` (CPO commands) or ``--provider-id`` (EMP
commands), each also from the environment (``EVROAM_OICP_URL``, ``EVROAM_OICP_CERT``,
``EVROAM_OICP_KEY``, ``EVROAM_OICP_CA``, ``EVROAM_OICP_OPERATOR_ID``,
``EVROAM_OICP_PROVIDER_ID``). ``--json`` prints the answer as JSON on stdout; progress
goes to stderr. A refusal prints the partner's code and texts and exits 1; what the
hub or a node sent is printed as text, never as markup (``cli/common.py``).

``push-evse-data --from-node URL`` reads the node's own Locations from its operator API
(``/api/v1/locations?own=true``) and converts them with
:mod:`evroam.oicp.v2_3.partner.from_ocpi`; EVSEs that cannot be converted are listed,
never pushed with made-up data, and nothing is pushed if none can.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import httpx
import typer
from pydantic import ValidationError
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from evroam.cli.common import Command, console, fail, line, new_app, text
from evroam.cli.node_api import TokenFileOpt, TokenOpt, connect
from evroam.cli.partner_views import fold_table, print_json
from evroam.oicp.v2_3.errors import OicpPartnerError
from evroam.oicp.v2_3.models.cdr import ChargeDetailRecord
from evroam.oicp.v2_3.models.common import Acknowledgement, ActionType, Page
from evroam.oicp.v2_3.models.evse import (
    Accessibility,
    CalibrationLawDataAvailability,
    EvseDataRecord,
)
from evroam.oicp.v2_3.models.evsedata import PushEvseDataRequest
from evroam.oicp.v2_3.models.geo import Notation
from evroam.oicp.v2_3.models.status import EvseStatus, EvseStatusRecord
from evroam.oicp.v2_3.pages import MAX_SIZE

if TYPE_CHECKING:  # imported where used: every evroam command (serve too) loads this module
    from evroam.oicp.v2_3.partner.cpo import CpoClient
    from evroam.oicp.v2_3.partner.emp import EmpClient
    from evroam.oicp.v2_3.partner.from_ocpi import Conversion

app = new_app("OICP calls of a CPO or EMP to a hub.")

T = TypeVar("T")

UrlOpt = Annotated[
    str,
    typer.Option(
        "--url",
        envvar="EVROAM_OICP_URL",
        metavar="URL",
        help="The hub's base URL (with or without /api/oicp).",
    ),
]
CertOpt = Annotated[
    Path | None,
    typer.Option(
        "--cert", envvar="EVROAM_OICP_CERT", metavar="FILE", help="Client certificate (PEM)."
    ),
]
KeyOpt = Annotated[
    Path | None,
    typer.Option(
        "--key", envvar="EVROAM_OICP_KEY", metavar="FILE", help="Its key (PEM); none: in --cert."
    ),
]
CaOpt = Annotated[
    Path | None,
    typer.Option(
        "--ca",
        envvar="EVROAM_OICP_CA",
        metavar="FILE",
        help="CA to verify the hub with; none: the system store.",
    ),
]
OperatorOpt = Annotated[
    str,
    typer.Option(
        "--operator-id",
        envvar="EVROAM_OICP_OPERATOR_ID",
        metavar="ID",
        help="Your OperatorID (CPO).",
    ),
]
ProviderOpt = Annotated[
    str,
    typer.Option(
        "--provider-id",
        envvar="EVROAM_OICP_PROVIDER_ID",
        metavar="ID",
        help="Your ProviderID (EMP).",
    ),
]
TimeoutOpt = Annotated[
    float, typer.Option("--timeout", metavar="SECONDS", help="Seconds to wait for each answer.")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the answer as JSON.")]
SizeOpt = Annotated[
    int, typer.Option("--size", metavar="N", help=f"Records per page, 1 to {MAX_SIZE}.")
]


def transport() -> httpx.AsyncBaseTransport | None:
    """The network of every client; the unit tests put an in-process hub here."""
    return None


def _options(
    cert: Path | None, key: Path | None, ca: Path | None, timeout: float
) -> dict[str, Any]:
    for what, path in (("--cert", cert), ("--key", key), ("--ca", ca)):
        if path is not None and not path.is_file():
            raise fail(f"{what}: no such file {path}", 2)
    return {"cert": cert, "key": key, "ca": ca, "timeout": timeout, "transport": transport()}


def _required(url: str, what: str, value: str) -> None:
    if not url:
        raise fail("no hub: give --url BASE or set EVROAM_OICP_URL", 2)
    if not value:
        raise fail(f"give --{what} or set EVROAM_OICP_{what.upper().replace('-', '_')}", 2)


def _cpo(url: str, operator_id: str, options: dict[str, Any], name: str | None = None) -> CpoClient:
    from evroam.oicp.v2_3.partner.cpo import CpoClient

    _required(url, "operator-id", operator_id)
    try:
        return CpoClient(url, operator_id, operator_name=name, **options)
    except ValueError as exc:
        raise fail(str(exc), 2) from None


def _emp(url: str, provider_id: str, options: dict[str, Any]) -> EmpClient:
    from evroam.oicp.v2_3.partner.emp import EmpClient

    _required(url, "provider-id", provider_id)
    try:
        return EmpClient(url, provider_id, **options)
    except ValueError as exc:
        raise fail(str(exc), 2) from None


def _run(work: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run one call; refusals and failures become ``error: ...`` and an exit code."""
    from evroam.oicp.v2_3.partner.client import OicpCallFailed

    try:
        return asyncio.run(work())
    except OicpPartnerError as exc:
        parts = [f"refused with {exc.code}", exc.description or "", exc.additional_info or ""]
        raise fail(": ".join(p for p in parts if p)) from None
    except OicpCallFailed as exc:
        raise fail(str(exc)) from None
    except (ValueError, ValidationError) as exc:
        raise fail(str(exc), 2) from None


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise fail(f"cannot read {path} as JSON: {exc}", 2) from None


def _ack(ack: Acknowledgement, json_: bool, what: str) -> None:
    if json_:
        print_json(ack.to_wire())
        return
    out = console()
    line(out, what, ": ", ack.StatusCode.Code, " ", ack.StatusCode.Description or "")
    if ack.SessionID:
        line(out, "  SessionID: ", ack.SessionID)
    if ack.StatusCode.AdditionalInfo:
        line(out, "  ", ack.StatusCode.AdditionalInfo)


# ---------------------------------------------------------------------- CPO commands


def _records_from_file(path: Path) -> tuple[list[EvseDataRecord], PushEvseDataRequest | None]:
    data = _read_json(path)
    try:
        if isinstance(data, dict):
            return [], PushEvseDataRequest.model_validate(data)
        if isinstance(data, list):
            return [EvseDataRecord.model_validate(r) for r in data], None
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(x) for x in first.get("loc", ()))
        raise fail(f"{path}: {where}: {first['msg']}", 2) from None
    raise fail(f"{path}: a JSON list of EvseDataRecords or a PushEvseData body", 2)


def _node_locations(node: str, token: str | None, token_file: Path | None) -> list[Any]:
    """The node's own Locations, page by page through the operator API."""
    api = connect(node, token, token_file)
    found: list[Any] = []
    for _ in range(100_000):
        answer = api.call("GET", f"/locations?own=true&offset={len(found)}&limit=100")
        data = answer.get("data") if isinstance(answer, dict) else None
        if not isinstance(data, list):
            raise fail("the node's answer has no list of Locations", 1)
        if not data:
            break
        found.extend(data)
    return found


def _report(conversion: Conversion) -> None:
    err = console(stderr=True)
    for finding in conversion.refused:
        line(err, "refused ", str(finding))
    for finding in conversion.notes:
        line(err, "note ", str(finding))
    line(err, f"{len(conversion.records)} EVSEs converted, {len(conversion.refused)} refused")


def push_evse_data(
    file: Annotated[
        Path | None,
        typer.Argument(
            metavar="FILE", help="A JSON list of EvseDataRecords or a PushEvseData body."
        ),
    ] = None,
    action: Annotated[
        ActionType,
        typer.Option("--action", metavar="ACTION", help="How to apply."),
    ] = ActionType.FULL_LOAD,
    operator_name: Annotated[
        str | None,
        typer.Option("--operator-name", metavar="NAME", help="OperatorName (default: the ID)."),
    ] = None,
    from_node: Annotated[
        str | None,
        typer.Option(
            "--from-node", metavar="URL", help="Push the Locations of this evroam node instead."
        ),
    ] = None,
    admin_token: TokenOpt = None,
    admin_token_file: TokenFileOpt = None,
    hotline: Annotated[
        str | None,
        typer.Option("--hotline", metavar="PHONE", help="With --from-node: +digits hotline."),
    ] = None,
    language: Annotated[
        str, typer.Option("--language", metavar="LANG", help="With --from-node: language of names.")
    ] = "en",
    calibration: Annotated[
        CalibrationLawDataAvailability,
        typer.Option("--calibration", metavar="AVAILABILITY", help="With --from-node."),
    ] = CalibrationLawDataAvailability.NOT_AVAILABLE,
    accessibility: Annotated[
        Accessibility,
        typer.Option(
            "--accessibility", metavar="ACCESS", help="With --from-node: unrestricted EVSEs."
        ),
    ] = Accessibility.FREE_PUBLICLY_ACCESSIBLE,
    assume_24_7: Annotated[
        bool, typer.Option("--assume-24-7", help="With --from-node: no opening_times means 24/7.")
    ] = False,
    url: UrlOpt = "",
    operator_id: OperatorOpt = "",
    cert: CertOpt = None,
    key: KeyOpt = None,
    ca: CaOpt = None,
    timeout: TimeoutOpt = 60.0,
    json_: JsonOpt = False,
) -> None:
    """Push EVSE data records."""
    if (file is None) == (from_node is None):
        raise fail("give FILE or --from-node URL", 2)
    options = _options(cert, key, ca, timeout)
    request: PushEvseDataRequest | None = None
    if file is not None:
        records, request = _records_from_file(file)
    else:
        if not hotline:
            raise fail("--from-node needs --hotline (OCPI has no hotline number)", 2)
        # The OCPI models (and with them the OCPI package) only for this command.
        from evroam.oicp.v2_3.partner.from_ocpi import Defaults, convert_locations

        try:
            defaults = Defaults(
                hotline=hotline,
                language=language,
                calibration=calibration,
                accessibility=accessibility,
                open_24h_when_unknown=assume_24_7,
            )
        except ValueError as exc:
            raise fail(str(exc), 2) from None
        conversion = convert_locations(
            _node_locations(from_node or "", admin_token, admin_token_file), operator_id, defaults
        )
        _report(conversion)
        if not conversion.records:
            raise fail("nothing to push: no EVSE could be converted", 1)
        records = conversion.records
    client = _cpo(url, operator_id, options, operator_name)

    async def work() -> Acknowledgement:
        async with client:
            if request is not None:
                return await client.send_evse_data(request)
            return await client.push_evse_data(records, action)

    _ack(_run(work), json_, "PushEvseData")


def push_status(
    evse_id: Annotated[str, typer.Argument(metavar="EVSE_ID", help="The EvseID.")],
    status: Annotated[
        EvseStatus,
        typer.Argument(metavar="STATUS", help="Available, Reserved, Occupied, OutOfService, ..."),
    ],
    action: Annotated[
        ActionType,
        typer.Option("--action", metavar="ACTION", help="How to apply."),
    ] = ActionType.UPDATE,
    url: UrlOpt = "",
    operator_id: OperatorOpt = "",
    cert: CertOpt = None,
    key: KeyOpt = None,
    ca: CaOpt = None,
    timeout: TimeoutOpt = 30.0,
    json_: JsonOpt = False,
) -> None:
    """Push one EVSE's status."""
    client = _cpo(url, operator_id, _options(cert, key, ca, timeout))

    async def work() -> Acknowledgement:
        async with client:
            return await client.push_evse_status({evse_id.strip(): status}, action)

    _ack(_run(work), json_, "PushEvseStatus")


def send_cdr(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="A ChargeDetailRecord (JSON).")],
    url: UrlOpt = "",
    operator_id: OperatorOpt = "",
    cert: CertOpt = None,
    key: KeyOpt = None,
    ca: CaOpt = None,
    timeout: TimeoutOpt = 30.0,
    json_: JsonOpt = False,
) -> None:
    """Send a charge detail record."""
    data = _read_json(file)
    try:
        cdr = ChargeDetailRecord.model_validate(data)
    except ValidationError as exc:
        raise fail(
            f"{file}: {exc.errors(include_url=False, include_input=False)[0]['msg']}", 2
        ) from None
    client = _cpo(url, operator_id, _options(cert, key, ca, timeout))

    async def work() -> Acknowledgement:
        async with client:
            return await client.send_cdr(cdr)

    _ack(_run(work), json_, "ChargeDetailRecord")


# ---------------------------------------------------------------------- EMP commands


async def _collect(pages: AsyncIterator[Page[Any]], what: str) -> list[Any]:
    """Every page's content, with a progress bar on stderr."""
    items: list[Any] = []
    progress = Progress(
        TextColumn(what),
        BarColumn(),
        MofNCompleteColumn(),
        console=console(stderr=True),
        transient=True,
    )
    with progress:
        task = progress.add_task(what, total=None)
        async for page in pages:
            items.extend(page.content)
            progress.update(task, total=page.totalElements, completed=len(items))
    return items


def pull_data(
    operator: Annotated[
        list[str] | None,
        typer.Option("--operator", metavar="ID", help="Only this operator (repeat)."),
    ] = None,
    country: Annotated[
        list[str] | None,
        typer.Option("--country", metavar="CCC", help="Only this country, alpha-3 (repeat)."),
    ] = None,
    last_call: Annotated[
        str | None,
        typer.Option("--last-call", metavar="DATETIME", help="Only changes since (a delta)."),
    ] = None,
    notation: Annotated[
        Notation,
        typer.Option("--format", metavar="FORMAT", help="Coordinates."),
    ] = Notation.DECIMAL_DEGREE,
    size: SizeOpt = MAX_SIZE,
    url: UrlOpt = "",
    provider_id: ProviderOpt = "",
    cert: CertOpt = None,
    key: KeyOpt = None,
    ca: CaOpt = None,
    timeout: TimeoutOpt = 60.0,
    json_: JsonOpt = False,
) -> None:
    """Pull EVSE data, every page."""
    filters: dict[str, Any] = {"GeoCoordinatesResponseFormat": notation}
    if operator:
        filters["OperatorIds"] = operator
    if country:
        filters["CountryCodes"] = country
    if last_call:
        filters["LastCall"] = last_call
    client = _emp(url, provider_id, _options(cert, key, ca, timeout))

    async def work() -> list[Any]:
        async with client:
            return await _collect(client.evse_data_pages(size=size, **filters), "EVSE data")

    records = _run(work)
    if json_:
        print_json([r.to_wire() for r in records])
        return
    table = fold_table("EvseID", "operator", "name", "city", "change")
    for r in records:
        names = r.ChargingStationNames
        table.add_row(
            text(r.EvseID),
            text(r.OperatorName or r.OperatorID),
            text(names[0].value if names else ""),
            text(r.Address.City),
            text(r.deltaType or ""),
        )
    console().print(table)
    line(console(), f"{len(records)} records")


def _status_rows(records: list[EvseStatusRecord], json_: bool) -> None:
    if json_:
        print_json([r.to_wire() for r in records])
        return
    table = fold_table("EvseID", "status")
    for r in records:
        table.add_row(text(r.EvseID), text(r.EvseStatus.value))
    console().print(table)


def pull_status(
    evse_id: Annotated[
        list[str] | None,
        typer.Option("--evse-id", metavar="ID", help="These EVSEs (repeat): by ID."),
    ] = None,
    operator: Annotated[
        list[str] | None, typer.Option("--operator", metavar="ID", help="These operators (repeat).")
    ] = None,
    status: Annotated[
        EvseStatus | None,
        typer.Option("--status", metavar="STATUS", help="Only EVSEs in this status."),
    ] = None,
    url: UrlOpt = "",
    provider_id: ProviderOpt = "",
    cert: CertOpt = None,
    key: KeyOpt = None,
    ca: CaOpt = None,
    timeout: TimeoutOpt = 30.0,
    json_: JsonOpt = False,
) -> None:
    """Pull EVSE statuses (by --evse-id, --operator, or all)."""
    if evse_id and operator:
        raise fail("give --evse-id or --operator, not both", 2)
    client = _emp(url, provider_id, _options(cert, key, ca, timeout))

    async def work() -> list[EvseStatusRecord]:
        async with client:
            if evse_id:
                answer = await client.pull_evse_status_by_id([e.strip() for e in evse_id])
                return list(answer.EVSEStatusRecords.EvseStatusRecord)
            if operator:
                blocks = await client.pull_evse_status_by_operator(operator)
            else:
                blocks = await client.pull_evse_status(status)
            return [r for b in blocks.EvseStatuses.OperatorEvseStatus for r in b.EvseStatusRecord]

    _status_rows(_run(work), json_)


def remote_start(
    evse_id: Annotated[str, typer.Argument(metavar="EVSE_ID", help="Where to charge.")],
    evco_id: Annotated[str, typer.Argument(metavar="EVCO_ID", help="The driver's contract ID.")],
    product: Annotated[
        str | None, typer.Option("--product", metavar="ID", help="PartnerProductID.")
    ] = None,
    url: UrlOpt = "",
    provider_id: ProviderOpt = "",
    cert: CertOpt = None,
    key: KeyOpt = None,
    ca: CaOpt = None,
    timeout: TimeoutOpt = 70.0,
    json_: JsonOpt = False,
) -> None:
    """Start charging remotely; prints the SessionID."""
    client = _emp(url, provider_id, _options(cert, key, ca, timeout))

    async def work() -> Acknowledgement:
        async with client:
            return await client.remote_start(
                evse_id.strip(), evco_id.strip(), partner_product_id=product
            )

    _ack(_run(work), json_, "AuthorizeRemoteStart")


def remote_stop(
    session_id: Annotated[str, typer.Argument(metavar="SESSION_ID", help="From the remote start.")],
    evse_id: Annotated[str, typer.Argument(metavar="EVSE_ID", help="Where it charges.")],
    url: UrlOpt = "",
    provider_id: ProviderOpt = "",
    cert: CertOpt = None,
    key: KeyOpt = None,
    ca: CaOpt = None,
    timeout: TimeoutOpt = 70.0,
    json_: JsonOpt = False,
) -> None:
    """Stop a remote session."""
    client = _emp(url, provider_id, _options(cert, key, ca, timeout))

    async def work() -> Acknowledgement:
        async with client:
            return await client.remote_stop(session_id.strip(), evse_id.strip())

    _ack(_run(work), json_, "AuthorizeRemoteStop")


def get_cdrs(
    from_: Annotated[
        str, typer.Option("--from", metavar="DATETIME", help="Received from (ISO 8601).")
    ],
    to: Annotated[str, typer.Option("--to", metavar="DATETIME", help="Received until (ISO 8601).")],
    session: Annotated[
        list[str] | None,
        typer.Option("--session", metavar="ID", help="Only this SessionID (repeat)."),
    ] = None,
    operator: Annotated[
        str | None, typer.Option("--operator", metavar="ID", help="Only this operator's.")
    ] = None,
    forwarded: Annotated[
        bool | None,
        typer.Option(
            "--forwarded/--not-forwarded",
            help="Only those the hub forwarded to you, or only those it could not.",
        ),
    ] = None,
    size: SizeOpt = MAX_SIZE,
    url: UrlOpt = "",
    provider_id: ProviderOpt = "",
    cert: CertOpt = None,
    key: KeyOpt = None,
    ca: CaOpt = None,
    timeout: TimeoutOpt = 60.0,
    json_: JsonOpt = False,
) -> None:
    """Fetch the CDRs the hub received in a period."""
    client = _emp(url, provider_id, _options(cert, key, ca, timeout))
    sessions = [s.strip() for s in session or ()]
    operator_id = operator.strip() if operator else None

    async def work() -> list[Any]:
        async with client:
            pages = client.cdr_pages(
                from_,
                to,
                session_ids=sessions,
                operator_id=operator_id,
                forwarded=forwarded,
                size=size,
            )
            return await _collect(pages, "CDRs")

    cdrs: list[ChargeDetailRecord] = _run(work)
    if json_:
        print_json([c.to_wire() for c in cdrs])
        return
    table = fold_table("SessionID", "EvseID", "start", "end", "kWh")
    for c in cdrs:
        table.add_row(
            text(c.SessionID),
            text(c.EvseID),
            text(c.ChargingStart.text),
            text(c.ChargingEnd.text),
            text(c.ConsumedEnergy),
        )
    console().print(table)
    line(console(), f"{len(cdrs)} CDRs")


def register(parent: typer.Typer) -> None:
    for name, command in (
        ("push-evse-data", push_evse_data),
        ("push-status", push_status),
        ("send-cdr", send_cdr),
        ("pull-data", pull_data),
        ("pull-status", pull_status),
        ("remote-start", remote_start),
        ("remote-stop", remote_stop),
        ("get-cdrs", get_cdrs),
    ):
        app.command(name, cls=Command)(command)
    parent.add_typer(app, name="client")
