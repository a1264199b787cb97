"""How the outbox folds changes of one Receiver path (``push/outbox.py``), names its
targets and picks the partner's receiving party: pure functions, no database."""

from __future__ import annotations

from evroam.core.objects import ObjectKey
from evroam.core.push import PushMethod
from evroam.core.types import (
    BusinessDetails,
    ConnectionStatus,
    Endpoint,
    InterfaceRole,
    ModuleId,
    Partner,
    Party,
    Role,
)
from evroam.push.outbox import _Op, fold, merge_body, object_key, receives, receiving_party, target
from tests.storage.factories import NOW

LOC = ModuleId.LOCATIONS
PUT, PATCH, POST, DELETE = PushMethod.PUT, PushMethod.PATCH, PushMethod.POST, PushMethod.DELETE


def test_a_patch_merges_into_a_patch_newest_fields_win() -> None:
    got = fold(LOC, _Op(PATCH, {"status": "A", "x": 1}), _Op(PATCH, {"status": "B"}))
    assert got == _Op(PATCH, {"status": "B", "x": 1})


def test_a_put_absorbs_a_patch_and_stays_a_put() -> None:
    got = fold(LOC, _Op(PUT, {"id": "L", "name": "a"}), _Op(PATCH, {"name": "b"}))
    assert got == _Op(PUT, {"id": "L", "name": "b"})


def test_put_and_delete_replace_what_was_owed() -> None:
    assert fold(LOC, _Op(PATCH, {"a": 1}), _Op(PUT, {"b": 2})) == _Op(PUT, {"b": 2})
    assert fold(LOC, _Op(PUT, {"a": 1}), _Op(DELETE, None)) == _Op(DELETE, None)
    assert fold(LOC, _Op(DELETE, None), _Op(PUT, {"b": 2})) == _Op(PUT, {"b": 2})


def test_posts_and_a_patch_after_a_delete_are_each_sent() -> None:
    assert fold(ModuleId.CDRS, _Op(POST, {"id": 1}), _Op(POST, {"id": 2})) is None
    assert fold(LOC, _Op(DELETE, None), _Op(PATCH, {"a": 1})) is None


def test_session_charging_periods_are_appended_other_lists_replaced() -> None:
    base = {"charging_periods": [1], "other": [1]}
    patch = {"charging_periods": [2], "other": [2]}
    assert merge_body(ModuleId.SESSIONS, base, patch) == {"charging_periods": [1, 2], "other": [2]}
    assert merge_body(LOC, base, patch) == {"charging_periods": [2], "other": [2]}


def test_targets_quote_each_part_and_keep_the_query() -> None:
    assert target(LOC, ("NL", "CPO", "a/b", "E 1"), ()) == "locations/NL/CPO/a%2Fb/E%201"
    assert target(ModuleId.TOKENS, ("NL", "MSP", "T1"), (("type", "RFID"),)) == (
        "tokens/NL/MSP/T1?type=RFID"
    )
    assert object_key(LOC, ObjectKey("nl", "cpo", "loc1")) == "locations|NL|CPO|LOC1|"


def partner(**kw: object) -> Partner:
    base: dict[str, object] = dict(
        id=1,
        status=ConnectionStatus.CONNECTED,
        version="2.2.1",
        endpoints=[Endpoint("locations", InterfaceRole.RECEIVER, "http://p/locations")],
        roles=[
            Party("DE", "HUB", Role.HUB, BusinessDetails("hub")),
            Party("DE", "MSP", Role.EMSP, BusinessDetails("msp")),
            Party("DE", "CPX", Role.CPO, BusinessDetails("cpo")),
        ],
        token_out="t",
        registered_at=NOW,
    )
    base.update(kw)
    return Partner(**base)  # type: ignore[arg-type]


def test_the_receiving_party_is_the_role_of_the_module_or_the_audience() -> None:
    p = partner()
    assert receiving_party(p, LOC, None) == "DE-MSP"
    assert receiving_party(p, ModuleId.TOKENS, None) == "DE-CPX"
    assert receiving_party(p, ModuleId.SESSIONS, ("de", "hub")) == "DE-HUB"
    assert receiving_party(p, ModuleId.SESSIONS, ("NL", "XYZ")) == ""


def test_only_registered_partners_with_a_receiver_endpoint_receive() -> None:
    assert receives(partner(), LOC)
    assert not receives(partner(), ModuleId.TARIFFS)
    sender_only = [Endpoint("locations", InterfaceRole.SENDER, "http://p/locations")]
    assert not receives(partner(endpoints=sender_only), LOC)
    assert not receives(partner(status=ConnectionStatus.SUSPENDED), LOC)
    assert not receives(partner(registered_at=None), LOC)
    assert not receives(partner(token_out=None), LOC)
    assert not receives(partner(version="2.1.1"), LOC)
