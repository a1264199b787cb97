"""Tokens (OCPI 2.2.1 mod_tokens): wire models against the spec examples and the bad
inputs of issue 7, and the authorization decision with the service on a real SQLite
store (the stored own token, then the operator's hook in tests/tokens_hook.py)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from evroam.core.errors import InvalidInput
from evroam.core.objects import ObjectKey
from evroam.core.types import BusinessDetails, Party, Role
from evroam.ocpi.v2_2_1.tokens.convert import (
    dumps,
    location_references,
    parse_type,
    to_document,
    token_key,
    validate_token,
)
from evroam.ocpi.v2_2_1.tokens.models import AuthorizationInfo, Token, TokenPatch, TokenType
from evroam.services.context import PartnerContext
from evroam.services.tokens import (
    HookMisconfigured,
    LocationRequired,
    TokensService,
    load_authorization_hook,
)
from evroam.storage.uow import SqlUnitOfWorkFactory
from tests.unit.partner_store import ScriptedApi, add_partner, open_store

EXAMPLES = Path(__file__).resolve().parents[3] / "shared" / "ocpi" / "examples" / "2.2.1"
T = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def _example(name: str) -> Any:
    path = EXAMPLES / name
    if not path.exists():
        pytest.skip(f"OCPI example {path} not found (../shared is absent)")
    return json.loads(path.read_text())


def _token(**over: Any) -> dict[str, Any]:
    doc = {
        "country_code": "NL",
        "party_id": "EVR",
        "uid": "CARD1",
        "type": "RFID",
        "contract_id": "NL-EVR-C00001-X",
        "issuer": "evroam",
        "valid": True,
        "whitelist": "ALLOWED",
        "last_updated": "2026-11-01T12:00:00Z",
    }
    doc.update(over)
    return {k: v for k, v in doc.items() if v is not ...}


# --- the spec's examples -----------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["token_example_1_app_user.json", "token_example_2_full_rfid.json", "token_put_example.json"],
)
def test_token_examples_round_trip(name: str) -> None:
    example = _example(name)
    assert to_document(Token.model_validate(example)) == example


def test_token_patch_example_round_trips() -> None:
    example = _example("token_patch_example.json")
    assert to_document(TokenPatch.model_validate(example)) == example


@pytest.mark.parametrize(
    "name",
    [
        "transport_and_format_get_token_example.json",
        "transport_and_format_get_token_list_example.json",
    ],
)
def test_envelope_examples_hold_valid_tokens(name: str) -> None:
    data = _example(name)["data"]
    for item in data if isinstance(data, list) else [data]:
        assert to_document(Token.model_validate(item)) == item


def test_authorization_info_embeds_the_full_token() -> None:
    token = _example("token_example_2_full_rfid.json")
    info = {"allowed": "ALLOWED", "token": token, "authorization_reference": "a" * 36}
    dumped = AuthorizationInfo.model_validate(info).model_dump(mode="json", exclude_none=True)
    assert dumped == info


# --- bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("type", "CARD"),  # invalid enum (TokenType is closed in 2.2.1)
        ("whitelist", "SOMETIMES"),
        ("default_profile_type", "SLOW"),
        ("uid", "U" * 37),  # CiString(36)
        ("contract_id", "C" * 37),
        ("issuer", "I" * 65),  # string(64)
        ("language", "eng"),  # string(2)
        ("country_code", "NLD"),
        ("party_id", "EVRX"),
        ("valid", "yes"),  # a wrong type: no lax bool coercion
        ("valid", 1),
        ("contract_id", 12345),
        ("uid", "CARD\n1"),  # CiString is printable ASCII
        ("last_updated", "yesterday"),
        ("energy_contract", {"contract_id": "x"}),  # supplier_name is required
        ("valid", None),  # null on a required field is not absence
    ],
)
def test_bad_field_is_refused(field: str, value: Any) -> None:
    with pytest.raises(ValidationError):
        Token.model_validate(_token(**{field: value}))


def test_list_where_an_object_is_expected_is_refused() -> None:
    with pytest.raises(ValidationError):
        Token.model_validate([_token()])
    with pytest.raises(InvalidInput):
        location_references([{"location_id": "LOC1"}])


def test_null_optional_reads_as_absent_and_is_never_sent() -> None:
    doc = to_document(Token.model_validate(_token(visual_number=None, energy_contract=None)))
    assert "visual_number" not in doc and "energy_contract" not in doc
    assert "null" not in dumps(doc)


def test_unknown_type_parameter_is_2001_and_default_is_rfid() -> None:
    assert parse_type(None) is TokenType.RFID
    assert parse_type("APP_USER") is TokenType.APP_USER
    with pytest.raises(InvalidInput, match="not a TokenType"):
        parse_type("card")  # enums are case-sensitive


def test_merged_patch_must_still_be_a_token() -> None:
    with pytest.raises(InvalidInput, match="whitelist"):
        validate_token(_token(whitelist="NOPE"))


# --- the service on a real store ---------------------------------------------------------


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqlUnitOfWorkFactory]:
    async for uow in open_store(tmp_path / "tokens.db"):
        yield uow


def _ctx(uow: SqlUnitOfWorkFactory) -> PartnerContext:
    return PartnerContext(
        uow=uow,
        api=ScriptedApi(),
        # Tokens are an eMSP's: the node's party here holds that role.
        own_parties=(Party("NL", "EVR", Role.EMSP, BusinessDetails("us")),),
        versions_url="https://node.example.com/ocpi/versions",
        supported_versions=("2.2.1",),
    )


async def _put_own(service: TokensService, **over: Any) -> str:
    doc = to_document(Token.model_validate(_token(**over)))
    return await service.put_own(token_key(doc), doc, Token.model_validate(doc).last_updated)


async def test_authorize_unknown_token_is_none(store: SqlUnitOfWorkFactory) -> None:
    service = TokensService(_ctx(store))
    assert await service.authorize("NOPE", "RFID", None) is None


async def test_authorize_decides_from_the_stored_token(store: SqlUnitOfWorkFactory) -> None:
    service = TokensService(_ctx(store))
    assert await _put_own(service, uid="OK1") == "created"
    assert await _put_own(service, uid="BLK1", valid=False) == "created"
    loc = location_references({"location_id": "LOC1", "evse_uids": ["E1"]})

    ok = await service.authorize("ok1", "RFID", loc)  # uid is a CiString
    assert ok is not None and ok.allowed == "ALLOWED" and ok.location == loc
    again = await service.authorize("OK1", "RFID", loc)
    assert again is not None and again.reference != ok.reference  # unique per authorization
    assert json.loads(ok.token_json)["uid"] == "OK1"

    blocked = await service.authorize("BLK1", "RFID", loc)
    assert blocked is not None and blocked.allowed == "BLOCKED"
    assert blocked.location is None  # echoed only where allowed


async def test_type_is_part_of_the_key(store: SqlUnitOfWorkFactory) -> None:
    service = TokensService(_ctx(store))
    await _put_own(service, uid="SAME", type="RFID", valid=False)
    await _put_own(service, uid="SAME", type="APP_USER", valid=True)
    rfid = await service.authorize("SAME", "RFID", None)
    app = await service.authorize("SAME", "APP_USER", None)
    assert rfid is not None and rfid.allowed == "BLOCKED"
    assert app is not None and app.allowed == "ALLOWED"
    assert await service.authorize("SAME", "OTHER", None) is None


async def test_stale_put_and_patch_change_nothing(store: SqlUnitOfWorkFactory) -> None:
    service = TokensService(_ctx(store))
    await _put_own(service, uid="ST1", issuer="new", last_updated="2026-11-02T00:00:00Z")
    assert await _put_own(service, uid="ST1", issuer="old") == "stale"
    key = ObjectKey("NL", "EVR", "ST1", "RFID")
    outcome = await service.patch_own(key, {"issuer": "older"}, T, validate_token)
    assert outcome == "stale"
    stored = await service.get(key)
    assert stored is not None and json.loads(stored.document_json)["issuer"] == "new"


async def test_patch_rules(store: SqlUnitOfWorkFactory) -> None:
    service = TokensService(_ctx(store))
    await _put_own(service, uid="P1")
    key = ObjectKey("NL", "EVR", "P1", "RFID")
    with pytest.raises(InvalidInput, match="last_updated"):
        await service.patch_own(key, {"valid": False}, None, validate_token)
    with pytest.raises(InvalidInput, match="uid"):
        await service.patch_own(key, {"uid": "P2"}, T + timedelta(1), validate_token)
    with pytest.raises(InvalidInput, match="whitelist"):
        await service.patch_own(key, {"whitelist": "NO"}, T + timedelta(1), validate_token)
    unknown = ObjectKey("NL", "EVR", "P404", "RFID")
    assert await service.patch_own(unknown, {}, T, validate_token) == "unknown"
    later = T + timedelta(days=1)
    patch = {"valid": False, "last_updated": "2026-11-02T12:00:00Z"}
    assert await service.patch_own(key, patch, later, validate_token) == "updated"
    stored = await service.get(key)
    assert stored is not None and stored.last_updated == later
    assert json.loads(stored.document_json)["valid"] is False


async def test_writes_are_refused_outside_the_owner(store: SqlUnitOfWorkFactory) -> None:
    service = TokensService(_ctx(store))
    with pytest.raises(InvalidInput, match="not one of this node's EMSP parties"):
        await _put_own(service, country_code="DE", party_id="ABC")
    # Under a party of the node that is not an eMSP one: Tokens are an eMSP's objects.
    both = _ctx(store)
    both = PartnerContext(
        uow=store,
        api=ScriptedApi(),
        own_parties=(*both.own_parties, Party("NL", "CPX", Role.CPO, BusinessDetails("us"))),
        versions_url=both.versions_url,
        supported_versions=both.supported_versions,
    )
    with pytest.raises(InvalidInput, match=r"NL-CPX is not one of this node's EMSP parties"):
        await _put_own(TokensService(both), country_code="NL", party_id="CPX")
    partner = await add_partner(store, party=("DE", "ABC"))
    doc = to_document(Token.model_validate(_token(country_code="NL", party_id="EVR")))
    with pytest.raises(InvalidInput, match="not one of your parties"):
        await service.receive_put(partner, token_key(doc), doc, T)
    theirs = to_document(Token.model_validate(_token(country_code="DE", party_id="ABC")))
    with pytest.raises(InvalidInput, match="differs"):
        await service.receive_put(partner, ObjectKey("DE", "ABC", "OTHER", "RFID"), theirs, T)
    assert await service.receive_put(partner, token_key(theirs), theirs, T) == "created"
    # A received token is not ours: it is never authorized by us.
    assert await service.authorize("CARD1", "RFID", None, [("DE", "ABC")]) is None
    received = await service.get(token_key(theirs))
    assert received is not None and received.partner_id == partner.id


# --- the operator's hook -----------------------------------------------------------------


def test_hook_setting_is_imported_or_refused() -> None:
    assert load_authorization_hook(None) is None
    assert callable(load_authorization_hook("tests.tokens_hook:decide"))
    for spec in ("tests.tokens_hook:missing", "tests.no_such_module:decide"):
        with pytest.raises(HookMisconfigured):
            load_authorization_hook(spec)
    with pytest.raises(HookMisconfigured, match="not callable"):
        load_authorization_hook("tests.tokens_hook:not_callable")


async def test_hook_refines_what_the_stored_token_allows(store: SqlUnitOfWorkFactory) -> None:
    hook = load_authorization_hook("tests.tokens_hook:decide")
    service = TokensService(_ctx(store), hook)
    for uid, contract, valid in (
        ("H1", "NL-EVR-NOCREDIT", True),
        ("H2", "NL-EVR-EXPIRED", True),
        ("H3", "NL-EVR-NEEDLOC", True),
        ("H4", "NL-EVR-EXPIRED", False),
        ("H5", "NL-EVR-FINE", True),
    ):
        await _put_own(service, uid=uid, contract_id=contract, valid=valid)
    loc = {"location_id": "LOC1"}
    no_credit = await service.authorize("H1", "RFID", loc)
    assert no_credit is not None and no_credit.allowed == "NO_CREDIT"
    assert no_credit.info == {"language": "en", "text": "Top up your account"}
    assert no_credit.location is None
    expired = await service.authorize("H2", "RFID", None)
    assert expired is not None and expired.allowed == "EXPIRED"
    with pytest.raises(LocationRequired):
        await service.authorize("H3", "RFID", None)
    needs = await service.authorize("H3", "RFID", loc)
    assert needs is not None and needs.allowed == "ALLOWED" and needs.location == loc
    # valid=false stays BLOCKED: the hook never re-enables an invalidated token.
    blocked = await service.authorize("H4", "RFID", None)
    assert blocked is not None and blocked.allowed == "BLOCKED"
    fine = await service.authorize("H5", "RFID", None)
    assert fine is not None and fine.allowed == "ALLOWED" and fine.info is None


async def test_authorize_looks_only_under_the_nodes_emsp_parties(
    store: SqlUnitOfWorkFactory,
) -> None:
    """A node that is CPO and eMSP: own tokens can only be under its eMSP party, so an
    authorization is one lookup, not one per party of the node."""
    ctx = PartnerContext(
        uow=store,
        api=ScriptedApi(),
        own_parties=(
            Party("NL", "AAA", Role.CPO, BusinessDetails("us")),
            Party("NL", "EVR", Role.EMSP, BusinessDetails("us")),
        ),
        versions_url="https://node.example.com/ocpi/versions",
        supported_versions=("2.2.1",),
    )
    service = TokensService(ctx)
    assert await _put_own(service, uid="OK1") == "created"
    before = ctx.reader.items
    allowed = await service.authorize("OK1", "RFID", None)
    assert allowed is not None and allowed.allowed == "ALLOWED"
    assert ctx.reader.items - before == 1
