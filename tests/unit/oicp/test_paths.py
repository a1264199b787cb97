"""The operation table (digest §1.2, §8.1): 20 operations, templates matching the
OpenAPI files' paths, every model reference resolving."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, RootModel

from evroam.oicp.v2_3 import paths
from evroam.oicp.v2_3.models.identification import Member
from evroam.oicp.v2_3.paths import OPERATIONS, OperationName, Role, Server

from .openapi import document

N = OperationName


def test_twenty_operations_with_unique_names_and_paths() -> None:
    assert len(OPERATIONS) == 20
    assert {op.name for op in OPERATIONS} == set(OperationName)
    assert len({op.template for op in OPERATIONS}) == 20


@pytest.mark.parametrize("side", ["cpo", "emp"])
def test_every_openapi_path_is_in_the_table_with_its_models(side: str) -> None:
    doc = document(side)
    templates = {op.template: op for op in OPERATIONS}
    for path, methods in doc["paths"].items():
        assert set(methods) == {"post"}
        template = path.replace("{externalID}", "{providerID}")  # NOTES.md D7
        assert template in templates, path
        op = templates[template]
        for name in (p for p in path.split("/") if p.startswith("{")):
            assert name.strip("{}") in op.path_params


def test_the_older_status_paths_are_served_too() -> None:
    assert paths.operation(N.PULL_EVSE_STATUS_BY_ID).template.endswith("status-records-by-id")
    combined = paths.operation(N.PULL_EVSE_STATUS)
    assert [m.name for m in combined.request_models] == [
        "PullEvseStatusRequest",
        "PullEvseStatusByIdRequest",
        "PullEvseStatusByOperatorIdRequest",
    ]


@pytest.mark.parametrize("op", OPERATIONS, ids=[op.name.value for op in OPERATIONS])
def test_every_model_reference_resolves(op: paths.Operation) -> None:
    for ref in (*op.request_models, op.response):
        model = ref.resolve()
        assert issubclass(model, BaseModel)
        assert ref.dotted.startswith("evroam.oicp.v2_3.models.")


@pytest.mark.parametrize("op", OPERATIONS, ids=[op.name.value for op in OPERATIONS])
def test_the_acting_id_is_a_field_of_the_request(op: paths.Operation) -> None:
    if op.id_field is None:
        return
    model: type[BaseModel] = op.request.resolve()
    if issubclass(model, RootModel):  # the notifications: the path is inside each variant
        from evroam.oicp.v2_3.models import notifications

        model = notifications.ChargingNotificationStart
    for part in op.id_field[:-1]:
        annotation = model.model_fields[part].annotation
        assert isinstance(annotation, type) and issubclass(annotation, BaseModel)
        model = annotation
    assert op.id_field[-1] in model.model_fields
    assert op.id_param == ({Role.CPO: "operatorID", Role.EMP: "providerID"}[op.caller]
                           if op.path_params else None)  # fmt: skip


def test_remote_stop_accepts_both_parameter_names() -> None:
    op = paths.operation(N.AUTHORIZE_REMOTE_STOP)
    assert op.path_params == ("providerID", "externalID")
    found = paths.find("/api/oicp/charging/v21/providers/DE*8EO/authorize-remote/stop")
    assert found is not None
    assert found[0] is op
    assert found[1] == {"providerID": "DE*8EO", "externalID": "DE*8EO"}
    assert op.url(providerID="DE-8EO") == (
        "/api/oicp/charging/v21/providers/DE-8EO/authorize-remote/stop"
    )


def test_find_and_url() -> None:
    op, params = paths.find("/evsepush/v23/operators/DE*ABC/data-records") or (None, None)
    assert op is paths.operation(N.PUSH_EVSE_DATA) and params == {"operatorID": "DE*ABC"}
    assert paths.find("/api/oicp/evsepush/v23/operators//data-records") is None
    assert paths.find("/api/oicp/evsepush/v23/operators/A/B/data-records") is None
    assert paths.operation(N.CHARGING_NOTIFICATION).url() == (
        "/api/oicp/notificationmgmt/v11/charging-notifications"
    )
    with pytest.raises(ValueError):
        paths.operation(N.PUSH_EVSE_DATA).url()


def test_servers_roles_flags_and_limits() -> None:
    start = paths.operation(N.AUTHORIZE_START)
    assert start.served_by == {Server.HUB_FOR_CPO, Server.EMP}
    assert paths.operation(N.AUTHORIZE_REMOTE_START).served_by == {Server.HUB_FOR_EMP, Server.CPO}
    assert {op.name for op in OPERATIONS if op.paginated} == {
        N.PULL_EVSE_DATA,
        N.GET_CHARGE_DETAIL_RECORDS,
    }
    assert {op.name for op in OPERATIONS if op.sequential} == {
        N.PUSH_EVSE_DATA,
        N.PUSH_EVSE_STATUS,
        N.PUSH_AUTHENTICATION_DATA,
        N.PUSH_EVSE_PRICING,
        N.PUSH_PRICING_PRODUCT_DATA,
    }
    limits = {op.name: op.rate_limit for op in OPERATIONS}
    assert limits[N.PULL_EVSE_STATUS] == 6 and limits[N.PUSH_EVSE_STATUS] == 2000
    assert limits[N.PULL_EVSE_STATUS_BY_ID] == 300 and limits[N.RESERVATION_START] is None


def test_allowed_identifications_per_operation() -> None:
    assert paths.allowed_identifications(N.AUTHORIZE_START) == {
        Member.RFID_MIFARE_FAMILY,
        Member.QR_CODE,
        Member.PLUG_AND_CHARGE,
    }
    assert paths.allowed_identifications(N.AUTHORIZE_REMOTE_START) == {Member.REMOTE}
    assert paths.allowed_identifications(N.RESERVATION_START) == {Member.REMOTE}
    assert paths.allowed_identifications(N.PUSH_AUTHENTICATION_DATA) == set(Member)
    assert paths.allowed_identifications(N.PUSH_EVSE_DATA) == frozenset()
