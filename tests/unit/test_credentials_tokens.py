from __future__ import annotations

import base64

from evroam.core.credentials_tokens import (
    encode_token,
    generate_token,
    hash_token,
    hashes_equal,
    header_token_candidates,
)


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


def test_hex_token_that_happens_to_decode_keeps_raw_reading_first() -> None:
    raw = "abcd1234abcd1234"
    candidates = header_token_candidates(raw)
    assert candidates[0] == raw


def test_binary_base64_is_not_a_candidate() -> None:
    value = base64.b64encode(b"\xff\xfe\x00").decode()
    assert header_token_candidates(value) == [value]


def test_hash_comparison() -> None:
    assert hashes_equal(hash_token("a"), hash_token("a"))
    assert not hashes_equal(hash_token("a"), hash_token("b"))
