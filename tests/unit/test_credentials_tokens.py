from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from evroam.core.credentials_tokens import (
    encode_token,
    generate_token,
    hash_token,
    header_token_candidates,
)
from evroam.ocpi.common.auth import AuthCache, Authenticator
from evroam.storage.uow import SqlUnitOfWorkFactory
from tests.unit.partner_store import add_partner, open_store

# A token whose raw text is also valid Base64 (of "secret-token-01"), as hex and UUID
# tokens of real platforms often are.
BASE64_LOOKING = "c2VjcmV0LXRva2VuLTAx"


def test_generated_tokens_fit_ocpi_token_rules() -> None:
    tokens = {generate_token() for _ in range(50)}
    assert len(tokens) == 50
    for t in tokens:
        assert 1 <= len(t) <= 64
        assert all(0x21 <= ord(c) <= 0x7E for c in t)


def test_encode_token_is_plain_base64_without_newline() -> None:
    assert encode_token("example-token") == "ZXhhbXBsZS10b2tlbg=="


def test_header_candidates_include_raw_and_decoded_forms() -> None:
    assert header_token_candidates("ZXhhbXBsZS10b2tlbg==") == [
        "ZXhhbXBsZS10b2tlbg==",
        "example-token",
    ]


def test_header_candidates_strip_the_newline_baked_into_spec_examples() -> None:
    assert header_token_candidates("ZXhhbXBsZS10b2tlbgo=")[1] == "example-token"


def test_raw_token_that_is_not_base64_is_its_only_candidate() -> None:
    assert header_token_candidates("not-base64!") == ["not-base64!"]


def test_binary_base64_is_not_a_candidate() -> None:
    value = base64.b64encode(b"\xff\xfe\x00").decode()
    assert header_token_candidates(value) == [value]


def test_hash_is_sha256_hex_of_the_utf8_token() -> None:
    assert hash_token("abc") == ("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")


@pytest.fixture
async def uow(tmp_path: Path) -> AsyncIterator[SqlUnitOfWorkFactory]:
    async for factory in open_store(tmp_path / "tokens.db"):
        yield factory


@pytest.mark.parametrize(
    "sent", [BASE64_LOOKING, encode_token(BASE64_LOOKING)], ids=["raw", "base64"]
)
async def test_a_token_that_is_valid_base64_matches_raw_and_encoded(
    uow: SqlUnitOfWorkFactory, sent: str
) -> None:
    """Both readings are tried: "decode when it decodes" would miss the raw form, "raw
    only" the encoded one."""
    partner = await add_partner(uow, token=BASE64_LOOKING)
    caller = await Authenticator(uow, AuthCache()).authenticate(f"Token {sent}")
    assert caller.partner.id == partner.id
    assert caller.token == BASE64_LOOKING
    assert caller.token_hash == hash_token(BASE64_LOOKING)
