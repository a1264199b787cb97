"""Helpers of the EVSE data and pricing tests: an operator with its certificate, an EMP,
records built from the complete test record, refusal checks."""

from __future__ import annotations

from typing import Any

import httpx

from tests.integration.oicp_hub.support import HubProcess
from tests.unit.oicp.records import complete_record

OK = {"Result": True, "StatusCode": {"Code": "000", "Description": "Success"}}


def record(evse_id: str, **changes: Any) -> dict[str, Any]:
    r = complete_record()
    r["EvseID"] = evse_id
    r.update(changes)
    return r


def refused(r: httpx.Response, http: int, code: str) -> str:
    assert r.status_code == http, r.text
    body = r.json()
    assert body["Result"] is False and body["StatusCode"]["Code"] == code, body
    return str(body["StatusCode"].get("AdditionalInfo", ""))


class Operator:
    """A CPO of the shared hub with its own client certificate."""

    def __init__(self, hub: HubProcess, operator_id: str, name: str = "Operator") -> None:
        self.hub = hub
        self.id = operator_id
        self.name = name
        hub.add_partner(operator_id, "CPO", name=name)
        self.http = hub.client(operator_id)

    def evse(self, n: int) -> str:
        return f"{self.id}*E{n}"

    def push(self, action: str, records: list[dict[str, Any]], **kw: Any) -> httpx.Response:
        body = kw.pop("body", None) or {
            "ActionType": action,
            "OperatorEvseData": {
                "OperatorID": kw.pop("body_id", self.id),
                "OperatorName": self.name,
                "EvseDataRecord": records,
            },
        }
        path = f"/evsepush/v23/operators/{kw.pop('path_id', self.id)}/data-records"
        return self.http.post(self.hub.url + path, json=body, **kw)

    def ok(self, action: str, records: list[dict[str, Any]]) -> None:
        r = self.push(action, records)
        assert (r.status_code, r.json()) == (200, OK), r.text


class Provider:
    def __init__(self, hub: HubProcess, provider_id: str) -> None:
        self.hub = hub
        self.id = provider_id
        hub.add_partner(provider_id, "EMP", name="Provider")
        self.http = hub.client(provider_id)

    def pull_raw(self, query: str = "", **body: Any) -> httpx.Response:
        body = {"ProviderID": self.id, "GeoCoordinatesResponseFormat": "DecimalDegree", **body}
        path = f"/evsepull/v23/providers/{self.id}/data-records{query}"
        return self.http.post(self.hub.url + path, json=body)

    def pull(self, query: str = "?size=2000", **body: Any) -> list[dict[str, Any]]:
        r = self.pull_raw(query, **body)
        assert r.status_code == 200, r.text
        page = r.json()
        assert page["StatusCode"]["Code"] == "000", page
        return list(page["content"])

    def evse_ids(self, operator: Operator, **body: Any) -> list[str]:
        return [r["EvseID"] for r in self.pull(OperatorIds=[operator.id], **body)]
