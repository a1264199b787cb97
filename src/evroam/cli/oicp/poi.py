"""``evroam oicp poi-check FILE | --operator ID [--json]``: the POI data quality of EVSE
data records (``oicp/v2_3/poi.py``).

``FILE`` is a PushEvseData body (``{"OperatorEvseData": {"EvseDataRecord": [...]}}``)
or a JSON list of EvseDataRecords, checked here without a hub: what the schema refuses
becomes findings too. ``--operator ID`` shows what a running hub kept for the records
that operator pushed, through its operator API (``GET /api/v1/oicp/operators/{id}/poi``).

One table per record that has findings (property, severity, what), then the summary:
records, errors, warnings, the score (0-100, the mean of the records'). Record contents
were written by a partner: printed as text, never as markup.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import typer

from evroam.cli.common import Command, console, fail, line, text
from evroam.cli.node_api import JsonOpt, TokenFileOpt, TokenOpt
from evroam.cli.oicp.partners import HubOpt, hub_node
from evroam.cli.partner_views import fold_table, print_json
from evroam.oicp.v2_3 import ids, poi

#: Largest file read (a 50,000-record full load is about 60 MB).
MAX_FILE_BYTES = 200_000_000


def records_of(data: Any) -> list[Any]:
    """The records of a PushEvseData body or a list of records; ``ValueError`` saying
    what the file is instead."""
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        block = data.get("OperatorEvseData")
        if isinstance(block, dict) and isinstance(block.get("EvseDataRecord"), list):
            return list(block["EvseDataRecord"])
        if "EvseID" in data:
            return [data]
    raise ValueError(
        "expected a PushEvseData body (OperatorEvseData.EvseDataRecord) or a list of "
        "EvseDataRecords"
    )


def report_json(report: poi.Report) -> dict[str, Any]:
    """The report as the hub's operator API shapes it."""
    return {
        "records": [
            {
                "evse_id": r.evse_id,
                "score": r.score,
                "findings": [
                    {"property": f.property, "severity": f.severity.value, "message": f.message}
                    for f in r.findings
                ],
            }
            for r in report.records
        ],
        "score": report.score,
        "errors": report.errors,
        "warnings": report.warnings,
    }


def render(data: dict[str, Any]) -> None:
    """Tables per record with findings, then the summary (``data`` as report_json)."""
    out = console()
    records: Sequence[dict[str, Any]] = data.get("records") or []
    for record in records:
        findings = record.get("findings") or []
        if not findings:
            continue
        line(out, record.get("evse_id") or "(no EvseID)", f"  score {record.get('score')}")
        table = fold_table("property", "severity", "finding")
        for f in findings:
            severity = str(f.get("severity"))
            table.add_row(
                text(f.get("property")),
                text(severity, style="red" if severity == "error" else "yellow"),
                text(f.get("message")),
            )
        out.print(table)
        out.print()
    clean = sum(1 for r in records if not r.get("findings"))
    line(
        out,
        f"{len(records)} records ({clean} without findings), ",
        f"{data.get('errors', 0)} errors, {data.get('warnings', 0)} warnings, ",
        f"score {data.get('score')}/100",
        style="bold",
    )


def poi_check(
    file: Annotated[
        Path | None,
        typer.Argument(
            metavar="FILE", help="A PushEvseData body or a JSON list of EvseDataRecords."
        ),
    ] = None,
    operator: Annotated[
        str | None,
        typer.Option(
            "--operator", metavar="ID", help="Show what a running hub kept for this operator."
        ),
    ] = None,
    node: HubOpt = None,
    admin_token: TokenOpt = None,
    admin_token_file: TokenFileOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Check the POI data quality of EVSE data records.

    Of a file, or of an operator's records as the hub keeps them."""
    if (file is None) == (operator is None):
        raise fail("give either FILE or --operator ID", 2)
    if operator is not None:
        operator = operator.strip()
        if not ids.is_operator_id(operator):
            raise fail(f"{operator!r} is not an OperatorID (e.g. DE*ABC)", 2)
        path = f"/oicp/operators/{quote(operator, safe='')}/poi"
        data = hub_node(node, admin_token, admin_token_file).call("GET", path)
    else:
        assert file is not None
        try:
            if file.stat().st_size > MAX_FILE_BYTES:
                raise fail(f"{file} is larger than {MAX_FILE_BYTES} bytes", 2)
            records = records_of(json.loads(file.read_bytes()))
        except OSError as exc:
            raise fail(f"cannot read {file}: {exc.strerror}", 2) from None
        except (ValueError, RecursionError) as exc:
            raise fail(f"{file}: {exc}", 2) from None
        data = report_json(poi.check_records(records))
    if json_:
        print_json(data)
    else:
        render(data)


def register(parent: typer.Typer) -> None:
    parent.command("poi-check", cls=Command)(poi_check)
