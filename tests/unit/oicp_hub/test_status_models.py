"""The EVSE status wire models: spellings, nulls, unknown fields, the pull dispatch."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from evroam.oicp.v2_3.models.status import (
    EvseStatus,
    EvseStatusByIdResponse,
    PullEvseStatusByIdRequest,
    PullEvseStatusByOperatorIdRequest,
    PullEvseStatusRequest,
    PushEvseStatusRequest,
    pull_request_model,
)


def test_push_ignores_unknown_fields_and_reads_null_as_absent() -> None:
    push = PushEvseStatusRequest.model_validate(
        {
            "ActionType": "update",
            "Extra": {"x": 1},
            "OperatorEvseStatus": {
                "OperatorID": "DE*ABC",
                "OperatorName": None,
                "EvseStatusRecord": [{"EvseID": "DE*ABC*E1", "EvseStatus": "Occupied", "y": 2}],
            },
        }
    )
    assert push.OperatorEvseStatus.OperatorName is None
    assert push.to_wire() == {
        "ActionType": "update",
        "OperatorEvseStatus": {
            "OperatorID": "DE*ABC",
            "EvseStatusRecord": [{"EvseID": "DE*ABC*E1", "EvseStatus": "Occupied"}],
        },
    }


@pytest.mark.parametrize("spelling", ["EVSEStatus", "EvseStatus"])
def test_pull_filter_is_read_in_both_spellings_and_written_as_the_schema_does(
    spelling: str,
) -> None:
    pull = PullEvseStatusRequest.model_validate({"ProviderID": "DE-XYZ", spelling: "Reserved"})
    assert pull.EVSEStatus is EvseStatus.RESERVED
    assert pull.to_wire() == {"ProviderID": "DE-XYZ", "EVSEStatus": "Reserved"}


@pytest.mark.parametrize(
    "body",
    [
        {"ActionType": "fullLoad", "OperatorEvseStatus": {"OperatorID": "DE*ABC"}},
        {
            "ActionType": "Fullload",
            "OperatorEvseStatus": {"OperatorID": "DE*ABC", "EvseStatusRecord": []},
        },
        {
            "ActionType": None,
            "OperatorEvseStatus": {"OperatorID": "DE*ABC", "EvseStatusRecord": []},
        },
        {
            "ActionType": "insert",
            "OperatorEvseStatus": {"OperatorID": "DE-ABC", "EvseStatusRecord": []},
        },
        {
            "ActionType": "insert",
            "OperatorEvseStatus": {
                "OperatorID": "DE*ABC",
                "EvseStatusRecord": [{"EvseID": "DE*ABC*X1", "EvseStatus": "Available"}],
            },
        },
    ],
    ids=["no-records", "action-case", "null-action", "provider-form", "evse-without-E"],
)
def test_push_refuses_what_is_not_its_shape(body: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        PushEvseStatusRequest.model_validate(body)


def test_pull_by_id_takes_at_most_100_ids() -> None:
    ids = [f"DE*ABC*E{i}" for i in range(101)]
    with pytest.raises(ValidationError, match="100"):
        PullEvseStatusByIdRequest.model_validate({"ProviderID": "DE-XYZ", "EvseID": ids})
    assert (
        len(
            PullEvseStatusByIdRequest.model_validate(
                {"ProviderID": "DE-XYZ", "EvseID": ids[:100]}
            ).EvseID
        )
        == 100
    )


def test_the_shared_path_dispatches_on_the_keys() -> None:
    assert pull_request_model({"ProviderID": "DE-XYZ"}) is PullEvseStatusRequest
    assert pull_request_model({"ProviderID": "DE-XYZ", "EvseID": []}) is PullEvseStatusByIdRequest
    assert (
        pull_request_model({"ProviderID": "DE-XYZ", "OperatorID": ["DE*ABC"]})
        is PullEvseStatusByOperatorIdRequest
    )
    with pytest.raises(ValueError, match="not both"):
        pull_request_model({"ProviderID": "DE-XYZ", "EvseID": [], "OperatorID": []})


def test_by_id_answer_uses_the_schema_names() -> None:
    answer = EvseStatusByIdResponse.model_validate(
        {
            "EVSEStatusRecords": {
                "EvseStatusRecord": [{"EvseID": "DE*ABC*E1", "EvseStatus": "EvseNotFound"}]
            },
            "StatusCode": {"Code": "000", "Description": None},
        }
    )
    assert answer.to_wire() == {
        "EVSEStatusRecords": {
            "EvseStatusRecord": [{"EvseID": "DE*ABC*E1", "EvseStatus": "EvseNotFound"}]
        },
        "StatusCode": {"Code": "000"},
    }
